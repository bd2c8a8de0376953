//! Finding attacks: `<root>/<category>/<name>/attack.toml` plus one source file. Nothing is registered
//! anywhere; a folder is an attack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{LibraryError, LibraryErrorKind};
use super::manifest::{self, Attack, Backend};

pub const MANIFEST: &str = "attack.toml";

/// An attack folder that could not be loaded: it becomes an `error` case, the rest of the suite runs.
#[derive(Clone, Debug)]
pub struct Broken {
    /// The id when the manifest had one, else `<category>/<name>`.
    pub label: String,
    pub category: String,
    pub backends: Vec<Backend>,
    pub error: LibraryError,
}

/// Everything found under one library root.
#[derive(Clone, Debug, Default)]
pub struct Library {
    pub root: PathBuf,
    pub attacks: Vec<Attack>,
    pub broken: Vec<Broken>,
}

impl Library {
    /// Loads every attack under `root`. Only an unreadable root is an error; each bad folder is a
    /// `Broken` entry.
    pub fn load(root: &Path) -> Result<Library, LibraryError> {
        let shown_root = PathBuf::from(root.file_name().unwrap_or(root.as_os_str()));
        let mut lib = Library {
            root: root.to_path_buf(),
            ..Library::default()
        };
        let categories = sorted_dirs(root).map_err(|e| {
            LibraryError::new(root, "<folder>", LibraryErrorKind::Read(e.to_string()))
        })?;
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for cat_dir in categories {
            let category = name_of(&cat_dir);
            for dir in sorted_dirs(&cat_dir).unwrap_or_default() {
                let name = name_of(&dir);
                let shown_dir = shown_root.join(&category).join(&name);
                let label = format!("{category}/{name}");
                let fallback_backends = vec![if category == "wasm" {
                    Backend::Wasm
                } else {
                    Backend::Process
                }];
                let manifest_path = dir.join(MANIFEST);
                let shown = shown_dir.join(MANIFEST);
                if !manifest_path.is_file() {
                    let sources = sources_in(&dir);
                    if !sources.is_empty() {
                        lib.broken.push(Broken {
                            label,
                            category: category.clone(),
                            backends: fallback_backends.clone(),
                            error: LibraryError::new(
                                shown_dir,
                                "<folder>",
                                LibraryErrorKind::Layout(format!(
                                    "has a source ({}) but no {MANIFEST}",
                                    sources.join(", ")
                                )),
                            ),
                        });
                    }
                    continue;
                }
                let result = std::fs::read_to_string(&manifest_path)
                    .map_err(|e| {
                        Box::new(manifest::ParseFailure {
                            error: LibraryError::new(
                                &shown,
                                "<file>",
                                LibraryErrorKind::Read(e.to_string()),
                            ),
                            partial: manifest::PartialIdentity::default(),
                        })
                    })
                    .and_then(|text| manifest::parse(&text, &shown, &dir, &category));
                match result {
                    Ok(attack) => {
                        if let Some(first) = seen.get(&attack.id) {
                            lib.broken.push(Broken {
                                label: format!("{} ({label})", attack.id),
                                category: category.clone(),
                                backends: attack.backends.clone(),
                                error: LibraryError::new(
                                    &shown,
                                    "id",
                                    LibraryErrorKind::DuplicateId(first.display().to_string()),
                                ),
                            });
                            continue;
                        }
                        seen.insert(attack.id.clone(), shown.clone());
                        lib.attacks.push(attack);
                    }
                    Err(failure) => {
                        let manifest::ParseFailure { error, partial } = *failure;
                        lib.broken.push(Broken {
                            label: partial.id.unwrap_or(label),
                            category: category.clone(),
                            backends: if partial.backends.is_empty() {
                                fallback_backends
                            } else {
                                partial.backends
                            },
                            error,
                        })
                    }
                }
            }
        }
        lib.attacks.sort_by(|a, b| a.id.cmp(&b.id));
        lib.broken.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(lib)
    }

    /// Every problem of the library, one line each (the checker behind `tests/library.rs`).
    pub fn problems(&self) -> Vec<LibraryError> {
        self.broken.iter().map(|b| b.error.clone()).collect()
    }

    pub fn find(&self, id: &str) -> Option<&Attack> {
        self.attacks.iter().find(|a| a.id == id)
    }
}

/// Names of the `.c` and `.wat` files directly in `dir`, sorted.
pub fn sources_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c") || n.ends_with(".wat"))
        .collect();
    v.sort();
    v
}

fn sorted_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| !name_of(p).starts_with('.'))
        .collect();
    v.sort();
    Ok(v)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
