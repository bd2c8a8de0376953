//! Replays every saved failing input in `corpora/regressions/` through its target's oracle. A file is
//! named `<target>-<hash>.bin`; the target comes from the name. Passes when the directory holds no
//! inputs, but every input there really runs.

use std::path::PathBuf;

use gauntlet::fuzzing::campaign::seed_files;
use gauntlet::fuzzing::{run_target, FuzzEnv, Target};

#[test]
fn every_regression_input_passes_its_oracle() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions");
    let files = seed_files(&dir).expect("corpora/regressions is readable");
    let env = FuzzEnv::default();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let target = name
            .split_once('-')
            .and_then(|(t, _)| Target::from_name(t))
            .unwrap_or_else(|| panic!("{}: the name does not start with a target", path.display()));
        let data = std::fs::read(path).expect("readable regression input");
        if let Err(e) = run_target(target, &data, &env) {
            panic!("{}: fuzz setup failed: {e}", path.display());
        }
    }
    eprintln!("replayed {} regression input(s)", files.len());
}

/// The seed corpora replay too (they are what a campaign runs first).
#[test]
fn every_seed_input_passes_its_oracle() {
    let env = FuzzEnv::default();
    for &target in Target::ALL {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../corpora")
            .join(target.name());
        for path in seed_files(&dir).expect("seed corpus is readable") {
            let data = std::fs::read(&path).expect("readable seed");
            if let Err(e) = run_target(target, &data, &env) {
                panic!("{}: fuzz setup failed: {e}", path.display());
            }
        }
    }
}
