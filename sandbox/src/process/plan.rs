//! Turning a `Policy` into a `Plan`: everything the child needs, computed in the supervisor before the
//! fork (C strings, the file-system view, the BPF programs, rlimits), so the child's setup path only
//! makes system calls.

use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use seccompiler::BpfProgram;

use super::fence::FenceSpec;
use crate::error::{SandboxError, SandboxErrorKind};
use crate::policy::{NetMode, Policy};
use crate::weaken::{Weaken, Weakening};

/// Where the host's root appears while the new root is built, and where the new root is assembled.
pub(crate) const OLD_ROOT: &str = "/oldroot";
pub(crate) const NEW_ROOT: &str = "/newroot";

/// Device nodes of the minimal `/dev`.
pub(crate) const DEV_NODES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// `/proc` entries made read-only (writes there change the host kernel) and entries hidden behind
/// `/dev/null` (kernel addresses and internals).
pub(crate) const PROC_READ_ONLY: &[&str] = &["sys", "sysrq-trigger", "irq", "bus", "fs"];
pub(crate) const PROC_MASKED: &[&str] = &[
    "kcore",
    "keys",
    "timer_list",
    "sched_debug",
    "kallsyms",
    "kmsg",
    "latency_stats",
    "config.gz",
];

#[derive(Clone, Debug)]
pub(crate) enum ViewEntry {
    /// Bind `src` (under `OLD_ROOT`) at `dst` (under `NEW_ROOT`).
    Bind {
        src: CString,
        dst: CString,
        dir: bool,
        writable: bool,
    },
    /// A symlink at `at` (under `NEW_ROOT`) with text `target`, as on the host.
    Symlink { target: CString, at: CString },
}

impl ViewEntry {
    /// Where the entry goes (under `NEW_ROOT`).
    pub(crate) fn at(&self) -> &std::ffi::CStr {
        match self {
            ViewEntry::Bind { dst, .. } => dst,
            ViewEntry::Symlink { at, .. } => at,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RootPlan {
    pub entries: Vec<ViewEntry>,
    pub tmp_size: u64,
    pub proc_sys_writable: bool,
    /// A proc of the sandbox's own pid namespace (false only without one).
    pub fresh_proc: bool,
    /// Where B starts from (set by the fork server; not part of the request).
    pub layout: Layout,
}

/// The mount table B finds when it starts building the view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A copy of the host's: B mounts a scratch tmpfs and pivots into it first, so the host's root
    /// appears at `OLD_ROOT` and `NEW_ROOT` is free to build on.
    #[default]
    Host,
    /// A copy of the fork server's, which already has that shape (a scratch root, the host at
    /// `OLD_ROOT`, an empty `NEW_ROOT`).
    Scratch,
    /// As `Scratch`, and the fork server has built the view's part that is the same for every run of
    /// this plan (root, `/dev`, the policy's paths; read-only) at this path: B binds it at `NEW_ROOT`
    /// and adds only the run's own mounts (`/tmp`, `/dev/shm`, `/proc`).
    Template(CString),
}

/// Whether a view entry's place is inside one of the run's own mounts (`/tmp`, `/dev/shm`, `/proc`),
/// so it is made for each run, after those mounts, rather than once in a template.
pub(crate) fn per_run_path(dst: &std::ffi::CStr) -> bool {
    let inside = dst
        .to_bytes()
        .strip_prefix(NEW_ROOT.as_bytes())
        .unwrap_or(dst.to_bytes());
    PER_RUN_MOUNTS.iter().any(|m| {
        inside
            .strip_prefix(m.as_bytes())
            .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
    })
}

/// The view's mounts made fresh for every run (relative to the new root).
pub(crate) const PER_RUN_MOUNTS: &[&str] = &["/tmp", "/dev/shm", "/proc"];

#[derive(Clone, Debug)]
pub(crate) struct ExecPlan {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub cwd: CString,
}

/// Which namespaces to create.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Namespaces {
    pub user: bool,
    pub pid: bool,
    pub mount: bool,
    pub net: bool,
    pub ipc: bool,
    pub uts: bool,
    pub cgroup: bool,
}

impl Namespaces {
    /// Flags for the first `unshare` (the cgroup namespace comes later, after joining the run cgroup).
    pub fn unshare_flags(&self, joins_net: bool) -> libc::c_int {
        let mut f = 0;
        for (on, flag) in [
            (self.user, libc::CLONE_NEWUSER),
            (self.pid, libc::CLONE_NEWPID),
            (self.mount, libc::CLONE_NEWNS),
            (self.net && !joins_net, libc::CLONE_NEWNET),
            (self.ipc, libc::CLONE_NEWIPC),
            (self.uts, libc::CLONE_NEWUTS),
        ] {
            if on {
                f |= flag;
            }
        }
        f
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Switch to this host uid/gid before creating the user namespace (when the supervisor is root).
    pub switch_to: Option<(u32, u32)>,
    /// Host uid and gid that uid/gid 0 inside maps to.
    pub map_to: (u32, u32),
    pub ns: Namespaces,
    /// A prepared network namespace to join instead of creating one (see `netpool`).
    pub join_netns: Option<RawFd>,
    /// The supervisor's message channel, given to the plugin as descriptor 3.
    pub channel: Option<RawFd>,
    pub root: Option<RootPlan>,
    pub loopback: bool,
    pub exec: ExecPlan,
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    pub seccomp: Option<std::sync::Arc<Vec<BpfProgram>>>,
    pub fence: Option<FenceSpec>,
    pub setsid: bool,
    pub close_fds: bool,
    pub no_new_privs: bool,
    pub drop_caps: bool,
    pub tree_kill: bool,
    /// Every signal disposition and the signal mask are the defaults already (setup processes forked
    /// by the fork server, which reset its own when it started), so C need not reset them.
    pub signals_default: bool,
}

fn cstr(bytes: &[u8], what: &str) -> Result<CString, SandboxError> {
    CString::new(bytes)
        .map_err(|_| SandboxError::new(what, SandboxErrorKind::Setup("contains a NUL byte".into())))
}

fn path_c(p: &Path) -> Result<CString, SandboxError> {
    cstr(p.as_os_str().as_bytes(), &p.display().to_string())
}

fn prefixed(prefix: &str, p: &Path) -> Result<CString, SandboxError> {
    let mut v = prefix.as_bytes().to_vec();
    v.extend_from_slice(p.as_os_str().as_bytes());
    cstr(&v, &p.display().to_string())
}

/// Finds PROGRAM: a path with a slash is taken relative to the current directory, a bare name is
/// looked up in the caller's PATH. The result is absolute and names a regular file.
pub fn resolve_program(program: &Path) -> Result<PathBuf, SandboxError> {
    let candidate = if program.as_os_str().as_bytes().contains(&b'/') {
        std::path::absolute(program)
            .map_err(|e| SandboxError::path(program, SandboxErrorKind::Io(e)))?
    } else {
        let path = std::env::var_os("PATH")
            .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        std::env::split_paths(&path)
            .map(|d| d.join(program))
            .find(|c| c.is_file())
            .ok_or_else(|| SandboxError::path(program, SandboxErrorKind::ProgramNotFound))?
    };
    match std::fs::metadata(&candidate) {
        Ok(m) if m.is_file() => Ok(candidate),
        Ok(_) => Err(SandboxError::path(&candidate, SandboxErrorKind::NotAFile)),
        Err(_) => Err(SandboxError::path(
            &candidate,
            SandboxErrorKind::ProgramNotFound,
        )),
    }
}

/// What one path on the host is, as `resolve_recording` found it (without following a last symlink).
#[derive(Clone)]
enum Found {
    Link(PathBuf),
    Dir,
    Other,
}

/// Follows `p` component by component; every symlink met on the way is recorded (so the view can have
/// the same symlink) and resolved. Returns the symlink-free path and whether it is a directory. `seen`
/// keeps each looked-up path for the other paths of the same view (they share prefixes such as `/usr`).
fn resolve_recording(
    p: &Path,
    links: &mut Vec<(PathBuf, PathBuf)>,
    seen: &mut HashMap<PathBuf, Found>,
) -> std::io::Result<(PathBuf, bool)> {
    let mut done = PathBuf::from("/");
    let mut rest: Vec<std::ffi::OsString> = p
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_os_string()),
            _ => None,
        })
        .collect();
    rest.reverse();
    let mut hops = 0;
    let mut is_dir = true;
    while let Some(name) = rest.pop() {
        if name == ".." {
            done.pop();
            is_dir = true;
            continue;
        }
        let next = done.join(&name);
        let found = match seen.get(&next) {
            Some(f) => f.clone(),
            None => {
                let meta = std::fs::symlink_metadata(&next)?;
                let f = if meta.file_type().is_symlink() {
                    Found::Link(std::fs::read_link(&next)?)
                } else if meta.is_dir() {
                    Found::Dir
                } else {
                    Found::Other
                };
                seen.insert(next.clone(), f.clone());
                f
            }
        };
        match found {
            Found::Link(target) => {
                hops += 1;
                if hops > 40 {
                    return Err(std::io::Error::from_raw_os_error(libc::ELOOP));
                }
                if !links.iter().any(|(at, _)| at == &next) {
                    links.push((next.clone(), target.clone()));
                }
                let resolved = if target.is_absolute() {
                    target
                } else {
                    done.join(target)
                };
                let mut more: Vec<std::ffi::OsString> = resolved
                    .components()
                    .filter_map(|c| match c {
                        std::path::Component::Normal(n) => Some(n.to_os_string()),
                        std::path::Component::ParentDir => Some("..".into()),
                        _ => None,
                    })
                    .collect();
                more.reverse();
                rest.extend(more);
                done = PathBuf::from("/");
                is_dir = true;
            }
            Found::Dir => {
                done = next;
                is_dir = true;
            }
            Found::Other => {
                if !rest.is_empty() {
                    // A file in the middle of a path.
                    return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR));
                }
                done = next;
                is_dir = false;
            }
        }
    }
    Ok((done, is_dir))
}

/// The view's mount and symlink entries, and each bound path with whether it is writable and a directory.
type View = (Vec<ViewEntry>, Vec<(PathBuf, bool, bool)>);

/// Builds the file-system view: each path bound at its own (symlink-free) place, every symlink on the
/// way recreated as a symlink, parents before children, no path twice.
fn build_view(ro: &[PathBuf], rw: &[PathBuf], program: &Path) -> Result<View, SandboxError> {
    // (path, writable, is_dir)
    let mut binds: Vec<(PathBuf, bool, bool)> = Vec::new();
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut seen: HashMap<PathBuf, Found> = HashMap::new();
    let mut todo: Vec<(PathBuf, bool, &'static str)> = Vec::new();
    todo.push((program.to_path_buf(), false, "program"));
    todo.extend(ro.iter().map(|p| (p.clone(), false, "fs.ro")));
    todo.extend(rw.iter().map(|p| (p.clone(), true, "fs.rw")));
    for (p, writable, field) in todo {
        let missing = || {
            SandboxError::new(
                format!("{field}: {}", p.display()),
                SandboxErrorKind::MissingPath,
            )
        };
        let (real, is_dir) = resolve_recording(&p, &mut links, &mut seen).map_err(|_| missing())?;
        if real == Path::new("/") {
            return Err(SandboxError::new(
                format!("{field}: {}", p.display()),
                SandboxErrorKind::Setup("resolves to \"/\"".into()),
            ));
        }
        // A rw entry replaces a ro bind of the same path.
        binds.retain(|(at, w, _)| !(at == &real && writable && !*w));
        binds.push((real, writable, is_dir));
    }
    binds.sort_by_key(|(at, ..)| at.components().count());
    let mut kept: Vec<(PathBuf, bool, bool)> = Vec::new();
    for b in binds {
        // Covered by a parent bind with the same rights: binding it again would change nothing.
        if kept
            .iter()
            .any(|(at, w, _)| b.0.starts_with(at) && *w == b.1)
        {
            continue;
        }
        kept.push(b);
    }
    let mut entries = Vec::new();
    let mut fence_paths = Vec::new();
    for (at, writable, dir) in kept {
        entries.push(ViewEntry::Bind {
            src: prefixed(OLD_ROOT, &at)?,
            dst: prefixed(NEW_ROOT, &at)?,
            dir,
            writable,
        });
        fence_paths.push((at, writable, dir));
    }
    links.sort_by_key(|(at, _)| at.components().count());
    for (at, target) in links {
        entries.push(ViewEntry::Symlink {
            target: path_c(&target)?,
            at: prefixed(NEW_ROOT, &at)?,
        });
    }
    Ok((entries, fence_paths))
}

/// The dedicated host uid for a run when the supervisor is root: unprivileged, outside the range of
/// real accounts, different for concurrent runs so per-user kernel quotas are not shared.
fn run_uid(seq: u64) -> u32 {
    let pid = std::process::id() as u64;
    0x6000_0000 + ((pid.wrapping_mul(7919).wrapping_add(seq)) % 0x0fff_0000) as u32
}

pub(crate) struct PlanInput<'a> {
    pub policy: &'a Policy,
    pub program: &'a Path,
    pub args: &'a [OsString],
    pub weaken: &'a Weakening,
    pub userns_ok: bool,
    pub landlock_ok: bool,
    pub seq: u64,
}

pub(crate) fn build(input: PlanInput<'_>) -> Result<Plan, SandboxError> {
    let PlanInput {
        policy,
        program,
        args,
        weaken,
        userns_ok,
        landlock_ok,
        seq,
    } = input;
    let root_user = super::sys::geteuid() == 0;
    let user = userns_ok && !weaken.has(Weaken::NoUserNs);
    // Namespaces other than the user namespace need either the user namespace or real root.
    let others = user || root_user;
    let ns = Namespaces {
        user,
        pid: others && !weaken.has(Weaken::NoPidNs),
        mount: others && !weaken.has(Weaken::NoMountNs),
        net: others && !weaken.has(Weaken::NoNetNs),
        ipc: others,
        uts: others,
        cgroup: others,
    };
    let (switch_to, map_to) = if root_user && user {
        let id = run_uid(seq);
        (Some((id, id)), (id, id))
    } else {
        (None, (super::sys::geteuid(), super::sys::getegid()))
    };

    let ro = policy.effective_ro();
    let (entries, fence_paths) = build_view(&ro, &policy.fs.rw, program)?;
    let root = ns.mount.then(|| RootPlan {
        entries,
        tmp_size: policy.fs.tmp_size.0,
        proc_sys_writable: weaken.has(Weaken::ProcSysWritable),
        fresh_proc: ns.pid,
        layout: Layout::Host,
    });

    let mut argv = vec![path_c(program)?];
    for a in args {
        argv.push(cstr(a.as_bytes(), "argument")?);
    }
    let envp: Vec<CString> = if weaken.has(Weaken::InheritEnv) {
        std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend(v.into_vec());
                CString::new(kv).ok()
            })
            .collect()
    } else {
        policy
            .env
            .iter()
            .map(|(k, v)| cstr(format!("{k}={v}").as_bytes(), "env"))
            .collect::<Result<_, _>>()?
    };
    let cwd = if ns.mount {
        c"/tmp".to_owned()
    } else {
        c"/".to_owned()
    };
    let exec = ExecPlan {
        path: path_c(program)?,
        argv,
        envp,
        cwd,
    };

    let l = &policy.limits;
    let cpu_s = l.cpu_time.0.as_secs_f64().ceil() as u64;
    let mut rlimits = vec![
        (
            libc::RLIMIT_NOFILE,
            l.open_files as u64,
            l.open_files as u64,
        ),
        (libc::RLIMIT_FSIZE, l.file_size.0, l.file_size.0),
        (libc::RLIMIT_CORE, 0, 0),
        (libc::RLIMIT_STACK, l.stack.0, l.stack.0),
        (libc::RLIMIT_MSGQUEUE, 1 << 20, 1 << 20),
        (libc::RLIMIT_RTPRIO, 0, 0),
        (libc::RLIMIT_NICE, 0, 0),
        (libc::RLIMIT_SIGPENDING, 1024, 1024),
        (libc::RLIMIT_MEMLOCK, 8 << 20, 8 << 20),
    ];
    if switch_to.is_some() && !weaken.has(Weaken::NoPidsLimit) {
        // The run has a host uid of its own, so a per-uid process cap is a backstop for the cgroup's.
        let n = policy.limits.pids as u64 + 8;
        rlimits.push((libc::RLIMIT_NPROC, n, n));
    }
    if !weaken.has(Weaken::NoCpuLimit) {
        // A backstop per process; the supervisor enforces the tree-wide limit through the cgroup.
        rlimits.push((libc::RLIMIT_CPU, cpu_s + 1, cpu_s + 2));
    }

    let seccomp =
        if weaken.has(Weaken::NoSeccomp) {
            None
        } else {
            Some(super::seccomp::programs(&policy.syscalls).map_err(|e| {
                SandboxError::new("syscalls", SandboxErrorKind::Setup(e.to_string()))
            })?)
        };

    let fence = (landlock_ok && !weaken.has(Weaken::NoLandlock)).then(|| {
        let mut spec = FenceSpec {
            deny_tcp: policy.net.mode != NetMode::Loopback,
            ..FenceSpec::default()
        };
        for (p, writable, dir) in &fence_paths {
            if *writable {
                spec.read_write.push(p.clone());
            } else {
                spec.read_exec.push(p.clone());
            }
            if !dir {
                spec.files.push(p.clone());
            }
        }
        spec.read_write.push("/tmp".into());
        spec.read_write.push("/dev/shm".into());
        spec.devices
            .extend(DEV_NODES.iter().map(|n| PathBuf::from("/dev").join(n)));
        spec.files.extend(spec.devices.iter().cloned());
        spec.read_only.push("/proc".into());
        spec.read_only.push("/dev".into());
        spec
    });

    Ok(Plan {
        switch_to,
        map_to,
        ns,
        join_netns: None,
        channel: None,
        root,
        loopback: policy.net.mode == NetMode::Loopback && ns.net,
        exec,
        rlimits,
        seccomp,
        fence,
        setsid: !weaken.has(Weaken::KeepTty),
        close_fds: !weaken.has(Weaken::InheritFds),
        no_new_privs: !weaken.has(Weaken::NoNoNewPrivs),
        drop_caps: !weaken.has(Weaken::KeepCaps),
        tree_kill: !weaken.has(Weaken::NoTreeKill),
        signals_default: false,
    })
}
