//! The child's setup path: where the `Plan` is applied. Three processes take part:
//!
//! - **A** (forked by the fork server, or by the supervisor on a process's first run; either way a child
//!   of the supervisor, see `forkserver`): closes every inherited descriptor, becomes the run's unprivileged
//!   host uid (when the supervisor is root), creates the user, pid, mount, net, ipc and uts namespaces,
//!   maps uid 0 inside to that host uid, waits until the supervisor has put it in the run cgroup, enters a
//!   new cgroup namespace, starts B and waits for it. A dies with the supervisor (`PDEATHSIG`).
//! - **B** (pid 1 of the new pid namespace): builds the new root (pivot_root into a tmpfs holding only the
//!   policy's paths, a private /tmp, a minimal read-only /dev, a /proc with the kernel's knobs read-only;
//!   from a fork server's template, only the run's own mounts are made here, see `plan::Layout`), sets the
//!   hostname, brings up loopback when asked, starts C, and reaps. When C exits, B kills every process
//!   left in the pid namespace (`kill(-1)`), reaps them all, reports C's status and `D`, and exits.
//!   A dies -> B gets SIGKILL.
//! - **C** (the plugin): new session (no controlling terminal), stdio from the supervisor's pipes, every
//!   other descriptor closed, default signal handling, rlimits, securebits locked, capability bounding
//!   and ambient sets emptied, no_new_privs, Landlock, capabilities zeroed, seccomp, execve.
//!
//! Only A is a `fork` (a copy of the small fork server, or of the supervisor). B shares A's memory and C shares B's until its
//! `execve` (`sys::spawn_shared`): a fork of a big host copies its page tables and pays a copy-on-write
//! fault for each page either side writes afterwards, and the copy is torn down again at `execve`. Each
//! process still has its own descriptors, credentials, namespaces and file-system context. B never runs
//! plugin code, and C's memory is its own from `execve` on. While they share memory, A (only waiting)
//! and B (detaching the old root while C sets itself up, then reaping) make system calls only.
//!
//! Messages to the supervisor go over the status pipe, one line each: `P <pid of B>`, `L <landlock>`,
//! `S <raw wait status of C>`, `D` (every other process of the run killed and reaped; only from B as
//! pid 1 of its own namespace), `E <stage>: <error>`.

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;

use super::fence::{self, FenceResult};
use super::plan::{
    per_run_path, Layout, Plan, RootPlan, ViewEntry, DEV_NODES, NEW_ROOT, OLD_ROOT, PROC_MASKED,
    PROC_READ_ONLY,
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

fn report_bytes(fd: RawFd, msg: &[u8]) {
    let _ = sys::write_all(fd, msg);
}

fn report(fd: RawFd, msg: &str) {
    report_bytes(fd, msg.as_bytes());
}

fn fail(fd: RawFd, (stage, err): (&'static str, io::Error)) -> ! {
    report(fd, &format!("E {stage}: {err}\n"));
    sys::exit_now(126)
}

/// Entry point of process A. Never returns.
pub(crate) fn run_a(plan: &Plan, fds: ChildFds) -> ! {
    run_stage(&Cell::new(fds.status), || stage_a(plan, fds))
}

/// Runs one process's stage: an error or a panic is reported on the status pipe, then the process
/// exits.
fn run_stage<T>(status: &Cell<RawFd>, stage: impl FnOnce() -> Step<T>) -> ! {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(stage)) {
        Ok(Err(e)) => fail(status.get(), e),
        Ok(Ok(_)) => sys::exit_now(0),
        Err(_) => {
            report(status.get(), "E setup: panic in the child\n");
            sys::exit_now(126)
        }
    }
}

fn stage_a(plan: &Plan, fds: ChildFds) -> Step<()> {
    // Never handed on, whatever the plan says about inherited descriptors.
    if let Some(fd) = super::forkserver::host_socket() {
        sys::close(fd);
    }
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
    // Wait until the supervisor has moved us into the run cgroup (or gave up on cgroups); an A that
    // joined by itself finds its go already in the pipe.
    let mut go = [0u8; 1];
    if sys::read_fd(fds.go, &mut go).at("wait for the supervisor")? != 1 {
        sys::exit_now(125);
    }
    if plan.ns.cgroup {
        sys::unshare(libc::CLONE_NEWCGROUP).at("unshare cgroup namespace")?;
    }
    // B shares A's memory (no copy of the supervisor's page tables is made for it). From here on A and
    // B run side by side in that memory, so A only makes system calls: no heap, and `errno` (shared
    // with B) is read only where a wrong value is harmless (a failed report or close). It leaves
    // through `exit_now`. See `sys::spawn_shared`.
    let b = sys::spawn_shared(false, move || {
        run_stage(&Cell::new(fds.status), || stage_b(plan, fds))
    })
    .at("fork init")?;
    let mut line = [0u8; 24];
    let _ = sys::write_all(fds.status, num_line(b'P', b, &mut line));
    let _ = sys::close_from(0);
    sys::wait_for_child(b);
    sys::exit_now(0)
}

/// `<tag> <n>\n` in `buf`, without the heap.
fn num_line(tag: u8, n: i32, buf: &mut [u8; 24]) -> &[u8] {
    let mut digits = [0u8; 12];
    let mut rest = n.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    buf[0] = tag;
    buf[1] = b' ';
    let mut at = 2;
    if n < 0 {
        buf[at] = b'-';
        at += 1;
    }
    for i in 0..len {
        buf[at + i] = digits[len - 1 - i];
    }
    buf[at + len] = b'\n';
    &buf[..at + len + 1]
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
    // The old root is detached while C sets itself up (an unmount waits for an RCU grace period, a
    // long wait on a busy host); C waits for B's word on this pipe before `execve`.
    let detach = match &plan.root {
        Some(_) => Some(sys::pipe_raw().at("make the detach pipe")?),
        None => None,
    };
    let detached_r = detach.map(|(r, _)| r);
    // C shares B's memory until its execve, so no copy of B's page tables is made and none is torn down
    // at the execve. C's descriptors, credentials and file-system context are its own from the start.
    // With a root to detach, B runs beside C; otherwise it waits for C's execve (CLONE_VFORK).
    let c = sys::spawn_shared(detach.is_none(), move || {
        // Errors go to the status pipe where C moved it (above the stdio range).
        let status_fd = Cell::new(fds.status);
        run_stage(&status_fd, || stage_c(plan, fds, detached_r, &status_fd))
    })
    .at("start the plugin's process")?;
    // From here B uses no heap: C may be allocating in the memory it shares with B, or may have been
    // killed in the middle of an allocation when the run was stopped during its setup.
    if let Some((_, w)) = detach {
        if sys::umount_detach(c".").is_err() {
            let _ = sys::kill(c, libc::SIGKILL);
            report(fds.status, "E detach the old root: umount failed\n");
            // pid 1: the kernel kills the rest of the namespace with it.
            sys::exit_now(126);
        }
        let _ = sys::write_all(w, b"u");
    }
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
                let mut line = [0u8; 24];
                let s_line = num_line(b'S', status, &mut line);
                let mut both = [0u8; 26];
                both[..s_line.len()].copy_from_slice(s_line);
                both[s_line.len()..s_line.len() + 2].copy_from_slice(b"D\n");
                report_bytes(fds.status, &both[..s_line.len() + 2]);
                sys::exit_now(0);
            }
            Ok((pid, status)) if pid == c => {
                let mut line = [0u8; 24];
                report_bytes(fds.status, num_line(b'S', status, &mut line));
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

/// Creates every missing directory of `path` below the new root (which exists).
fn mkdir_p(path: &CStr) -> io::Result<()> {
    let bytes = path.to_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(NEW_ROOT.len() + 1) {
        if b == b'/' {
            mkdir_existing_ok(&CString::new(&bytes[..i]).expect("prefix of a C string"))?;
        }
    }
    mkdir_existing_ok(path)
}

/// Runs `make`, which creates `path`; when a parent directory is missing, creates the parents and
/// runs it again. Something already at `path` counts as made (as a lookup first would have found).
fn with_parents(path: &CStr, mut make: impl FnMut() -> io::Result<()>) -> io::Result<()> {
    let first = match make() {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            mkdir_p(&parent_of(path))?;
            make()
        }
        r => r,
    };
    match first {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        r => r,
    }
}

/// A mount on a path that does not exist is not an error (for optional /proc entries).
fn absent_ok(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
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
    sys::mount(
        None,
        c"/",
        None,
        (libc::MS_REC | libc::MS_PRIVATE) as libc::c_ulong,
        None,
    )
    .at("make / private")?;
    // Whether the view's read-only part is at NEW_ROOT already (a fork server's template).
    let static_ready = match &root.layout {
        Layout::Host => {
            // A scratch tmpfs to pivot into first, so the whole host stays reachable under OLD_ROOT
            // while the new root is assembled next to it.
            let nosuid_nodev = (libc::MS_NOSUID | libc::MS_NODEV) as libc::c_ulong;
            tmpfs(c"/tmp", nosuid_nodev, "size=64k,mode=0700").at("mount the scratch tmpfs")?;
            sys::chdir(c"/tmp").at("enter the scratch tmpfs")?;
            sys::mkdir(&c(&NEW_ROOT[1..]), 0o755).at("mkdir newroot")?;
            sys::mkdir(&c(&OLD_ROOT[1..]), 0o755).at("mkdir oldroot")?;
            sys::pivot_root(c".", &c(&OLD_ROOT[1..])).at("pivot into the scratch tmpfs")?;
            sys::chdir(c"/").at("chdir /")?;
            false
        }
        // The fork server's mount table has that shape already.
        Layout::Scratch => false,
        Layout::Template(template) => {
            // One recursive bind brings the whole read-only part (its mounts keep their attributes).
            let newroot = c(NEW_ROOT);
            let bound = sys::mount(
                Some(template),
                &newroot,
                None,
                (libc::MS_BIND | libc::MS_REC) as libc::c_ulong,
                None,
            );
            // The server keeps a bounded number of templates: one it dropped after forking A is gone
            // (ENOENT) or, caught between its unmount and its rmdir, an empty directory (no /dev).
            // Either way B builds the view itself.
            match bound {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => false,
                Err(e) => return Err(("bind the view template", e)),
                Ok(()) if sys::file_id(&join(&newroot, "dev")).is_ok() => true,
                Ok(()) => {
                    sys::umount_detach(&newroot).at("drop an emptied view template")?;
                    false
                }
            }
        }
    };
    if !static_ready {
        build_static(root)?;
    }
    build_per_run(root)?;
    sys::chdir(&c(NEW_ROOT)).at("enter the new root")?;
    // The old root now lies on top of the new one at "."; `stage_b` detaches it (`umount2(".")`, with
    // this directory still the current one) while the plugin's process sets itself up.
    sys::pivot_root(c".", c".").at("pivot_root")?;
    Ok(())
}

/// The part of the view that is the same for every run of a plan, assembled at `NEW_ROOT` (an empty
/// directory, sources under `OLD_ROOT`) and left read-only: the root tmpfs, a minimal `/dev`, mount
/// points for the run's own mounts, and the policy's paths outside those. B builds it for its run; the
/// fork server builds it once per plan as a template.
pub(crate) fn build_static(root: &RootPlan) -> Step<()> {
    let nosuid_nodev = (libc::MS_NOSUID | libc::MS_NODEV) as libc::c_ulong;
    let newroot = c(NEW_ROOT);
    tmpfs(&newroot, nosuid_nodev, "size=1m,nr_inodes=4096,mode=0755").at("mount the new root")?;
    for dir in ["tmp", "proc"] {
        mkdir_existing_ok(&join(&newroot, dir)).at("mkdir a mount point")?;
    }
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
        sys::create_new(&at).at("create a device mount point")?;
        // A single file: no recursion, and no attributes to set (nothing executes a character device
        // and set-id bits mean nothing on one).
        sys::mount(
            Some(&join(&c(OLD_ROOT), &format!("dev/{node}"))),
            &at,
            None,
            libc::MS_BIND as libc::c_ulong,
            None,
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
    sys::mkdir(&join(&dev, "shm"), 0o1777).at("mkdir /dev/shm")?;
    for entry in root.entries.iter().filter(|e| !per_run_path(e.at())) {
        make_entry(entry)?;
    }
    // The root and `/dev` stay read-only (the plugin writes only to `/tmp`, `/dev/shm` and rw paths;
    // writes to a device node are not writes to the mount). The run's own mounts come on top later.
    sys::mount_setattr(
        &newroot,
        false,
        sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
    )
    .at("make the new root read-only")?;
    sys::mount_setattr(
        &join(&newroot, "dev"),
        false,
        sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
    )
    .at("make /dev read-only")
}

/// The run's own mounts on top of the read-only part: a private `/tmp` and `/dev/shm`, a `/proc` with
/// the kernel's knobs read-only and its internals masked, and the policy's paths inside those.
fn build_per_run(root: &RootPlan) -> Step<()> {
    let newroot = c(NEW_ROOT);
    let noexec = (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC) as libc::c_ulong;
    let tmp_opts = format!(
        "size={},nr_inodes={},mode=1777",
        root.tmp_size,
        (root.tmp_size / 4096).clamp(1024, 1 << 20)
    );
    tmpfs(&join(&newroot, "tmp"), noexec, &tmp_opts).at("mount /tmp")?;
    let dev = join(&newroot, "dev");
    tmpfs(&join(&dev, "shm"), noexec, &tmp_opts).at("mount /dev/shm")?;

    let proc_ = join(&newroot, "proc");
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
    // An entry this kernel's /proc lacks is skipped: the mount fails with ENOENT (no lookup first).
    if !root.proc_sys_writable {
        for name in PROC_READ_ONLY {
            let p = join(&proc_, name);
            absent_ok(bind(
                &p,
                &p,
                sys::MOUNT_ATTR_RDONLY
                    | sys::MOUNT_ATTR_NOSUID
                    | sys::MOUNT_ATTR_NODEV
                    | sys::MOUNT_ATTR_NOEXEC,
            ))
            .at("make /proc knobs read-only")?;
        }
    }
    let null = join(&dev, "null");
    for name in PROC_MASKED {
        let p = join(&proc_, name);
        absent_ok(sys::mount(
            Some(&null),
            &p,
            None,
            libc::MS_BIND as libc::c_ulong,
            None,
        ))
        .at("mask /proc entries")?;
    }
    // Policy paths inside the run's own mounts last, so that they land on top of those.
    for entry in root.entries.iter().filter(|e| per_run_path(e.at())) {
        make_entry(entry)?;
    }
    Ok(())
}

fn make_entry(entry: &ViewEntry) -> Step<()> {
    match entry {
        ViewEntry::Bind {
            src,
            dst,
            dir,
            writable,
        } => {
            // Made unless something is there already (an earlier entry's, or a private mount's).
            with_parents(dst, || {
                if *dir {
                    sys::mkdir(dst, 0o755)
                } else {
                    sys::create_new(dst)
                }
            })
            .at("create a mount point")?;
            let attrs = if *writable {
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC
            } else {
                sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV
            };
            bind(src, dst, attrs).at("bind a policy path")
        }
        ViewEntry::Symlink { target, at } => {
            with_parents(at, || sys::symlink(target, at)).at("create a symlink")
        }
    }
}

/// Largest launch message (all arguments together).
pub(crate) const MAX_LAUNCH: usize = 1 << 20;
/// First byte of a launch message (so that a message with no arguments differs from none at all).
pub(crate) const LAUNCH_TAG: u8 = b'L';

/// The descriptor number the plugin finds the supervisor's message channel at, when it has one.
pub const CHANNEL_FD: RawFd = 3;

/// `status_fd` follows the status pipe as it moves, so that a failure is reported where it still is.
fn stage_c(
    plan: &Plan,
    fds: ChildFds,
    detached: Option<RawFd>,
    status_fd: &Cell<RawFd>,
) -> Step<Never> {
    // Move everything above the stdio range first, so dup2 cannot clobber a descriptor still needed.
    let status = sys::dup_cloexec_above(fds.status, 10).at("move the status pipe")?;
    status_fd.set(status);
    let detached = match detached {
        Some(fd) => Some(sys::dup_cloexec_above(fd, 10).at("move the detach pipe")?),
        None => None,
    };
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
        sys::close_all_except(&[
            0,
            1,
            2,
            keep,
            status,
            launch.unwrap_or(status),
            detached.unwrap_or(status),
        ])
        .at("close descriptors")?;
    } else {
        inherit_all_fds(status);
    }
    if !plan.signals_default {
        sys::reset_signals();
    }
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
    if let Some(fd) = detached {
        // Nothing of the host's file system may be left in the mount namespace when the plugin runs.
        let mut word = [0u8; 1];
        if sys::read_fd(fd, &mut word).at("wait for the old root to be detached")? != 1 {
            return Err((
                "wait for the old root to be detached",
                io::Error::other("init ended first"),
            ));
        }
        sys::close(fd);
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

#[cfg(test)]
mod tests {
    use super::num_line;

    #[test]
    fn num_line_formats_like_format() {
        for n in [0, 1, 9, 10, 4_194_304, i32::MAX, -1, i32::MIN] {
            let mut buf = [0u8; 24];
            assert_eq!(num_line(b'S', n, &mut buf), format!("S {n}\n").as_bytes());
        }
    }
}
