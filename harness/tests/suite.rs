//! End to end: the real runner, the real sandbox, three tiny fixture attacks
//! (`tests/fixtures/lib`). Contained as is; escaped, with host evidence, when the sandbox is weakened
//! by exactly the protection each fixture probes. Also: two runs give the same matrix, and nothing of
//! a run is left behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use gauntlet::library::VerdictWord;
use gauntlet::oracles::{EvidenceKind, OracleKind};
use gauntlet::report::Results;
use gauntlet::runner::CaseResult;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lib")
}

/// Runs `gauntlet run` on the fixtures; returns exit code, results and the matrix.
fn run(extra: &[&str]) -> (i32, Vec<CaseResult>, String) {
    let report = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["run", "--backend", "process", "--jobs", "3", "--library"])
        .arg(fixtures())
        .arg("--report")
        .arg(report.path())
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = std::fs::read_to_string(report.path().join("results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}); stderr:\n{stderr}"));
    let results: Results = serde_json::from_str(&text).unwrap();
    let matrix = std::fs::read_to_string(report.path().join("containment.md")).unwrap();
    for f in ["junit.xml", "summary.md"] {
        assert!(report.path().join(f).is_file(), "{f} missing");
    }
    (out.status.code().unwrap_or(-1), results.cases, matrix)
}

fn case<'a>(cases: &'a [CaseResult], id: &str) -> &'a CaseResult {
    cases
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn assert_escaped(cases: &[CaseResult], id: &str, oracle: OracleKind) {
    let c = case(cases, id);
    assert_eq!(
        c.verdict.word,
        VerdictWord::Escaped,
        "{id}: {} {:?} {:?}",
        c.verdict,
        c.evidence,
        c.outcome
    );
    assert_eq!(
        c.verdict.evidence_kind,
        Some(EvidenceKind::Host),
        "{id}: {}",
        c.verdict
    );
    assert!(
        c.evidence
            .iter()
            .any(|e| e.oracle == oracle && e.kind == EvidenceKind::Host),
        "{id}: no {} evidence in {:?}",
        oracle.name(),
        c.evidence
    );
}

fn leftovers() -> Vec<String> {
    let mine = |name: &str| name.starts_with("gauntlet-suite-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| mine(n))
        .filter(|n| {
            // Other suites running at the same time on this machine are alive; only stale ones count.
            gauntlet::runner::cgroups::tag_is_stale(n.trim_start_matches("gauntlet-suite-"))
        })
        .collect()
}

#[test]
fn fixtures_are_contained_and_each_weakening_is_caught() {
    let (code, cases, matrix) = run(&[]);
    for c in &cases {
        assert_eq!(
            c.verdict.word,
            VerdictWord::Contained,
            "{}: {} {:?}",
            c.id,
            c.verdict,
            c.evidence
        );
    }
    assert_eq!(code, 0);
    let (_, _, again) = run(&[]);
    assert_eq!(matrix, again, "two runs gave different matrices");
    insta::assert_snapshot!("fixture_matrix", matrix);

    let (code, cases, _) = run(&["--unsafe-weaken", "inherit-env"]);
    assert_eq!(code, 1);
    assert_escaped(&cases, "fix.info.env_canary", OracleKind::Canary);

    let (code, cases, _) = run(&["--unsafe-weaken", "no-net-ns"]);
    assert_eq!(code, 1);
    assert_escaped(&cases, "fix.network.honey_connect", OracleKind::Honeypot);

    let (code, cases, _) = run(&["--unsafe-weaken", "no-mount-ns"]);
    assert_eq!(code, 1);
    assert_escaped(&cases, "fix.syscall.linger", OracleKind::Pstat);

    assert_eq!(leftovers(), Vec::<String>::new());
}

#[test]
fn bad_input_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["run", "--category", "nonsense", "--library"])
        .arg(fixtures())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["run", "--unsafe-weaken", "no-such-layer", "--library"])
        .arg(fixtures())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["show", "no.such.attack", "--library"])
        .arg(fixtures())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_and_show() {
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["list", "--library"])
        .arg(fixtures())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with("fix.info.env_canary"));
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["show", "fix.syscall.linger", "--library"])
        .arg(fixtures())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("id = \"fix.syscall.linger\""), "{text}");
    assert!(
        text.contains("# source: ") && text.contains("linger.c"),
        "{text}"
    );
}
