//! The outer wall around a whole suite.
//!
//! `gauntlet run` (the outer process) removes what stale suites left (their runner is gone), creates the
//! suite cgroup and the suite directory, `unshare`s a new pid namespace for its children, and re-executes
//! itself (`gauntlet __wall SPEC run ...`). The child, before `execve`, joins the suite cgroup, enters new
//! mount, uts and ipc namespaces, and asks for SIGKILL when the outer process dies. After `execve` it is
//! pid 1 of the new pid namespace: it makes `/` rprivate, mounts a fresh `/proc`, and forks the suite
//! process; pid 1 itself only reaps (orphans of the suite are reparented to it) until the suite process
//! ends, and exits with its status. When pid 1 ends, the kernel kills everything in the namespace. The
//! outer process then removes the suite cgroup and directory.
//!
//! Without root the wall cannot be built; the suite then runs in place and cases that need a layer this
//! host lacks are skipped (`no outer wall: ...`).

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::cgroups::{self, Dirs};
use super::sys;

pub const SUITE_DIR_PREFIX: &str = "gauntlet-suite-";

/// The host's /proc, opened by the wall's pid 1 before it mounted the wall's own.
static HOST_PROC: std::sync::OnceLock<std::os::fd::OwnedFd> = std::sync::OnceLock::new();

/// The host /proc descriptor, inside the wall.
pub fn host_proc_fd() -> Option<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    HOST_PROC.get().map(|f| f.as_raw_fd())
}

/// This process's pid in the host pid namespace: read through the host /proc descriptor `fd` when
/// there is one, else our own pid.
pub fn host_pid_via(fd: Option<std::os::fd::RawFd>) -> u32 {
    let Some(fd) = fd else {
        return std::process::id();
    };
    let mut buf = [0u8; 32];
    // SAFETY: readlinkat into our buffer, with its length; "self" is a valid C string.
    let n = unsafe { libc::readlinkat(fd, c"self".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return std::process::id();
    }
    std::str::from_utf8(&buf[..n as usize])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(std::process::id)
}

/// What the outer process built, handed to the inner one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WallSpec {
    pub suite_dir: PathBuf,
    pub cgroup: Option<Dirs>,
    /// Host pid of the outer runner (for diagnostics).
    pub outer_pid: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("outer wall: {step}: {message}")]
pub struct WallError {
    pub step: &'static str,
    pub message: String,
}

fn fail(step: &'static str) -> impl FnOnce(String) -> WallError {
    move |message| WallError { step, message }
}

/// Removes suite directories in `/tmp` whose runner is gone. Must run with the host's /proc.
pub fn sweep_stale_dirs() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(tag) = name.strip_prefix(SUITE_DIR_PREFIX) {
            if cgroups::tag_is_stale(tag) && e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Creates this runner's suite directory (0755) in /tmp.
pub fn create_suite_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("{SUITE_DIR_PREFIX}{}", cgroups::owner_tag()));
    std::fs::create_dir(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

/// Why the wall cannot be built here, if it cannot.
pub fn unavailable_reason() -> Option<String> {
    // SAFETY: geteuid has no side effects.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    None
}

/// Outer side: builds the wall, runs `rest` (the original arguments, starting at `run`) inside it, and
/// returns the inner process's exit code after cleaning up.
pub fn run_inside(rest: &[OsString]) -> Result<i32, WallError> {
    sweep_stale_dirs();
    let cgroup = match cgroups::create_suite() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("suite cgroup: {e}");
            None
        }
    };
    let suite_dir = create_suite_dir().map_err(|e| fail("suite directory")(e.to_string()))?;
    let spec = WallSpec {
        suite_dir: suite_dir.clone(),
        cgroup: cgroup.clone(),
        outer_pid: std::process::id(),
    };
    let result = spawn_inner(&spec, rest);
    if let Some(cg) = &cgroup {
        let _ = cg.remove();
        cg.remove_empty_parents();
    }
    let _ = std::fs::remove_dir_all(&suite_dir);
    result
}

fn spawn_inner(spec: &WallSpec, rest: &[OsString]) -> Result<i32, WallError> {
    let json = serde_json::to_string(spec).map_err(|e| fail("spec")(e.to_string()))?;
    // SAFETY: unshare(CLONE_NEWPID) only changes the namespace of this process's future children.
    if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        return Err(fail("unshare(CLONE_NEWPID)")(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    let files = spec
        .cgroup
        .as_ref()
        .map(|c| c.procs_files())
        .unwrap_or_default();
    let mut cmd = Command::new(super::SELF_EXE);
    cmd.arg("__wall").arg(json).args(rest);
    // SAFETY: only async-signal-safe calls; the C strings were made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            sys::join_cgroups_after_fork(&files)?;
            if libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = cmd
        .status()
        .map_err(|e| fail("start the inner runner")(e.to_string()))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Makes every mount of this (new) mount namespace private: nothing mounted here propagates back.
fn make_root_private() -> Result<(), WallError> {
    use nix::mount::{mount, MsFlags};
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| fail("make / rprivate")(e.to_string()))
}

/// Inner side, first thing after `execve` as pid 1: private mounts, a fresh /proc, then fork. Returns
/// in the suite process; pid 1 never returns (it reaps and exits with the suite's status).
pub fn become_init() -> Result<(), WallError> {
    use nix::mount::{mount, MsFlags};
    make_root_private()?;
    // The host's procfs stays reachable through this descriptor: a case's trampoline reads its own
    // host pid there (`{supervisor_pid}`).
    let host_proc = nix::fcntl::open(
        "/proc",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| fail("open the host /proc")(e.to_string()))?;
    let _ = HOST_PROC.set(host_proc);
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| fail("mount /proc")(e.to_string()))?;
    // SAFETY: this process is single-threaded here (nothing has spawned a thread yet).
    match unsafe { nix::unistd::fork() }.map_err(|e| fail("fork")(e.to_string()))? {
        nix::unistd::ForkResult::Child => Ok(()),
        nix::unistd::ForkResult::Parent { child } => reap_until(child.as_raw()),
    }
}

/// World-writable directories a case sees through a throwaway overlay, and the size of its upper layer.
const SCRATCH: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];
const SCRATCH_UPPER: &str = "size=256m,mode=0755";

/// Inside the wall, in the case's trampoline just before it becomes the case's `gauntlet exec`: a mount
/// namespace of the case's own in which /tmp, /var/tmp and /dev/shm are overlays whose upper layer is a
/// fresh tmpfs. Everything there stays readable, but what the case writes outside the suite
/// directories (a plugin whose sandbox lost its mount namespace, as the `no-mount-ns` mutant does, or a
/// real escape) lands in the tmpfs and is gone when the case ends, instead of littering the host. The
/// suite directories are bound back on top, so writes there reach the host, where the oracles look.
pub fn private_case_scratch() -> Result<(), WallError> {
    use nix::mount::{mount, MsFlags};
    use std::os::fd::{AsRawFd, OwnedFd};
    // SAFETY: unshare(CLONE_NEWNS) affects only this (single-threaded) process.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(fail("unshare(CLONE_NEWNS)")(e.to_string()));
    }
    make_root_private()?;
    let suites: Vec<(PathBuf, OwnedFd)> = std::fs::read_dir(std::env::temp_dir())
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(SUITE_DIR_PREFIX)
                })
                .filter_map(|e| Some((e.path(), open_path(&e.path()).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    for dir in SCRATCH {
        let dir = std::path::Path::new(dir);
        if !dir.is_dir() {
            continue;
        }
        // A directory whose overlay cannot be made here (no overlayfs, a lower layer it refuses)
        // stays the host's, as before; the suite directories are bound back either way.
        if let Err(e) = overlay(dir) {
            eprintln!("gauntlet: case scratch: {e} (left as the host's)");
        }
    }
    for (path, fd) in &suites {
        let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
        mount(
            Some(source.as_str()),
            path,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| fail("bind a suite directory back")(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// An `O_PATH` descriptor of the directory `p`.
fn open_path(p: &std::path::Path) -> Result<std::os::fd::OwnedFd, WallError> {
    nix::fcntl::open(
        p,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| fail("open a scratch directory")(format!("{}: {e}", p.display())))
}

/// Mounts an overlay on `dir`: the directory as it is below, a fresh tmpfs above. On failure nothing
/// is left mounted on `dir`.
fn overlay(dir: &std::path::Path) -> Result<(), WallError> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    use std::os::fd::AsRawFd;
    let lower = open_path(dir)?;
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(SCRATCH_UPPER),
    )
    .map_err(|e| fail("mount the scratch upper layer")(format!("{}: {e}", dir.display())))?;
    let stacked = (|| {
        for sub in ["upper", "work"] {
            std::fs::create_dir(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let options = format!(
            "lowerdir=/proc/self/fd/{},upperdir={},workdir={}",
            lower.as_raw_fd(),
            dir.join("upper").display(),
            dir.join("work").display()
        );
        mount(
            Some("overlay"),
            dir,
            Some("overlay"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(options.as_str()),
        )
        .map_err(|e| e.to_string())
    })();
    stacked.map_err(|e| {
        let _ = umount2(dir, MntFlags::MNT_DETACH);
        fail("mount the scratch overlay")(format!("{}: {e}", dir.display()))
    })
}

fn reap_until(main: i32) -> ! {
    loop {
        let mut status = 0;
        // SAFETY: waits for any child; `status` is a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == main {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
            std::process::exit(code);
        }
        if pid < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
            std::process::exit(3);
        }
    }
}
