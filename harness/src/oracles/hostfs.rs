//! The `hostfs` oracle: a before/after `lstat` snapshot of `{host_dir}`, the canary directory and the
//! manifest's `host_paths`. Anything that appeared, vanished or changed is an escape. Files are never
//! opened (the canary file has an inotify watch on it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::fswalk::{walk, Entry, WalkLimits};
use super::{Evidence, Finished, Oracle, OracleKind};

/// A snapshot of several trees, by (label, root).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<(String, PathBuf), BTreeMap<PathBuf, Entry>>);

impl Snapshot {
    pub fn take(roots: &[(String, PathBuf)]) -> Snapshot {
        let limits = WalkLimits {
            max_entries: 20_000,
            ..WalkLimits::default()
        };
        Snapshot(
            roots
                .iter()
                .map(|(label, root)| {
                    let w = walk(root, limits, None);
                    let map = w.entries.into_iter().map(|e| (e.rel.clone(), e)).collect();
                    ((label.clone(), root.clone()), map)
                })
                .collect(),
        )
    }

    /// One line per difference, `label: appeared x (file)`.
    pub fn diff(&self, after: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        for ((label, root), before) in &self.0 {
            let empty = BTreeMap::new();
            let now = after
                .0
                .get(&(label.clone(), root.clone()))
                .unwrap_or(&empty);
            let name = |rel: &Path| {
                if rel.as_os_str().is_empty() {
                    root.display().to_string()
                } else {
                    rel.display().to_string()
                }
            };
            for (rel, e) in now {
                match before.get(rel) {
                    None => out.push(format!("{label}: appeared {:?} ({})", name(rel), e.kind)),
                    Some(b) if b != e => out.push(format!(
                        "{label}: changed {:?} ({})",
                        name(rel),
                        what_changed(b, e)
                    )),
                    _ => {}
                }
            }
            for (rel, e) in before {
                if !now.contains_key(rel) {
                    out.push(format!("{label}: vanished {:?} ({})", name(rel), e.kind));
                }
            }
        }
        out
    }
}

fn what_changed(b: &Entry, a: &Entry) -> String {
    let mut v = Vec::new();
    if b.kind != a.kind {
        v.push(format!("{} -> {}", b.kind, a.kind));
    }
    if b.mode != a.mode {
        v.push(format!("mode {:o} -> {:o}", b.mode, a.mode));
    }
    if b.uid != a.uid {
        v.push("owner".to_string());
    }
    if b.size != a.size {
        v.push(format!("size {} -> {}", b.size, a.size));
    }
    if b.ino != a.ino {
        v.push("replaced".to_string());
    }
    if b.mtime_ns != a.mtime_ns || b.ctime_ns != a.ctime_ns {
        v.push("modified".to_string());
    }
    v.join(", ")
}

pub struct HostfsOracle {
    roots: Vec<(String, PathBuf)>,
    before: Snapshot,
}

impl HostfsOracle {
    /// Takes the "before" snapshot now.
    pub fn new(roots: Vec<(String, PathBuf)>) -> Self {
        let before = Snapshot::take(&roots);
        HostfsOracle { roots, before }
    }
}

impl Oracle for HostfsOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Hostfs
    }

    fn judge(&mut self, _done: &Finished<'_>) -> Vec<Evidence> {
        let after = Snapshot::take(&self.roots);
        let diffs = self.before.diff(&after);
        let n = diffs.len();
        diffs
            .into_iter()
            .take(5)
            .enumerate()
            .map(|(i, d)| {
                let more = if i == 4 && n > 5 {
                    format!(" (and {} more)", n - 5)
                } else {
                    String::new()
                };
                Evidence::escape(OracleKind::Hostfs, format!("{d}{more}"))
            })
            .collect()
    }
}
