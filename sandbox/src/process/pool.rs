//! Prepared sandboxes for repeated runs of one program under one policy: the fast start path.
//!
//! A `ProcessPool` keeps `depth` sandboxes *parked*: forked, in their own namespaces and run cgroup, the
//! root built, rlimits, Landlock, seccomp and every other protection applied, the plugin process stopped
//! right before `execve`, reading its arguments from a launch pipe. `ProcessPool::run` sends the arguments
//! and watches the run exactly as `ProcessSandbox::run` does; the time a run takes from the caller's
//! point of view is then little more than an `execve`. Each run still gets sandboxes of its own (nothing
//! is reused between runs); the pool only moves their making off the caller's path, into a background
//! thread that refills it after every take.
//!
//! What differs from a cold run: the wall deadline, and the CPU time counted against `limits.cpu_time`
//! and reported in `usage.cpu_ms`, start at the launch, not at the fork; `usage.peak_memory_bytes` also
//! covers the parked setup processes (about a megabyte).
//!
//! Invariant: a parked sandbox that is never launched is torn down like any run (its launch pipe
//! closes, the plugin exits, the cgroup is emptied and removed) when the pool is dropped.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::cgroup::CgroupManager;
use super::child::{LAUNCH_TAG, MAX_LAUNCH};
use super::{
    finish, monitor, parse_messages, spawn, sys, Prepared, ProcessSandbox, Setup, Spawned,
};
use crate::error::{SandboxError, SandboxErrorKind};
use crate::outcome::Outcome;
use crate::policy::Policy;
use crate::process::RunExtras;

/// How long a sandbox may take to park before the pool gives up on it (it then runs as an error).
const PARK_TIMEOUT: Duration = Duration::from_secs(10);

/// Parked sandboxes for one program under one policy. Cheap to share between threads.
pub struct ProcessPool {
    inner: Arc<Inner>,
    /// The thread that prepares every parked sandbox. One long-lived thread: the setup process's
    /// parent-death signal fires when the *thread* that forked it ends.
    worker: Option<std::thread::JoinHandle<()>>,
}

struct Inner {
    sandbox: ProcessSandbox,
    policy: Policy,
    program: PathBuf,
    depth: usize,
    state: Mutex<State>,
    /// Signalled when a sandbox is taken or parked, and when the pool closes.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    parked: VecDeque<Parked>,
    /// Set when the worker cannot prepare a sandbox (it stops; runs then prepare inline).
    failed: Option<String>,
    closed: bool,
    /// Runs launched from a parked sandbox and not yet ended. They count against `depth`, so the
    /// refill starts when a run ends: preparing the next sandbox never competes for the CPU with a run.
    running: usize,
}

/// One parked sandbox, or the Outcome every run gets because none can be made (`--require-all`).
enum Parked {
    Ready(Box<Prepared>, Spawned),
    Early(Box<Outcome>),
}

impl std::fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessPool")
            .field("program", &self.inner.program)
            .field("depth", &self.inner.depth)
            .field("parked", &self.parked())
            .finish()
    }
}

impl ProcessSandbox {
    /// A pool of `depth` (at least 1) parked sandboxes for `program` under `policy`. The first ones are
    /// prepared before this returns, so the first `run` is already warm.
    pub fn pool(
        &self,
        policy: &Policy,
        program: &Path,
        depth: usize,
    ) -> Result<ProcessPool, SandboxError> {
        policy.validate()?;
        let program = super::resolve_program(program)?;
        let inner = Arc::new(Inner {
            sandbox: self.clone(),
            policy: policy.clone(),
            program,
            depth: depth.max(1),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let worker = {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name("gauntlet-pool".into())
                .spawn(move || inner.work())
                .map_err(|e| SandboxError::new("pool thread", SandboxErrorKind::Io(e)))?
        };
        let pool = ProcessPool {
            inner,
            worker: Some(worker),
        };
        // Wait for the first sandboxes, so that the first run is already warm.
        let mut st = pool.inner.lock();
        while st.parked.len() < pool.inner.depth && st.failed.is_none() {
            st = pool.inner.wait(st);
        }
        if let Some(e) = st.failed.clone() {
            return Err(SandboxError::new("pool", SandboxErrorKind::Setup(e)));
        }
        drop(st);
        Ok(pool)
    }
}

impl ProcessPool {
    /// Runs the program with `args` in a parked sandbox (one made on the spot when none is ready), and
    /// starts preparing the next one in the background.
    pub fn run(&self, args: &[OsString]) -> Result<Outcome, SandboxError> {
        let message = launch_message(args)?;
        let taken = {
            let mut st = self.inner.lock();
            let taken = st.parked.pop_front();
            st.running += 1;
            taken
        };
        let parked = match taken {
            Some(p) => Ok(p),
            None => self.inner.prepare(),
        };
        let result = parked.and_then(|p| match p {
            Parked::Early(o) => Ok(*o),
            Parked::Ready(setup, spawned) => self.inner.launch(setup, spawned, &message),
        });
        self.inner.lock().running -= 1;
        self.inner.changed.notify_all();
        result
    }

    /// Sandboxes parked right now.
    pub fn parked(&self) -> usize {
        self.inner.lock().parked.len()
    }

    /// Waits until at least one sandbox is parked (or `timeout` passes); true when one is. A caller
    /// that starts runs faster than sandboxes can be prepared gets cold starts: this tells them apart.
    pub fn wait_parked(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, 1)
    }

    /// Waits until the pool is full again, every one of its `depth` sandboxes parked (or `timeout`
    /// passes); true when it is. After this, no preparation is running in the background: a host (or
    /// a benchmark) can have the machine to itself for what it does next.
    pub fn wait_full(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, self.inner.depth)
    }

    fn wait_for(&self, timeout: Duration, parked: usize) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.inner.lock();
        while st.parked.len() < parked && st.failed.is_none() && !st.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .inner
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        st.parked.len() >= parked
    }
}

impl Drop for ProcessPool {
    /// Tears down every parked sandbox and waits for background preparations to end (each discards
    /// what it made): nothing of the pool outlives it.
    fn drop(&mut self) {
        self.inner.lock().closed = true;
        self.inner.changed.notify_all();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        let parked: Vec<Parked> = self.inner.lock().parked.drain(..).collect();
        for p in parked {
            self.inner.discard(p);
        }
        super::shutdown();
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes one parked sandbox: setup, fork, and wait until the plugin reports that it is ready.
    fn prepare(&self) -> Result<Parked, SandboxError> {
        let setup =
            match self
                .sandbox
                .setup(&self.policy, &self.program, &[], RunExtras::default())?
            {
                Setup::Early(o) => return Ok(Parked::Early(o)),
                Setup::Ready(s) => s,
            };
        let mut spawned = match spawn(&setup.plan, &self.sandbox.opts, setup.cgroup.as_ref(), true)
        {
            Ok(sp) => sp,
            Err(e) => {
                // Releases the cgroup and network namespace; the error itself is `e`.
                let _ = finish(
                    setup,
                    Err(SandboxError::new(
                        "fork",
                        SandboxErrorKind::Setup(String::new()),
                    )),
                );
                return Err(e);
            }
        };
        wait_ready(&mut spawned);
        Ok(Parked::Ready(setup, spawned))
    }

    fn wait<'a>(&self, st: std::sync::MutexGuard<'a, State>) -> std::sync::MutexGuard<'a, State> {
        self.changed.wait(st).unwrap_or_else(|e| e.into_inner())
    }

    /// The worker: keeps `depth` sandboxes parked until the pool closes.
    fn work(&self) {
        loop {
            {
                let mut st = self.lock();
                while !st.closed && st.parked.len() + st.running >= self.depth {
                    st = self.wait(st);
                }
                if st.closed {
                    return;
                }
            }
            match self.prepare() {
                Ok(p) => self.lock().parked.push_back(p),
                Err(e) => {
                    self.lock().failed = Some(e.to_string());
                    self.changed.notify_all();
                    return;
                }
            }
            self.changed.notify_all();
        }
    }

    /// Sends the arguments, then watches the run like any other.
    fn launch(
        &self,
        setup: Box<Prepared>,
        mut spawned: Spawned,
        message: &[u8],
    ) -> Result<Outcome, SandboxError> {
        let ready = parse_messages(&spawned.status_buf).ready;
        if let Some(w) = spawned.launch_w.take() {
            spawned.cpu_base_ns = setup.cgroup.as_ref().and_then(|c| c.cpu_ns()).unwrap_or(0);
            spawned.start = Instant::now();
            if ready {
                // A plugin that died meanwhile closes the pipe: the monitor then reports how it ended.
                let _ = sys::write_all(w.as_raw_fd(), message);
            }
        }
        let result = monitor(
            spawned,
            &setup.plan,
            &self.policy,
            &self.sandbox.opts,
            setup.cgroup.as_ref(),
        );
        finish(setup, result)
    }

    /// Tears a parked sandbox down: closing its launch pipe makes the plugin exit without running.
    fn discard(&self, p: Parked) {
        if let Parked::Ready(setup, mut spawned) = p {
            drop(spawned.launch_w.take());
            let result = monitor(
                spawned,
                &setup.plan,
                &self.policy,
                &self.sandbox.opts,
                setup.cgroup.as_ref(),
            );
            let _ = finish(setup, result);
        }
    }
}

/// `LAUNCH_TAG`, then every argument NUL-terminated.
fn launch_message(args: &[OsString]) -> Result<Vec<u8>, SandboxError> {
    let mut m = vec![LAUNCH_TAG];
    for (i, a) in args.iter().enumerate() {
        let bytes = a.as_bytes();
        if bytes.contains(&0) {
            return Err(SandboxError::new(
                format!("args[{i}]"),
                SandboxErrorKind::Invalid("contains a NUL byte".into()),
            ));
        }
        m.extend_from_slice(bytes);
        m.push(0);
    }
    if m.len() > MAX_LAUNCH {
        return Err(SandboxError::new(
            "args",
            SandboxErrorKind::Invalid(format!("longer than {MAX_LAUNCH} bytes together")),
        ));
    }
    Ok(m)
}

/// Reads the status pipe until the plugin is parked (`R`), fails (`E`), or the pipe closes.
fn wait_ready(sp: &mut Spawned) {
    let deadline = Instant::now() + PARK_TIMEOUT;
    let mut chunk = [0u8; 512];
    loop {
        let m = parse_messages(&sp.status_buf);
        if m.ready || m.error.is_some() {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let mut pfd = [libc::pollfd {
            fd: sp.status_r.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if sys::poll(&mut pfd, left.as_millis().clamp(1, 60_000) as i32).is_err() {
            return;
        }
        match sys::read_fd(sp.status_r.as_raw_fd(), &mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => sp.status_buf.extend_from_slice(&chunk[..n]),
        }
    }
}
