//! The `Supervisor`: runs plugins of either backend under their policies, owns their life cycle (start,
//! deadline, stop, restart with back-off, reload when the module or binary changes), and fans what it
//! sees out to the audit trail, the quarantine and the metrics.
//!
//! # One run ([`Supervisor::run`])
//!
//! 1. A plugin in quarantine is refused: an `Outcome` with status `rejected` and a reason naming the
//!    plugin, since when, how many violations in which window, and the release command.
//! 2. `run_start` is audited (the shape of the program, arguments and environment; secret values never).
//! 3. The backend runs the plugin. Its [`PluginSink`] receives the run's events (the wasm host API, the
//!    process message channel, the egress proxy): each is audited, counted in the metrics, and a
//!    violation counts toward the quarantine; reaching the threshold stops the plugin's current run.
//! 4. `run` (the Outcome's shape), each limit hit and the Outcome's own violation are audited; the
//!    metrics count the run; the trail is flushed and its anchor moved.
//!
//! The deadline of a run is the policy's `limits.wall_time`, enforced by the backend (and, for the
//! message channel, by the channel server).
//!
//! # Life cycle ([`Supervisor::start`])
//!
//! A started plugin runs on a thread of its own. In [`Mode::KeepRunning`] a run that ended is followed by
//! the next after the policy's back-off: `restart_backoff` after a clean exit, doubling with each
//! consecutive failure (a non-zero exit, a kill, an error) up to `restart_max`. A plugin refused by the
//! quarantine waits until it is released. [`PluginHandle::reload`] (or a change of the program or module
//! file, when watched) starts the next run at once with the new file; [`PluginHandle::stop`] ends the
//! life cycle.
//!
//! Stopping or reloading while a run is in progress stops the run through its [`StopToken`]: the process
//! backend polls its descriptor and kills the run; the wasm backend checks its flag at every epoch tick
//! and while `poll_oneoff` sleeps. Either way the run ends `killed` with the reason
//! `stopped by the supervisor`, which is neither a failure (for the back-off) nor a violation.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::audit::{policy_hash, AuditTrail, Entry};
use super::channel::{ChannelLimits, ChannelServer};
use super::egress::{EgressConfig, EgressProxy};
use super::error::{SupervisorError, SupervisorErrorKind};
use super::events::{Event, EventSink};
use super::metrics::{Metrics, STOPPED_REASON};
use super::quarantine::{Quarantine, Recorded, Violation};
use super::state::{hex, StateDir};
use crate::outcome::{Outcome, Status};
use crate::policy::{NetMode, Policy};
use crate::process::{ProcessOptions, ProcessSandbox, RunExtras};
use crate::wasm::{WasmOptions, WasmSandbox};

/// Runs kept in a handle's history.
const HISTORY: usize = 256;
/// How often a plugin refused by the quarantine checks whether it was released.
const RELEASE_POLL: Duration = Duration::from_millis(250);
/// How often a watched file is checked for changes.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// What a plugin is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    /// A program run in the process sandbox.
    Process(PathBuf),
    /// A `.wasm` or `.wat` module run in the wasm sandbox.
    Wasm(PathBuf),
}

impl Program {
    pub fn path(&self) -> &Path {
        match self {
            Program::Process(p) | Program::Wasm(p) => p,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Program::Process(_) => "process",
            Program::Wasm(_) => "wasm",
        }
    }
}

/// A plugin the supervisor runs.
#[derive(Clone, Debug)]
pub struct PluginSpec {
    /// Names the plugin in the audit trail, the quarantine and the metrics: letters, digits, `-`, `_`,
    /// `.`, at most 64 bytes.
    pub id: String,
    pub program: Program,
    pub args: Vec<OsString>,
    pub policy: Policy,
    /// Give a process plugin the supervisor's message channel (the host API at descriptor 3).
    pub channel: bool,
}

impl PluginSpec {
    /// Checks the id and the options.
    pub fn validate(&self) -> Result<(), SupervisorError> {
        let ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            return Err(SupervisorError::new(
                format!("{:?}", self.id),
                SupervisorErrorKind::Invalid(
                    "not a plugin id (letters, digits, '-', '_', '.', at most 64 bytes)".into(),
                ),
            ));
        }
        if self.channel && matches!(self.program, Program::Wasm(_)) {
            return Err(SupervisorError::new(
                &self.id,
                SupervisorErrorKind::Invalid(
                    "channel is for process plugins (wasm plugins have the host API)".into(),
                ),
            ));
        }
        Ok(())
    }
}

/// Settings of the supervisor that are not per plugin.
#[derive(Clone, Debug, Default)]
pub struct SupervisorOptions {
    pub process: ProcessOptions,
    pub wasm: WasmOptions,
}

/// A request to stop one run: a flag for the wasm backend's epoch check and a descriptor that becomes
/// readable, for the process backend's poll loop.
#[derive(Clone, Debug)]
pub struct StopToken(Arc<StopInner>);

#[derive(Debug)]
struct StopInner {
    flag: Arc<AtomicBool>,
    tx: UnixStream,
    rx: UnixStream,
}

impl StopToken {
    pub fn new() -> std::io::Result<StopToken> {
        let (tx, rx) = UnixStream::pair()?;
        tx.set_nonblocking(true)?;
        Ok(StopToken(Arc::new(StopInner {
            flag: Arc::new(AtomicBool::new(false)),
            tx,
            rx,
        })))
    }

    /// Asks the run to stop (idempotent).
    pub fn stop(&self) {
        if !self.0.flag.swap(true, Ordering::SeqCst) {
            let _ = (&self.0.tx).write(&[1]);
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// The flag a backend checks.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.flag.clone()
    }

    /// A descriptor that becomes readable once [`stop`](Self::stop) was called.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.rx.as_fd()
    }
}

/// The supervisor. Cheap to clone; every clone is the same supervisor.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("state", &self.inner.state.path())
            .finish_non_exhaustive()
    }
}

struct Inner {
    state: StateDir,
    quarantine: Quarantine,
    metrics: Metrics,
    audit: Option<Mutex<AuditTrail>>,
    /// The first audit write that failed; every run is refused after it.
    audit_error: Mutex<Option<String>>,
    process: ProcessSandbox,
    /// The process backend's weakening (the egress proxy has one of its own: `egress-open`).
    weaken: crate::weaken::Weakening,
    wasm: WasmOptions,
    runs: AtomicU64,
    /// Program digests by path, with the file identity they were computed for.
    digests: Mutex<HashMap<PathBuf, (FileId, u64, String)>>,
    /// Plugins this supervisor saw in quarantine (to audit their release).
    quarantined: Mutex<HashSet<String>>,
    /// `close` was called: the trail has its `supervisor_stop` record and no run starts.
    closed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Supervisor {
    /// Opens a supervisor on `state_dir` (created 0700 when missing) writing the audit trail to `audit`
    /// (appended to when it exists and verifies; refused when it does not).
    pub fn open(state_dir: &Path, audit: Option<&Path>) -> Result<Supervisor, SupervisorError> {
        Supervisor::open_with(state_dir, audit, SupervisorOptions::default())
    }

    pub fn open_with(
        state_dir: &Path,
        audit: Option<&Path>,
        opts: SupervisorOptions,
    ) -> Result<Supervisor, SupervisorError> {
        let state = StateDir::create(state_dir)?;
        let quarantine = Quarantine::new(&state);
        let metrics = Metrics::new();
        let mut seen = HashSet::new();
        for (id, _) in quarantine.list()? {
            metrics.set_quarantined(&id, true);
            seen.insert(id);
        }
        let audit = match audit {
            Some(p) => {
                let mut trail = AuditTrail::open(p, &state)?;
                trail.append(Entry::supervisor(
                    "supervisor_start",
                    json!({"pid": std::process::id(), "version": env!("CARGO_PKG_VERSION"),
                           "in_quarantine": seen.len()}),
                ))?;
                trail.flush()?;
                Some(Mutex::new(trail))
            }
            None => None,
        };
        Ok(Supervisor {
            inner: Arc::new(Inner {
                state,
                quarantine,
                metrics,
                audit,
                audit_error: Mutex::new(None),
                weaken: opts.process.weaken.clone(),
                process: ProcessSandbox::new(opts.process),
                wasm: opts.wasm,
                runs: AtomicU64::new(0),
                digests: Mutex::new(HashMap::new()),
                quarantined: Mutex::new(seen),
                closed: AtomicBool::new(false),
            }),
        })
    }

    pub fn state_dir(&self) -> &Path {
        self.inner.state.path()
    }

    pub fn quarantine(&self) -> &Quarantine {
        &self.inner.quarantine
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The audit file, when there is one.
    pub fn audit_path(&self) -> Option<PathBuf> {
        self.inner
            .audit
            .as_ref()
            .map(|a| lock(a).path().to_path_buf())
    }

    /// Writes buffered audit records now.
    pub fn flush(&self) -> Result<(), SupervisorError> {
        self.inner.flush()
    }

    /// Ends the supervisor's trail (`supervisor_stop`) and refuses further runs, even while other
    /// clones (a metrics endpoint) live on. Dropping the last clone does the same. Idempotent.
    pub fn close(&self) -> Result<(), SupervisorError> {
        self.inner.close()
    }

    /// Releases a plugin from quarantine (as `gauntlet quarantine release` does), audited.
    pub fn release(&self, plugin: &str) -> Result<(), SupervisorError> {
        let e = self.inner.quarantine.release(plugin)?;
        lock(&self.inner.quarantined).remove(plugin);
        self.inner.metrics.set_quarantined(plugin, false);
        self.inner.audit(Entry {
            plugin: Some(plugin.into()),
            policy: None,
            run: None,
            op: "quarantine_release".into(),
            args: json!({"since": super::audit::format_unix_ms(e.since_ms), "violations": e.violations}),
            result: json!({"kind": "ok"}),
        });
        self.inner.flush()
    }

    /// Runs the plugin once (or refuses it, when it is in quarantine).
    pub fn run(&self, spec: &PluginSpec) -> Result<Outcome, SupervisorError> {
        self.inner.run(spec, None).map(|(o, _)| o)
    }

    /// Runs the plugin once; `stop` asks the run to end early.
    pub fn run_stoppable(
        &self,
        spec: &PluginSpec,
        stop: &StopToken,
    ) -> Result<Outcome, SupervisorError> {
        self.inner.run(spec, Some(stop)).map(|(o, _)| o)
    }

    /// Starts the plugin's life cycle on a thread of its own.
    pub fn start(
        &self,
        spec: PluginSpec,
        opts: StartOptions,
    ) -> Result<PluginHandle, SupervisorError> {
        spec.validate()?;
        let shared = Arc::new(Shared {
            id: spec.id.clone(),
            ctl: Mutex::new(Ctl::default()),
            cv: Condvar::new(),
        });
        let watcher = if opts.watch {
            let (sh, path) = (shared.clone(), spec.program.path().to_path_buf());
            Some(
                std::thread::Builder::new()
                    .name(format!("gauntlet-watch-{}", spec.id))
                    .spawn(move || watch(&sh, &path))
                    .map_err(|e| SupervisorError::io(spec.program.path(), e))?,
            )
        } else {
            None
        };
        let (sup, sh) = (self.clone(), shared.clone());
        let id = spec.id.clone();
        let thread = std::thread::Builder::new()
            .name(format!("gauntlet-plugin-{id}"))
            .spawn(move || life_cycle(&sup, &sh, spec, opts))
            .map_err(|e| SupervisorError::new(id, SupervisorErrorKind::Io(e)))?;
        Ok(PluginHandle {
            shared,
            thread: Some(thread),
            watcher,
        })
    }
}

impl Inner {
    fn audit(&self, e: Entry) {
        let Some(a) = &self.audit else { return };
        if let Err(err) = lock(a).append(e) {
            self.audit_failed(err);
        }
    }

    fn flush(&self) -> Result<(), SupervisorError> {
        let Some(a) = &self.audit else { return Ok(()) };
        let r = lock(a).flush();
        if let Err(e) = &r {
            self.audit_failed(SupervisorError::new(
                e.subject.clone(),
                SupervisorErrorKind::AuditFailed(e.kind.to_string()),
            ));
        }
        r
    }

    fn audit_failed(&self, err: SupervisorError) {
        tracing::error!("audit trail: {err}");
        lock(&self.audit_error).get_or_insert_with(|| err.to_string());
    }

    fn check_audit(&self, plugin: &str) -> Result<(), SupervisorError> {
        match &*lock(&self.audit_error) {
            Some(e) => Err(SupervisorError::new(
                plugin,
                SupervisorErrorKind::AuditFailed(e.clone()),
            )),
            None => Ok(()),
        }
    }

    /// The program's size and SHA-256, cached while the file stays the same.
    fn digest(&self, path: &Path) -> Option<(u64, String)> {
        let id = FileId::of(path)?;
        if let Some((cached, size, d)) = lock(&self.digests).get(path) {
            if *cached == id {
                return Some((*size, d.clone()));
            }
        }
        let (size, d) = file_digest(path)?;
        lock(&self.digests).insert(path.to_path_buf(), (id, size, d.clone()));
        Some((size, d))
    }

    /// The shape of a run's input, for `run_start` and `run_refused`.
    fn run_args(&self, spec: &PluginSpec) -> Value {
        let path = spec.program.path();
        let (size, sha) = self
            .digest(path)
            .map_or((Value::Null, Value::Null), |(s, d)| (s.into(), d.into()));
        let env: serde_json::Map<String, Value> = spec
            .policy
            .env
            .iter()
            .map(|(k, v)| (k.clone(), json!(v.len())))
            .collect();
        json!({
            "backend": spec.program.backend(),
            "program": path.display().to_string(),
            "program_bytes": size,
            "program_sha256": sha,
            "argv_bytes": spec.args.iter().map(|a| a.len()).collect::<Vec<_>>(),
            "env_bytes": env,
            "secrets": spec.policy.supervisor.secrets,
            "channel": spec.channel,
            "net": format!("{:?}", spec.policy.net.mode).to_lowercase(),
        })
    }

    fn run(
        self: &Arc<Self>,
        spec: &PluginSpec,
        stop: Option<&StopToken>,
    ) -> Result<(Outcome, bool), SupervisorError> {
        spec.validate()?;
        if self.closed.load(Ordering::SeqCst) {
            return Err(SupervisorError::new(&spec.id, SupervisorErrorKind::Closed));
        }
        self.check_audit(&spec.id)?;
        let phash = policy_hash(&spec.policy);
        if let Some(a) = &self.audit {
            lock(a).redactor_mut().add_policy(&spec.policy);
        }
        let entry = |run: Option<u64>, op: &str, args: Value, result: Value| Entry {
            plugin: Some(spec.id.clone()),
            policy: Some(phash.clone()),
            run,
            op: op.into(),
            args,
            result,
        };
        let backend = spec.program.backend();

        if let Some(q) = self.quarantine.status(&spec.id)? {
            let reason = q.refusal(&spec.id, self.state.path());
            let o = Outcome::not_started(backend, Status::Rejected, reason.clone());
            lock(&self.quarantined).insert(spec.id.clone());
            self.metrics.set_quarantined(&spec.id, true);
            self.metrics.record_run(&spec.id, &o, true);
            self.audit(entry(
                None,
                "run_refused",
                self.run_args(spec),
                json!({"status": "rejected", "reason": reason}),
            ));
            self.flush()?;
            return Ok((o, true));
        }
        if lock(&self.quarantined).remove(&spec.id) {
            // Released by someone else (`gauntlet quarantine release`) since we last looked.
            self.metrics.set_quarantined(&spec.id, false);
            self.audit(entry(
                None,
                "quarantine_released",
                json!({}),
                json!({"kind": "ok"}),
            ));
        }

        let run = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        self.audit(entry(
            Some(run),
            "run_start",
            self.run_args(spec),
            json!({"kind": "ok"}),
        ));
        let sink = Arc::new(PluginSink {
            inner: self.clone(),
            plugin: spec.id.clone(),
            policy_hash: phash.clone(),
            run,
            threshold: spec.policy.supervisor.quarantine_after,
            window: spec.policy.supervisor.quarantine_window.0,
            stop: stop.cloned(),
            violations: AtomicU64::new(0),
            quarantined: AtomicBool::new(false),
        });
        let result = self.run_backend(spec, &sink, stop);
        let mut o = match result {
            Ok(o) => o,
            Err(e) => {
                self.audit(entry(
                    Some(run),
                    "run",
                    json!({}),
                    json!({"status": "error", "reason": e.to_string()}),
                ));
                let _ = self.flush();
                return Err(e);
            }
        };
        if stop.is_some_and(StopToken::is_stopped)
            && o.status == Status::Killed
            && o.limit.is_none()
        {
            o.reason.get_or_insert_with(|| STOPPED_REASON.into());
        }
        self.audit(entry(Some(run), "run", json!({}), outcome_shape(&o)));
        for l in &o.usage.limits_hit {
            self.audit(entry(
                Some(run),
                "limit",
                json!({"limit": l.as_str()}),
                json!({"kind": "limit", "detail": format!("{} limit hit", l.as_str())}),
            ));
        }
        if let Some(v) = Violation::of_outcome(&o) {
            let dup = v.reported_by_host_api(&o) && sink.violations.load(Ordering::Relaxed) > 0;
            if !dup {
                sink.violation(&v);
            }
        }
        self.metrics.record_run(&spec.id, &o, false);
        self.flush()?;
        Ok((o, false))
    }

    /// Runs the plugin in its backend, with the sink wired to the producers.
    fn run_backend(
        &self,
        spec: &PluginSpec,
        sink: &Arc<PluginSink>,
        stop: Option<&StopToken>,
    ) -> Result<Outcome, SupervisorError> {
        let sandbox_err =
            |e| SupervisorError::new(&spec.id, SupervisorErrorKind::Sandbox(Box::new(e)));
        let events: Arc<dyn EventSink> = sink.clone();
        match &spec.program {
            Program::Process(path) => {
                let io = |what: &str, e: &dyn std::fmt::Display| {
                    SupervisorError::new(
                        &spec.id,
                        SupervisorErrorKind::Io(std::io::Error::other(format!("{what}: {e}"))),
                    )
                };
                let channel = if spec.channel {
                    let limits = ChannelLimits::from_policy(&spec.policy, Instant::now());
                    let started = ChannelServer::start(limits, events.clone());
                    Some(started.map_err(|e| io("message channel", &e))?)
                } else {
                    None
                };
                let mut egress = if spec.policy.net.mode == NetMode::Allow {
                    let config = EgressConfig::from_policy(&spec.policy, &self.weaken)
                        .map_err(|e| io("egress proxy", &e))?;
                    let proxy = EgressProxy::start(config, events.clone());
                    Some(proxy.map_err(|e| io("egress proxy", &e))?)
                } else {
                    None
                };
                let extras = RunExtras {
                    channel: channel.as_ref().map(|(_, fd)| fd.as_fd()),
                    egress: egress.as_ref().map(|p| p.socket_path()),
                    stop: stop.map(StopToken::fd),
                };
                let r = self
                    .process
                    .run_with(&spec.policy, path, &spec.args, extras);
                // Every event of the run is delivered before the run's own record is written.
                if let Some(p) = egress.as_mut() {
                    if let Err(e) = p.stop() {
                        tracing::error!("plugin {}: {e}", spec.id);
                    }
                }
                let report = channel.map(|(server, plugin_end)| {
                    drop(plugin_end);
                    server.finish()
                });
                let mut o = r.map_err(sandbox_err)?;
                match report {
                    Some(Ok(report)) => report.apply(&mut o, spec.policy.limits.output.0),
                    Some(Err(e)) => tracing::error!("plugin {}: {e}", spec.id),
                    None => {}
                }
                Ok(o)
            }
            Program::Wasm(path) => {
                let mut sandbox = WasmSandbox::new(self.wasm.clone())
                    .map_err(sandbox_err)?
                    .with_events(events);
                if let Some(t) = stop {
                    sandbox = sandbox.with_stop(t.flag());
                }
                sandbox
                    .run(&spec.policy, path, &spec.args)
                    .map_err(sandbox_err)
            }
        }
    }
}

impl Inner {
    fn close(&self) -> Result<(), SupervisorError> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.audit(Entry::supervisor(
            "supervisor_stop",
            json!({"pid": std::process::id(), "runs": self.runs.load(Ordering::Relaxed)}),
        ));
        self.flush()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The shape of an Outcome for the `run` record: how it ended and what it used, never its output.
fn outcome_shape(o: &Outcome) -> Value {
    json!({
        "status": crate::outcome::status_str(o.status),
        "exit_code": o.exit_code,
        "signal": o.signal,
        "limit": o.limit.map(|l| l.as_str()),
        "trap": o.trap,
        "reason": o.reason,
        "wall_ms": o.usage.wall_ms,
        "cpu_ms": o.usage.cpu_ms,
        "peak_memory_bytes": o.usage.peak_memory_bytes,
        "peak_pids": o.usage.peak_pids,
        "host_calls": o.usage.host_calls,
        "limits_hit": o.usage.limits_hit.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "stdout_bytes": o.stdout.len(),
        "stderr_bytes": o.stderr.len(),
        "output_truncated": o.output_truncated,
        "layers_missing": o.layers_missing.iter().map(|m| m.layer.as_str()).collect::<Vec<_>>(),
    })
}

/// The event sink of one run: audit, metrics, quarantine.
pub struct PluginSink {
    inner: Arc<Inner>,
    plugin: String,
    policy_hash: String,
    run: u64,
    threshold: u32,
    window: Duration,
    stop: Option<StopToken>,
    /// Violations this run's events counted.
    violations: AtomicU64,
    /// The plugin is in quarantine: further violations are counted in the metrics only.
    quarantined: AtomicBool,
}

impl std::fmt::Debug for PluginSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSink")
            .field("plugin", &self.plugin)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl PluginSink {
    fn entry(&self, op: &str, args: Value, result: Value) -> Entry {
        Entry {
            plugin: Some(self.plugin.clone()),
            policy: Some(self.policy_hash.clone()),
            run: Some(self.run),
            op: op.into(),
            args,
            result,
        }
    }

    /// Counts a violation; quarantines (and stops the run) at the threshold.
    fn violation(&self, v: &Violation) {
        let inner = &self.inner;
        inner
            .metrics
            .record_violation(&self.plugin, v.kind.as_str());
        if self.quarantined.load(Ordering::Relaxed) {
            return;
        }
        let recorded = inner
            .quarantine
            .record(&self.plugin, v, self.threshold, self.window);
        let in_window = match &recorded {
            Ok(Recorded::Counted { in_window }) => json!(in_window),
            Ok(Recorded::Quarantined(e)) => json!(e.violations),
            _ => Value::Null,
        };
        inner.audit(self.entry(
            "violation",
            json!({"kind": v.kind.as_str(), "detail": v.detail, "in_window": in_window,
                   "threshold": self.threshold, "window_ms": self.window.as_millis() as u64}),
            json!({"kind": "violation"}),
        ));
        if matches!(
            recorded,
            Ok(Recorded::Quarantined(_) | Recorded::AlreadyQuarantined)
        ) {
            self.quarantined.store(true, Ordering::Relaxed);
        }
        match recorded {
            Ok(Recorded::Quarantined(e)) => {
                lock(&inner.quarantined).insert(self.plugin.clone());
                inner.metrics.set_quarantined(&self.plugin, true);
                inner.audit(self.entry(
                    "quarantine",
                    json!({"violations": e.violations, "window_ms": e.window_ms,
                           "reasons": e.reasons}),
                    json!({"kind": "quarantined",
                           "since": super::audit::format_unix_ms(e.since_ms)}),
                ));
                let _ = inner.flush();
                if let Some(s) = &self.stop {
                    s.stop();
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!("quarantine of {}: {e}", self.plugin),
        }
    }
}

impl EventSink for PluginSink {
    fn event(&self, event: Event) {
        let inner = &self.inner;
        inner.metrics.record_event(&self.plugin, &event);
        let result = serde_json::to_value(&event.result).unwrap_or(Value::Null);
        inner.audit(self.entry(&event.op, event.args.clone(), result));
        if let Some(v) = Violation::of_event(&event) {
            self.violations.fetch_add(1, Ordering::Relaxed);
            self.violation(&v);
        }
    }
}

/// How a started plugin runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// One run.
    #[default]
    Once,
    /// Run again after each run ends, with the policy's back-off.
    KeepRunning,
}

/// Options of [`Supervisor::start`].
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    pub mode: Mode,
    /// Reload when the program or module file changes (checked every [`WATCH_INTERVAL`]; the new
    /// content must be stable across two checks and differ from the old).
    pub watch: bool,
    /// Told about every run's end and the end of the life cycle.
    pub notify: Option<Sender<Notice>>,
}

/// What a started plugin tells its [`StartOptions::notify`] channel.
#[derive(Clone, Debug)]
pub enum Notice {
    RunEnded {
        plugin: String,
        record: Box<RunRecord>,
    },
    /// The plugin was reloaded (its audit record is written); the next run uses the new program.
    Reloaded {
        plugin: String,
        trigger: &'static str,
    },
    Finished {
        plugin: String,
    },
}

/// Why a run started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    First,
    /// After a run ended; `failures` consecutive failed runs before this one.
    Restart {
        failures: u32,
    },
    /// After a reload.
    Reload,
    /// After a release from quarantine.
    Released,
}

/// One run of a started plugin.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub start: Start,
    /// The back-off the supervisor chose before this run.
    pub planned_delay: Duration,
    pub started: Instant,
    pub ended: Instant,
    pub outcome: Outcome,
    /// Refused by the quarantine.
    pub refused: bool,
}

#[derive(Default)]
struct Ctl {
    stop: bool,
    reload: Option<&'static str>,
    finished: bool,
    current: Option<StopToken>,
    history: VecDeque<RunRecord>,
    runs: u64,
}

struct Shared {
    id: String,
    ctl: Mutex<Ctl>,
    cv: Condvar,
}

impl Shared {
    fn ctl(&self) -> MutexGuard<'_, Ctl> {
        lock(&self.ctl)
    }

    fn request_reload(&self, why: &'static str) {
        let mut c = self.ctl();
        c.reload = Some(why);
        if let Some(t) = &c.current {
            t.stop();
        }
        self.cv.notify_all();
    }

    fn request_stop(&self) {
        let mut c = self.ctl();
        c.stop = true;
        if let Some(t) = &c.current {
            t.stop();
        }
        self.cv.notify_all();
    }

    /// Waits up to `d`, or until a stop or reload request. True when one came.
    fn wait_interrupted(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut c = self.ctl();
        loop {
            if c.stop || c.reload.is_some() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            c = self
                .cv
                .wait_timeout(c, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// A started plugin. Dropping it stops the plugin and waits for its thread.
pub struct PluginHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    watcher: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

impl PluginHandle {
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// Ends the life cycle: no further run; the current one is asked to stop.
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// Starts the next run at once (stopping the current one), with the program or module as it is on
    /// disk now.
    pub fn reload(&self) {
        self.shared.request_reload("requested");
    }

    /// Whether the life cycle has ended.
    pub fn is_finished(&self) -> bool {
        self.shared.ctl().finished
    }

    /// The runs so far (the last 256), oldest first.
    pub fn history(&self) -> Vec<RunRecord> {
        self.shared.ctl().history.iter().cloned().collect()
    }

    /// Waits until `cond` holds for the history (checked after every run), the life cycle ends, or
    /// `timeout` passes. Returns whether `cond` held.
    pub fn wait_until(&self, timeout: Duration, cond: impl Fn(&[RunRecord]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut c = self.shared.ctl();
        loop {
            let h: Vec<RunRecord> = c.history.iter().cloned().collect();
            if cond(&h) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if c.finished || left.is_zero() {
                return false;
            }
            c = self
                .shared
                .cv
                .wait_timeout(c, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits for the life cycle to end by itself (`Mode::Once`) and returns the history.
    pub fn join(mut self) -> Vec<RunRecord> {
        self.join_threads();
        self.history()
    }

    /// Stops the plugin, waits for its thread, and returns the history.
    pub fn stop_and_join(mut self) -> Vec<RunRecord> {
        self.stop();
        self.join_threads();
        self.history()
    }

    fn join_threads(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.shared.request_stop();
        if let Some(t) = self.watcher.take() {
            let _ = t.join();
        }
    }
}

impl Drop for PluginHandle {
    fn drop(&mut self) {
        self.stop();
        self.join_threads();
    }
}

/// The back-off before the next run: `restart_backoff` after a clean exit, doubled per consecutive
/// failure up to `restart_max`.
pub fn backoff(policy: &Policy, failures: u32) -> Duration {
    let base = policy.supervisor.restart_backoff.0;
    let max = policy.supervisor.restart_max.0;
    let factor = 1u32 << failures.saturating_sub(1).min(20);
    base.saturating_mul(factor).min(max)
}

fn life_cycle(sup: &Supervisor, sh: &Shared, spec: PluginSpec, opts: StartOptions) {
    let inner = &sup.inner;
    let plugin_entry = |op: &str, args: Value| Entry {
        plugin: Some(spec.id.clone()),
        policy: Some(policy_hash(&spec.policy)),
        run: None,
        op: op.into(),
        args,
        result: json!({"kind": "ok"}),
    };
    inner.audit(plugin_entry(
        "start",
        json!({"mode": format!("{:?}", opts.mode), "watch": opts.watch}),
    ));
    let mut start = Start::First;
    let mut planned = Duration::ZERO;
    let mut failures = 0u32;
    loop {
        let token = match StopToken::new() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("plugin {}: {e}", spec.id);
                break;
            }
        };
        {
            let mut c = sh.ctl();
            if c.stop {
                break;
            }
            c.reload = None;
            c.current = Some(token.clone());
        }
        let started = Instant::now();
        let result = inner.run(&spec, Some(&token));
        let ended = Instant::now();
        sh.ctl().current = None;
        let (outcome, refused, fatal) = match result {
            Ok((o, refused)) => (o, refused, false),
            Err(e) => {
                tracing::error!("plugin {}: {e}", spec.id);
                // Bad input (a program that went missing) may be fixed by a reload; anything else
                // (the state directory, the audit trail) ends the life cycle.
                let fatal = !e.is_bad_input();
                let o = Outcome::not_started(spec.program.backend(), Status::Error, e.to_string());
                (o, false, fatal)
            }
        };
        let record = RunRecord {
            start,
            planned_delay: planned,
            started,
            ended,
            outcome,
            refused,
        };
        {
            let mut c = sh.ctl();
            c.runs += 1;
            if c.history.len() == HISTORY {
                c.history.pop_front();
            }
            c.history.push_back(record.clone());
            sh.cv.notify_all();
        }
        let failed =
            !(record.outcome.status == Status::Exited && record.outcome.exit_code == Some(0));
        let outcome = record.outcome.clone();
        if let Some(n) = &opts.notify {
            let _ = n.send(Notice::RunEnded {
                plugin: spec.id.clone(),
                record: Box::new(record),
            });
        }
        if fatal || opts.mode == Mode::Once {
            break;
        }
        if refused {
            // Wait for a release (possibly by another process), a reload or a stop.
            loop {
                if sh.wait_interrupted(RELEASE_POLL) {
                    break;
                }
                if matches!(inner.quarantine.status(&spec.id), Ok(None)) {
                    break;
                }
            }
            start = Start::Released;
            planned = Duration::ZERO;
            failures = 0;
        } else {
            let stopped = outcome.reason.as_deref() == Some(STOPPED_REASON);
            failures = if failed && !stopped { failures + 1 } else { 0 };
            planned = backoff(&spec.policy, failures);
            start = Start::Restart { failures };
            if sh.ctl().reload.is_none() {
                inner.metrics.record_restart(&spec.id);
                inner.audit(plugin_entry(
                    "restart",
                    json!({"delay_ms": planned.as_millis() as u64, "failures": failures,
                           "after": crate::outcome::status_str(outcome.status)}),
                ));
                let _ = inner.flush();
                sh.wait_interrupted(planned);
            }
        }
        let reload = {
            let mut c = sh.ctl();
            if c.stop {
                break;
            }
            c.reload.take()
        };
        if let Some(why) = reload {
            let path = spec.program.path();
            let (size, sha) =
                file_digest(path).map_or((Value::Null, Value::Null), |(s, d)| (s.into(), d.into()));
            inner.metrics.record_reload(&spec.id);
            inner.audit(plugin_entry(
                "reload",
                json!({"trigger": why, "program": path.display().to_string(),
                       "program_bytes": size, "program_sha256": sha}),
            ));
            let _ = inner.flush();
            if let Some(n) = &opts.notify {
                let _ = n.send(Notice::Reloaded {
                    plugin: spec.id.clone(),
                    trigger: why,
                });
            }
            start = Start::Reload;
            planned = Duration::ZERO;
            failures = 0;
        }
    }
    inner.audit(plugin_entry("stop", json!({"runs": sh.ctl().runs})));
    let _ = inner.flush();
    {
        let mut c = sh.ctl();
        c.finished = true;
        sh.cv.notify_all();
    }
    if let Some(n) = &opts.notify {
        let _ = n.send(Notice::Finished {
            plugin: spec.id.clone(),
        });
    }
}

/// What identifies a file's content cheaply: device, inode, size, modification and change times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileId {
    fn of(path: &Path) -> Option<FileId> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        })
    }
}

/// Size and SHA-256 (hex) of a file.
fn file_digest(path: &Path) -> Option<(u64, String)> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).ok()?;
    Some((n, hex(&h.finalize())))
}

/// Watches `path` and asks for a reload when its content changed and then held still for one check.
fn watch(sh: &Shared, path: &Path) {
    let mut seen = FileId::of(path);
    let mut loaded = file_digest(path).map(|(_, d)| d);
    let mut settling = false;
    loop {
        {
            let c = sh.ctl();
            let (c, _) = sh
                .cv
                .wait_timeout_while(c, WATCH_INTERVAL, |c| !c.stop && !c.finished)
                .unwrap_or_else(|p| p.into_inner());
            if c.stop || c.finished {
                return;
            }
        }
        let now = FileId::of(path);
        if now != seen {
            seen = now;
            settling = true;
            continue;
        }
        if settling {
            settling = false;
            let digest = file_digest(path).map(|(_, d)| d);
            if digest.is_some() && digest != loaded {
                loaded = digest;
                sh.request_reload("file changed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Dur;

    #[test]
    fn backoff_doubles_per_failure_up_to_the_max() {
        let mut p = Policy::default();
        p.supervisor.restart_backoff = Dur(Duration::from_millis(100));
        p.supervisor.restart_max = Dur(Duration::from_millis(500));
        let ms = |n| backoff(&p, n).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(40)],
            [100, 100, 200, 400, 500, 500]
        );
    }

    #[test]
    fn ids_are_checked() {
        let spec = |id: &str| PluginSpec {
            id: id.into(),
            program: Program::Process("/usr/bin/true".into()),
            args: vec![],
            policy: Policy::default(),
            channel: false,
        };
        assert!(spec("ok-1.a_b").validate().is_ok());
        for bad in ["", "a b", "a/b", &"x".repeat(65)] {
            assert!(spec(bad).validate().unwrap_err().is_bad_input(), "{bad}");
        }
    }

    #[test]
    fn stop_tokens_wake_pollers() {
        let t = StopToken::new().unwrap();
        assert!(!t.is_stopped());
        t.stop();
        t.stop();
        assert!(t.is_stopped() && t.flag().load(Ordering::SeqCst));
        let mut b = [0u8; 4];
        let n = std::io::Read::read(&mut &t.0.rx, &mut b).unwrap();
        assert_eq!(n, 1);
    }
}
