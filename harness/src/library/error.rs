//! Errors of the attack library: one line each, naming the file and the field
//! (`attacks/resource/fork_bomb/attack.toml: expect.process: "contaned" is not a verdict`).

use std::path::{Path, PathBuf};

/// A problem with one attack folder or manifest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {field}: {kind}", .path.display())]
pub struct LibraryError {
    /// The manifest (or the folder, for layout problems), as shown to users: relative to the directory
    /// that holds the library when possible.
    pub path: PathBuf,
    /// Dotted field of the manifest (`expect.process`, `args[2]`), or `<file>`/`<folder>`.
    pub field: String,
    pub kind: LibraryErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LibraryErrorKind {
    #[error("cannot read: {0}")]
    Read(String),
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0:?} is not a verdict (contained, escaped, error, skipped)")]
    NotAVerdict(String),
    #[error("{0}")]
    Layout(String),
    #[error("repeats the id of {0}")]
    DuplicateId(String),
    #[error("build failed: {0}")]
    Build(String),
}

impl LibraryError {
    pub fn new(path: impl Into<PathBuf>, field: impl Into<String>, kind: LibraryErrorKind) -> Self {
        LibraryError {
            path: path.into(),
            field: field.into(),
            kind,
        }
    }

    pub fn invalid(path: &Path, field: impl Into<String>, msg: impl Into<String>) -> Self {
        LibraryError::new(path, field, LibraryErrorKind::Invalid(msg.into()))
    }
}
