//! One case per protection layer of the process backend, each with real sandboxed processes. Every test
//! also runs the same probe with exactly that layer removed (a `Weakening`) and shows that the outcome
//! changes: a test here fails if its layer is removed.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::*;
use gauntlet_sandbox::policy::{Dur, NetMode, Size};
use gauntlet_sandbox::process::{ProcessOptions, StdinMode};
use gauntlet_sandbox::{Limit, Status, Weaken};

#[test]
fn fork_bomb_stops_at_the_pids_limit_and_leaves_nothing() {
    let mut p = policy();
    p.limits.pids = 16;
    let tag = nonce("forkbomb");
    let o = run(&p, &["forkbomb", &tag]);
    assert!(o.usage.limits_hit.contains(&Limit::Pids), "{o:?}");
    assert!(
        o.usage.peak_pids <= 16,
        "peak {} above the limit",
        o.usage.peak_pids
    );
    assert!(
        processes_with(&tag).is_empty(),
        "fork bomb children survived the run"
    );

    let weak = run_weakened(&p, &["forkbomb", &tag], &[Weaken::NoPidsLimit]);
    kill_all(&processes_with(&tag));
    assert!(
        weak.usage.peak_pids > 16,
        "without pids.max the bomb should pass the limit: {weak:?}"
    );
}

#[test]
fn memory_hog_is_killed_at_the_memory_limit() {
    let mut p = policy();
    p.limits.memory = Size(64 << 20);
    let o = run(&p, &["memhog", "512"]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::Memory));
    let limit = 64u64 << 20;
    let peak = o.usage.peak_memory_bytes;
    assert!(
        peak.abs_diff(limit) <= limit / 10,
        "peak {peak} not within 10% of {limit}"
    );

    let weak = run_weakened(&p, &["memhog", "128"], &[Weaken::NoMemoryLimit]);
    assert_eq!(weak.status, Status::Exited, "{weak:?}");
    assert!(weak.usage.peak_memory_bytes > limit);
}

#[test]
fn spinner_is_killed_at_the_cpu_limit() {
    let mut p = policy();
    p.limits.cpu_time = Dur(Duration::from_secs(1));
    p.limits.wall_time = Dur(Duration::from_secs(4));
    let o = run(&p, &["spin"]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::CpuTime));
    assert!(
        (1000..=2000).contains(&o.usage.cpu_ms),
        "cpu {} ms not within 1 s of the limit",
        o.usage.cpu_ms
    );

    let weak = run_weakened(&p, &["spin"], &[Weaken::NoCpuLimit]);
    assert_eq!(weak.limit, Some(Limit::WallTime), "{weak:?}");
}

#[test]
fn sleeper_is_killed_at_the_wall_limit() {
    let mut p = policy();
    p.limits.wall_time = Dur(Duration::from_secs(1));
    let o = run(&p, &["sleep", "30"]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::WallTime));
    assert!(
        (1000..=1500).contains(&o.usage.wall_ms),
        "wall {} ms not within 0.5 s of the limit",
        o.usage.wall_ms
    );

    let weak = run_weakened(&p, &["sleep", "2"], &[Weaken::NoWallDeadline]);
    assert_eq!(weak.status, Status::Exited, "{weak:?}");
    assert!(weak.usage.wall_ms >= 2000);
}

#[test]
fn double_forked_daemon_is_gone_after_the_run() {
    let dir = shared_tempdir();
    let mut p = policy();
    p.fs.rw.push(dir.path().to_path_buf());
    let marker = dir.path().to_str().unwrap().to_string();
    let o = run(&p, &["daemon", &marker]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert!(stdout(&o).contains("daemon started"));
    assert!(
        processes_with(&marker).is_empty(),
        "the double-forked daemon outlived the run"
    );

    let weak = run_weakened(&p, &["daemon", &marker], &[Weaken::NoTreeKill]);
    let survivors = processes_with(&marker);
    kill_all(&survivors);
    assert_eq!(weak.status, Status::Exited);
    assert!(
        !survivors.is_empty(),
        "without the tree kill the daemon should survive"
    );
}

fn listeners() -> (TcpListener, UdpSocket, u16) {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)) {
            tcp.set_nonblocking(true).unwrap();
            udp.set_nonblocking(true).unwrap();
            return (tcp, udp, port);
        }
    }
}

fn arrived(tcp: &TcpListener, udp: &UdpSocket) -> bool {
    let mut buf = [0u8; 64];
    tcp.accept().is_ok() || udp.recv(&mut buf).is_ok()
}

#[test]
fn loopback_connects_to_the_hosts_listener_never_arrive() {
    let (tcp, udp, port) = listeners();
    for mode in [NetMode::None, NetMode::Loopback] {
        let mut p = policy();
        p.net.mode = mode;
        let o = run(&p, &["net", &port.to_string()]);
        assert_eq!(o.status, Status::Exited, "{o:?}");
        assert!(
            !arrived(&tcp, &udp),
            "a packet from the sandbox (net {mode:?}) reached the host: {}",
            stdout(&o)
        );
    }
    let weak = run_weakened(&policy(), &["net", &port.to_string()], &[Weaken::NoNetNs]);
    assert!(
        arrived(&tcp, &udp),
        "without the net namespace the datagram should arrive: {}",
        stdout(&weak)
    );
}

#[test]
fn file_outside_the_policy_is_unreadable_by_path_proc_root_and_dotdot() {
    // Not under /tmp: without its mount namespace the sandbox's /tmp rule would be the host's /tmp.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOKEN-7f3a9c").unwrap();
    let s = secret.to_str().unwrap();
    let dotdot = format!("../../../../..{s}");
    let via_root = format!("/proc/1/root{s}");
    let via_self = format!("/proc/self/root{s}");
    let args = ["read", s, &dotdot, &via_root, &via_self];
    let o = run(&policy(), &args);
    assert!(
        !stdout(&o).contains("TOKEN-7f3a9c"),
        "secret leaked: {}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("No such file or directory"),
        "the mount namespace should hide it: {}",
        stdout(&o)
    );

    // Each fence alone holds: without the mount namespace Landlock denies, without Landlock the path
    // does not exist. Without both, the secret is readable, so this test sees a missing fence.
    let no_mnt = run_weakened(&policy(), &args, &[Weaken::NoMountNs]);
    assert!(!stdout(&no_mnt).contains("TOKEN-7f3a9c"));
    assert!(
        stdout(&no_mnt).contains("Permission denied"),
        "Landlock should deny: {}",
        stdout(&no_mnt)
    );
    let no_ll = run_weakened(&policy(), &args, &[Weaken::NoLandlock]);
    assert!(!stdout(&no_ll).contains("TOKEN-7f3a9c"));
    let neither = run_weakened(&policy(), &args, &[Weaken::NoMountNs, Weaken::NoLandlock]);
    assert!(
        stdout(&neither).contains("TOKEN-7f3a9c"),
        "{}",
        stdout(&neither)
    );
}

#[test]
fn descriptor_open_in_the_caller_is_not_inherited() {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(b"FD-SECRET-41d2").unwrap();
    use std::io::Seek;
    f.rewind().unwrap();
    // Clear close-on-exec, as a careless host application would leave it.
    nix::fcntl::fcntl(
        &f,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .unwrap();
    let o = run(&policy(), &["fds"]);
    assert!(stdout(&o).contains("fd scan done"));
    assert!(!stdout(&o).contains("FD-SECRET-41d2"), "{}", stdout(&o));
    assert!(
        !stdout(&o).contains("fd 3 open"),
        "descriptors above 2 reached the plugin: {}",
        stdout(&o)
    );

    let weak = run_weakened(&policy(), &["fds"], &[Weaken::InheritFds]);
    assert!(
        stdout(&weak).contains("FD-SECRET-41d2"),
        "{}",
        stdout(&weak)
    );
    drop(f);
}

#[test]
fn every_listed_syscall_is_denied_by_the_filter() {
    let o = run(&policy(), &["syscalls"]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 40, "{out}");
    for line in &lines {
        let (name, result) = line.split_once(' ').unwrap();
        let want = if name == "clone3" { "ENOSYS" } else { "EPERM" };
        assert_eq!(result, want, "{name} was not denied by seccomp");
    }
    // Without the filter, the same calls fail differently (or succeed): the EPERMs above are the filter's.
    let weak = run_weakened(&policy(), &["syscalls"], &[Weaken::NoSeccomp]);
    let changed = stdout(&weak)
        .lines()
        .filter(|l| !l.ends_with(" EPERM"))
        .count();
    assert!(changed >= 20, "{}", stdout(&weak));
}

#[test]
fn tiocsti_cannot_reach_the_callers_terminal() {
    let pty = nix::pty::openpty(None, None).unwrap();
    nix::fcntl::fcntl(
        &pty.master,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .unwrap();
    let opts = |weaken| ProcessOptions {
        stdin: StdinMode::Fd(pty.slave.as_raw_fd()),
        weaken,
        ..ProcessOptions::default()
    };
    let o = run_with(&policy(), &["tiocsti"], opts(Default::default()));
    assert!(stdout(&o).contains("injected 0 bytes"), "{}", stdout(&o));
    let mut master = std::fs::File::from(pty.master.try_clone().unwrap());
    let mut buf = [0u8; 256];
    let n = master.read(&mut buf).unwrap_or(0);
    assert!(
        !String::from_utf8_lossy(&buf[..n]).contains("INJECTED"),
        "bytes reached the terminal"
    );

    // SAFETY: not memory safety; the terminal is a pty this test owns.
    let weak = unsafe { gauntlet_sandbox::Weakening::remove_protections([Weaken::NoSeccomp]) };
    let w = run_with(&policy(), &["tiocsti"], opts(weak));
    let n = master.read(&mut buf).unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&buf[..n]).contains("INJECTED")
            || stdout(&w).contains("injected 14 bytes"),
        "without seccomp the injection should work on this kernel: {}",
        stdout(&w)
    );
}

#[test]
fn the_hosts_hostname_is_unchanged() {
    let before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let o = run(&policy(), &["hostname"]);
    assert!(
        stdout(&o).contains("sethostname: Operation not permitted"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("hostname gauntlet"));
    // Even with the filter gone and capabilities kept, only the sandbox's own UTS namespace changes.
    let weak = run_weakened(
        &policy(),
        &["hostname"],
        &[Weaken::NoSeccomp, Weaken::KeepCaps],
    );
    assert!(
        stdout(&weak).contains("hostname gauntlet-pwned"),
        "{}",
        stdout(&weak)
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        before
    );
}

#[test]
fn no_setuid_or_setgid_file_is_left_in_a_read_write_host_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = shared_tempdir();
    let mut p = policy();
    p.fs.rw.push(dir.path().to_path_buf());
    let d = dir.path().to_str().unwrap();
    let o = run(&p, &["setid", d]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    let with_set_id = |dir: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.metadata().unwrap().permissions().mode() & 0o6000 != 0)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert!(with_set_id(dir.path()).is_empty(), "{}", stdout(&o));

    let other = shared_tempdir();
    let mut p = policy();
    p.fs.rw.push(other.path().to_path_buf());
    run_weakened(
        &p,
        &["setid", other.path().to_str().unwrap()],
        &[Weaken::NoSeccomp],
    );
    assert!(
        !with_set_id(other.path()).is_empty(),
        "without the filter the bits should stick"
    );
}

#[test]
fn plugin_runs_without_privileges_in_its_own_namespaces() {
    let o = run(&policy(), &["status"]);
    let out = stdout(&o);
    for field in [
        "CapEff:\t0000000000000000",
        "CapBnd:\t0000000000000000",
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
    ] {
        assert!(out.contains(field), "{field} missing in {out}");
    }
    for layer in [
        "user_ns",
        "pid_ns",
        "mount_ns",
        "net_ns",
        "ipc_ns",
        "uts_ns",
        "cgroup_ns",
        "pivot_root",
        "seccomp",
        "landlock",
    ] {
        assert!(
            o.layers.iter().any(|l| l == layer),
            "{layer} not applied: {:?}",
            o.layers_missing
        );
    }
    // Every name reported is one of the documented layer names.
    for name in o
        .layers
        .iter()
        .chain(o.layers_missing.iter().map(|m| &m.layer))
    {
        assert!(
            gauntlet_sandbox::process::LAYERS.contains(&name.as_str()),
            "{name} is not in LAYERS"
        );
    }
    let weak = run_weakened(&policy(), &["status"], &[Weaken::KeepCaps]);
    assert!(
        !stdout(&weak).contains("CapBnd:\t0000000000000000"),
        "{}",
        stdout(&weak)
    );
}

#[test]
fn environment_is_exactly_the_policys() {
    let mut p = policy();
    p.env.insert("ONLY".into(), "this".into());
    std::env::set_var("GAUNTLET_TEST_LEAK", "leaked-9d1");
    let o = run(&p, &["env"]);
    assert_eq!(stdout(&o), "env ONLY=this\n");
    let weak = run_weakened(&p, &["env"], &[Weaken::InheritEnv]);
    assert!(stdout(&weak).contains("leaked-9d1"));
}

#[test]
fn output_flood_is_capped_and_killed() {
    let mut p = policy();
    p.limits.output = Size(64 << 10);
    let o = run(&p, &["flood"]);
    assert_eq!(o.status, Status::Killed, "{:?}", o.status);
    assert_eq!(o.limit, Some(Limit::Output));
    assert!(o.output_truncated);
    assert_eq!(o.stdout.len() as u64, 64 << 10);
}

#[test]
fn exit_code_and_output_pass_through() {
    let o = run(&policy(), &["exit", "7"]);
    assert_eq!(
        (o.status, o.exit_code, o.limit),
        (Status::Exited, Some(7), None)
    );
    assert_eq!(o.shell_exit_code(), 7);
}

/// The plugin's mount table holds its own view and nothing of the host's: the old root is detached
/// before the plugin's `execve` (its setup process waits for that), so the host's root file system and
/// its mounts (`/sys`, the scratch and pivot directories) are not in it.
#[test]
fn the_plugin_mount_table_holds_only_its_view() {
    let args = ["read", "/proc/self/mountinfo"];
    let o = run(&policy(), &args);
    let text = stdout(&o);
    assert!(text.contains("read ["), "{text}");
    let mounts: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split(' ').nth(4)?.to_string();
            let fstype = right.split(' ').next()?.to_string();
            Some((point, fstype))
        })
        .collect();
    assert!(mounts.len() > 5, "{text}");
    for (point, fstype) in &mounts {
        if point == "/" {
            assert_eq!(fstype, "tmpfs", "a host root at /: {text}");
        }
        assert!(
            !(point == "/sys" || point.starts_with("/sys/")),
            "a host mount in the sandbox: {text}"
        );
        assert!(
            !point.contains("oldroot") && !point.contains("newroot"),
            "a setup mount left behind: {text}"
        );
    }
    // Without the mount namespace the same reading shows the host's mounts, so the checks above can
    // fail.
    let weak = run_weakened(&policy(), &args, &[Weaken::NoMountNs]);
    assert!(
        stdout(&weak).contains(" /sys "),
        "the host's mount table should show: {}",
        stdout(&weak)
    );
}
