//! The child's setup path: where the `Plan` is applied. Three processes take part:
//!
//! - **A** (forked from the supervisor): closes every inherited descriptor, becomes the run's unprivileged
//!   host uid (when the supervisor is root), creates the user, pid, mount, net, ipc and uts namespaces,
//!   maps uid 0 inside to that host uid, waits until the supervisor has put it in the run cgroup, enters a
//!   new cgroup namespace, forks B and waits for it. A dies with the supervisor (`PDEATHSIG`).
//! - **B** (pid 1 of the new pid namespace): builds the new root (pivot_root into a tmpfs holding only the
//!   policy's paths, a private /tmp, a minimal /dev, a /proc with the kernel's knobs read-only), sets the
//!   hostname, brings up loopback when asked, forks C, and reaps. When C exits, B kills every process
//!   left in the pid namespace (`kill(-1)`), reaps them all, reports C's status and `D`, and exits.
//!   A dies -> B gets SIGKILL.
//! - **C** (the plugin): new session (no controlling terminal), stdio from the supervisor's pipes, every
//!   other descriptor closed, default signal handling, rlimits, securebits locked, capability bounding
//!   and ambient sets emptied, no_new_privs, Landlock, capabilities zeroed, seccomp, execve.
//!
//! Messages to the supervisor go over the status pipe, one line each: `P <pid of B>`, `L <landlock>`,
//! `S <raw wait status of C>`, `D` (every other process of the run killed and reaped; only from B as
//! pid 1 of its own namespace), `E <stage>: <error>`.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

use super::fence::{self, FenceResult};
use super::plan::{
    Plan, RootPlan, ViewEntry, DEV_NODES, NEW_ROOT, OLD_ROOT, PROC_MASKED, PROC_READ_ONLY,
};
use super::sys;

/// Descriptors the child gets from the supervisor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChildFds {
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
    pub status: RawFd,
    pub go: RawFd,
    /// The supervisor's message channel, handed to the plugin as descriptor 3.
    pub channel: Option<RawFd>,
    /// The run cgroup's self-join files (`CgroupManager::self_join_files`); -1 where unused.
    pub join: [RawFd; 4],
    /// A parked run's launch pipe: the plugin waits there, every protection applied, for its arguments.
    pub launch: Option<RawFd>,
}

type Step<T> = Result<T, (&'static str, io::Error)>;

trait Stage<T> {
    fn at(self, stage: &'static str) -> Step<T>;
}

impl<T> Stage<T> for io::Result<T> {
    fn at(self, stage: &'static str) -> Step<T> {
        self.map_err(|e| (stage, e))
    }
}

fn report(fd: RawFd, msg: &str) {
    let _ = sys::write_all(fd, msg.as_bytes());
}

fn fail(fd: RawFd, (stage, err): (&'static str, io::Error)) -> ! {
    report(fd, &format!("E {stage}: {err}\n"));
    sys::exit_now(126)
}

/// Entry point of process A. Never returns.
pub(crate) fn run_a(plan: &Plan, fds: ChildFds) -> ! {
    let status = fds.status;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stage_a(plan, fds)));
    match result {
        Ok(Err(e)) => fail(status, e),
        Ok(Ok(())) => sys::exit_now(0),
        Err(_) => {
            report(status, "E setup: panic in the child\n");
            sys::exit_now(126)
        }
    }
}

fn stage_a(plan: &Plan, fds: ChildFds) -> Step<()> {
    if plan.close_fds {
        let netns = plan.join_netns.unwrap_or(fds.go);
        let channel = fds.channel.unwrap_or(fds.go);
        let launch = fds.launch.unwrap_or(fds.go);
        let [j0, j1, j2, j3] = fds.join;
        sys::close_all_except(&[
            fds.stdin, fds.stdout, fds.stderr, fds.status, fds.go, netns, channel, launch, j0, j1,
            j2, j3,
        ])
        .at("close descriptors")?;
    }
    // Move into the run cgroup (while still one thread and still privileged), before anything else
    // is created, so every process of the run is born inside it.
    for fd in fds.join.into_iter().filter(|fd| *fd >= 0) {
        sys::write_all(fd, b"0").at("join the run cgroup")?;
        sys::close(fd);
    }
    if let Some(fd) = plan.join_netns {
        // Join the prepared network namespace while still privileged, then let go of it.
        sys::setns(fd, libc::CLONE_NEWNET).at("join the network namespace")?;
        if plan.close_fds {
            let channel = fds.channel.unwrap_or(fds.go);
            let launch = fds.launch.unwrap_or(fds.go);
            sys::close_all_except(&[
                fds.stdin, fds.stdout, fds.stderr, fds.status, fds.go, channel, launch,
            ])
            .at("close descriptors")?;
        }
    }
    if let Some((uid, gid)) = plan.switch_to {
        sys::switch_identity(uid, gid).at("switch to the run uid")?;
        // Changing uid made the process non-dumpable, which leaves /proc/self owned by host root; the
        // id maps below must be written by this process itself.
        sys::set_dumpable(true).at("set dumpable")?;
    }
    let flags = plan.ns.unshare_flags(plan.join_netns.is_some());
    if flags != 0 {
        sys::unshare(flags).at("unshare namespaces")?;
    }
    if plan.ns.user {
        let (uid, gid) = plan.map_to;
        std::fs::write("/proc/self/setgroups", "deny").at("write setgroups")?;
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1")).at("write uid_map")?;
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1")).at("write gid_map")?;
    }
    // Credentials changed above, which clears the parent-death signal: set it now.
    sys::set_pdeathsig(libc::SIGKILL).at("set parent-death signal")?;
    // Wait until the supervisor has moved us into the run cgroup (or gave up on cgroups).
    let mut go = [0u8; 1];
    if sys::read_fd(fds.go, &mut go).at("wait for the supervisor")? != 1 {
        sys::exit_now(125);
    }
    if plan.ns.cgroup {
        sys::unshare(libc::CLONE_NEWCGROUP).at("unshare cgroup namespace")?;
    }
    match sys::fork().at("fork init")? {
        sys::Forked::Child => {
            let result = stage_b(plan, fds);
            match result {
                Err(e) => fail(fds.status, e),
                Ok(never) => match never {},
            }
        }
        sys::Forked::Parent(b) => {
            report(fds.status, &format!("P {b}\n"));
            let _ = sys::close_all_except(&[fds.status]);
            let _ = sys::wait4(b);
            Ok(())
        }
    }
}

enum Never {}

fn stage_b(plan: &Plan, fds: ChildFds) -> Step<Never> {
    sys::set_pdeathsig(libc::SIGKILL).at("set parent-death signal")?;
    sys::set_dumpable(false).at("set non-dumpable")?;
    if let Some(root) = &plan.root {
        build_root(root)?;
    }
    if plan.ns.uts {
        sys::sethostname(b"gauntlet").at("set hostname")?;
    }
    if plan.loopback && plan.join_netns.is_none() {
        sys::loopback_up().at("bring up loopback")?;
    }
    let mut status_fd = fds.status;
    let c = match sys::fork().at("fork plugin")? {
        sys::Forked::Child => match stage_c(plan, fds, &mut status_fd) {
            Err(e) => fail(status_fd, e),
            Ok(never) => match never {},
        },
        sys::Forked::Parent(c) => c,
    };
    let _ = sys::close_all_except(&[fds.status]);
    // pid 1 of the run's own pid namespace: kill(-1) from here reaches every other process in it and
    // nothing outside it.
    let own_init = plan.tree_kill && plan.ns.pid && std::process::id() == 1;
    loop {
        match sys::wait_any() {
            Ok((pid, status)) if pid == c && own_init => {
                // Kill and reap the whole tree (orphans are re-parented here), then report C's status
                // and that nothing of the plugin is left (`D`): the supervisor ends the run on it.
                // kill(-1) again after each reap: a process forked while the first one went round
                // is killed too, so the loop ends with the namespace empty.
                sys::kill_namespace();
                while sys::wait_any().is_ok() {
                    sys::kill_namespace();
                }
                report(fds.status, &format!("S {status}\nD\n"));
                sys::exit_now(0);
            }
            Ok((pid, status)) if pid == c => {
                report(fds.status, &format!("S {status}\n"));
                if plan.tree_kill {
                    // Exiting as pid 1 makes the kernel kill every process left in the namespace.
                    sys::exit_now(0);
                }
            }
            Ok(_) => {}
            Err(_) => sys::exit_now(0),
        }
    }
}

fn c(s: &str) -> CString {
    CString::new(s).expect("static path without NUL")
}

fn join(base: &CStr, name: &str) -> CString {
    let mut v = base.to_bytes().to_vec();
    v.push(b'/');
    v.extend_from_slice(name.as_bytes());
    CString::new(v).expect("path without NUL")
}

fn mkdir_p(path: &CStr) -> io::Result<()> {
    let bytes = path.to_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        if b == b'/' {
            mkdir_existing_ok(&CString::new(&bytes[..i]).expect("prefix of a C string"))?;
        }
    }
    mkdir_existing_ok(path)
}

fn mkdir_existing_ok(path: &CStr) -> io::Result<()> {
    match sys::mkdir(path, 0o755) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        r => r,
    }
}

fn parent_of(path: &CStr) -> CString {
    let bytes = path.to_bytes();
    let cut = bytes.iter().rposition(|&b| b == b'/').unwrap_or(0);
    CString::new(&bytes[..cut.max(1)]).expect("prefix of a C string")
}

fn exists(path: &CStr) -> bool {
    std::path::Path::new(std::ffi::OsStr::from_bytes(path.to_bytes()))
        .symlink_metadata()
        .is_ok()
}

fn bind(src: &CStr, dst: &CStr, attrs: u64) -> io::Result<()> {
    sys::mount(
        Some(src),
        dst,
        None,
        (libc::MS_BIND | libc::MS_REC) as libc::c_ulong,
        None,
    )?;
    sys::mount_setattr(dst, true, attrs)
}

fn tmpfs(at: &CStr, flags: libc::c_ulong, opts: &str) -> io::Result<()> {
    sys::mount(Some(c"tmpfs"), at, Some(c"tmpfs"), flags, Some(&c(opts)))
}

fn build_root(root: &RootPlan) -> Step<()> {
    let nosuid_nodev = (libc::MS_NOSUID | libc::MS_NODEV) as libc::c_ulong;
    sys::mount(
        None,
        c"/",
        None,
        (libc::MS_REC | libc::MS_PRIVATE) as libc::c_ulong,
        None,
    )
    .at("make / private")?;
    // A scratch tmpfs to pivot into first, so the whole host stays reachable under OLD_ROOT while the
    // new root is assembled next to it.
    tmpfs(c"/tmp", nosuid_nodev, "size=64k,mode=0700").at("mount the scratch tmpfs")?;
    sys::chdir(c"/tmp").at("enter the scratch tmpfs")?;
    sys::mkdir(&c(&NEW_ROOT[1..]), 0o755).at("mkdir newroot")?;
    sys::mkdir(&c(&OLD_ROOT[1..]), 0o755).at("mkdir oldroot")?;
    sys::pivot_root(c".", &c(&OLD_ROOT[1..])).at("pivot into the scratch tmpfs")?;
    sys::chdir(c"/").at("chdir /")?;

    let newroot = c(NEW_ROOT);
    tmpfs(&newroot, nosuid_nodev, "size=1m,nr_inodes=4096,mode=0755").at("mount the new root")?;
    let noexec = (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC) as libc::c_ulong;
    let tmp = join(&newroot, "tmp");
    mkdir_existing_ok(&tmp).at("mkdir /tmp")?;
    let tmp_opts = format!(
        "size={},nr_inodes={},mode=1777",
        root.tmp_size,
        (root.tmp_size / 4096).clamp(1024, 1 << 20)
    );
    tmpfs(&tmp, noexec, &tmp_opts).at("mount /tmp")?;

    let dev = join(&newroot, "dev");
    mkdir_existing_ok(&dev).at("mkdir /dev")?;
    tmpfs(
        &dev,
        (libc::MS_NOSUID | libc::MS_NOEXEC) as libc::c_ulong,
        "size=64k,nr_inodes=64,mode=0755",
    )
    .at("mount /dev")?;
    for node in DEV_NODES {
        let at = join(&dev, node);
        sys::touch(&at).at("create a device mount point")?;
        bind(
            &join(&c(OLD_ROOT), &format!("dev/{node}")),
            &at,
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
        )
        .at("bind a device node")?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        sys::symlink(&c(target), &join(&dev, name)).at("create /dev symlinks")?;
    }
    let shm = join(&dev, "shm");
    sys::mkdir(&shm, 0o1777).at("mkdir /dev/shm")?;
    tmpfs(&shm, noexec, &tmp_opts).at("mount /dev/shm")?;

    let proc_ = join(&newroot, "proc");
    mkdir_existing_ok(&proc_).at("mkdir /proc")?;
    if root.fresh_proc {
        sys::mount(Some(c"proc"), &proc_, Some(c"proc"), noexec, None).at("mount /proc")?;
    } else {
        // Without a pid namespace of its own the sandbox may not mount a proc (the host's pid namespace
        // is not its to show), so it gets the host's /proc.
        bind(
            &join(&c(OLD_ROOT), "proc"),
            &proc_,
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
        )
        .at("bind /proc")?;
    }
    if !root.proc_sys_writable {
        for name in PROC_READ_ONLY {
            let p = join(&proc_, name);
            if exists(&p) {
                bind(
                    &p,
                    &p,
                    sys::MOUNT_ATTR_RDONLY
                        | sys::MOUNT_ATTR_NOSUID
                        | sys::MOUNT_ATTR_NODEV
                        | sys::MOUNT_ATTR_NOEXEC,
                )
                .at("make /proc knobs read-only")?;
            }
        }
    }
    let null = join(&dev, "null");
    for name in PROC_MASKED {
        let p = join(&proc_, name);
        if exists(&p) {
            sys::mount(Some(&null), &p, None, libc::MS_BIND as libc::c_ulong, None)
                .at("mask /proc entries")?;
        }
    }
    // Policy paths last, so that paths under /tmp or /dev land on top of the private mounts.
    for entry in &root.entries {
        match entry {
            ViewEntry::Bind {
                src,
                dst,
                dir,
                writable,
            } => {
                if !exists(dst) {
                    mkdir_p(&parent_of(dst)).at("create a mount point's parents")?;
                    if *dir {
                        sys::mkdir(dst, 0o755).at("create a mount point")?;
                    } else {
                        sys::touch(dst).at("create a file mount point")?;
                    }
                }
                let attrs = if *writable {
                    sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC
                } else {
                    sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV
                };
                bind(src, dst, attrs).at("bind a policy path")?;
            }
            ViewEntry::Symlink { target, at } => {
                if !exists(at) {
                    mkdir_p(&parent_of(at)).at("create a symlink's parents")?;
                    sys::symlink(target, at).at("create a symlink")?;
                }
            }
        }
    }
    // The new root itself is read-only: the plugin writes only to /tmp, /dev/shm and rw paths.
    sys::mount_setattr(
        &newroot,
        false,
        sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
    )
    .at("make the new root read-only")?;
    sys::chdir(&newroot).at("enter the new root")?;
    sys::pivot_root(c".", c".").at("pivot_root")?;
    sys::umount_detach(c".").at("detach the old root")?;
    sys::chdir(c"/").at("chdir /")?;
    Ok(())
}

/// Largest launch message (all arguments together).
pub(crate) const MAX_LAUNCH: usize = 1 << 20;
/// First byte of a launch message (so that a message with no arguments differs from none at all).
pub(crate) const LAUNCH_TAG: u8 = b'L';

/// The descriptor number the plugin finds the supervisor's message channel at, when it has one.
pub const CHANNEL_FD: RawFd = 3;

/// `status_fd` follows the status pipe as it moves, so that a failure is reported where it still is.
fn stage_c(plan: &Plan, fds: ChildFds, status_fd: &mut RawFd) -> Step<Never> {
    // Move everything above the stdio range first, so dup2 cannot clobber a descriptor still needed.
    let status = sys::dup_cloexec_above(fds.status, 10).at("move the status pipe")?;
    *status_fd = status;
    if plan.setsid {
        sys::setsid().at("setsid")?;
    }
    let stdin = sys::dup_cloexec_above(fds.stdin, 10).at("move stdin")?;
    let stdout = sys::dup_cloexec_above(fds.stdout, 10).at("move stdout")?;
    let stderr = sys::dup_cloexec_above(fds.stderr, 10).at("move stderr")?;
    let channel = match fds.channel {
        Some(fd) => Some(sys::dup_cloexec_above(fd, 10).at("move the channel")?),
        None => None,
    };
    let launch = match fds.launch {
        Some(fd) => Some(sys::dup_cloexec_above(fd, 10).at("move the launch pipe")?),
        None => None,
    };
    sys::dup2(stdin, 0).at("set up stdin")?;
    sys::dup2(stdout, 1).at("set up stdout")?;
    sys::dup2(stderr, 2).at("set up stderr")?;
    if let Some(fd) = channel {
        sys::dup2(fd, CHANNEL_FD).at("set up the channel")?;
    }
    if plan.close_fds {
        let keep = if channel.is_some() { CHANNEL_FD } else { 0 };
        sys::close_all_except(&[0, 1, 2, keep, status, launch.unwrap_or(status)])
            .at("close descriptors")?;
    } else {
        inherit_all_fds(status);
    }
    sys::reset_signals();
    for &(res, soft, hard) in &plan.rlimits {
        sys::setrlimit(res, soft, hard).at("set rlimits")?;
    }
    sys::chdir(&plan.exec.cwd).at("chdir")?;
    if plan.drop_caps {
        if plan.ns.user {
            sys::lock_securebits().at("lock securebits")?;
        }
        sys::drop_bounding_and_ambient().at("drop capability bounding set")?;
    }
    if plan.no_new_privs {
        sys::set_no_new_privs().at("set no_new_privs")?;
    }
    if let Some(spec) = &plan.fence {
        let r = fence::restrict_self(spec, plan.no_new_privs)
            .map_err(|e| ("landlock", io::Error::other(e)))?;
        let word = match r {
            FenceResult::Full => "full",
            FenceResult::Partial => "partial",
            FenceResult::NotEnforced => "none",
        };
        report(status, &format!("L {word}\n"));
    }
    if let Some(progs) = &plan.seccomp {
        for prog in progs.iter() {
            if plan.no_new_privs {
                seccompiler::apply_filter(prog)
                    .map_err(|e| ("seccomp", io::Error::other(e.to_string())))?;
            } else {
                sys::install_seccomp_keep_privs(prog).at("seccomp")?;
            }
        }
    }
    if plan.drop_caps {
        sys::capset_zero().at("drop capabilities")?;
    }
    let launched;
    let argv = match launch {
        Some(fd) => {
            // Parked: every protection is on. Say so, then wait for the arguments.
            report(status, "R\n");
            launched = read_launch(fd, &plan.exec.argv[0]).at("read the launch message")?;
            sys::close(fd);
            sys::ptr_array(&launched)
        }
        None => sys::ptr_array(&plan.exec.argv),
    };
    let envp = sys::ptr_array(&plan.exec.envp);
    let err = sys::execve(&plan.exec.path, &argv, &envp);
    Err(("exec", err))
}

/// A parked plugin's arguments: `LAUNCH_TAG`, then each argument NUL-terminated, until end of file
/// (argv[0] is the program's).
/// End of file before anything arrives means the pool was dropped: exit quietly.
fn read_launch(fd: RawFd, argv0: &CStr) -> io::Result<Vec<CString>> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sys::read_fd(fd, &mut chunk)?;
        if n == 0 {
            break;
        }
        if bytes.len() + n > MAX_LAUNCH {
            return Err(io::Error::other("launch message too long"));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    let Some((&tag, args)) = bytes.split_first() else {
        sys::exit_now(0)
    };
    if tag != LAUNCH_TAG || args.last().is_some_and(|b| *b != 0) {
        return Err(io::Error::other("malformed launch message"));
    }
    let mut argv = vec![argv0.to_owned()];
    if let Some((_, args)) = args.split_last() {
        for arg in args.split(|b| *b == 0) {
            argv.push(CString::new(arg).map_err(|_| io::Error::other("NUL in an argument"))?);
        }
    }
    Ok(argv)
}

/// For the `inherit-fds` weakening: every descriptor this process holds survives execve.
fn inherit_all_fds(keep_cloexec: RawFd) {
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        let fds: Vec<RawFd> = dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        for fd in fds {
            if fd > 2 && fd != keep_cloexec {
                let _ = sys::dup2(fd, fd);
            }
        }
    }
}
