//! The suite can fail: every mutant (one protection removed from the real sandbox) is caught by at least
//! one of the attacks that claim it, with host-side evidence. Runs the fast subset (two attacks per
//! mutant) inside the outer wall, as `gauntlet mutants --fast` does.

use std::process::Command;

#[test]
fn every_mutant_is_caught_with_host_evidence() {
    let report = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["mutants", "--fast", "--report"])
        .arg(report.path())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("gauntlet mutants runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("MISSED"), "{stdout}");
    let score = stdout
        .lines()
        .find(|l| l.starts_with("mutation score:"))
        .expect("a score line");
    let (caught, total) = score
        .trim_start_matches("mutation score: ")
        .split_once(" caught")
        .and_then(|(frac, _)| frac.split_once('/'))
        .expect("caught/total");
    assert_eq!(caught, total, "{score}");
    assert!(
        score.contains(&format!("{total} with host-side evidence")),
        "{score}"
    );
    let md = std::fs::read_to_string(report.path().join("mutants.md")).unwrap();
    for line in stdout.lines().filter(|l| l.contains(" caught by ")) {
        let name = line.split_whitespace().next().unwrap();
        assert!(
            md.contains(&format!("`{name}`")),
            "{name} missing from mutants.md"
        );
    }
}

#[test]
fn an_unknown_mutant_is_bad_input() {
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["mutants", "--only", "no-such-layer"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-layer"));
}

/// Top-level entries of the host's /tmp, /var/tmp and /dev/shm owned by a uid no host account has
/// (the sandbox's mapped uids start far above 65535), changed at or after `since`.
fn sandbox_owned_scratch_entries(since: std::time::SystemTime) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    ["/tmp", "/var/tmp", "/dev/shm"]
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|rd| rd.flatten())
        .filter_map(|e| {
            let md = std::fs::symlink_metadata(e.path()).ok()?;
            let recent = md.modified().ok()? >= since;
            (md.uid() > 65535 && recent).then(|| e.path().display().to_string())
        })
        .collect()
}

#[test]
fn what_a_mutant_writes_to_tmp_dies_with_its_case() {
    // Without its mount namespace the plugin shares its case's /tmp and /dev/shm (the symlink and
    // path attacks plant links there): those must be the case's throwaway overlays, not the host's.
    let since = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let report = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["mutants", "--only", "no-mount-ns", "--report"])
        .arg(report.path())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("gauntlet mutants runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1/1 caught"), "{stdout}");
    assert!(report.path().join("mutants.md").exists());
    let left = sandbox_owned_scratch_entries(since);
    assert!(left.is_empty(), "left on the host: {left:?}");
}
