//! Every `unsafe` block and raw libc call of the process backend lives here, each behind a small safe
//! function with a `// SAFETY:` line. Callers see `io::Result`s.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn check_long(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub(crate) enum Forked {
    Parent(libc::pid_t),
    Child,
}

/// `fork(2)` through glibc, whose fork handlers leave `malloc` usable in the child even when other
/// threads held its locks. The child must not touch any other lock another thread may hold (stdio,
/// the environment) and must leave through `exit_now` or `execve`.
pub(crate) fn fork() -> io::Result<Forked> {
    // SAFETY: fork has no memory-safety preconditions; the callers' child paths keep to the rules above.
    let pid = check(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid)
    })
}

/// Size of the stack a `spawn_shared` child runs on (touched lazily; one guard page below it).
const SHARED_STACK: usize = 1 << 20;

/// Starts `child` in a new process that shares this one's memory (`CLONE_VM`) but nothing else: its
/// own descriptor table, file-system context, signal handlers and credentials, on a stack of its own.
/// No page table is copied and, when the child calls `execve`, no copy is torn down: the costs a
/// `fork` of a big process pays twice.
///
/// With `wait_for_exec` (`CLONE_VFORK`) this call returns only once the child has called `execve` or
/// exited, which is what makes sharing safe: nothing else runs in the shared memory meanwhile. Without
/// it, the caller and the child run side by side in the same memory: from then on the caller makes
/// system calls only (no heap, no state the child may change; `errno`, which they share, only where a
/// wrong value is harmless) and leaves through `exit_now` (see `child.rs`). The child must leave
/// through `execve` or `exit_now`; it must not return.
///
/// Must be called from a single-threaded process (the sandbox's own setup processes): another thread
/// would share the memory and the thread-local state the child uses.
pub(crate) fn spawn_shared<F: FnMut() -> libc::c_int>(
    wait_for_exec: bool,
    child: F,
) -> io::Result<libc::pid_t> {
    extern "C" fn trampoline<F: FnMut() -> libc::c_int>(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` points at the `F` moved into the top of the child's own stack mapping below,
        // which nothing else uses and which stays mapped while the child runs.
        let child = unsafe { &mut *(arg as *mut F) };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)) {
            Ok(code) => exit_now(code),
            Err(_) => exit_now(126),
        }
    }
    let len = SHARED_STACK + 4096;
    // SAFETY: a fresh anonymous private mapping; the result is checked against MAP_FAILED.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the lowest page of the mapping just made: a guard, so an overflow faults instead of
    // running into other memory.
    if unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) } < 0 {
        let err = io::Error::last_os_error();
        // SAFETY: nothing uses the mapping yet.
        unsafe { libc::munmap(base, len) };
        return Err(err);
    }
    // The closure goes to the top of the child's stack, so it does not live in a frame of this
    // process that is reused once this function returns (without CLONE_VFORK, the child may start
    // after that).
    let align = std::mem::align_of::<F>().max(16);
    let slot = ((base as usize + len - std::mem::size_of::<F>()) & !(align - 1)) as *mut F;
    // SAFETY: `slot` is inside the writable part of the mapping (the closure is far smaller than the
    // stack) and aligned for F; the child's stack grows down from below it.
    unsafe { slot.write(child) };
    let top = (slot as usize & !15) as *mut libc::c_void;
    let mut flags = libc::CLONE_VM | libc::SIGCHLD;
    if wait_for_exec {
        flags |= libc::CLONE_VFORK;
    }
    // SAFETY: `top` is 16-byte aligned, below the closure, inside the mapping; `trampoline` never
    // returns into glibc's clone frame without exiting. The child shares memory and thread-local state
    // with this single-threaded process under the rules in this function's documentation.
    let pid = unsafe { libc::clone(trampoline::<F>, top, flags, slot.cast()) };
    if pid < 0 {
        let err = io::Error::last_os_error();
        // SAFETY: no child uses the mapping: clone failed. The closure is dropped in place first.
        unsafe {
            std::ptr::drop_in_place(slot);
            libc::munmap(base, len);
        }
        return Err(err);
    }
    if wait_for_exec {
        // SAFETY: the child has called execve (its memory is its own now) or exited: nothing runs on
        // this stack any more. The closure is not dropped: the child may have left it half-used, and
        // what it owns is the caller's to release, which it does by exiting.
        unsafe { libc::munmap(base, len) };
    }
    Ok(pid)
}

/// Leaves the process at once, without running destructors or atexit handlers (which could touch
/// state that belongs to the parent).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

pub(crate) fn geteuid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() }
}

pub(crate) fn getegid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::getegid() }
}

pub(crate) fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec pipe as raw descriptors, for the setup processes, which leave through `exit_now`
/// and close descriptors in bulk (`close_all_except`).
pub(crate) fn pipe_raw() -> io::Result<(RawFd, RawFd)> {
    use std::os::fd::IntoRawFd;
    let (r, w) = pipe_cloexec()?;
    Ok((r.into_raw_fd(), w.into_raw_fd()))
}

pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an integer fd has no memory-safety preconditions.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

pub(crate) fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is valid for buf.len() bytes of writes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// An anonymous in-memory file (close-on-exec), for data that must pass through a descriptor.
pub(crate) fn memfd(name: &str) -> io::Result<std::fs::File> {
    let name = std::ffi::CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: name is a valid NUL-terminated string; the returned descriptor is new and owned here.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just created by memfd_create and nothing else owns it.
    Ok(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

/// Closes a descriptor by number (the child's setup path, where it was inherited as a raw number).
pub(crate) fn close(fd: RawFd) {
    // SAFETY: closing a descriptor has no memory-safety effect; callers own `fd` and never use it again.
    unsafe { libc::close(fd) };
}

/// Writes all of `bytes`, retrying on EINTR; errors are ignored by callers that are about to exit.
pub(crate) fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: bytes is valid for bytes.len() bytes of reads.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

pub(crate) fn dup2(old: RawFd, new: RawFd) -> io::Result<()> {
    if old == new {
        // dup2 would keep FD_CLOEXEC; clear it so the descriptor survives execve.
        // SAFETY: fcntl on an integer fd has no memory-safety preconditions.
        check(unsafe { libc::fcntl(new, libc::F_SETFD, 0) })?;
        return Ok(());
    }
    // SAFETY: dup2 on integer fds has no memory-safety preconditions.
    check(unsafe { libc::dup2(old, new) })?;
    Ok(())
}

/// Duplicates `fd` to the lowest free number at or above `min`, close-on-exec.
pub(crate) fn dup_cloexec_above(fd: RawFd, min: RawFd) -> io::Result<RawFd> {
    // SAFETY: fcntl on an integer fd has no memory-safety preconditions.
    check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })
}

/// A close-on-exec duplicate of a descriptor the caller keeps owning.
pub(crate) fn dup_owned(fd: RawFd) -> io::Result<OwnedFd> {
    dup_owned_above(fd, 3)
}

/// `dup_owned`, numbered `min` or above.
pub(crate) fn dup_owned_above(fd: RawFd, min: RawFd) -> io::Result<OwnedFd> {
    let new = dup_cloexec_above(fd, min)?;
    // SAFETY: F_DUPFD_CLOEXEC returned a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Closes every descriptor from `first` up.
pub(crate) fn close_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range only closes descriptors; nothing in this process uses them afterwards.
    check_long(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) })?;
    Ok(())
}

/// Closes every descriptor except those in `keep` (used right after fork, before any other work).
pub(crate) fn close_all_except(keep: &[RawFd]) -> io::Result<()> {
    // Negative entries stand for "no descriptor" and keep nothing. No heap: the setup processes call
    // this where they share memory with another process (see `spawn_shared`).
    let mut sorted = [u32::MAX; 16];
    let mut n = 0;
    for &f in keep.iter().filter(|&&f| f >= 0) {
        if n == sorted.len() {
            return Err(io::Error::other("too many descriptors to keep"));
        }
        sorted[n] = f as u32;
        n += 1;
    }
    sorted[..n].sort_unstable();
    let mut next = 0u32;
    for &k in &sorted[..n] {
        if k > next {
            // SAFETY: as in close_from; the range excludes every descriptor the caller keeps.
            check_long(unsafe { libc::syscall(libc::SYS_close_range, next, k - 1, 0) })?;
        }
        next = k + 1;
    }
    close_from(next)
}

pub(crate) fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare has no memory-safety preconditions.
    check(unsafe { libc::unshare(flags) })?;
    Ok(())
}

pub(crate) fn setns(fd: RawFd, nstype: libc::c_int) -> io::Result<()> {
    // SAFETY: setns takes an integer descriptor and flag.
    check(unsafe { libc::setns(fd, nstype) })?;
    Ok(())
}

pub(crate) fn set_pdeathsig(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) })?;
    Ok(())
}

pub(crate) fn set_dumpable(on: bool) -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, on as libc::c_ulong, 0, 0, 0) })?;
    Ok(())
}

/// Becomes `uid`/`gid` with no supplementary groups (needs root).
pub(crate) fn switch_identity(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: a null list with length 0 is valid for setgroups.
    check(unsafe { libc::setgroups(0, std::ptr::null()) })?;
    // SAFETY: integer arguments only.
    check(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: integer arguments only.
    check(unsafe { libc::setresuid(uid, uid, uid) })?;
    Ok(())
}

fn opt_ptr(s: Option<&CStr>) -> *const libc::c_char {
    s.map_or(std::ptr::null(), CStr::as_ptr)
}

pub(crate) fn mount(
    src: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    // SAFETY: every pointer is null or a NUL-terminated string that outlives the call.
    check(unsafe {
        libc::mount(
            opt_ptr(src),
            target.as_ptr(),
            opt_ptr(fstype),
            flags,
            opt_ptr(data).cast(),
        )
    })?;
    Ok(())
}

pub(crate) const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub(crate) const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub(crate) const MOUNT_ATTR_NODEV: u64 = 0x4;
pub(crate) const MOUNT_ATTR_NOEXEC: u64 = 0x8;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Sets mount attributes on the mount at `path` (and, with `recursive`, every mount below it).
pub(crate) fn mount_setattr(path: &CStr, recursive: bool, set: u64) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive {
        libc::AT_RECURSIVE as libc::c_uint
    } else {
        0
    };
    // SAFETY: path is NUL-terminated, attr is a valid struct mount_attr of the size passed.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    Ok(())
}

pub(crate) fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: both are NUL-terminated strings.
    check_long(unsafe {
        libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr())
    })?;
    Ok(())
}

pub(crate) fn umount_detach(path: &CStr) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) })?;
    Ok(())
}

pub(crate) fn rmdir(path: &CStr) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::rmdir(path.as_ptr()) })?;
    Ok(())
}

pub(crate) fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::chdir(path.as_ptr()) })?;
    Ok(())
}

pub(crate) fn mkdir(path: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::mkdir(path.as_ptr(), mode) })?;
    Ok(())
}

/// Creates an empty file to bind a file onto.
/// Creates an empty file at `path` (a mount point); `EEXIST` if anything is there already (a symlink
/// included).
pub(crate) fn create_new(path: &CStr) -> io::Result<()> {
    // SAFETY: path is NUL-terminated; the returned descriptor is closed right away.
    let fd = check(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_RDONLY | libc::O_CLOEXEC,
            0o644,
        )
    })?;
    // SAFETY: fd was just opened by us.
    unsafe { libc::close(fd) };
    Ok(())
}

pub(crate) fn symlink(target: &CStr, at: &CStr) -> io::Result<()> {
    // SAFETY: both are NUL-terminated.
    check(unsafe { libc::symlink(target.as_ptr(), at.as_ptr()) })?;
    Ok(())
}

pub(crate) fn sethostname(name: &[u8]) -> io::Result<()> {
    // SAFETY: name is valid for name.len() bytes.
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) })?;
    Ok(())
}

/// Brings up the loopback interface of the current network namespace.
pub(crate) fn loopback_up() -> io::Result<()> {
    // SAFETY: plain socket creation.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: fd was just created and is owned here.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: req is a valid ifreq for SIOCGIFFLAGS to fill.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: reading the flags member that SIOCGIFFLAGS filled.
    unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
    // SAFETY: req is a valid ifreq.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) })?;
    Ok(())
}

pub(crate) fn setsid() -> io::Result<()> {
    // SAFETY: no preconditions.
    check(unsafe { libc::setsid() })?;
    Ok(())
}

/// Every signal back to its default action and unblocked (the supervisor ignores SIGPIPE, and ignored
/// signals survive execve).
pub(crate) fn reset_signals() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL is always valid; failures (for reserved signals) are harmless.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    // SAFETY: set is initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// Sets a resource limit, never above the current hard limit (raising it needs CAP_SYS_RESOURCE in the
/// initial user namespace, which the sandbox never has).
pub(crate) fn setrlimit(
    resource: libc::__rlimit_resource_t,
    soft: u64,
    hard: u64,
) -> io::Result<()> {
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: cur is a valid rlimit to fill.
    check(unsafe { libc::getrlimit(resource, &mut cur) })?;
    let hard = hard.min(cur.rlim_max);
    let lim = libc::rlimit {
        rlim_cur: soft.min(hard),
        rlim_max: hard,
    };
    // SAFETY: lim is a valid rlimit.
    check(unsafe { libc::setrlimit(resource, &lim) })?;
    Ok(())
}

const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
const SECBIT_NO_SETUID_FIXUP: libc::c_ulong = 1 << 2;
const SECBIT_NO_SETUID_FIXUP_LOCKED: libc::c_ulong = 1 << 3;
const SECBIT_KEEP_CAPS_LOCKED: libc::c_ulong = 1 << 5;
const SECBIT_NO_CAP_AMBIENT_RAISE: libc::c_ulong = 1 << 6;
const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: libc::c_ulong = 1 << 7;

/// Locks root out of capabilities: uid 0 gains none at execve, and nothing can undo that.
pub(crate) fn lock_securebits() -> io::Result<()> {
    let bits = SECBIT_NOROOT
        | SECBIT_NOROOT_LOCKED
        | SECBIT_NO_SETUID_FIXUP
        | SECBIT_NO_SETUID_FIXUP_LOCKED
        | SECBIT_KEEP_CAPS_LOCKED
        | SECBIT_NO_CAP_AMBIENT_RAISE
        | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0) })?;
    Ok(())
}

/// Empties the capability bounding set and the ambient set.
pub(crate) fn drop_bounding_and_ambient() -> io::Result<()> {
    for cap in 0..=63 {
        // SAFETY: prctl with integer arguments; EINVAL marks the end of the kernel's capabilities.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(e);
        }
    }
    // SAFETY: prctl with integer arguments.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    })?;
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Empties the effective, permitted and inheritable capability sets.
pub(crate) fn capset_zero() -> io::Result<()> {
    let header = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: header and data are valid for the v3 capability ABI (two data structs).
    check_long(unsafe {
        libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr())
    })?;
    Ok(())
}

pub(crate) fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
    Ok(())
}

/// Installs a seccomp filter without setting no_new_privs (needs CAP_SYS_ADMIN); only the
/// `no_new_privs` weakening uses it, seccompiler's `apply_filter` is the normal path.
pub(crate) fn install_seccomp_keep_privs(prog: &[seccompiler::sock_filter]) -> io::Result<()> {
    #[repr(C)]
    struct SockFprog {
        len: libc::c_ushort,
        filter: *const seccompiler::sock_filter,
    }
    let fprog = SockFprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr(),
    };
    // SAFETY: fprog points at prog, which outlives the call; the kernel copies the program.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const SockFprog,
        )
    })?;
    Ok(())
}

/// Replaces the process image. Returns only on failure.
pub(crate) fn execve(
    path: &CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Error {
    // SAFETY: argv and envp are NULL-terminated arrays of pointers to NUL-terminated strings that the
    // caller keeps alive.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// NULL-terminated pointer array over `strings` (which must outlive it).
pub(crate) fn ptr_array(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Waits for any child; returns its pid and raw wait status.
pub(crate) fn wait_any() -> io::Result<(libc::pid_t, libc::c_int)> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid int to fill.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok((pid, status));
    }
}

/// Reaps `pid`, with its (and its reaped descendants') resource usage.
pub(crate) fn wait4(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: status and ru are valid to fill.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::__WALL, &mut ru) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok((status, ru));
    }
}

pub(crate) fn empty_rusage() -> libc::rusage {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    check(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// SIGKILL to every process the caller may signal except itself. Only for pid 1 of a pid namespace of
/// its own, where that is exactly the rest of the namespace.
/// Waits until child `pid` has ended and reaps it, reading no `errno` (which a `spawn_shared` child
/// sharing this process's thread-local state may be changing): any failure other than the child's
/// end is retried while the child exists.
pub(crate) fn wait_for_child(pid: libc::pid_t) {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid int to fill.
        if unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } == pid {
            return;
        }
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } != 0 {
            return;
        }
    }
}

pub(crate) fn kill_namespace() {
    // SAFETY: kill has no memory-safety preconditions; the caller is its namespace's init.
    let _ = unsafe { libc::kill(-1, libc::SIGKILL) };
}

/// Runs `f` when the process exits through `exit` (a return from `main` included).
pub(crate) fn at_exit(f: extern "C" fn()) -> io::Result<()> {
    // SAFETY: `f` is a plain function with the signature atexit expects; it stays valid for the
    // life of the process.
    match unsafe { libc::atexit(f) } {
        0 => Ok(()),
        _ => Err(io::Error::other("atexit: no room")),
    }
}

pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only.
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel returned a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

pub(crate) fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: fds is a valid, writable slice of pollfd.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(n as usize)
}

/// The Landlock ABI version the kernel offers, or why there is none.
pub(crate) fn landlock_abi() -> Result<i32, io::Error> {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: a null attribute with size 0 and the VERSION flag only queries the ABI.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    check_long(rc).map(|v| v as i32)
}

/// Whether this process runs under a seccomp filter already (field `Seccomp` of /proc/self/status is
/// read by callers; this only checks the kernel supports filters).
pub(crate) fn seccomp_supported() -> bool {
    // SAFETY: PR_GET_SECCOMP has no memory arguments.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

pub(crate) fn uname_release() -> String {
    // SAFETY: utsname is plain old data; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is valid to fill.
    if unsafe { libc::uname(&mut u) } != 0 {
        return "unknown".into();
    }
    // SAFETY: uname NUL-terminates release.
    unsafe { CStr::from_ptr(u.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// A connected pair of close-on-exec `SOCK_SEQPACKET` unix sockets (the fork server's line).
pub(crate) fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for socketpair to fill.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Most descriptors one message carries.
pub(crate) const MAX_PASSED_FDS: usize = 16;

/// Sends `bytes` as one message with `fds` attached (`SCM_RIGHTS`).
pub(crate) fn send_with_fds(sock: RawFd, bytes: &[u8], fds: &[RawFd]) -> io::Result<()> {
    if fds.len() > MAX_PASSED_FDS {
        return Err(io::Error::other("too many descriptors for one message"));
    }
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    // Control buffer: u64s, so it is aligned for cmsghdr.
    let mut control = [0u64; 16];
    // SAFETY: zeroed msghdr is valid; every pointer set below outlives the sendmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let data_len = std::mem::size_of_val(fds) as u32;
        // SAFETY: CMSG_SPACE is a pure size computation.
        let space = unsafe { libc::CMSG_SPACE(data_len) } as usize;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points at `space` (<= 128) writable, aligned bytes; the header and the
        // descriptors are written inside them, where CMSG_FIRSTHDR and CMSG_DATA point.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(data_len) as usize;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                data_len as usize,
            );
        }
    }
    loop {
        // SAFETY: msg and what it points at are valid for the call.
        let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return if n as usize == bytes.len() {
                Ok(())
            } else {
                Err(io::Error::other("short send"))
            };
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one message into `buf`, with the descriptors attached to it (close-on-exec). `Ok((0, _))`
/// is the other end closing. A message or descriptor list that did not fit is an error.
pub(crate) fn recv_with_fds(sock: RawFd, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: zeroed msghdr is valid; every pointer set below outlives the recvmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    let n = loop {
        // SAFETY: msg points at a writable buffer and control area that live through the call.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: the kernel filled msg_control with well-formed headers up to msg_controllen; the CMSG
    // macros walk exactly those, and each SCM_RIGHTS payload holds cmsg_len - CMSG_LEN(0) bytes of ints,
    // fresh descriptors that this process now owns.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let bytes = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg);
                for i in 0..bytes / std::mem::size_of::<RawFd>() {
                    let fd = std::ptr::read_unaligned(data.cast::<RawFd>().add(i));
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0 {
        return Err(io::Error::other("message truncated"));
    }
    Ok((n, fds))
}

/// `fork`, except that the child's parent is this process's parent (`CLONE_PARENT`): the fork
/// server starts each setup process as a child of the host, which reaps it. A raw `clone` without a
/// new stack: the child runs on its copy of this stack, as after `fork`. The caller is single-threaded
/// (the fork server); the child leaves through `exit_now` or `execve`.
pub(crate) fn fork_sibling() -> io::Result<Forked> {
    // SAFETY: clone without CLONE_VM and with a null stack behaves like fork: the child gets a copy of
    // this single-threaded process's memory and continues here.
    let pid = check_long(unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    })?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid as libc::pid_t)
    })
}

/// Starts the fork server: `/proc/self/exe` again, with `argv = [arg0, parent pid]`, an empty
/// environment and `sock` as descriptor 3; `fork_server_hook` takes over before `main`. Called from
/// a thread that lives as long as the process (the reaper's): the server and the setup processes it
/// starts are that thread's children.
pub(crate) fn exec_fork_server(arg0: &CStr, sock: RawFd) -> io::Result<libc::pid_t> {
    let parent = CString::new(std::process::id().to_string()).map_err(io::Error::other)?;
    let exe = c"/proc/self/exe";
    let argv = [arg0.as_ptr(), parent.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    // The server's stdio: not the host's, whose readers would otherwise wait for the server too.
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    // Both above the numbers they are moved to, so no dup2 below clobbers the other.
    let null = dup_owned_above(null.as_raw_fd(), 10)?;
    let sock = dup_owned_above(sock, 10)?;
    let (null, sock) = (null.as_raw_fd(), sock.as_raw_fd());
    match fork()? {
        Forked::Child => {
            // Only async-signal-safe calls here: this is a fork of a multi-threaded process.
            // SAFETY: dup2 and execve take valid descriptors and NULL-terminated arrays of valid
            // strings prepared before the fork; _exit ends the child if they fail.
            unsafe {
                let placed = (0..3).all(|fd| libc::dup2(null, fd) == fd)
                    && libc::dup2(sock, SERVER_FD) == SERVER_FD;
                if placed {
                    libc::execve(exe.as_ptr(), argv.as_ptr(), envp.as_ptr());
                }
                libc::_exit(127)
            }
        }
        Forked::Parent(pid) => Ok(pid),
    }
}

/// The fork server's end of its line.
pub(crate) const SERVER_FD: RawFd = 3;

/// Whether descriptor `fd` is a `SOCK_SEQPACKET` socket.
pub(crate) fn is_seqpacket(fd: RawFd) -> bool {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: ty and len are valid to fill for SO_TYPE.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    rc == 0 && ty == libc::SOCK_SEQPACKET
}

pub(crate) fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an integer fd has no memory-safety preconditions.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(())
}

/// Sets this thread's name (`/proc/<pid>/comm`; at most 15 bytes are kept).
pub(crate) fn set_name(name: &CStr) {
    // SAFETY: name is a valid NUL-terminated string; the kernel copies at most 16 bytes of it.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong, 0, 0, 0) };
}

pub(crate) fn getppid() -> libc::pid_t {
    // SAFETY: no preconditions.
    unsafe { libc::getppid() }
}

/// Identity (device, inode) of what `path` names, symlinks followed: a file, or the namespace
/// `/proc/thread-self/ns/<name>` stands for.
pub(crate) fn file_id(path: &CStr) -> io::Result<(u64, u64)> {
    // SAFETY: stat is plain old data; all-zero is a valid value to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: path is NUL-terminated, st valid to fill.
    check(unsafe { libc::stat(path.as_ptr(), &mut st) })?;
    Ok((st.st_dev, st.st_ino))
}

/// Runs before `main` in every program that links the process backend (glibc passes `argc`, `argv`,
/// `envp` to `.init_array` functions). In a process started by `exec_fork_server` it turns the
/// program into the fork server and never returns; anywhere else it returns at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array"]
pub(crate) static FORK_SERVER_HOOK: extern "C" fn(
    libc::c_int,
    *const *const libc::c_char,
    *const *const libc::c_char,
) = fork_server_hook;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn fork_server_hook(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    _envp: *const *const libc::c_char,
) {
    if argc != 2 || argv.is_null() {
        return;
    }
    // SAFETY: glibc passes the program's own argc/argv: argv holds argc valid NUL-terminated strings.
    let (arg0, arg1) = unsafe { (CStr::from_ptr(*argv), CStr::from_ptr(*argv.add(1))) };
    if arg0 != super::forkserver::ARG0 || !is_seqpacket(SERVER_FD) {
        return;
    }
    let parent = arg1
        .to_str()
        .ok()
        .and_then(|s| s.parse::<libc::pid_t>().ok());
    super::forkserver::serve(parent.unwrap_or(-1))
}
