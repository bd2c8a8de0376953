//! Shared helpers of the process-backend integration tests: the hostile probe program, built once with
//! the system C compiler, and host-side checks (process census, listeners).

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gauntlet_sandbox::policy::{Dur, Policy, Size};
use gauntlet_sandbox::process::{ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::{Outcome, Weaken, Weakening};

/// The probe binary (tests/programs/probe.c), compiled once per test process.
pub fn probe() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/probe.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(format!("probe-{}", std::process::id()));
        let status = std::process::Command::new("cc")
            .args(["-O1", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("cc runs");
        assert!(status.success(), "probe.c failed to build");
        out
    })
}

/// A strict policy with short limits, suitable for tests.
pub fn policy() -> Policy {
    let mut p = Policy::default();
    p.limits.wall_time = Dur(std::time::Duration::from_secs(10));
    p.limits.memory = Size(128 << 20);
    p
}

pub fn run(policy: &Policy, args: &[&str]) -> Outcome {
    run_with(policy, args, ProcessOptions::default())
}

pub fn run_with(policy: &Policy, args: &[&str], opts: ProcessOptions) -> Outcome {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    ProcessSandbox::new(opts)
        .run(policy, probe(), &args)
        .expect("the sandbox runs")
}

/// Runs with one protection removed, to show that a test depends on that protection.
pub fn run_weakened(policy: &Policy, args: &[&str], w: &[Weaken]) -> Outcome {
    // SAFETY: not memory safety; these tests use bounded probes and check the host afterwards.
    let weaken = unsafe { Weakening::remove_protections(w.iter().copied()) };
    run_with(
        policy,
        args,
        ProcessOptions {
            weaken,
            ..ProcessOptions::default()
        },
    )
}

pub fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A word that no other test uses, to find this test's processes on the host.
pub fn nonce(tag: &str) -> String {
    format!(
        "{tag}-{}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Host pids whose command line contains `needle` (the host-side process census).
pub fn processes_with(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmd).contains(needle) {
            found.push(pid);
        }
    }
    found
}

pub fn kill_all(pids: &[i32]) {
    for &p in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// A temporary directory the sandbox's unprivileged run uid can write to.
pub fn shared_tempdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}
