//! The fork server, seen from the host: from a process's second run on, the run's setup process is
//! forked by a small server instead of by this (test) process; those runs behave like direct ones; the
//! server does not pass on a signal disposition it inherited; `shutdown` ends it. One test function,
//! alone in its binary: the server is state of the whole process.

use std::ffi::OsString;
use std::path::Path;

use gauntlet_sandbox::policy::Policy;
use gauntlet_sandbox::process::{self, ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::{Outcome, Status, Weaken, Weakening};

/// Pids of processes named like the fork server whose parent is this process.
fn servers() -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 2..].split(' ').nth(1).unwrap_or("");
        if comm == "gauntlet-fork" && ppid == me {
            found.push(entry.file_name().to_string_lossy().parse().unwrap());
        }
    }
    found
}

fn sh(sandbox: &ProcessSandbox, script: &str) -> Outcome {
    let mut policy = Policy::default();
    policy.fs.ro.push("/usr/bin".into());
    policy.fs.ro.push("/bin".into());
    let args = [OsString::from("-c"), OsString::from(script)];
    sandbox
        .run(&policy, Path::new("/bin/sh"), &args)
        .expect("the sandbox runs")
}

fn text(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const INTERRUPT_SELF: &str = "kill -INT $$; echo survived";
const LOOK_AROUND: &str = "ls -a /; ls /dev; id -u; id -g; echo $$";

#[test]
fn runs_after_the_first_go_through_the_fork_server_and_behave_the_same() {
    // The host ignores SIGINT before the server starts: execve hands that on to the server, which must
    // not hand it on to the plugin (a shell keeps a signal that was ignored when it started ignored).
    // SAFETY: installing SIG_IGN for SIGINT has no memory-safety preconditions; this binary runs only
    // this test.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let sandbox = ProcessSandbox::default();
    let direct = ProcessSandbox::new(ProcessOptions {
        direct_fork: true,
        ..ProcessOptions::default()
    });
    assert!(servers().is_empty());

    // The first run forks directly; the second does too and has the server started in the background.
    for _ in 0..2 {
        let o = sh(&sandbox, INTERRUPT_SELF);
        assert_eq!(o.signal, Some(libc::SIGINT), "{o:?}");
    }
    assert_eq!(process::fork_server_runs(), 0);
    process::settle();
    let started = servers();
    assert_eq!(started.len(), 1, "one fork server, a child of this process");

    let served = sh(&sandbox, INTERRUPT_SELF);
    assert_eq!(
        process::fork_server_runs(),
        1,
        "the third run went through the server"
    );
    assert_eq!(served.signal, Some(libc::SIGINT), "{served:?}");
    assert!(!text(&served).contains("survived"));

    // The same view, identity and pid as a run forked from this process (the run uid differs per run
    // either way).
    let a = sh(&sandbox, LOOK_AROUND);
    let b = sh(&direct, LOOK_AROUND);
    assert_eq!(
        process::fork_server_runs(),
        2,
        "direct_fork bypasses the server"
    );
    assert_eq!(
        (a.status, b.status),
        (Status::Exited, Status::Exited),
        "{a:?} {b:?}"
    );
    assert!(
        text(&a).contains("null") && text(&a).ends_with("0\n0\n2\n"),
        "{}",
        text(&a)
    );
    assert_eq!(text(&a), text(&b));
    assert_eq!(a.layers, b.layers);
    assert_eq!(servers(), started, "still the same server");

    // Not even a run weakened to inherit this process's descriptors (close-on-exec cleared) gets the
    // line to the server: it would ask it for setup processes of its own choosing.
    // SAFETY: not memory safety; the program run lists its descriptors and exits.
    let weaken = unsafe { Weakening::remove_protections([Weaken::InheritFds]) };
    let leaky = ProcessSandbox::new(ProcessOptions {
        weaken,
        ..ProcessOptions::default()
    });
    let fds = sh(&leaky, "ls -l /proc/self/fd/");
    assert_eq!(fds.status, Status::Exited, "{fds:?}");
    assert!(text(&fds).contains("pipe:"), "{}", text(&fds));
    assert!(!text(&fds).contains("socket:"), "{}", text(&fds));

    // The server keeps the read-only part of a view as a template: a bound file the host replaces
    // (renamed over, a new inode) is seen anew, not the old one the template held.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let file = dir.path().join("config.txt");
    std::fs::write(&file, "first\n").unwrap();
    let mut policy = Policy::default();
    policy.fs.ro.push("/usr/bin".into());
    policy.fs.ro.push("/bin".into());
    policy.fs.ro.push(file.clone());
    let cat = |want: &str| {
        let args = [
            OsString::from("-c"),
            OsString::from(format!("cat {}", file.display())),
        ];
        let o = sandbox.run(&policy, Path::new("/bin/sh"), &args).unwrap();
        assert_eq!(text(&o), want, "{o:?}");
    };
    let before = process::fork_server_runs();
    cat("first\n");
    cat("first\n");
    let next = dir.path().join("next.txt");
    std::fs::write(&next, "second\n").unwrap();
    std::fs::rename(&next, &file).unwrap();
    cat("second\n");
    assert_eq!(process::fork_server_runs(), before + 3);

    // shutdown ends it (and reaps it: no zombie is left either).
    process::shutdown();
    assert!(servers().is_empty());
    assert!(!Path::new(&format!("/proc/{}", started[0])).exists());
    let served = process::fork_server_runs();
    let after = sh(&sandbox, INTERRUPT_SELF);
    assert_eq!(after.signal, Some(libc::SIGINT));
    assert_eq!(
        process::fork_server_runs(),
        served,
        "the first run after shutdown forks directly"
    );
    process::shutdown();
}
