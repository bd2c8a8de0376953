//! The supervisor's life cycle against real processes and modules: restarts with a growing back-off,
//! reload when a binary or module changes on disk (or on request), and a stop that kills a running
//! process. Every wait is on a condition with a deadline, never a sleep.

mod common;
mod supervisor_util;

use std::time::{Duration, Instant};

use gauntlet_sandbox::policy::Dur;
use gauntlet_sandbox::supervisor::{Mode, Program, Start, StartOptions, StopToken, Supervisor};
use gauntlet_sandbox::Status;
use supervisor_util::*;

const DEADLINE: Duration = Duration::from_secs(60);

fn keep_running(watch: bool) -> StartOptions {
    StartOptions {
        mode: Mode::KeepRunning,
        watch,
        notify: None,
    }
}

#[test]
fn a_failing_plugin_is_restarted_with_growing_delays() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let sup = Supervisor::open(&dir.path().join("state"), Some(&audit)).unwrap();
    let mut p = policy();
    p.supervisor.restart_backoff = Dur(Duration::from_millis(150));
    p.supervisor.restart_max = Dur(Duration::from_secs(5));
    let probe = common::probe().to_path_buf();
    let s = spec("crashy", Program::Process(probe), &["exit", "3"], p);
    let h = sup.start(s, keep_running(false)).unwrap();
    assert!(
        h.wait_until(DEADLINE, |runs| runs.len() >= 4),
        "fewer than 4 runs: {:?}",
        h.history().len()
    );
    let runs = h.stop_and_join();
    assert!(
        runs.iter().all(|r| r.outcome.exit_code == Some(3)),
        "{runs:?}"
    );
    assert_eq!(runs[0].start, Start::First);
    let planned: Vec<u128> = runs[1..4]
        .iter()
        .map(|r| r.planned_delay.as_millis())
        .collect();
    assert_eq!(planned, [150, 300, 600]);
    // The waits actually taken, each from the end of a run to the start of the next, grow too.
    let waited: Vec<Duration> = runs
        .windows(2)
        .take(3)
        .map(|w| w[1].started - w[0].ended)
        .collect();
    for (w, r) in waited.iter().zip(&runs[1..]) {
        assert!(
            *w >= r.planned_delay,
            "waited {w:?} < {:?}",
            r.planned_delay
        );
    }
    assert!(waited[0] < waited[1] && waited[1] < waited[2], "{waited:?}");
    assert!(waited[2] >= waited[0] * 2, "{waited:?}");
    drop(sup);
    let recs = records(&audit);
    let delays: Vec<u64> = recs
        .iter()
        .filter(|r| r["op"] == "restart")
        .map(|r| r["args"]["delay_ms"].as_u64().unwrap())
        .take(3)
        .collect();
    assert_eq!(delays, [150, 300, 600]);
}

#[test]
fn a_changed_binary_is_reloaded_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let v1 = cc(dir.path(), "v1", "int main(void) { return 0; }\n");
    let v2 = cc(dir.path(), "v2", "int main(void) { return 7; }\n");
    let bin = dir.path().join("plugin");
    std::fs::copy(&v1, &bin).unwrap();
    let mut p = policy();
    // A back-off far longer than the test: only a reload can start the second run soon.
    p.supervisor.restart_backoff = Dur(Duration::from_secs(600));
    p.supervisor.restart_max = Dur(Duration::from_secs(600));
    let sup = Supervisor::open(&dir.path().join("state"), Some(&audit)).unwrap();
    let h = sup
        .start(
            spec("bin", Program::Process(bin.clone()), &[], p),
            keep_running(true),
        )
        .unwrap();
    assert!(h.wait_until(DEADLINE, |r| !r.is_empty()));
    assert_eq!(h.history()[0].outcome.exit_code, Some(0));
    // Replace the binary the way deployments do: a new file renamed over the old one.
    let tmp = dir.path().join("plugin.new");
    std::fs::copy(&v2, &tmp).unwrap();
    std::fs::rename(&tmp, &bin).unwrap();
    assert!(
        h.wait_until(DEADLINE, |r| r.len() >= 2),
        "no run after the binary changed"
    );
    let runs = h.stop_and_join();
    assert_eq!(runs[1].start, Start::Reload);
    assert_eq!(runs[1].outcome.exit_code, Some(7), "{:?}", runs[1].outcome);
    drop(sup);
    let reload = records(&audit)
        .into_iter()
        .find(|r| r["op"] == "reload")
        .expect("a reload record");
    assert_eq!(reload["args"]["trigger"], "file changed");
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&v2).unwrap());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert_eq!(reload["args"]["program_sha256"], sha);
}

#[test]
fn a_changed_module_is_reloaded_and_a_reload_can_be_requested() {
    let dir = tempfile::tempdir().unwrap();
    let module = write(
        dir.path(),
        "m.wat",
        &host_module("", "(call $exit (i32.const 1))"),
    );
    let mut p = policy();
    p.supervisor.restart_backoff = Dur(Duration::from_secs(600));
    p.supervisor.restart_max = Dur(Duration::from_secs(600));
    let sup = Supervisor::open(&dir.path().join("state"), None).unwrap();
    let h = sup
        .start(
            spec("mod", Program::Wasm(module.clone()), &[], p),
            keep_running(true),
        )
        .unwrap();
    assert!(h.wait_until(DEADLINE, |r| !r.is_empty()));
    std::fs::write(&module, host_module("", "(call $exit (i32.const 5))")).unwrap();
    assert!(h.wait_until(DEADLINE, |r| r.len() >= 2), "no reload");
    // A touch without a change of content is not a reload; an explicit request is.
    std::fs::write(&module, host_module("", "(call $exit (i32.const 5))")).unwrap();
    h.reload();
    assert!(h.wait_until(DEADLINE, |r| r.len() >= 3));
    let runs = h.stop_and_join();
    assert_eq!(runs[0].outcome.exit_code, Some(1));
    assert_eq!(runs[1].start, Start::Reload);
    assert_eq!(runs[1].outcome.exit_code, Some(5));
    assert_eq!(runs[2].start, Start::Reload);
    assert_eq!(runs.len(), 3, "{runs:?}");
}

#[test]
fn a_stop_kills_a_running_process_and_ends_the_life_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let sup = Supervisor::open(&dir.path().join("state"), None).unwrap();
    let mut p = policy();
    p.limits.wall_time = Dur(Duration::from_secs(120));
    let tag = common::nonce("supstop");
    let probe = common::probe().to_path_buf();
    let s = spec(
        "sleeper",
        Program::Process(probe.clone()),
        &["sleep", "100", &tag],
        p.clone(),
    );

    // One run, stopped through its token while it sleeps.
    let token = StopToken::new().unwrap();
    let t2 = token.clone();
    let (sup2, s2) = (sup.clone(), s.clone());
    let run = std::thread::spawn(move || sup2.run_stoppable(&s2, &t2).unwrap());
    let deadline = Instant::now() + DEADLINE;
    while common::processes_with(&tag).is_empty() {
        assert!(Instant::now() < deadline, "the sleeper never started");
        std::thread::sleep(Duration::from_millis(10)); // polling a condition, with a deadline
    }
    let asked = Instant::now();
    token.stop();
    let o = run.join().unwrap();
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.reason.as_deref(), Some("stopped by the supervisor"));
    assert!(asked.elapsed() < Duration::from_secs(60));
    assert!(
        common::processes_with(&tag).is_empty(),
        "the sleeper survived"
    );

    // A started plugin: stop_and_join ends its current run and its life cycle.
    let h = sup.start(s, keep_running(false)).unwrap();
    let deadline = Instant::now() + DEADLINE;
    while common::processes_with(&tag).is_empty() {
        assert!(Instant::now() < deadline, "the sleeper never started");
        std::thread::sleep(Duration::from_millis(10)); // polling a condition, with a deadline
    }
    let runs = h.stop_and_join();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        runs[0].outcome.reason.as_deref(),
        Some("stopped by the supervisor")
    );
    assert!(
        common::processes_with(&tag).is_empty(),
        "the sleeper survived"
    );
    let m = parse_metrics(&sup.metrics().encode());
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_outcomes_total{plugin="sleeper",status="killed",cause="stopped"}"#
        ),
        Some(2.0)
    );
}

#[test]
fn once_mode_runs_once_and_notifies() {
    let dir = tempfile::tempdir().unwrap();
    let sup = Supervisor::open(&dir.path().join("state"), None).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = sup
        .start(
            spec("t", Program::Process("/usr/bin/true".into()), &[], policy()),
            StartOptions {
                mode: Mode::Once,
                watch: false,
                notify: Some(tx),
            },
        )
        .unwrap();
    let runs = h.join();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome.status, Status::Exited);
    let notices: Vec<_> = rx.try_iter().collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
}

#[test]
fn a_stop_ends_a_running_wasm_module_spinning_or_sleeping() {
    let dir = tempfile::tempdir().unwrap();
    let sup = Supervisor::open(&dir.path().join("state"), None).unwrap();
    let mut p = policy();
    p.limits.wall_time = Dur(Duration::from_secs(120));
    p.limits.cpu_time = Dur(Duration::from_secs(120));
    // A module that calls the host API once (so the test sees it running), then spins or sleeps
    // (a 100 s clock subscription through poll_oneoff).
    let spin = "(drop (call $log (i32.const 0) (i32.const 2))) (loop $l (br $l))";
    let sleep = r#"(drop (call $log (i32.const 0) (i32.const 2)))
        (i64.store (i32.const 1048) (i64.const 100000000000))
        (drop (call $poll (i32.const 1024) (i32.const 2048) (i32.const 1) (i32.const 2200)))"#;
    for (id, body) in [("spin", spin), ("nap", sleep)] {
        let wat = host_module("hi", body).replace(
            "(memory (export \"memory\") 1)",
            "(import \"wasi_snapshot_preview1\" \"poll_oneoff\" (func $poll (param i32 i32 i32 i32) (result i32)))\n  (memory (export \"memory\") 1)",
        );
        let module = write(dir.path(), &format!("{id}.wat"), &wat);
        let s = spec(id, Program::Wasm(module), &[], p.clone());
        let token = StopToken::new().unwrap();
        let (sup2, t2) = (sup.clone(), token.clone());
        let run = std::thread::spawn(move || sup2.run_stoppable(&s, &t2).unwrap());
        let series = format!(r#"gauntlet_events_total{{plugin="{id}",op="log",result="ok"}}"#);
        let deadline = Instant::now() + DEADLINE;
        while sample(&parse_metrics(&sup.metrics().encode()), &series).is_none() {
            assert!(Instant::now() < deadline, "{id} never started");
            std::thread::sleep(Duration::from_millis(10)); // polling a condition, with a deadline
        }
        token.stop();
        let o = run.join().unwrap();
        assert_eq!(o.status, Status::Killed, "{id}: {o:?}");
        assert_eq!(
            o.reason.as_deref(),
            Some("stopped by the supervisor"),
            "{id}"
        );
        assert!(o.usage.wall_ms < 60_000, "{id}: {o:?}");
    }
}
