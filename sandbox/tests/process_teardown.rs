//! The end of a run: its Outcome comes back as soon as every plugin process is dead and reaped, the rest
//! of its teardown (setup processes, run cgroup) finishes in the background, and nothing the process
//! backend made outlives the program that embeds it, even one that never calls `process::shutdown`.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use common::{policy, probe, run};
use gauntlet_sandbox::process::{leftover_run_cgroups, settle};
use gauntlet_sandbox::Status;

/// The names of the run cgroups a process made that exist now (one name may be in several v1
/// controllers).
fn run_cgroups_of(pid: u32) -> BTreeSet<String> {
    let tag = format!("r{pid}-");
    leftover_run_cgroups()
        .into_iter()
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .filter(|n| n.starts_with(&tag))
        .collect()
}

/// Three runs, then `settle`: each run's cgroup is gone and one spare is ready for the next run.
/// Also the body of the child process of the test below, which then just exits.
#[test]
fn settled_runs_leave_only_the_spare_cgroup() {
    for code in ["0", "1", "2"] {
        let o = run(&policy(), &["exit", code]);
        assert_eq!(o.status, Status::Exited, "{o:?}");
    }
    settle();
    let left = run_cgroups_of(std::process::id());
    assert_eq!(
        left.len(),
        1,
        "expected one spare run cgroup, found {left:?}"
    );
    // The plugin processes were gone before the Outcome came back.
    assert!(common::processes_with(&probe().to_string_lossy()).is_empty());
}

#[test]
fn a_program_that_never_calls_shutdown_leaves_no_cgroup_behind() {
    // The test above, alone in a fresh process of this binary, which exits without calling
    // `shutdown`: its exit hook must finish the queued teardown and remove the spare.
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "settled_runs_leave_only_the_spare_cgroup",
            "--test-threads=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let left = run_cgroups_of(pid);
    assert!(left.is_empty(), "run cgroups left by the child: {left:?}");
}
