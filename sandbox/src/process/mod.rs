//! The Linux process backend.
//!
//! `ProcessSandbox::run` turns the policy into a `Plan` (`plan.rs`), creates the run cgroup
//! (`cgroup/`), forks the child whose setup path applies the plan (`child.rs`), and supervises it here:
//! output capped through pipes, a wall-clock deadline and a tree-wide CPU limit (cgroup accounting), and
//! the kill of the whole pid namespace at the end. All libc calls are in `sys.rs`.

mod cgroup;
mod child;
mod egress;
mod fence;
mod forkserver;
mod netpool;
mod plan;
mod pool;
mod probe;
mod reaper;
pub mod seccomp;
mod sys;
mod syscall_table;

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use cgroup::{leftover_run_cgroups, own_cgroups, start_time, OwnCgroups};
use cgroup::{Cgroup, CgroupLimits, CgroupManager, CgroupStats};
pub use child::CHANNEL_FD;
pub use egress::EGRESS_SOCKET;
pub use forkserver::fork_server_runs;
pub use plan::resolve_program;
pub use pool::ProcessPool;
pub use probe::{doctor, LayerReport};
pub use seccomp::ALWAYS_DENIED;

use crate::error::{SandboxError, SandboxErrorKind};
use crate::outcome::{Limit, MissingLayer, Outcome, Status, Usage};
use crate::policy::Policy;
use crate::weaken::{Weaken, Weakening};

/// Every layer name the process backend reports in `Outcome.layers` / `layers_missing` (and that
/// manifests may name in `needs`).
pub const LAYERS: &[&str] = &[
    "user_ns",
    "pid_ns",
    "mount_ns",
    "net_ns",
    "ipc_ns",
    "uts_ns",
    "cgroup_ns",
    "pivot_root",
    "setsid",
    "fds_closed",
    "caps_dropped",
    "no_new_privs",
    "rlimits",
    "clean_env",
    "seccomp",
    "landlock",
    "landlock_full",
    "cgroup_memory",
    "cgroup_pids",
    "cgroup_cpu",
    "wall_deadline",
    "cpu_limit",
    "output_cap",
    "tree_kill",
];

/// Waits until every run that has ended is released: its setup processes reaped, its run cgroup
/// removed, its network namespace given back. A run's Outcome is returned once every plugin process is
/// dead and reaped; this last part of its teardown (none of it runs plugin code) goes on in a
/// background thread. Call `settle` before looking for leftovers.
pub fn settle() {
    reaper::drain();
}

/// `settle`, then removes the run cgroup kept ready for the next run (see `cgroup::Spare`): after this,
/// nothing the process backend made is left. `ProcessPool` calls it when dropped, and an `atexit` hook
/// calls it when the process exits normally; a host that wants the cleanup done at a moment of its own
/// choosing calls it then.
pub fn shutdown() {
    reaper::drain();
    cgroup::Spare::drop_all();
    forkserver::stop();
}

/// Where the plugin's stdin comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StdinMode {
    /// `/dev/null` (the default).
    #[default]
    Null,
    /// The caller's own stdin, passed on purpose.
    Inherit,
    /// A descriptor the caller owns (duplicated for the run; the caller keeps its own).
    Fd(RawFd),
}

/// Settings of the process backend that are not policy.
#[derive(Clone, Debug, Default)]
pub struct ProcessOptions {
    /// Refuse to run (status `error`) when any layer is missing on this host.
    pub require_all: bool,
    pub stdin: StdinMode,
    /// Protections removed on purpose (mutants). Empty unless built through the unsafe constructor.
    pub weaken: Weakening,
    /// Fork every run's setup process from this process, never through the fork server (see
    /// `forkserver`). By default a process's first run forks directly and later runs go through the
    /// server, so a big host is not copied for each run.
    pub direct_fork: bool,
}

/// Per-run additions to a process run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunExtras<'a> {
    /// One end of a stream socket (or pipe) the plugin gets as descriptor 3 ([`CHANNEL_FD`]); the
    /// supervisor keeps the other end. Without it, the plugin has no descriptor above 2.
    pub channel: Option<std::os::fd::BorrowedFd<'a>>,
    /// With `net.mode = "allow"`: the host path of the egress proxy's unix socket
    /// (`supervisor::EgressProxy::socket_path`), bind-mounted at [`EGRESS_SOCKET`] in the plugin's root
    /// and handed to the run's uid. Without it, `allow` reaches nothing (like `none`).
    pub egress: Option<&'a Path>,
    /// A descriptor that becomes readable when the caller wants the run stopped (the supervisor's
    /// `StopToken`: a reload, a stop, a quarantine). The run is then killed like at a limit and ends
    /// `killed` with signal 9, no `limit`, and the reason [`STOPPED_REASON`].
    pub stop: Option<std::os::fd::BorrowedFd<'a>>,
}

/// The `reason` of a run stopped through [`RunExtras::stop`].
pub const STOPPED_REASON: &str = "stopped by the supervisor";

/// The process sandbox. Cheap to create; one value can run many plugins, also from several threads.
#[derive(Clone, Debug, Default)]
pub struct ProcessSandbox {
    opts: ProcessOptions,
}

/// How often the supervisor samples the cgroup's CPU time while a run has a CPU limit.
const CPU_POLL: Duration = Duration::from_millis(10);

impl ProcessSandbox {
    pub fn new(opts: ProcessOptions) -> Self {
        ProcessSandbox { opts }
    }

    /// Runs `program` with `args` under `policy` and reports how it ended. Errors are bad input (a missing
    /// program or policy path) or a supervisor that cannot make pipes or fork; everything that happens to
    /// the plugin is an `Outcome`.
    pub fn run(
        &self,
        policy: &Policy,
        program: &Path,
        args: &[OsString],
    ) -> Result<Outcome, SandboxError> {
        self.run_with(policy, program, args, RunExtras::default())
    }

    /// `run`, with what a `Supervisor` adds to a run: the message channel.
    pub fn run_with(
        &self,
        policy: &Policy,
        program: &Path,
        args: &[OsString],
        extras: RunExtras<'_>,
    ) -> Result<Outcome, SandboxError> {
        let stop = extras.stop.map(|fd| fd.as_raw_fd());
        let setup = match self.setup(policy, program, args, extras)? {
            Setup::Early(o) => return Ok(*o),
            Setup::Ready(s) => s,
        };
        let result =
            spawn(&setup.plan, &self.opts, setup.cgroup.as_ref(), false).and_then(|mut sp| {
                sp.stop = stop;
                monitor(sp, &setup.plan, policy, &self.opts, setup.cgroup.as_ref())
            });
        finish(setup, result)
    }

    /// Everything before the fork: the plan, the layer list, the run cgroup, a network namespace.
    fn setup(
        &self,
        policy: &Policy,
        program: &Path,
        args: &[OsString],
        extras: RunExtras<'_>,
    ) -> Result<Setup, SandboxError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        policy.validate()?;
        let program = resolve_program(program)?;
        let host = probe::host();
        let weaken = &self.opts.weaken;
        let plan = plan::build(plan::PlanInput {
            policy,
            program: &program,
            args,
            weaken,
            userns_ok: host.userns.is_ok(),
            landlock_ok: host.landlock_abi.is_ok(),
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
        })?;
        // net.mode = "allow": the egress proxy's socket in the root (see `egress.rs`).
        let plan = match extras.egress {
            Some(socket) => egress::attach(plan, policy, socket)?,
            None => plan,
        };

        let mut layers: Vec<String> = Vec::new();
        let mut missing: Vec<MissingLayer> = Vec::new();
        let mut miss = |layer: &str, reason: String| {
            missing.push(MissingLayer {
                layer: layer.into(),
                reason,
            })
        };
        for (on, name) in [
            (plan.ns.user, "user_ns"),
            (plan.ns.pid, "pid_ns"),
            (plan.ns.mount, "mount_ns"),
            (plan.ns.net, "net_ns"),
            (plan.ns.ipc, "ipc_ns"),
            (plan.ns.uts, "uts_ns"),
            (plan.ns.cgroup, "cgroup_ns"),
            (plan.root.is_some(), "pivot_root"),
        ] {
            if on {
                layers.push(name.into());
            } else {
                let reason = weakened_or(weaken, name, || match &host.userns {
                    Err(e) => format!("no user namespace: {e}"),
                    Ok(()) => "not applied".into(),
                });
                miss(name, reason);
            }
        }
        for (on, name, why) in [
            (plan.setsid, "setsid", "kept the controlling terminal"),
            (plan.close_fds, "fds_closed", "descriptors inherited"),
            (plan.drop_caps, "caps_dropped", "capabilities kept"),
            (plan.no_new_privs, "no_new_privs", "no_new_privs not set"),
        ] {
            if on {
                layers.push(name.into());
            } else {
                miss(name, format!("weakened: {why}"));
            }
        }
        layers.push("rlimits".into());
        if weaken.has(Weaken::InheritEnv) {
            miss("clean_env", "weakened: environment inherited".into());
        } else {
            layers.push("clean_env".into());
        }
        match (&plan.seccomp, host.seccomp) {
            (Some(_), true) => layers.push("seccomp".into()),
            (None, _) => miss("seccomp", "weakened: no filter".into()),
            (Some(_), false) => miss("seccomp", "kernel has no seccomp filter mode".into()),
        }
        if plan.fence.is_none() {
            let reason = weakened_or(weaken, "landlock", || match &host.landlock_abi {
                Err(e) => e.clone(),
                Ok(_) => "not applied".into(),
            });
            miss("landlock", reason);
        }

        let limits = CgroupLimits {
            memory: (!weaken.has(Weaken::NoMemoryLimit)).then_some(policy.limits.memory.0),
            // A and B (the setup process and the namespace's init) live in the cgroup too.
            pids: (!weaken.has(Weaken::NoPidsLimit)).then_some(policy.limits.pids as u64 + 2),
        };
        let cgroup = match Cgroup::create(limits) {
            Ok((cg, absent)) => {
                for name in ["cgroup_memory", "cgroup_pids", "cgroup_cpu"] {
                    if absent.contains(&name) {
                        miss(
                            name,
                            format!(
                                "cgroup v{} controller not available or not writable",
                                cg.version()
                            ),
                        );
                    } else if name == "cgroup_memory" && limits.memory.is_none() {
                        miss(name, "weakened: no memory limit".into());
                    } else if name == "cgroup_pids" && limits.pids.is_none() {
                        miss(name, "weakened: no pids limit".into());
                    } else {
                        layers.push(name.into());
                    }
                }
                Some(cg)
            }
            Err(e) => {
                for name in ["cgroup_memory", "cgroup_pids", "cgroup_cpu"] {
                    miss(name, e.clone());
                }
                None
            }
        };
        for (w, name) in [
            (Weaken::NoWallDeadline, "wall_deadline"),
            (Weaken::NoCpuLimit, "cpu_limit"),
            (Weaken::NoOutputCap, "output_cap"),
            (Weaken::NoTreeKill, "tree_kill"),
        ] {
            if weaken.has(w) {
                miss(name, "weakened".into());
            } else {
                layers.push(name.into());
            }
        }

        if self.opts.require_all && !missing.is_empty() {
            if let Some(cg) = &cgroup {
                let _ = cg.remove();
            }
            let names: Vec<_> = missing
                .iter()
                .map(|m| format!("{} ({})", m.layer, m.reason))
                .collect();
            let mut o = Outcome::not_started(
                "process",
                Status::Error,
                format!("required layers missing: {}", names.join(", ")),
            );
            o.layers = layers;
            o.layers_missing = missing;
            return Ok(Setup::Early(Box::new(o)));
        }

        // Root lends the run a prepared network namespace; others create one inside the run's userns.
        let mut plan = plan;
        plan.channel = extras.channel.map(|fd| fd.as_raw_fd());
        let mut netns = None;
        if plan.ns.net && plan.switch_to.is_some() {
            if let Ok(lease) = netpool::lease(plan.loopback) {
                plan.join_netns = Some(lease.raw_fd());
                netns = Some(lease);
            }
        }
        Ok(Setup::Ready(Box::new(Prepared {
            plan,
            layers,
            missing,
            cgroup,
            netns,
            landlock_abi: host.landlock_abi.clone().ok(),
        })))
    }
}

/// What `ProcessSandbox::setup` made ready for one run.
struct Prepared {
    plan: plan::Plan,
    layers: Vec<String>,
    missing: Vec<MissingLayer>,
    cgroup: Option<Cgroup>,
    netns: Option<netpool::NetnsLease>,
    landlock_abi: Option<i32>,
}

enum Setup {
    /// The run ended before it started (`--require-all` with a layer missing).
    Early(Box<Outcome>),
    Ready(Box<Prepared>),
}

/// Releases what `setup` took and completes the Outcome's layer lists.
fn finish(
    setup: Box<Prepared>,
    result: Result<Supervised, SandboxError>,
) -> Result<Outcome, SandboxError> {
    let Prepared {
        plan,
        mut layers,
        mut missing,
        cgroup,
        mut netns,
        landlock_abi,
    } = *setup;
    if let Some(lease) = netns.as_mut().filter(|_| !plan.tree_kill) {
        lease.discard();
    }
    let mut outcome = match result {
        Ok(o) => o,
        Err(e) => {
            drop(netns);
            if let Some(cg) = cgroup {
                cg.kill_all();
                let _ = cg.remove();
            }
            return Err(e);
        }
    };
    match (cgroup, outcome.left) {
        (Some(cg), Left::Nothing) => {
            drop(netns);
            cg.kill_all();
            let _ = cg.remove();
        }
        (cg, Left::Shell(a)) => {
            // The plugin's tree is dead and reaped; A and B exit by themselves. Reap A, then release
            // the cgroup and the network namespace, off the caller's path (see `reaper`).
            reaper::defer(Box::new(move || {
                let _ = sys::wait4(a);
                if let Some(cg) = cg {
                    cg.kill_all();
                    let _ = cg.remove();
                }
                drop(netns);
            }));
        }
        (cg, Left::Leftovers(a)) => {
            drop(netns);
            // Weakened: the run's leftovers keep running. Once they are all gone, the setup
            // process exits; reap it then and remove the cgroup, so nothing outlives them.
            std::thread::spawn(move || {
                let _ = sys::wait4(a);
                if let Some(cg) = cg {
                    let _ = cg.remove();
                }
            });
        }
        (None, Left::Nothing) => drop(netns),
    }
    // The run is over: the spare cgroup for the next one can be made now (after this run's teardown,
    // on the same thread).
    cgroup::Spare::refill();
    if let Some(l) = outcome.landlock_word.take() {
        match l.as_str() {
            "full" => layers.push("landlock".into()),
            "partial" => {
                layers.push("landlock".into());
                missing.push(MissingLayer {
                    layer: "landlock_full".into(),
                    reason: format!(
                        "kernel ABI {} enforces part of the rules",
                        landlock_abi.unwrap_or(0)
                    ),
                });
            }
            _ => missing.push(MissingLayer {
                layer: "landlock".into(),
                reason: "not enforced by the kernel".into(),
            }),
        }
    }
    outcome.outcome.layers = layers;
    outcome.outcome.layers_missing = missing;
    Ok(outcome.outcome)
}

fn weakened_or(w: &Weakening, layer: &str, otherwise: impl FnOnce() -> String) -> String {
    let hit = w.iter().any(|x| {
        matches!(
            (x, layer),
            (Weaken::NoUserNs, "user_ns")
                | (Weaken::NoPidNs, "pid_ns")
                | (Weaken::NoMountNs, "mount_ns" | "pivot_root")
                | (Weaken::NoNetNs, "net_ns")
                | (Weaken::NoLandlock, "landlock")
        )
    });
    if hit {
        "weakened".into()
    } else {
        otherwise()
    }
}

struct Supervised {
    outcome: Outcome,
    landlock_word: Option<String>,
    left: Left,
}

/// What of a run is still there when its Outcome is known.
enum Left {
    /// Nothing: the setup process is reaped.
    Nothing,
    /// The setup process (A) and the namespace's init (B), running only the sandbox's own code on
    /// their way out: every plugin process is killed and reaped (B's `D`).
    Shell(libc::pid_t),
    /// The setup process and whatever the plugin left running (only under the `no-tree-kill`
    /// weakening).
    Leftovers(libc::pid_t),
}

/// Captured output of one stream, kept up to the shared cap.
struct Capture {
    fd: OwnedFd,
    buf: Vec<u8>,
    open: bool,
}

fn io_err(what: &'static str) -> impl Fn(std::io::Error) -> SandboxError {
    move |e| SandboxError::new(what, SandboxErrorKind::Io(e))
}

/// A forked run, from the supervisor's side.
struct Spawned {
    a: libc::pid_t,
    pidfd: OwnedFd,
    out_r: OwnedFd,
    err_r: OwnedFd,
    status_r: OwnedFd,
    /// Status bytes already read (a parked run's setup messages).
    status_buf: Vec<u8>,
    setup_error: Option<String>,
    /// When the plugin was let go: the wall deadline counts from here.
    start: Instant,
    /// Parked runs: the pipe the plugin's arguments are sent through to start it.
    launch_w: Option<OwnedFd>,
    /// CPU time the run's cgroup had used before the plugin was let go (a parked run's setup).
    cpu_base_ns: u64,
    /// [`RunExtras::stop`]: readable when the caller wants the run stopped.
    stop: Option<RawFd>,
}

/// Forks the setup process. With `park`, the plugin stops right before `execve`, every protection
/// applied, and waits for its arguments on a launch pipe (see `pool`).
fn spawn(
    plan: &plan::Plan,
    opts: &ProcessOptions,
    cgroup: Option<&Cgroup>,
    park: bool,
) -> Result<Spawned, SandboxError> {
    let stdin: OwnedFd = match opts.stdin {
        StdinMode::Null => std::fs::File::open("/dev/null")
            .map_err(io_err("/dev/null"))?
            .into(),
        StdinMode::Inherit => std::io::stdin().as_fd_owned().map_err(io_err("stdin"))?,
        StdinMode::Fd(fd) => sys::dup_owned(fd).map_err(io_err("stdin descriptor"))?,
    };
    let (out_r, out_w) = sys::pipe_cloexec().map_err(io_err("pipe"))?;
    let (err_r, err_w) = sys::pipe_cloexec().map_err(io_err("pipe"))?;
    let (status_r, status_w) = sys::pipe_cloexec().map_err(io_err("pipe"))?;
    let (go_r, go_w) = sys::pipe_cloexec().map_err(io_err("pipe"))?;
    let (launch_r, launch_w) = if park {
        let (r, w) = sys::pipe_cloexec().map_err(io_err("pipe"))?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    // v1: the setup process moves itself in (cheap); otherwise the supervisor moves it (`add`).
    let join: Vec<OwnedFd> = match cgroup {
        Some(cg) => cg.self_join_files().unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut join_raw = [-1; 4];
    for (slot, fd) in join_raw.iter_mut().zip(&join) {
        *slot = fd.as_raw_fd();
    }
    let fds = child::ChildFds {
        stdin: stdin.as_raw_fd(),
        stdout: out_w.as_raw_fd(),
        stderr: err_w.as_raw_fd(),
        status: status_w.as_raw_fd(),
        go: go_r.as_raw_fd(),
        channel: plan.channel,
        join: join_raw,
        launch: launch_r.as_ref().map(|fd| fd.as_raw_fd()),
    };
    // A that moves itself into the run cgroup has nothing to wait for: its go is in the pipe before it
    // starts.
    let self_joined = !join.is_empty();
    if self_joined {
        sys::write_all(go_w.as_raw_fd(), b"g").map_err(io_err("pipe"))?;
    }
    let start = Instant::now();
    // From a process's second run on, a small fork server forks A, so the host is not copied.
    let served = match opts.direct_fork {
        true => None,
        false => forkserver::spawn_a(plan, &fds),
    };
    let a = match served {
        Some(forked) => forked.map_err(io_err("fork"))?,
        None => {
            let _gate = forkserver::direct_fork_gate();
            match sys::fork().map_err(io_err("fork"))? {
                sys::Forked::Child => child::run_a(plan, fds),
                sys::Forked::Parent(pid) => pid,
            }
        }
    };
    drop((stdin, out_w, err_w, status_w, go_r, join, launch_r));
    let pidfd = sys::pidfd_open(a).map_err(io_err("pidfd_open"))?;

    let mut setup_error: Option<String> = None;
    if let Some(cg) = cgroup.filter(|_| !self_joined) {
        if let Err(e) = cg.add(a) {
            setup_error = Some(format!("join the run cgroup: {e}"));
            let _ = sys::kill(a, libc::SIGKILL);
        }
    }
    if !self_joined {
        let _ = sys::write_all(go_w.as_raw_fd(), b"g");
    }
    drop(go_w);
    Ok(Spawned {
        a,
        pidfd,
        out_r,
        err_r,
        status_r,
        status_buf: Vec::new(),
        setup_error,
        start,
        launch_w,
        cpu_base_ns: 0,
        stop: None,
    })
}

/// Watches a started run to its end: output, deadline, CPU limit, and the Outcome.
fn monitor(
    sp: Spawned,
    plan: &plan::Plan,
    policy: &Policy,
    opts: &ProcessOptions,
    cgroup: Option<&Cgroup>,
) -> Result<Supervised, SandboxError> {
    let Spawned {
        a,
        pidfd,
        out_r,
        err_r,
        status_r,
        status_buf,
        setup_error,
        start,
        launch_w,
        cpu_base_ns,
        stop,
    } = sp;
    debug_assert!(
        launch_w.is_none(),
        "a parked run is launched before it is monitored"
    );
    drop(launch_w);
    let weaken = &opts.weaken;
    for fd in [&out_r, &err_r, &status_r] {
        sys::set_nonblocking(fd.as_raw_fd()).map_err(io_err("pipe"))?;
    }
    let mut streams = [
        Capture {
            fd: out_r,
            buf: Vec::new(),
            open: true,
        },
        Capture {
            fd: err_r,
            buf: Vec::new(),
            open: true,
        },
    ];
    let mut status_buf = status_buf;
    let mut status_open = true;
    let cap = if weaken.has(Weaken::NoOutputCap) {
        u64::MAX
    } else {
        policy.limits.output.0
    };
    let wall = policy.limits.wall_time.0;
    let deadline = (!weaken.has(Weaken::NoWallDeadline)).then_some(start + wall);
    let cpu_limit_ns =
        (!weaken.has(Weaken::NoCpuLimit)).then_some(policy.limits.cpu_time.0.as_nanos() as u64);
    let cpu_poll = cgroup.is_some() && cpu_limit_ns.is_some();
    let mut next_cpu_check = start + CPU_POLL;
    let mut written: u64 = 0;
    let mut truncated = false;
    let mut killed_for: Option<Limit> = None;
    let mut b_pid: Option<libc::pid_t> = None;
    let mut chunk = vec![0u8; 64 * 1024];
    // The caller's stop request: polled until it fires once.
    let mut stop_armed = stop;
    let mut stopped = false;
    let mut tree_dead = false;

    let kill_run = |b: Option<libc::pid_t>| {
        if let Some(b) = b {
            let _ = sys::kill(b, libc::SIGKILL);
        }
        let _ = sys::kill(a, libc::SIGKILL);
        if let Some(cg) = cgroup {
            cg.kill_all();
        }
    };

    loop {
        let now = Instant::now();
        if killed_for.is_none() {
            if let Some(d) = deadline {
                if now >= d {
                    killed_for = Some(Limit::WallTime);
                    kill_run(b_pid);
                }
            }
        }
        // CPU time is read every CPU_POLL, not at every wakeup: the wakeups of a run's last moments
        // (its output closing, B's report) then cost no cgroup reads while the plugin's tree exits.
        if killed_for.is_none() && cpu_poll && now >= next_cpu_check {
            next_cpu_check = now + CPU_POLL;
            if let (Some(limit), Some(used)) = (cpu_limit_ns, cgroup.and_then(|c| c.cpu_ns())) {
                if used.saturating_sub(cpu_base_ns) >= limit {
                    killed_for = Some(Limit::CpuTime);
                    kill_run(b_pid);
                }
            }
        }
        let mut timeout = match deadline {
            Some(d) if killed_for.is_none() => d.saturating_duration_since(now),
            _ => Duration::from_secs(1),
        };
        if cpu_poll && killed_for.is_none() {
            timeout = timeout.min(next_cpu_check.saturating_duration_since(now));
        }
        let mut pfds = vec![libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        for s in &streams {
            pfds.push(libc::pollfd {
                fd: if s.open { s.fd.as_raw_fd() } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            });
        }
        pfds.push(libc::pollfd {
            fd: if status_open {
                status_r.as_raw_fd()
            } else {
                -1
            },
            events: libc::POLLIN,
            revents: 0,
        });
        pfds.push(libc::pollfd {
            fd: stop_armed.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        });
        let ms = timeout.as_millis().clamp(1, 60_000) as i32;
        sys::poll(&mut pfds, ms).map_err(io_err("poll"))?;

        for (i, s) in streams.iter_mut().enumerate() {
            if s.open && pfds[1 + i].revents != 0 {
                match drain(s.fd.as_raw_fd(), &mut chunk, |bytes| {
                    let room = cap.saturating_sub(written) as usize;
                    let keep = bytes.len().min(room);
                    s.buf.extend_from_slice(&bytes[..keep]);
                    written = written.saturating_add(bytes.len() as u64);
                }) {
                    DrainEnd::Eof => s.open = false,
                    DrainEnd::WouldBlock => {}
                }
                if written > cap && killed_for.is_none() {
                    truncated = true;
                    killed_for = Some(Limit::Output);
                    kill_run(b_pid);
                }
            }
        }
        if status_open && pfds[3].revents != 0 {
            if let DrainEnd::Eof = drain(status_r.as_raw_fd(), &mut chunk, |b| {
                status_buf.extend_from_slice(b)
            }) {
                status_open = false;
            }
            let msgs = parse_messages(&status_buf);
            if !plan.tree_kill && msgs.child_status.is_some() {
                // Weakened: the run ends with the main process and whatever it left keeps running.
                break;
            }
            if msgs.tree_dead && cgroup.is_some() {
                // Every plugin process is dead and reaped; the cgroup has the usage figures.
                tree_dead = true;
                break;
            }
            if b_pid.is_none() {
                b_pid = msgs.b_pid;
                if b_pid.is_some() && (killed_for.is_some() || stopped) {
                    kill_run(b_pid);
                }
            }
        }
        if stop_armed.is_some() && pfds[4].revents != 0 {
            stop_armed = None;
            stopped = true;
            if killed_for.is_none() {
                kill_run(b_pid);
            }
        }
        if pfds[0].revents != 0 {
            break;
        }
    }
    let (a_status, ru) = if plan.tree_kill && !tree_dead {
        sys::wait4(a).map_err(io_err("wait"))?
    } else {
        (0, sys::empty_rusage())
    };
    let wall_ms = start.elapsed().as_millis() as u64;
    // Everything that could write is dead now: take what is left in the pipes.
    for s in streams.iter_mut() {
        drain(s.fd.as_raw_fd(), &mut chunk, |bytes| {
            let room = cap.saturating_sub(written) as usize;
            s.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
            written = written.saturating_add(bytes.len() as u64);
        });
    }
    if written > cap {
        truncated = true;
        killed_for.get_or_insert(Limit::Output);
    }
    drain(status_r.as_raw_fd(), &mut chunk, |b| {
        status_buf.extend_from_slice(b)
    });
    let msgs = parse_messages(&status_buf);
    let mut stats = cgroup.map(|c| c.stats()).unwrap_or_default();
    stats.cpu_ns = stats.cpu_ns.map(|ns| ns.saturating_sub(cpu_base_ns));

    let cpu_ms = stats.cpu_ns.map(|ns| ns / 1_000_000).unwrap_or_else(|| {
        let tv = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
        tv(ru.ru_utime) + tv(ru.ru_stime)
    });
    let mut usage = Usage {
        wall_ms,
        cpu_ms,
        peak_memory_bytes: stats.peak_memory.unwrap_or(ru.ru_maxrss as u64 * 1024),
        peak_pids: stats.peak_pids.map(|p| p.saturating_sub(2)).unwrap_or(0),
        ..Usage::default()
    };
    let limits_hit = limits_hit(&stats, killed_for, msgs.child_status);
    usage.limits_hit = limits_hit.clone();

    let mut outcome = Outcome::not_started("process", Status::Error, "");
    outcome.reason = None;
    outcome.usage = usage;
    outcome.output_truncated = truncated;
    let [out, err] = streams;
    outcome.stdout = out.buf;
    outcome.stderr = err.buf;

    if let Some(limit) = killed_for {
        outcome.status = Status::Killed;
        outcome.limit = Some(limit);
        outcome.signal = Some(libc::SIGKILL);
    } else if stopped && !msgs.child_status.is_some_and(|st| libc::WIFEXITED(st)) {
        outcome.status = Status::Killed;
        outcome.signal = Some(libc::SIGKILL);
        outcome.reason = Some(STOPPED_REASON.into());
    } else if let Some(e) = setup_error.or(msgs.error.clone()) {
        outcome.status = Status::Error;
        outcome.reason = Some(e);
    } else if let Some(st) = msgs.child_status {
        if libc::WIFEXITED(st) {
            outcome.status = Status::Exited;
            outcome.exit_code = Some(libc::WEXITSTATUS(st));
            if limits_hit.contains(&Limit::Pids) {
                outcome.limit = Some(Limit::Pids);
            }
        } else {
            let sig = libc::WTERMSIG(st);
            outcome.status = Status::Killed;
            outcome.signal = Some(sig);
            outcome.limit = match sig {
                libc::SIGXCPU => Some(Limit::CpuTime),
                libc::SIGXFSZ => Some(Limit::FileSize),
                libc::SIGKILL if stats.oom_kills > 0 => Some(Limit::Memory),
                libc::SIGKILL
                    if cpu_limit_ns.is_some_and(|l| stats.cpu_ns.is_some_and(|u| u >= l)) =>
                {
                    Some(Limit::CpuTime)
                }
                _ if limits_hit.contains(&Limit::Pids) => Some(Limit::Pids),
                _ => None,
            };
        }
    } else if stats.oom_kills > 0 {
        // The OOM killer took the namespace's init or the setup process: the run was out of memory.
        outcome.status = Status::Killed;
        outcome.limit = Some(Limit::Memory);
        outcome.signal = Some(libc::SIGKILL);
    } else {
        outcome.status = Status::Error;
        outcome.reason = Some(format!(
            "sandbox setup ended without a report (wait status {a_status})"
        ));
    }
    Ok(Supervised {
        outcome,
        landlock_word: msgs.landlock,
        left: if !plan.tree_kill {
            Left::Leftovers(a)
        } else if tree_dead {
            Left::Shell(a)
        } else {
            Left::Nothing
        },
    })
}

fn limits_hit(stats: &CgroupStats, killed_for: Option<Limit>, child: Option<i32>) -> Vec<Limit> {
    let mut v = Vec::new();
    if let Some(l) = killed_for {
        v.push(l);
    }
    if stats.oom_kills > 0 {
        v.push(Limit::Memory);
    }
    if stats.pids_max_hits > 0 {
        v.push(Limit::Pids);
    }
    if let Some(st) = child {
        if libc::WIFSIGNALED(st) {
            match libc::WTERMSIG(st) {
                libc::SIGXFSZ => v.push(Limit::FileSize),
                libc::SIGXCPU => v.push(Limit::CpuTime),
                _ => {}
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

enum DrainEnd {
    Eof,
    WouldBlock,
}

/// Reads a non-blocking descriptor until it would block or ends, handing each chunk to `sink`.
fn drain(fd: RawFd, chunk: &mut [u8], mut sink: impl FnMut(&[u8])) -> DrainEnd {
    loop {
        match sys::read_fd(fd, chunk) {
            Ok(0) => return DrainEnd::Eof,
            Ok(n) => sink(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return DrainEnd::WouldBlock,
        }
    }
}

#[derive(Default)]
struct Messages {
    b_pid: Option<libc::pid_t>,
    child_status: Option<i32>,
    error: Option<String>,
    landlock: Option<String>,
    /// Every process of the plugin is killed and reaped (B's `D`, after `S`).
    tree_dead: bool,
    /// A parked plugin has every protection applied and waits for its arguments.
    ready: bool,
}

fn parse_messages(buf: &[u8]) -> Messages {
    let mut m = Messages::default();
    for line in String::from_utf8_lossy(buf).lines() {
        let (tag, rest) = line.split_at(line.len().min(1));
        let rest = rest.trim();
        match tag {
            "P" => m.b_pid = rest.parse().ok(),
            "S" => m.child_status = rest.parse().ok(),
            "E" => {
                m.error.get_or_insert_with(|| rest.to_string());
            }
            "L" => m.landlock = Some(rest.to_string()),
            "R" => m.ready = true,
            "D" => m.tree_dead = true,
            _ => {}
        }
    }
    m
}

trait AsFdOwned {
    fn as_fd_owned(&self) -> std::io::Result<OwnedFd>;
}

impl AsFdOwned for std::io::Stdin {
    fn as_fd_owned(&self) -> std::io::Result<OwnedFd> {
        use std::os::fd::AsFd;
        self.as_fd().try_clone_to_owned()
    }
}
