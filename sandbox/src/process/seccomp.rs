//! The seccomp-bpf allowlist, built in the supervisor before the fork (and cached per `[syscalls]`
//! section), so the child only installs ready programs.
//!
//! Two filters are stacked (each one installed costs the child a JIT compile and a pass over every
//! syscall number for the kernel's allow-cache, so there are as few as the actions require):
//! 1. the allowlist, compiled by libseccomp into a binary tree: anything not listed fails with `EPERM`;
//!    a call of a foreign architecture (`int $0x80`) or of the x32 ABI (numbers with bit 30) kills the
//!    process. A few listed calls are allowed only with safe arguments (no namespace flags on `clone`, no
//!    `AF_PACKET` sockets, no `personality` that turns off ASLR, no executable `memfd`s, `prlimit64` on
//!    oneself only, no `MSG_FASTOPEN`). Calls that create or change file modes may not set the setuid or
//!    setgid bits (a plugin could otherwise leave setuid executables in a read-write host path for a host
//!    user to run later). `clone3` fails with `ENOSYS` instead, so that libc falls back to `clone`, whose
//!    flags this filter can see (`clone3` passes them in memory, out of BPF's reach).
//! 2. `ioctl` requests that reach other terminals or the console (`TIOCSTI`, `TIOCLINUX`, ...) fail with
//!    `EPERM`, compared on the low 32 bits as the kernel reads them (built with seccompiler: libseccomp
//!    cannot give a rule the default action).

use std::collections::BTreeMap;

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use super::syscall_table::SYSCALLS;
use crate::policy::{PolicyError, PolicyErrorKind, Syscalls};

/// Calls that no policy can allow: they change the host, leave the sandbox's namespaces, reach other
/// processes, or widen the kernel's attack surface.
pub const ALWAYS_DENIED: &[&str] = &[
    "openat2",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "clone3",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "open_tree_attr",
    "move_mount",
    "mount_setattr",
    "statmount",
    "listmount",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "process_mrelease",
    "kcmp",
    "pidfd_getfd",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
    "sethostname",
    "setdomainname",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "open_by_handle_at",
    "lookup_dcookie",
    "fanotify_init",
    "vhangup",
    "iopl",
    "ioperm",
    "modify_ldt",
    "uselib",
    "nfsservctl",
    "_sysctl",
    "execveat",
    "memfd_secret",
    "move_pages",
    "migrate_pages",
    "uretprobe",
    "lsm_set_self_attr",
    "name_to_handle_at",
];

/// The allowlist: what ordinary programs (shells, interpreters, compilers' output, language runtimes) use.
const ALLOWED: &[&str] = &[
    // files and descriptors
    "read",
    "write",
    "open",
    "openat",
    "close",
    "close_range",
    "creat",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "lseek",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "access",
    "faccessat",
    "faccessat2",
    "pipe",
    "pipe2",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "syncfs",
    "sync_file_range",
    "truncate",
    "ftruncate",
    "fallocate",
    "fadvise64",
    "readahead",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "symlink",
    "symlinkat",
    "readlink",
    "readlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "umask",
    "mknod",
    "mknodat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "sendfile",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "getxattrat",
    "listxattrat",
    "setxattrat",
    "removexattrat",
    "file_getattr",
    "file_setattr",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "select",
    "pselect6",
    "poll",
    "ppoll",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "memfd_create",
    "ioctl",
    "cachestat",
    // memory
    "mmap",
    "mprotect",
    "munmap",
    "brk",
    "mremap",
    "msync",
    "mincore",
    "madvise",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mbind",
    "set_mempolicy",
    "get_mempolicy",
    "set_mempolicy_home_node",
    "pkey_mprotect",
    "pkey_alloc",
    "pkey_free",
    "membarrier",
    "map_shadow_stack",
    "mseal",
    // processes, threads, signals
    "clone",
    "fork",
    "vfork",
    "execve",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "getpid",
    "getppid",
    "gettid",
    "getpgrp",
    "getpgid",
    "setpgid",
    "getsid",
    "setsid",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "futex",
    "futex_waitv",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "rt_sigsuspend",
    "sigaltstack",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "arch_prctl",
    "prctl",
    "personality",
    "restart_syscall",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_setparam",
    "sched_getscheduler",
    "sched_setscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "sched_getattr",
    "sched_setattr",
    "getpriority",
    "setpriority",
    "ioprio_get",
    "ioprio_set",
    "getcpu",
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "lsm_get_self_attr",
    "lsm_list_modules",
    // identity (can only shrink without capabilities)
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "setgroups",
    "capget",
    "capset",
    // limits, time, system information
    "getrlimit",
    "setrlimit",
    "prlimit64",
    "getrusage",
    "times",
    "sysinfo",
    "uname",
    "time",
    "gettimeofday",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "alarm",
    "getitimer",
    "setitimer",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "getrandom",
    "sync",
    // sockets (the network namespace decides what they reach)
    "socket",
    "socketpair",
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "shutdown",
    "getsockname",
    "getpeername",
    "setsockopt",
    "getsockopt",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    // System V and POSIX IPC (private IPC namespace)
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
];

/// Namespace flags that `clone` may not carry.
const CLONE_NS_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64;

/// `ioctl` requests that reach other terminals or the console.
const DENIED_IOCTLS: &[u64] = &[
    libc::TIOCSTI,
    libc::TIOCLINUX,
    libc::TIOCCONS,
    libc::TIOCSCTTY,
    0x5423, // TIOCSETD: line discipline change
];

/// Socket families a plugin may open, each with the socket types it may use (`AF_PACKET`, `AF_KEY`,
/// `AF_ALG`, `AF_VSOCK`... are refused, and so is `SOCK_PACKET` under `AF_INET`, which is a packet socket).
const ALLOWED_SOCKETS: &[(i32, &[i32])] = &[
    (
        libc::AF_UNIX,
        &[libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_SEQPACKET],
    ),
    (libc::AF_INET, &[libc::SOCK_STREAM, libc::SOCK_DGRAM]),
    (libc::AF_INET6, &[libc::SOCK_STREAM, libc::SOCK_DGRAM]),
    (libc::AF_NETLINK, &[libc::SOCK_RAW, libc::SOCK_DGRAM]),
];

/// The type bits of `socket()`'s second argument (the rest are SOCK_NONBLOCK and SOCK_CLOEXEC).
const SOCK_TYPE_MASK: u64 = 0xf;

/// `MSG_FASTOPEN` connects inside `sendto`/`sendmsg`, past Landlock's connect rule: refused.
const MSG_FASTOPEN: u64 = 0x2000_0000;

/// Send calls and the index of their flags argument.
const SEND_FLAGS: &[(&str, u8)] = &[("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3)];

/// `personality` values that only query or select the plain Linux personality (no ASLR switch-off).
const ALLOWED_PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

const MFD_NOEXEC_SEAL: u64 = 0x0008;

/// S_ISUID | S_ISGID: mode bits no file the plugin creates or changes may carry.
const SET_ID_BITS: u64 = 0o6000;

/// Calls that take a file mode, and the index of the mode argument.
const MODE_ARGS: &[(&str, u8)] = &[
    ("chmod", 1),
    ("fchmod", 1),
    ("fchmodat", 2),
    ("fchmodat2", 2),
    ("open", 2),
    ("openat", 3),
    ("creat", 1),
    ("mknod", 1),
    ("mknodat", 2),
    ("mkdir", 1),
    ("mkdirat", 2),
];

/// Calls that fail with ENOSYS so that libc falls back to a call the allowlist can inspect.
pub const FALLBACK_ENOSYS: &[&str] = &["clone3"];

pub(crate) fn number(name: &str) -> Option<i64> {
    SYSCALLS.iter().find(|(n, _)| *n == name).map(|&(_, nr)| nr)
}

pub fn name_of(nr: i64) -> Option<&'static str> {
    SYSCALLS
        .iter()
        .find(|&&(_, n)| n == nr)
        .map(|&(name, _)| name)
}

/// Every syscall the kernel headers name, with its number (for sweeps and reports).
pub fn all_syscalls() -> &'static [(&'static str, i64)] {
    SYSCALLS
}

/// Checks a policy's `[syscalls]` section: names must exist, and always-denied calls cannot be allowed.
pub fn validate_adjustments(s: &Syscalls) -> Result<(), PolicyError> {
    for (list, names) in [("syscalls.allow", &s.allow), ("syscalls.deny", &s.deny)] {
        for (i, name) in names.iter().enumerate() {
            let field = format!("{list}[{i}]");
            if number(name).is_none() {
                return Err(PolicyError {
                    file: None,
                    field,
                    kind: PolicyErrorKind::Invalid(format!(
                        "{name:?} is not an x86_64 system call"
                    )),
                });
            }
            if list == "syscalls.allow" && ALWAYS_DENIED.contains(&name.as_str()) {
                return Err(PolicyError {
                    file: None,
                    field,
                    kind: PolicyErrorKind::Invalid(format!(
                        "{name:?} is always denied and cannot be allowed"
                    )),
                });
            }
        }
    }
    Ok(())
}

/// The names the allowlist grants after the policy's adjustments.
pub fn allowed_names(adjust: &Syscalls) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ALLOWED.to_vec();
    for extra in &adjust.allow {
        if let Some(&(name, _)) = SYSCALLS.iter().find(|(n, _)| n == extra) {
            if !ALWAYS_DENIED.contains(&name) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.retain(|n| !adjust.deny.iter().any(|d| d == n) && !ALWAYS_DENIED.contains(n));
    names
}

/// Compiled filters, shared between runs.
type Programs = std::sync::Arc<Vec<BpfProgram>>;

/// The stacked BPF programs for a policy, built once per distinct `[syscalls]` section and shared:
/// compiling the allowlist costs more than installing it.
pub(crate) fn programs(
    adjust: &Syscalls,
) -> Result<std::sync::Arc<Vec<BpfProgram>>, SeccompBuildError> {
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<Vec<(Syscalls, Programs)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some((_, p)) = cache
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| k == adjust).cloned())
    {
        return Ok(p);
    }
    let built = Arc::new(build(adjust)?);
    if let Ok(mut c) = cache.lock() {
        if c.len() < 64 {
            c.push((adjust.clone(), built.clone()));
        }
    }
    Ok(built)
}

/// One allowlist rule: the call is allowed when every comparison holds (comparisons of 32-bit arguments
/// look at the low 32 bits only, as the kernel does).
type Rule = Vec<ScmpArgCompare>;

/// Compares the low 32 bits of argument `arg` (an `int` in the kernel) under `mask` with `value`.
fn low32(arg: u32, mask: u64, value: u64) -> ScmpArgCompare {
    ScmpArgCompare::new(arg, ScmpCompareOp::MaskedEqual(mask & 0xffff_ffff), value)
}

/// The conditions under which one allowed call is allowed: `None` for unconditionally, `Some(rules)` for
/// "any one of these rules holds". `ioctl` is special: allowed except for the requests in
/// `DENIED_IOCTLS`, which a filter of their own refuses (see `build`).
fn conditions(name: &str) -> Option<Vec<Rule>> {
    Some(match name {
        "clone" => vec![vec![ScmpArgCompare::new(
            0,
            ScmpCompareOp::MaskedEqual(CLONE_NS_FLAGS),
            0,
        )]],
        "socket" => ALLOWED_SOCKETS
            .iter()
            .flat_map(|&(family, types)| {
                types.iter().map(move |&t| {
                    vec![
                        low32(0, u64::MAX, family as u64),
                        low32(1, SOCK_TYPE_MASK, t as u64),
                    ]
                })
            })
            .collect(),
        "socketpair" => vec![vec![low32(0, u64::MAX, libc::AF_UNIX as u64)]],
        "personality" => ALLOWED_PERSONALITIES
            .iter()
            .map(|&p| vec![low32(0, u64::MAX, p)])
            .collect(),
        "memfd_create" => vec![vec![low32(1, MFD_NOEXEC_SEAL, MFD_NOEXEC_SEAL)]],
        "prlimit64" => vec![vec![low32(0, u64::MAX, 0)]],
        _ => {
            if let Some(&(_, arg)) = MODE_ARGS.iter().find(|(n, _)| *n == name) {
                vec![vec![low32(arg as u32, SET_ID_BITS, 0)]]
            } else if let Some(&(_, arg)) = SEND_FLAGS.iter().find(|(n, _)| *n == name) {
                vec![vec![low32(arg as u32, MSG_FASTOPEN, 0)]]
            } else {
                return None;
            }
        }
    })
}

/// Builds the stacked BPF programs for a policy, in installation order.
///
/// The allowlist is compiled by libseccomp into a binary search tree over syscall numbers
/// (`SCMP_FLTATR_CTL_OPTIMIZE = 2`). A linear chain (what seccompiler emits: 1611 instructions here) costs
/// about a millisecond at every install, because the kernel walks the filter once per syscall number to
/// fill its allow-cache and JIT-compiles every instruction; the tree is walked in ~log2(n) steps. A call
/// of a foreign architecture (`int $0x80`) or from the x32 ABI (numbers with bit 30) kills the process.
pub(crate) fn build(adjust: &Syscalls) -> Result<Vec<BpfProgram>, SeccompBuildError> {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(libc::EPERM))?;
    ctx.set_act_badarch(ScmpAction::KillProcess)?;
    ctx.set_ctl_nnp(false)?;
    ctx.set_ctl_optimize(2)?;
    for name in allowed_names(adjust) {
        let Some(nr) = number(name) else { continue };
        let sc = ScmpSyscall::from(nr as i32);
        match conditions(name) {
            None => {
                ctx.add_rule_exact(ScmpAction::Allow, sc)?;
            }
            Some(rules) => {
                for rule in rules {
                    ctx.add_rule_conditional_exact(ScmpAction::Allow, sc, &rule)?;
                }
            }
        }
    }
    for name in FALLBACK_ENOSYS {
        let nr = number(name).expect("fallback calls are in the table");
        ctx.add_rule_exact(
            ScmpAction::Errno(libc::ENOSYS),
            ScmpSyscall::from(nr as i32),
        )?;
    }
    let allowlist = export(&ctx)?;

    // libseccomp refuses a rule whose action is the default one, so the denied ioctl requests (EPERM,
    // like everything the allowlist refuses) are a second small filter. They are compared on the low 32
    // bits: the kernel's `cmd` is an unsigned int, so high bits must not hide TIOCSTI.
    let mut ioctls = BTreeMap::new();
    ioctls.insert(
        number("ioctl").expect("ioctl is in the table"),
        DENIED_IOCTLS
            .iter()
            .map(|&r| {
                SeccompRule::new(vec![SeccompCondition::new(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    r,
                )
                .expect("argument index below 6")])
                .expect("a rule has a condition")
            })
            .collect(),
    );
    let ioctls = SeccompFilter::new(
        ioctls,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        TargetArch::x86_64,
    )?;
    Ok(vec![allowlist, BpfProgram::try_from(ioctls)?])
}

/// The filter as BPF instructions, through an in-memory file (libseccomp 2.5 exports only to a descriptor).
fn export(ctx: &ScmpFilterContext) -> Result<BpfProgram, SeccompBuildError> {
    use std::io::{Read, Seek};
    let mut file = super::sys::memfd("gauntlet-seccomp")?;
    ctx.export_bpf(&file)?;
    file.rewind()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        return Err(SeccompBuildError::Export(bytes.len()));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|i| sock_filter {
            code: u16::from_ne_bytes([i[0], i[1]]),
            jt: i[2],
            jf: i[3],
            k: u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
        })
        .collect())
}

/// Why the filter could not be built (a library error; a policy's own mistakes are `PolicyError`s).
#[derive(Debug, thiserror::Error)]
pub enum SeccompBuildError {
    #[error("libseccomp: {0}")]
    Libseccomp(#[from] libseccomp::error::SeccompError),
    #[error("seccompiler: {0}")]
    Seccompiler(#[from] seccompiler::BackendError),
    #[error("exporting the filter: {0}")]
    Io(#[from] std::io::Error),
    #[error("libseccomp exported {0} bytes, not whole instructions")]
    Export(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_is_a_known_syscall() {
        for name in ALLOWED.iter().chain(ALWAYS_DENIED) {
            assert!(number(name).is_some(), "{name} is not in the syscall table");
        }
    }

    #[test]
    fn allowlist_and_denylist_do_not_overlap() {
        for name in ALLOWED {
            assert!(
                !ALWAYS_DENIED.contains(name),
                "{name} is both allowed and always denied"
            );
        }
    }

    #[test]
    fn adjustments_cannot_allow_an_always_denied_call() {
        let s = Syscalls {
            allow: vec!["ptrace".into()],
            deny: vec![],
        };
        let e = validate_adjustments(&s).unwrap_err();
        assert_eq!(e.field, "syscalls.allow[0]");
        let names = allowed_names(&Syscalls {
            allow: vec![],
            deny: vec!["chmod".into()],
        });
        assert!(!names.contains(&"chmod"));
        assert!(build(&Syscalls::default()).unwrap().len() == 2);
    }
}
