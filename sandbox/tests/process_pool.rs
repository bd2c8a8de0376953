//! The fast start path: `ProcessSandbox::pool` parks sandboxes with every protection applied; a pooled
//! run must be as contained as a cold one, with its deadline counted from the launch.

mod common;

use std::ffi::OsString;
use std::time::Duration;

use common::{policy, probe, stdout};
use gauntlet_sandbox::policy::Dur;
use gauntlet_sandbox::process::{leftover_run_cgroups, ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::{Limit, Status};

/// The tests of this file run one at a time: the leak check counts every run cgroup of this process.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn args(a: &[&str]) -> Vec<OsString> {
    a.iter().map(OsString::from).collect()
}

#[test]
fn pooled_runs_apply_every_layer_a_cold_run_applies() {
    let _serial = serial();
    let sb = ProcessSandbox::new(ProcessOptions::default());
    let cold = sb.run(&policy(), probe(), &args(&["status"])).unwrap();
    let pool = sb.pool(&policy(), probe(), 1).unwrap();
    for _ in 0..3 {
        let o = pool.run(&args(&["status"])).unwrap();
        assert_eq!(o.status, Status::Exited, "{o:?}");
        let out = stdout(&o);
        for field in [
            "CapEff:\t0000000000000000",
            "CapBnd:\t0000000000000000",
            "NoNewPrivs:\t1",
            "Seccomp:\t2",
        ] {
            assert!(out.contains(field), "{field} missing in {out}");
        }
        assert_eq!(o.layers, cold.layers);
        assert_eq!(o.layers_missing, cold.layers_missing);
    }
}

#[test]
fn arguments_reach_the_parked_plugin_exactly() {
    let _serial = serial();
    let pool = ProcessSandbox::default()
        .pool(&policy(), probe(), 2)
        .unwrap();
    for code in [0, 7, 42] {
        let o = pool.run(&args(&["exit", &code.to_string()])).unwrap();
        assert_eq!(o.exit_code, Some(code), "{o:?}");
    }
    // No arguments at all is a launch too (the probe exits 100 without a mode), not a dropped pool.
    let o = pool.run(&[]).unwrap();
    assert_eq!(o.exit_code, Some(100), "{o:?}");
    let bad = pool.run(&[OsString::from("a\0b")]).unwrap_err();
    assert!(bad.to_string().contains("args[0]"), "{bad}");
}

#[test]
fn the_wall_deadline_counts_from_the_launch_and_still_kills() {
    let _serial = serial();
    let mut p = policy();
    p.limits.wall_time = Dur(Duration::from_millis(300));
    let pool = ProcessSandbox::default().pool(&p, probe(), 1).unwrap();
    // Parked for longer than the whole wall limit: that time is not the plugin's.
    std::thread::sleep(Duration::from_millis(400));
    let o = pool.run(&args(&["exit", "3"])).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.exit_code, Some(3));
    let o = pool.run(&args(&["sleep", "30"])).unwrap();
    assert_eq!(o.limit, Some(Limit::WallTime), "{o:?}");
    assert!(o.usage.wall_ms < 1500, "{o:?}");
}

#[test]
fn a_dropped_pool_leaves_no_process_and_no_cgroup() {
    let _serial = serial();
    let mine = || {
        let tag = format!("r{}-", std::process::id());
        leftover_run_cgroups()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(&tag))
            .count()
    };
    let before = common::processes_with(&probe().to_string_lossy()).len();
    {
        let pool = ProcessSandbox::default()
            .pool(&policy(), probe(), 3)
            .unwrap();
        let o = pool.run(&args(&["exit", "0"])).unwrap();
        assert_eq!(o.exit_code, Some(0));
        assert!(mine() >= 3, "parked sandboxes hold their run cgroups");
    }
    // Drop waits for background refills; nothing of the pool is left.
    assert_eq!(mine(), 0, "run cgroups left: {:?}", leftover_run_cgroups());
    assert_eq!(
        common::processes_with(&probe().to_string_lossy()).len(),
        before
    );
}

#[test]
fn wait_full_returns_once_every_sandbox_is_parked_again() {
    let _serial = serial();
    let pool = ProcessSandbox::default()
        .pool(&policy(), probe(), 2)
        .unwrap();
    assert!(pool.wait_full(Duration::from_secs(10)));
    assert_eq!(pool.parked(), 2);
    for _ in 0..2 {
        let o = pool.run(&args(&["exit", "0"])).unwrap();
        assert_eq!(o.exit_code, Some(0), "{o:?}");
    }
    // Both parked sandboxes were used; the refill makes two new ones, one after the other.
    assert!(pool.wait_full(Duration::from_secs(10)));
    assert_eq!(pool.parked(), 2);
}
