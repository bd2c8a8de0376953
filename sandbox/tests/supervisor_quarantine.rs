//! Quarantine and metrics against real runs: a memory hog killed by its limit, a process killed by
//! seccomp, wasm modules that misuse the host API or hit its caps. The quarantine refuses further runs
//! with a clear reason, survives a new supervisor on the same state directory, and is released; the
//! metrics text parses and counts what happened.

mod common;
mod supervisor_util;

use std::time::Duration;

use gauntlet_sandbox::policy::{Dur, Size};
use gauntlet_sandbox::supervisor::{Program, Supervisor, SupervisorErrorKind};
use gauntlet_sandbox::{Limit, Status};
use supervisor_util::*;

#[test]
fn a_memory_hog_is_quarantined_refused_persisted_and_released() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let audit = dir.path().join("audit.jsonl");
    let mut p = policy();
    p.limits.memory = Size(64 << 20);
    p.supervisor.quarantine_after = 2;
    p.supervisor.quarantine_window = Dur(Duration::from_secs(600));
    let probe = common::probe().to_path_buf();
    let hog = spec(
        "hog",
        Program::Process(probe.clone()),
        &["memhog", "512"],
        p.clone(),
    );

    let sup = Supervisor::open(&state, Some(&audit)).unwrap();
    for _ in 0..2 {
        let o = sup.run(&hog).unwrap();
        assert_eq!(o.status, Status::Killed, "{o:?}");
        assert_eq!(o.limit, Some(Limit::Memory), "{o:?}");
    }
    let refused = sup.run(&hog).unwrap();
    assert_eq!(refused.status, Status::Rejected, "{refused:?}");
    assert_eq!(refused.usage.wall_ms, 0, "a refused run must not start");
    assert!(refused.layers.is_empty());
    let reason = refused.reason.clone().unwrap();
    for part in [
        "plugin \"hog\" is in quarantine since 20",
        "2 violations within 600s",
        "killed by limit memory",
        &format!(
            "gauntlet quarantine release hog --state {}",
            sup.state_dir().display()
        ),
    ] {
        assert!(reason.contains(part), "{part:?} not in {reason:?}");
    }

    let text = sup.metrics().encode();
    let m = parse_metrics(&text);
    let get = |s: &str| sample(&m, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(
        get(r#"gauntlet_runs_total{plugin="hog",backend="process"}"#),
        3.0
    );
    assert_eq!(
        get(r#"gauntlet_outcomes_total{plugin="hog",status="killed",cause="memory"}"#),
        2.0
    );
    assert_eq!(
        get(r#"gauntlet_outcomes_total{plugin="hog",status="rejected",cause="quarantined"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gauntlet_violations_total{plugin="hog",kind="limit"}"#),
        2.0
    );
    assert_eq!(get(r#"gauntlet_quarantined{plugin="hog"}"#), 1.0);
    assert_eq!(get(r#"gauntlet_run_wall_seconds_count{plugin="hog"}"#), 2.0);
    assert_eq!(
        get(r#"gauntlet_run_peak_memory_bytes_count{plugin="hog"}"#),
        2.0
    );
    // The peaks were near the 64 MiB limit: both fall in the bucket up to 64 MiB or the next one.
    assert_eq!(
        get(r#"gauntlet_run_peak_memory_bytes_bucket{le="+Inf",plugin="hog"}"#),
        2.0
    );
    assert!(get(r#"gauntlet_run_peak_memory_bytes_sum{plugin="hog"}"#) >= 2.0 * 50.0 * 1048576.0);
    drop(sup);

    // A new supervisor on the same state directory still refuses it; another plugin still runs.
    let sup = Supervisor::open(&state, Some(&audit)).unwrap();
    let list = sup.quarantine().list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].0, "hog");
    assert_eq!(list[0].1.violations, 2);
    assert_eq!(sup.run(&hog).unwrap().status, Status::Rejected);
    let other = spec(
        "ok",
        Program::Process(probe.clone()),
        &["exit", "0"],
        p.clone(),
    );
    assert_eq!(sup.run(&other).unwrap().status, Status::Exited);
    let m = parse_metrics(&sup.metrics().encode());
    assert_eq!(
        sample(&m, r#"gauntlet_quarantined{plugin="hog"}"#),
        Some(1.0)
    );

    // Released: it runs again, with a clean slate (one more violation does not re-quarantine it).
    sup.release("hog").unwrap();
    assert!(matches!(
        sup.release("hog").unwrap_err().kind,
        SupervisorErrorKind::NotQuarantined
    ));
    let o = sup.run(&hog).unwrap();
    assert_eq!(o.limit, Some(Limit::Memory), "{o:?}");
    assert!(sup.quarantine().status("hog").unwrap().is_none());
    drop(sup);

    let recs = records(&audit);
    let ops: Vec<&str> = recs.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(ops.iter().filter(|o| **o == "quarantine").count(), 1);
    assert_eq!(ops.iter().filter(|o| **o == "run_refused").count(), 2);
    assert_eq!(
        ops.iter().filter(|o| **o == "quarantine_release").count(),
        1
    );
    assert_eq!(ops.iter().filter(|o| **o == "violation").count(), 3);
    let limit = recs.iter().find(|r| r["op"] == "limit").unwrap();
    assert_eq!(limit["args"]["limit"], "memory");
}

#[test]
fn a_process_killed_by_seccomp_counts_as_an_escape_attempt() {
    let dir = tempfile::tempdir().unwrap();
    // An i386 system call from a 64-bit process: the filter's architecture check kills it (SIGSYS).
    let bin = cc(
        dir.path(),
        "foreign_abi",
        "int main(void) { int r; __asm__ volatile(\"int $0x80\" : \"=a\"(r) : \"a\"(20)); return 0; }\n",
    );
    let mut p = policy();
    p.supervisor.quarantine_after = 1;
    let sup = Supervisor::open(&dir.path().join("state"), None).unwrap();
    let s = spec("abi", Program::Process(bin), &[], p);
    let o = sup.run(&s).unwrap();
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.signal, Some(libc::SIGSYS), "{o:?}");
    let q = sup
        .quarantine()
        .status("abi")
        .unwrap()
        .expect("quarantined");
    assert!(q.reasons[0].starts_with("seccomp:"), "{q:?}");
    let m = parse_metrics(&sup.metrics().encode());
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_violations_total{plugin="abi",kind="seccomp"}"#
        ),
        Some(1.0)
    );
    assert_eq!(sup.run(&s).unwrap().status, Status::Rejected);
}

#[test]
fn wasm_host_api_misuse_counts_once_per_run_and_cap_hits_count_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let sup = Supervisor::open(&dir.path().join("state"), Some(&audit)).unwrap();
    let mut p = policy();
    p.supervisor.quarantine_after = 3;

    // A pointer outside linear memory: the call is reported (an `error` event) and the run traps with
    // host_api_misuse; that is one violation, not two.
    let oob = write(
        dir.path(),
        "oob.wat",
        &host_module("", "(drop (call $log (i32.const 65530) (i32.const 100)))"),
    );
    let misuse = spec("oob", Program::Wasm(oob), &[], p.clone());
    for n in 1..=2 {
        let o = sup.run(&misuse).unwrap();
        assert_eq!(o.trap.as_deref(), Some("host_api_misuse"), "{o:?}");
        assert!(
            sup.quarantine().status("oob").unwrap().is_none(),
            "after run {n}"
        );
    }
    assert_eq!(sup.run(&misuse).unwrap().status, Status::Killed);
    assert!(sup.quarantine().status("oob").unwrap().is_some());

    // Three oversized keys in one run: each answered E_TOO_LARGE (a `limit` event), three violations.
    let big = write(
        dir.path(),
        "big.wat",
        &host_module(
            "",
            "(drop (call $put (i32.const 0) (i32.const 300) (i32.const 0) (i32.const 1)))
             (drop (call $put (i32.const 0) (i32.const 300) (i32.const 0) (i32.const 1)))
             (drop (call $put (i32.const 0) (i32.const 300) (i32.const 0) (i32.const 1)))",
        ),
    );
    let caps = spec("caps", Program::Wasm(big), &[], p.clone());
    let o = sup.run(&caps).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    let q = sup
        .quarantine()
        .status("caps")
        .unwrap()
        .expect("quarantined");
    assert_eq!(q.violations, 3);
    assert!(q.reasons[2].contains("kv_put"), "{q:?}");

    let m = parse_metrics(&sup.metrics().encode());
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_events_total{plugin="caps",op="kv_put",result="limit"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_violations_total{plugin="oob",kind="event_error"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_violations_total{plugin="oob",kind="host_api_misuse"}"#
        ),
        None
    );
    assert_eq!(
        sample(&m, r#"gauntlet_host_calls_total{plugin="caps"}"#),
        Some(3.0)
    );
    drop(sup);
    let recs = records(&audit);
    let put = recs.iter().find(|r| r["op"] == "kv_put").unwrap();
    assert_eq!(put["args"]["key"], 300);
    assert_eq!(put["result"]["kind"], "limit");
}

#[test]
fn metrics_count_known_runs_of_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let sup = Supervisor::open(&dir.path().join("state"), None).unwrap();
    let m1 = write(
        dir.path(),
        "ok.wat",
        &host_module("x", "(drop (call $log (i32.const 0) (i32.const 1)))"),
    );
    let m2 = write(
        dir.path(),
        "seven.wat",
        &host_module("", "(call $exit (i32.const 7))"),
    );
    let ok = spec("w-ok", Program::Wasm(m1), &[], policy());
    let seven = spec("w-seven", Program::Wasm(m2), &[], policy());
    let t = spec(
        "p-true",
        Program::Process("/usr/bin/true".into()),
        &[],
        policy(),
    );
    for _ in 0..3 {
        sup.run(&ok).unwrap();
    }
    for _ in 0..2 {
        assert_eq!(sup.run(&seven).unwrap().exit_code, Some(7));
    }
    sup.run(&t).unwrap();
    let text = sup.metrics().encode();
    let m = parse_metrics(&text);
    let get = |s: &str| sample(&m, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(
        get(r#"gauntlet_runs_total{plugin="w-ok",backend="wasm"}"#),
        3.0
    );
    assert_eq!(
        get(r#"gauntlet_runs_total{plugin="w-seven",backend="wasm"}"#),
        2.0
    );
    assert_eq!(
        get(r#"gauntlet_runs_total{plugin="p-true",backend="process"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gauntlet_outcomes_total{plugin="w-seven",status="exited",cause="exit_nonzero"}"#),
        2.0
    );
    assert_eq!(
        get(r#"gauntlet_outcomes_total{plugin="w-ok",status="exited",cause="exit_0"}"#),
        3.0
    );
    assert_eq!(
        get(r#"gauntlet_events_total{plugin="w-ok",op="log",result="ok"}"#),
        3.0
    );
    assert_eq!(get(r#"gauntlet_run_cpu_seconds_count{plugin="w-ok"}"#), 3.0);
    assert_eq!(
        get(r#"gauntlet_run_wall_seconds_bucket{le="+Inf",plugin="p-true"}"#),
        1.0
    );
    // Histogram buckets are cumulative.
    let buckets: Vec<f64> = m
        .iter()
        .filter(|(s, _)| s.starts_with("gauntlet_run_wall_seconds_bucket") && s.contains("w-ok"))
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert!(text.contains("# TYPE gauntlet_run_wall_seconds histogram"));
    assert!(text.contains("# TYPE gauntlet_runs counter"));
}
