//! Errors of the sandbox library: a struct that names what was at fault (a path, a field, a program)
//! plus a `Kind`. Failures of a plugin are not errors: they are `Outcome`s.

use std::path::PathBuf;

use crate::policy::PolicyError;

/// Bad input or a sandbox that could not be set up at all.
#[derive(Debug, thiserror::Error)]
#[error("{subject}: {kind}")]
pub struct SandboxError {
    /// The program, path or field at fault.
    pub subject: String,
    pub kind: SandboxErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxErrorKind {
    #[error("program not found")]
    ProgramNotFound,
    #[error("not a regular file")]
    NotAFile,
    #[error("no such file or directory")]
    MissingPath,
    #[error("{0}")]
    Policy(PolicyError),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Setup(String),
    /// Input the caller must fix that is none of the above (a non-UTF-8 WASI argument, a preopen that
    /// is not a directory).
    #[error("{0}")]
    Invalid(String),
}

impl SandboxError {
    pub fn new(subject: impl Into<String>, kind: SandboxErrorKind) -> Self {
        SandboxError {
            subject: subject.into(),
            kind,
        }
    }

    pub fn path(path: &std::path::Path, kind: SandboxErrorKind) -> Self {
        SandboxError::new(path.display().to_string(), kind)
    }

    /// True for errors caused by the caller's input (exit code 2), false for environment failures.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self.kind,
            SandboxErrorKind::ProgramNotFound
                | SandboxErrorKind::NotAFile
                | SandboxErrorKind::MissingPath
                | SandboxErrorKind::Policy(_)
                | SandboxErrorKind::Invalid(_)
        )
    }
}

impl From<PolicyError> for SandboxError {
    fn from(e: PolicyError) -> Self {
        let subject = e
            .file
            .as_ref()
            .map(|f: &PathBuf| f.display().to_string())
            .unwrap_or_else(|| "policy".into());
        SandboxError {
            subject,
            kind: SandboxErrorKind::Policy(e),
        }
    }
}
