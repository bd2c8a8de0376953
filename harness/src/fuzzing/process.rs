//! The process target: sequences of raw system calls, run by a tiny interpreter plugin (`sysprog.c`,
//! built with the system `cc` once per source) inside the real process sandbox.
//!
//! The generator ([`syscall_program`]) draws up to 24 calls, three in four from a list of interesting
//! ones (file access, sockets, namespaces, mounts, tracing, keys, BPF, `io_uring`, credentials) and the
//! rest from the whole syscall table; arguments are biased to small descriptors, flags that matter, the
//! previous result, and pointers to the interpreter's scratch buffer, which holds the canary path and a
//! `sockaddr` of the host's UDP listener. One program in four starts with a direct attempt: open the
//! canary and read it, or send a datagram to the listener.
//!
//! Each input gets a canary file with a fresh token in a host directory outside the policy, and a UDP
//! listener on the host's loopback. The oracle ([`check_process_run`]): the token never appears in the
//! plugin's output (the interpreter dumps its scratch buffer, so a successful read would show), the
//! canary is intact, the listener receives nothing, the run ends within wall + grace, the sandbox does
//! not fail, and the peaks stay within the memory and pids limits.

use std::ffi::OsString;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use gauntlet_sandbox::outcome::{Outcome, Status};
use gauntlet_sandbox::policy::{Dur, Size};
use gauntlet_sandbox::process::seccomp::all_syscalls;
use gauntlet_sandbox::process::{ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::Policy;

use super::{short_hash, FuzzEnv, FuzzError, WALL_GRACE};

/// The interpreter's source.
pub const SYSPROG_SOURCE: &str = include_str!("sysprog.c");

/// An argument that points into the interpreter's scratch buffer at the given offset.
pub const fn scratch(offset: u16) -> u64 {
    (0xFEED << 48) | offset as u64
}
/// An argument that is the previous call's result.
pub const LAST: u64 = 0xFEEF << 48;
/// Scratch offsets of what the interpreter puts there before the first call.
pub const CANARY_PATH: u64 = scratch(0);
pub const ETC_PASSWD: u64 = scratch(256);
pub const ROOT_PATH: u64 = scratch(512);
pub const LISTENER_ADDR: u64 = scratch(768);
pub const PROC_SELF_MEM: u64 = scratch(1024);
/// Where results are read into.
pub const BUFFER: u64 = scratch(4096);

/// Calls the generator prefers.
const INTERESTING: &[&str] = &[
    "open",
    "openat",
    "read",
    "pread64",
    "write",
    "sendfile",
    "socket",
    "connect",
    "sendto",
    "bind",
    "ptrace",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "chroot",
    "pivot_root",
    "kill",
    "tkill",
    "clone",
    "mmap",
    "mprotect",
    "personality",
    "ioctl",
    "prctl",
    "bpf",
    "keyctl",
    "add_key",
    "userfaultfd",
    "perf_event_open",
    "io_uring_setup",
    "memfd_create",
    "symlink",
    "link",
    "rename",
    "unlink",
    "mknod",
    "chmod",
    "setuid",
    "capset",
    "open_by_handle_at",
    "name_to_handle_at",
    "process_vm_readv",
    "init_module",
    "kexec_load",
    "syslog",
    "mkdir",
    "getdents64",
    "chdir",
];

/// Arguments the generator prefers.
const ARGS: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    u64::MAX,
    (-100i64) as u64, // AT_FDCWD
    0x42,
    0x241,
    0o4777,
    16,
    4096,
    65536,
    0x1000_0000, // CLONE_NEWUSER
    0x2_0000,    // CLONE_NEWNS
    0x4000_0000, // CLONE_NEWNET
    CANARY_PATH,
    ETC_PASSWD,
    ROOT_PATH,
    LISTENER_ADDR,
    PROC_SELF_MEM,
    BUFFER,
    LAST,
    LAST,
    LAST,
];

/// One call of a program: the number and six arguments (tagged as described at [`scratch`]).
pub type Call = (u64, [u64; 6]);

fn nr(name: &str) -> u64 {
    all_syscalls()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, nr)| nr as u64)
        .unwrap_or(39) // getpid: harmless
}

/// Draws a syscall program from `u`.
pub fn syscall_program(u: &mut Unstructured) -> Vec<Call> {
    let mut calls = Vec::new();
    match u.int_in_range(0..=7u8).unwrap_or(0) {
        0 => {
            calls.push((nr("openat"), [(-100i64) as u64, CANARY_PATH, 0, 0, 0, 0]));
            calls.push((nr("read"), [LAST, BUFFER, 4096, 0, 0, 0]));
        }
        1 => {
            calls.push((nr("socket"), [2, 2, 0, 0, 0, 0]));
            calls.push((nr("sendto"), [LAST, ETC_PASSWD, 8, 0, LISTENER_ADDR, 16]));
        }
        _ => {}
    }
    let n = u.int_in_range(0..=24usize).unwrap_or(0);
    let table = all_syscalls();
    for _ in 0..n {
        let roll: u8 = u.arbitrary().unwrap_or(0);
        let number = if roll % 4 != 3 {
            nr(INTERESTING[u.choose_index(INTERESTING.len()).unwrap_or(0)])
        } else {
            table[u.choose_index(table.len()).unwrap_or(0)].1 as u64
        };
        let mut args = [0u64; 6];
        for a in &mut args {
            let roll: u8 = u.arbitrary().unwrap_or(0);
            *a = if roll % 4 != 3 {
                ARGS[u.choose_index(ARGS.len()).unwrap_or(0)]
            } else {
                u.arbitrary().unwrap_or(0)
            };
        }
        calls.push((number, args));
    }
    calls
}

/// The program as the interpreter's hex argument.
pub fn encode(calls: &[Call]) -> String {
    let mut s = String::with_capacity(calls.len() * 112);
    for (nr, args) in calls {
        s += &format!("{nr:016x}");
        for a in args {
            s += &format!("{a:016x}");
        }
    }
    s
}

/// Builds (once per process, cached on disk by the source's hash) the interpreter binary.
pub fn sysprog_binary() -> Result<PathBuf, FuzzError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build(&crate::library::build::default_cache_dir()))
        .clone()
        .map_err(FuzzError::Build)
}

fn build(cache: &Path) -> Result<PathBuf, String> {
    let out = cache.join(format!(
        "fuzz-sysprog-{}",
        short_hash(SYSPROG_SOURCE.as_bytes())
    ));
    if out.is_file() {
        return Ok(out);
    }
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let src = cache.join(format!("fuzz-sysprog-{}.c", std::process::id()));
    std::fs::write(&src, SYSPROG_SOURCE).map_err(|e| format!("{}: {e}", src.display()))?;
    let tmp = cache.join(format!("fuzz-sysprog-{}.tmp", std::process::id()));
    let result = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&tmp)
        .arg(&src)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cc: {e}"));
    let _ = std::fs::remove_file(&src);
    let result = result?;
    if !result.status.success() {
        return Err(crate::library::build::first_error(
            &String::from_utf8_lossy(&result.stderr),
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// The policy the programs run under: strict defaults, small limits.
pub fn process_policy() -> Policy {
    let mut p = Policy::default();
    p.limits.wall_time = Dur(Duration::from_millis(1500));
    p.limits.cpu_time = Dur(Duration::from_millis(1000));
    p.limits.memory = Size(64 << 20);
    p.limits.pids = 16;
    p.limits.output = Size(1 << 20);
    p
}

/// What one run left behind on the host, for the oracle.
#[derive(Debug)]
pub struct ProcessRun {
    pub outcome: Outcome,
    pub elapsed: Duration,
    pub token: String,
    /// The canary's content after the run (`None`: gone).
    pub canary_after: Option<Vec<u8>>,
    /// Datagrams the listener received.
    pub received: Vec<Vec<u8>>,
}

/// The process target's whole check for one input.
pub fn process_oracle(data: &[u8], env: &FuzzEnv) -> Result<(), FuzzError> {
    let program = syscall_program(&mut Unstructured::new(data));
    let policy = process_policy();
    let run = run_program(env, &policy, &program, data)?;
    check_process_run(&policy, &run);
    Ok(())
}

/// Runs `program` in the process sandbox with a fresh canary and listener.
pub fn run_program(
    env: &FuzzEnv,
    policy: &Policy,
    program: &[Call],
    data: &[u8],
) -> Result<ProcessRun, FuzzError> {
    let binary = sysprog_binary()?;
    let dir = tempfile::Builder::new()
        .prefix("gauntlet-fuzz-canary-")
        .tempdir_in("/var/tmp")
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix("gauntlet-fuzz-canary-")
                .tempdir()
        })
        .map_err(|e| FuzzError::io("/var/tmp", e))?;
    let canary = dir.path().join("canary");
    let token = format!(
        "GAUNTLET-FUZZ-TOKEN-{}-{}",
        short_hash(data),
        std::process::id()
    );
    std::fs::write(&canary, &token).map_err(|e| FuzzError::io(&canary, e))?;
    let listener = UdpSocket::bind("127.0.0.1:0").map_err(|e| FuzzError::io("127.0.0.1:0", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| FuzzError::io("127.0.0.1:0", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| FuzzError::io("127.0.0.1:0", e))?
        .port();
    let args: Vec<OsString> = vec![
        port.to_string().into(),
        canary.clone().into_os_string(),
        encode(program).into(),
    ];
    let sandbox = ProcessSandbox::new(ProcessOptions {
        weaken: env.weaken.clone(),
        ..ProcessOptions::default()
    });
    let started = Instant::now();
    let outcome = sandbox.run(policy, &binary, &args).unwrap_or_else(|e| {
        panic!("oracle: the process sandbox returned Err for valid input: {e}")
    });
    let elapsed = started.elapsed();
    let mut received = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok((n, _)) = listener.recv_from(&mut buf) {
        received.push(buf[..n].to_vec());
    }
    let canary_after = std::fs::read(&canary).ok();
    Ok(ProcessRun {
        outcome,
        elapsed,
        token,
        canary_after,
        received,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Panics unless the run kept the process sandbox's promises (see the module docs).
pub fn check_process_run(policy: &Policy, run: &ProcessRun) {
    let o = &run.outcome;
    let token = run.token.as_bytes();
    assert!(
        !contains(&o.stdout, token) && !contains(&o.stderr, token),
        "oracle: the canary's token appears in the plugin's output: {}",
        o.summary()
    );
    assert!(
        run.canary_after.as_deref() == Some(token),
        "oracle: the canary outside the policy was changed or removed"
    );
    assert!(
        run.received.is_empty(),
        "oracle: the host's UDP listener received {} datagram(s) from the sandbox",
        run.received.len()
    );
    let wall = policy.limits.wall_time.0;
    assert!(
        run.elapsed <= wall + WALL_GRACE,
        "oracle: the run took {:?}, over the wall limit {wall:?} plus {WALL_GRACE:?}: {}",
        run.elapsed,
        o.summary()
    );
    assert!(
        o.status != Status::Error,
        "oracle: the process sandbox failed: {}",
        o.reason.as_deref().unwrap_or("(no reason)")
    );
    assert!(
        o.usage.peak_memory_bytes <= policy.limits.memory.0,
        "oracle: peak memory {} is above the limit {}",
        o.usage.peak_memory_bytes,
        policy.limits.memory.0
    );
    assert!(
        o.usage.peak_pids <= u64::from(policy.limits.pids),
        "oracle: peak pids {} is above the limit {}",
        o.usage.peak_pids,
        policy.limits.pids
    );
}
