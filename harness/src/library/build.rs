//! Building native attacks with the system `cc`, cached by the sha256 of source and flags.
//!
//! `cc -O2 -o OUT SRC -lpthread` (plus `-static` when the manifest says `static = true`). The cache is
//! `$GAUNTLET_CACHE`, else `target/gauntlet-attacks/` next to the running binary. Each result is written
//! under a temporary name and renamed, so concurrent suites never see half a binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::error::{LibraryError, LibraryErrorKind};
use super::manifest::{Attack, SourceKind};

/// The default cache directory.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GAUNTLET_CACHE") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/gauntlet (or target/<profile>/deps/<test>) -> target/
    let target = exe
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    target.join("gauntlet-attacks")
}

fn flags(attack: &Attack) -> Vec<&'static str> {
    let mut f = vec!["-O2"];
    if attack.static_link {
        f.push("-static");
    }
    f
}

/// `*.h` files in the category folder of `source` (`attacks/<category>/<name>/<source>`), sorted.
fn shared_headers(source: &Path) -> Vec<PathBuf> {
    let Some(category) = source.parent().and_then(Path::parent) else {
        return Vec::new();
    };
    let mut headers: Vec<PathBuf> = std::fs::read_dir(category)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "h"))
        .collect();
    headers.sort();
    headers
}

/// The program a case runs: a cached binary for C, the source itself for `.wat`.
pub fn build_one(attack: &Attack, cache: &Path) -> Result<PathBuf, LibraryError> {
    if attack.source_kind == SourceKind::Wat {
        return Ok(attack.source.clone());
    }
    let fail =
        |msg: String| LibraryError::new(&attack.manifest, "source", LibraryErrorKind::Build(msg));
    let src = std::fs::read(&attack.source).map_err(|e| fail(format!("cannot read: {e}")))?;
    let flags = flags(attack);
    let mut h = Sha256::new();
    h.update(&src);
    // Headers shared by a category's attacks (`attacks/<category>/*.h`, included as `../name.h`) are
    // part of what is built.
    for header in shared_headers(&attack.source) {
        h.update([0]);
        h.update(std::fs::read(&header).map_err(|e| fail(format!("{}: {e}", header.display())))?);
    }
    for f in &flags {
        h.update([0]);
        h.update(f.as_bytes());
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let stem = attack
        .source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attack".into());
    let dir = cache.join(hex);
    let out = dir.join(&stem);
    if out.is_file() {
        return Ok(out);
    }
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    let tmp = dir.join(format!(".{stem}.{}.tmp", std::process::id()));
    let result = Command::new("cc")
        .args(&flags)
        .arg("-o")
        .arg(&tmp)
        .arg(&attack.source)
        .arg("-lpthread")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| fail(format!("cannot run cc: {e}")))?;
    if !result.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(first_error(&String::from_utf8_lossy(&result.stderr))));
    }
    std::fs::rename(&tmp, &out).map_err(|e| fail(format!("{}: {e}", out.display())))?;
    Ok(out)
}

/// The first line of cc's output that says "error", else the first non-empty line.
pub fn first_error(stderr: &str) -> String {
    let lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    lines
        .clone()
        .find(|l| l.contains("error"))
        .or_else(|| lines.clone().next())
        .unwrap_or("cc failed without a message")
        .to_string()
}

/// Builds every attack on `jobs` threads. Returns the program path or the build error, by attack id.
pub fn build_all(
    attacks: &[&Attack],
    cache: &Path,
    jobs: usize,
) -> BTreeMap<String, Result<PathBuf, LibraryError>> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(attacks.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(a) = attacks.get(i) else { break };
                let r = build_one(a, cache);
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(a.id.clone(), r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_error_prefers_error_lines() {
        let text = "x.c: In function 'main':\nx.c:3:5: error: expected ';'\n";
        assert_eq!(first_error(text), "x.c:3:5: error: expected ';'");
        assert_eq!(first_error(""), "cc failed without a message");
    }
}
