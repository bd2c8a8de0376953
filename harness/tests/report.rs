//! Report rendering from fixed data: the matrix (insta snapshot), JUnit and the baseline comparison.

use gauntlet::library::{Backend, VerdictWord};
use gauntlet::oracles::{Evidence, OracleKind};
use gauntlet::report::{self, Results};
use gauntlet::runner::CaseResult;
use gauntlet::verdict::Verdict;

fn case(
    id: &str,
    category: &str,
    backend: Backend,
    evidence: Vec<Evidence>,
    skip: Option<&str>,
) -> CaseResult {
    CaseResult {
        id: id.into(),
        category: category.into(),
        title: format!("title of {id}"),
        backend,
        verdict: match skip {
            Some(r) => Verdict::skipped(r),
            None => Verdict::decide(&evidence),
        },
        expected: VerdictWord::Contained,
        evidence,
        outcome: None,
    }
}

fn fixed() -> Vec<CaseResult> {
    vec![
        case("wasm.mem.grow_bomb", "wasm", Backend::Wasm, vec![], None),
        case(
            "res.pids.fork_bomb",
            "resource",
            Backend::Process,
            vec![],
            None,
        ),
        case(
            "net.tcp.out",
            "network",
            Backend::Process,
            vec![Evidence::escape(
                OracleKind::Honeypot,
                "tcp 127.0.0.1 honeypot received 1 connection(s)",
            )],
            None,
        ),
        case(
            "sys.ptrace.attach",
            "syscall",
            Backend::Process,
            vec![Evidence::error(
                OracleKind::Health,
                "gauntlet exec crashed (signal 11)",
            )],
            None,
        ),
        case(
            "fs.path.dotdot",
            "filesystem",
            Backend::Process,
            vec![],
            Some("missing landlock"),
        ),
    ]
}

#[test]
fn matrix_is_sorted_and_stable() {
    let mut results = fixed();
    let m = report::matrix::render(&results);
    results.reverse();
    assert_eq!(m, report::matrix::render(&results));
    insta::assert_snapshot!("matrix_fixed", m);
}

#[test]
fn results_json_round_trips_with_redacted_usage() {
    let results = fixed();
    let json = serde_json::to_value(Results { cases: results }).unwrap();
    insta::assert_json_snapshot!("results_fixed", json, {
        ".cases[].outcome.usage.wall_ms" => "[ms]",
    });
}

#[test]
fn junit_marks_escapes_errors_and_skips() {
    let x = report::junit::render(&fixed());
    assert!(
        x.contains("tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"1\""),
        "{x}"
    );
    assert!(x.contains("<failure message=\"escaped (honeypot: tcp 127.0.0.1 honeypot received 1 connection(s); kind host)\""), "{x}");
    assert!(
        x.contains("<skipped message=\"skipped (missing landlock)\"/>"),
        "{x}"
    );
}

#[test]
fn baseline_regressions_are_contained_then_escaped() {
    let mut base = fixed();
    for c in &mut base {
        c.verdict = Verdict::decide(&[]);
    }
    let regs = report::regressions(&Results { cases: base }, &fixed());
    assert_eq!(regs.len(), 2, "{regs:?}");
    assert!(regs[0].starts_with("`net.tcp.out` (process): contained in the baseline, now escaped"));
}
