//! The WebAssembly backend, on wasmtime: WASIp1 command modules (`_start`) and WASI 0.2 command
//! components (`component.rs`) under a [`Policy`].
//!
//! # Design
//!
//! * **Preparation and runs are separate.** [`WasmSandbox::prepare`] reads, size-checks, parses (`.wat`),
//!   compiles (or takes from the cache) and links a module once, ending in an `InstancePre`;
//!   [`Prepared::run`] then only builds a store and instantiates. [`WasmSandbox::run`] is `prepare`
//!   followed by one `run`, so both paths are the same code.
//! * **One engine per setting, shared.** Engines, their epoch ticker and the compiled-module cache live in
//!   `engine.rs`.
//! * **Time: fuel for CPU, epochs for the wall.** Fuel is deterministic (operators executed), so it is
//!   the CPU limit, converted from `limits.cpu_time` with [`FUEL_PER_MS`]. Epochs advance with real time
//!   and bound the wall clock; a per-tick callback compares against a monotonic `Instant`, so a ticker
//!   that falls behind under load can delay a kill by a tick but never grant extra time. Both apply
//!   during instantiation too (the start function runs under the same store).
//! * **Memory: one store-wide limiter** (`limits.rs`) over the total of all memories and tables, plus
//!   instance, memory and table counts.
//! * **Capabilities are deny-by-default WASI**: only the policy's `fs.ro`/`fs.rw` directories are
//!   preopened (at their host paths), no sockets, exactly `policy.env`, empty stdin, captured output.
//! * **The host API** `gauntlet_host_v1` is documented in `host.rs`.
//! * **Stack**: `Config::max_wasm_stack` is `wasm.max_stack`; a run executes on a thread with at least
//!   that plus [`HOST_STACK_HEADROOM`] of stack left, so the wasm stack limit is always reached (a
//!   `stack_overflow` trap) before the host thread's guard page: the caller's own thread when it has
//!   that much left (its stack bounds are read once per thread, `sys::stack_remaining`), else a
//!   reused worker thread of that size.
//! * **A pooled run does only per-run work**: a store, its WASI context (argv, env, captured output,
//!   fresh random state and clock), limits, fuel and deadline, `InstancePre::instantiate`, `_start`
//!   (resolved at preparation) and the `Outcome` (its layer list also decided at preparation). No
//!   syscall of ours except opening the policy's preopens, no thread hand-off when the caller's stack
//!   suffices, and no wasm backtrace walk on traps and exits (an `Outcome` never shows one).
//!
//! Everything a module does is an [`Outcome`]; `Err` is only bad input of the caller (a missing module
//! or policy path, a non-UTF-8 argument) or a host that cannot create an engine.

mod component;
mod engine;
mod host;
mod limits;
mod output;
mod sys;

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::{
    Extern, ExternType, Instance, InstancePre, Linker, Module, ModuleExport, Store, Trap,
    TypedFunc, UpdateDeadline,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, I32Exit, WasiCtxBuilder};

pub use engine::{
    default_cache_dir, Allocator, POOL_INSTANCES, POOL_MAX_MEMORY, POOL_MEMORIES, POOL_TABLES,
    POOL_TABLE_ELEMENTS, TICK,
};
pub use host::{
    E_BUFFER_TOO_SMALL, E_FULL, E_NOT_FOUND, E_TOO_LARGE, MAX_ENTRIES, MAX_KEY, MAX_LOG_LINE,
    MAX_VALUE, MODULE as HOST_MODULE,
};

use crate::error::{SandboxError, SandboxErrorKind};
use crate::hostapi::{Events, KvStore};
use crate::outcome::{Limit, MissingLayer, Outcome, Status, Usage};
use crate::policy::Policy;
use crate::supervisor::events::EventSink;
use crate::weaken::{Weaken, Weakening};
use engine::{one_line, EngineEntry, EngineKey, Source};
use limits::StoreLimiter;

/// Worker threads with a known stack size, reused across runs: a run needs `max_stack` plus host
/// headroom of stack (so deep recursion traps instead of crashing), and spawning a thread of that size
/// for every run would cost more than the run itself.
mod runners {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::Mutex;

    type Job = Box<dyn FnOnce() + Send>;

    struct Worker {
        stack: usize,
        jobs: Sender<Job>,
    }

    /// Idle workers; a run takes one whose stack is large enough, or starts a new one.
    static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
    /// Idle workers kept at most.
    const MAX_IDLE: usize = 32;

    fn take(stack: usize) -> std::io::Result<Worker> {
        if let Ok(mut idle) = IDLE.lock() {
            if let Some(i) = idle.iter().position(|w| w.stack >= stack) {
                return Ok(idle.swap_remove(i));
            }
        }
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("gauntlet-wasm-run".into())
            .stack_size(stack)
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            })?;
        Ok(Worker { stack, jobs: tx })
    }

    /// Runs `f` on a worker with at least `stack` bytes of stack and waits for its result. A panic in
    /// `f` is resumed on the caller's thread (and that worker is not reused).
    pub(super) fn run_on_worker<T: Send + 'static>(
        stack: usize,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<T> {
        let worker = take(stack)?;
        let (tx, rx) = channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        if worker.jobs.send(job).is_err() {
            return Err(std::io::Error::other("wasm worker thread is gone"));
        }
        match rx.recv() {
            Ok(Ok(v)) => {
                if let Ok(mut idle) = IDLE.lock() {
                    if idle.len() < MAX_IDLE {
                        idle.push(worker);
                    }
                }
                Ok(v)
            }
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(std::io::Error::other("wasm worker thread died")),
        }
    }
}
use output::Output;

/// Fuel units per millisecond of CPU time: `limits.cpu_time` becomes `cpu_ms * FUEL_PER_MS` fuel, and
/// `usage.cpu_ms` is `fuel_consumed / FUEL_PER_MS`.
///
/// Calibration: wasmtime charges one unit per executed operator (`nop`, `drop`, `block`, `loop`, `end`
/// and `else` are free). The measurement ran a tight counting loop (`local.get; i32.const; i32.add;
/// local.set; local.get; i32.const; i32.lt_u; br_if`, 8 units per iteration) through this backend
/// (fuel and epochs on, cranelift `OptLevel::Speed`; the host's own build profile does not affect the
/// generated code) with 1.5e9 units of fuel on the 2-core x86-64 build machine: 224, 244 and 328 ms in
/// three runs, i.e. 4.6 to 6.7 million units per ms. The constant is 6 million: a tight loop gets
/// about the CPU time asked for; code with slow operators (memory traffic, calls) gets more real time
/// per unit, up to a few times the limit. That is the trade for a limit that is deterministic and
/// independent of host load; the wall limit (epochs) bounds real time. Note that after an epoch kill
/// wasmtime does not flush the fuel a running function has used since its last call, so there
/// `fuel_consumed` (and `cpu_ms`) is a lower bound.
pub const FUEL_PER_MS: u64 = 6_000_000;

/// The hard wall that holds even when the epoch deadline is weakened away.
pub const SAFETY_WALL: Duration = Duration::from_secs(60);

/// Host stack added on top of `wasm.max_stack` for the thread that runs a module.
pub const HOST_STACK_HEADROOM: usize = 2 << 20;

/// Settings of the wasm backend that are not policy.
#[derive(Clone, Debug, Default)]
pub struct WasmOptions {
    pub weaken: Weakening,
}

/// The wasm sandbox. Cheap to create (engines are shared process-wide); one value can run many
/// modules, also from several threads.
#[derive(Clone, Debug, Default)]
pub struct WasmSandbox {
    opts: WasmOptions,
    allocator: Allocator,
    disk_cache: Option<PathBuf>,
    /// Where host API calls are reported (see `crate::hostapi::Events`).
    events: Events,
    /// Set by the caller to stop every run of this sandbox (see [`WasmSandbox::with_stop`]).
    stop: Option<Arc<AtomicBool>>,
}

impl WasmSandbox {
    pub fn new(opts: WasmOptions) -> Result<Self, SandboxError> {
        Ok(WasmSandbox {
            opts,
            allocator: Allocator::default(),
            disk_cache: None,
            events: Events::default(),
            stop: None,
        })
    }

    /// Chooses the instance allocator (default: pooling).
    pub fn with_allocator(mut self, allocator: Allocator) -> Self {
        self.allocator = allocator;
        self
    }

    /// Stops every run of this sandbox once `flag` is set: checked at every epoch tick and while
    /// `poll_oneoff` sleeps; the run ends `killed` with the reason [`crate::process::STOPPED_REASON`].
    pub fn with_stop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Reports every `gauntlet_host_v1` call (op, argument sizes, result) to `sink`.
    pub fn with_events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Events::to(sink);
        self
    }

    /// Also caches compiled modules in `dir` (e.g. [`default_cache_dir`]); off by default. Corrupt or
    /// foreign files there are ignored and the module is compiled again.
    pub fn with_disk_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.disk_cache = dir;
        self
    }

    /// Runs `module` (`.wasm` or `.wat`) with `args` under `policy`.
    pub fn run(
        &self,
        policy: &Policy,
        module: &Path,
        args: &[OsString],
    ) -> Result<Outcome, SandboxError> {
        self.prepare(policy, module)?.run(args)
    }

    /// Reads, checks, compiles (or fetches from the cache) and links `module` for repeated runs under
    /// `policy`. A module that cannot run is not an error: its [`Prepared::run`] returns `rejected`.
    pub fn prepare(&self, policy: &Policy, module: &Path) -> Result<Prepared, SandboxError> {
        policy.validate()?;
        for p in policy.fs.ro.iter().chain(&policy.fs.rw) {
            if !p.exists() {
                return Err(SandboxError::path(p, SandboxErrorKind::MissingPath));
            }
            if !p.is_dir() {
                return Err(SandboxError::path(
                    p,
                    SandboxErrorKind::Invalid(
                        "not a directory (wasm preopens are directories)".into(),
                    ),
                ));
            }
            if p.to_str().is_none() {
                return Err(SandboxError::path(
                    p,
                    SandboxErrorKind::Invalid("a WASI preopen path must be UTF-8".into()),
                ));
            }
        }
        let meta = std::fs::metadata(module).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                SandboxError::path(module, SandboxErrorKind::ProgramNotFound)
            }
            _ => SandboxError::path(module, SandboxErrorKind::Io(e)),
        })?;
        if !meta.is_file() {
            return Err(SandboxError::path(module, SandboxErrorKind::NotAFile));
        }
        let mut plan = Plan::new(&self.opts.weaken);
        let started = Instant::now();
        let (ready, component) = match self.load(policy, module, &mut plan) {
            Ok(Loaded::Module(r)) => (Ok(r), None),
            // A component never reaches the core-module path (`Prepared::run` dispatches first).
            Ok(Loaded::Component(c)) => (
                Err(Box::new(Outcome::not_started(
                    "wasm",
                    Status::Rejected,
                    "a component is not a core module",
                ))),
                Some(c),
            ),
            Err(o) => (Err(o), None),
        };
        Ok(Prepared {
            inner: Arc::new(PreparedInner {
                policy: policy.clone(),
                weaken: self.opts.weaken.clone(),
                argv0: module.display().to_string(),
                plan,
                prepare_ms: started.elapsed().as_millis() as u64,
                ready,
                component,
                disk_cache: self.disk_cache.clone(),
                fallback: OnceLock::new(),
                events: self.events.clone(),
                stop: self.stop.clone(),
            }),
        })
    }

    /// Everything about the module itself; `Err` is the `rejected` outcome.
    fn load(&self, policy: &Policy, path: &Path, plan: &mut Plan) -> Result<Loaded, Box<Outcome>> {
        let reject = |reason: String| {
            Err(Box::new(Outcome::not_started(
                "wasm",
                Status::Rejected,
                reason,
            )))
        };
        let max = policy.wasm.max_module_size.0;
        let mut bytes = Vec::new();
        let read = std::fs::File::open(path)
            .and_then(|f| f.take(max.saturating_add(1)).read_to_end(&mut bytes));
        if let Err(e) = read {
            return reject(format!("cannot read the module: {e}"));
        }
        if bytes.len() as u64 > max {
            return reject(format!(
                "module is larger than wasm.max_module_size ({max} bytes)"
            ));
        }
        plan.layers.push("module_size_cap".into());
        let binary = match wat::parse_bytes(&bytes) {
            Ok(b) => b.into_owned(),
            Err(e) => {
                let msg = e.to_string();
                return reject(format!(
                    "not a wasm module: {}",
                    msg.lines().next().unwrap_or("")
                ));
            }
        };
        if component::is_component(&binary) {
            let layers = plan.layers.clone();
            return component::prepare(policy, &self.opts.weaken, &binary, layers)
                .map(|c| Loaded::Component(Box::new(c)));
        }
        let key = EngineKey {
            allocator: self.allocator,
            max_stack: policy.wasm.max_stack.0 as usize,
        };
        let mut ready = match Ready::new(key, &binary, self.disk_cache.as_deref()) {
            Ok(r) => r,
            Err(Fail::Rejected(reason)) => return reject(reason),
            Err(Fail::Engine(reason)) => {
                return Err(Box::new(Outcome::not_started(
                    "wasm",
                    Status::Error,
                    reason,
                )))
            }
        };
        // Pooled slots have fixed sizes; a policy or module that does not fit them runs on-demand.
        if key.allocator == Allocator::Pooling && !fits_pool(policy, &ready.module) {
            let key = EngineKey {
                allocator: Allocator::OnDemand,
                ..key
            };
            ready = match Ready::new(key, &binary, self.disk_cache.as_deref()) {
                Ok(r) => r,
                Err(Fail::Rejected(reason)) => return reject(reason),
                Err(Fail::Engine(reason)) => {
                    return Err(Box::new(Outcome::not_started(
                        "wasm",
                        Status::Error,
                        reason,
                    )))
                }
            };
        }
        ready.binary = Some(binary.into());
        ready.layers = plan.layers(&ready, &self.opts.weaken);
        Ok(Loaded::Module(ready))
    }
}

/// A program ready to run: a core module or a WASI 0.2 component.
enum Loaded {
    Module(Ready),
    Component(Box<component::Program>),
}

fn fits_pool(policy: &Policy, module: &Module) -> bool {
    let r = module.resources_required();
    policy.limits.memory.0 <= POOL_MAX_MEMORY
        && policy.wasm.max_table_elements <= POOL_TABLE_ELEMENTS
        && r.num_memories <= engine::POOL_PER_MODULE
        && r.num_tables <= engine::POOL_PER_MODULE
        && r.max_initial_table_size.unwrap_or(0) <= u64::from(POOL_TABLE_ELEMENTS)
}

enum Fail {
    Rejected(String),
    Engine(String),
}

/// A compiled and linked module on one engine.
struct Ready {
    entry: Arc<EngineEntry>,
    key: EngineKey,
    module: Module,
    pre: InstancePre<RunState>,
    /// `_start`, resolved once (a lookup by index instead of by name at every run).
    start: ModuleExport,
    source: Source,
    compile: Duration,
    /// The binary, kept for a fallback compile on the on-demand engine when the pool is full.
    binary: Option<Arc<[u8]>>,
    /// `Outcome::layers` of a run on this engine (`Plan::layers`), decided once.
    layers: Vec<String>,
}

impl Ready {
    fn new(key: EngineKey, binary: &[u8], disk: Option<&Path>) -> Result<Ready, Fail> {
        let entry = engine::engine(key).map_err(Fail::Engine)?;
        let (module, source, compile) = entry
            .module(binary, disk)
            .map_err(|e| Fail::Rejected(format!("invalid module: {e}")))?;
        let start = match module.get_export("_start") {
            Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => module
                .get_export_index("_start")
                .ok_or_else(|| Fail::Engine("`_start` has no export index".into()))?,
            Some(_) => {
                return Err(Fail::Rejected(
                    "`_start` is not a function of type () -> ()".into(),
                ))
            }
            None => {
                return Err(Fail::Rejected(
                    "the module exports no `_start` function (not a WASI command module)".into(),
                ))
            }
        };
        let mut linker = Linker::new(&entry.engine);
        host::add_to_linker(&mut linker).map_err(|e| Fail::Engine(one_line(&e)))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| Fail::Rejected(one_line(&e)))?;
        Ok(Ready {
            entry,
            key,
            module,
            pre,
            start,
            source,
            compile: if source == Source::Compiled {
                compile
            } else {
                Duration::ZERO
            },
            binary: None,
            layers: Vec::new(),
        })
    }
}

/// Which protections a run gets, decided once from the policy and the weakening.
#[derive(Clone, Debug)]
struct Plan {
    layers: Vec<String>,
    missing: Vec<MissingLayer>,
}

impl Plan {
    fn new(weaken: &Weakening) -> Plan {
        let mut plan = Plan {
            layers: Vec::new(),
            missing: Vec::new(),
        };
        for (w, layer) in [
            (Weaken::WasmNoFuel, "fuel"),
            (Weaken::WasmNoEpoch, "epoch_deadline"),
            (Weaken::WasmNoMemoryLimiter, "store_limiter"),
            (Weaken::WasmNoTableLimit, "table_limit"),
            (Weaken::WasmNoOutputCap, "output_cap"),
            (Weaken::WasmPreopenRoot, "wasi_preopens_only"),
            (Weaken::WasmAllowSockets, "no_sockets"),
            (Weaken::WasmInheritEnv, "clean_env"),
            (Weaken::WasmHostApiNoBounds, "host_api_bounds_checked"),
        ] {
            if weaken.has(w) {
                plan.missing.push(MissingLayer {
                    layer: layer.into(),
                    reason: "weakened".into(),
                });
            }
        }
        plan
    }

    /// The layers of one run, in the order they are applied.
    fn layers(&self, ready: &Ready, weaken: &Weakening) -> Vec<String> {
        let mut l = self.layers.clone();
        if ready.source != Source::Compiled {
            l.push("module_cache".into());
        }
        if ready.key.allocator == Allocator::Pooling {
            l.push("pooling_allocator".into());
        }
        for (w, layer) in [
            (Weaken::WasmNoMemoryLimiter, "store_limiter"),
            (Weaken::WasmNoTableLimit, "table_limit"),
        ] {
            if !weaken.has(w) {
                l.push(layer.into());
            }
        }
        l.push("instance_limits".into());
        l.push("stack_limit".into());
        for (w, layer) in [
            (Weaken::WasmNoFuel, "fuel"),
            (Weaken::WasmNoEpoch, "epoch_deadline"),
            (Weaken::WasmNoOutputCap, "output_cap"),
            (Weaken::WasmPreopenRoot, "wasi_preopens_only"),
            (Weaken::WasmAllowSockets, "no_sockets"),
            (Weaken::WasmInheritEnv, "clean_env"),
            (Weaken::WasmHostApiNoBounds, "host_api_bounds_checked"),
        ] {
            if !weaken.has(w) {
                l.push(layer.into());
            }
        }
        l.push("host_call_cap".into());
        l
    }
}

/// A module prepared for repeated runs under one policy. Cheap to clone and `Send + Sync`: many threads
/// may run it at once, each run in its own store.
#[derive(Clone)]
pub struct Prepared {
    inner: Arc<PreparedInner>,
}

struct PreparedInner {
    policy: Policy,
    weaken: Weakening,
    argv0: String,
    plan: Plan,
    prepare_ms: u64,
    ready: Result<Ready, Box<Outcome>>,
    /// Set for a WASI 0.2 component (then `ready` is unused).
    component: Option<Box<component::Program>>,
    disk_cache: Option<PathBuf>,
    /// The same module on the on-demand engine, made the first time the pool is full.
    fallback: OnceLock<Result<Ready, String>>,
    events: Events,
    stop: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("module", &self.inner.argv0)
            .field("rejected", &self.inner.ready.is_err())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The `rejected` outcome when the module cannot run, `None` when it can.
    pub fn rejection(&self) -> Option<&Outcome> {
        if self.inner.component.is_some() {
            return None;
        }
        self.inner.ready.as_ref().err().map(|o| &**o)
    }

    /// Runs the module's `_start` once with `args` (`argv[0]` is the module path). `Err` only for an
    /// argument that is not UTF-8 (WASI arguments are strings).
    pub fn run(&self, args: &[OsString]) -> Result<Outcome, SandboxError> {
        let mut argv = Vec::with_capacity(args.len() + 1);
        argv.push(self.inner.argv0.clone());
        for a in args {
            let s = a.to_str().ok_or_else(|| {
                SandboxError::new(
                    a.to_string_lossy(),
                    SandboxErrorKind::Invalid("WASI arguments must be UTF-8".into()),
                )
            })?;
            argv.push(s.to_string());
        }
        if let Some(c) = &self.inner.component {
            // Runs on its own fiber stack (async engine): no stack check or worker thread.
            return Ok(c.run(&self.inner, &argv));
        }
        let ready = match &self.inner.ready {
            Ok(r) => r,
            Err(rejected) => {
                let mut o = (**rejected).clone();
                o.usage.compile_ms = Some(self.inner.prepare_ms);
                o.usage.peak_pids = 1;
                return Ok(o);
            }
        };
        let stack = self.inner.policy.wasm.max_stack.0 as usize + HOST_STACK_HEADROOM;
        // Run right here when this thread has the stack to spare (a main thread usually has 8 MiB),
        // else on a worker thread that does.
        if sys::stack_remaining().is_some_and(|left| left >= stack + (64 << 10)) {
            return Ok(self.run_here(ready, &argv));
        }
        let this = self.clone();
        runners::run_on_worker(stack, move || {
            let ready = this.inner.ready.as_ref().expect("checked above");
            this.run_here(ready, &argv)
        })
        .map_err(|e| SandboxError::new("wasm run thread", SandboxErrorKind::Io(e)))
    }

    /// One run on the current thread, falling back to the on-demand engine when the pool is full.
    fn run_here(&self, ready: &Ready, argv: &[String]) -> Outcome {
        match self.attempt(ready, argv) {
            Attempt::Done(o) => *o,
            Attempt::PoolFull => {
                let fallback = self.inner.fallback.get_or_init(|| self.on_demand(ready));
                match fallback {
                    Ok(r) => match self.attempt(r, argv) {
                        Attempt::Done(o) => *o,
                        Attempt::PoolFull => unreachable!("the on-demand allocator has no pool"),
                    },
                    Err(reason) => Outcome::not_started("wasm", Status::Error, reason.clone()),
                }
            }
        }
    }

    /// The module on the on-demand engine, for runs that find the pool full.
    fn on_demand(&self, ready: &Ready) -> Result<Ready, String> {
        let binary = ready.binary.as_deref().unwrap_or_default();
        let key = EngineKey {
            allocator: Allocator::OnDemand,
            ..ready.key
        };
        let mut r =
            Ready::new(key, binary, self.inner.disk_cache.as_deref()).map_err(|f| match f {
                Fail::Rejected(r) | Fail::Engine(r) => r,
            })?;
        r.layers = self.inner.plan.layers(&r, &self.inner.weaken);
        Ok(r)
    }

    fn attempt(&self, ready: &Ready, argv: &[String]) -> Attempt {
        let p = &self.inner;
        let policy = &p.policy;
        let weaken = &p.weaken;
        let started = Instant::now();
        let wall = if weaken.has(Weaken::WasmNoEpoch) {
            SAFETY_WALL
        } else {
            policy.limits.wall_time.0
        };
        let output =
            Output::new((!weaken.has(Weaken::WasmNoOutputCap)).then_some(policy.limits.output.0));
        let wasi = match wasi_ctx(policy, weaken, argv, &output, started) {
            Ok(w) => w,
            Err(e) => {
                return Attempt::Done(Box::new(Outcome::not_started("wasm", Status::Error, e)))
            }
        };
        let w = &policy.wasm;
        let no_tables = weaken.has(Weaken::WasmNoTableLimit);
        let limiter = StoreLimiter::new(
            (!weaken.has(Weaken::WasmNoMemoryLimiter)).then_some(policy.limits.memory.0),
            (!no_tables).then_some(u64::from(w.max_table_elements)),
            w.max_instances as usize,
            w.max_memories as usize,
            if no_tables {
                usize::MAX
            } else {
                w.max_tables as usize
            },
        );
        let state = RunState {
            wasi,
            limiter,
            output,
            kv: KvStore::new(),
            events: p.events.clone(),
            stop: p.stop.clone(),
            host_calls: 0,
            max_host_calls: w.max_host_calls,
            bounds_checked: !weaken.has(Weaken::WasmHostApiNoBounds),
            started,
            deadline: started + wall,
        };
        let mut store = Store::new(&ready.entry.engine, state);
        store.limiter(|s| &mut s.limiter);
        let fuel = if weaken.has(Weaken::WasmNoFuel) {
            // Practically endless (decades of CPU) but small enough that wasmtime's fuel accounting
            // does not saturate, so `fuel_consumed` stays exact.
            u64::MAX >> 2
        } else {
            (policy.limits.cpu_time.0.as_millis() as u64).saturating_mul(FUEL_PER_MS)
        };
        let mut end = match store.set_fuel(fuel) {
            Ok(()) => None,
            Err(e) => Some(End::Error(one_line(&e))),
        };
        // wasmtime may hold less than asked (it clamps to i64::MAX); measure from what it holds.
        let fuel = store.get_fuel().unwrap_or(fuel);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            ctx.data().check().map(|()| UpdateDeadline::Continue(1))
        });
        let mut rejected = None;
        if end.is_none() {
            end = Some(match ready.pre.instantiate(&mut store) {
                Ok(instance) => match start_func(&instance, &mut store, &ready.start) {
                    Ok(start) => match start.call(&mut store, ()) {
                        Ok(()) => End::Exit(0),
                        Err(e) => End::of(&e),
                    },
                    Err(e) => End::Error(one_line(&e)),
                },
                Err(e) if is_pool_full(&e) => return Attempt::PoolFull,
                Err(e) => match End::of(&e) {
                    // A trap, exit or limit in the start function: it ran.
                    End::Other(_) => {
                        let reason = match &store.data().limiter.refused {
                            Some(r) => r.to_string(),
                            None => format!("cannot instantiate: {}", one_line(&e)),
                        };
                        rejected = Some(reason);
                        End::Other(String::new())
                    }
                    end => end,
                },
            });
        }
        let wall_ms = started.elapsed().as_millis() as u64;
        let fuel_consumed = fuel.saturating_sub(store.get_fuel().unwrap_or(fuel));
        let state = store.into_data();
        let (stdout, stderr, truncated) = state.output.take();
        let mut limits_hit = Vec::new();
        if state.limiter.refused.is_some() {
            limits_hit.push(Limit::Memory);
        }
        let mut o = Outcome::not_started("wasm", Status::Exited, "");
        o.reason = None;
        o.usage = Usage {
            wall_ms,
            cpu_ms: fuel_consumed / FUEL_PER_MS,
            peak_memory_bytes: state.limiter.peak,
            peak_pids: 1,
            host_calls: state.host_calls,
            fuel_consumed: Some(fuel_consumed),
            compile_ms: Some(ready.compile.as_millis() as u64),
            limits_hit,
        };
        o.stdout = stdout;
        o.stderr = stderr;
        o.output_truncated = truncated;
        o.layers = ready.layers.clone();
        o.layers_missing = p.plan.missing.clone();
        if let Some(reason) = rejected {
            o.status = Status::Rejected;
            o.reason = Some(reason);
            return Attempt::Done(Box::new(o));
        }
        end.unwrap_or(End::Exit(0)).apply(&mut o, truncated);
        Attempt::Done(Box::new(o))
    }
}

/// The instance's `_start`, typed `() -> ()` (checked again here, cheaply, by `Func::typed`).
fn start_func(
    instance: &Instance,
    store: &mut Store<RunState>,
    start: &ModuleExport,
) -> wasmtime::Result<TypedFunc<(), ()>> {
    instance
        .get_module_export(&mut *store, start)
        .and_then(Extern::into_func)
        .ok_or_else(|| wasmtime::Error::msg("failed to find function export `_start`"))?
        .typed::<(), ()>(&*store)
}

enum Attempt {
    Done(Box<Outcome>),
    PoolFull,
}

fn is_pool_full(e: &wasmtime::Error) -> bool {
    e.chain()
        .any(|c| c.is::<wasmtime::PoolConcurrencyLimitError>())
}

/// The guest's WASI context: deny by default.
fn wasi_ctx(
    policy: &Policy,
    weaken: &Weakening,
    argv: &[String],
    output: &Output,
    started: Instant,
) -> Result<WasiP1Ctx, String> {
    let mut b = wasi_builder(policy, weaken, argv, output, started)?;
    let sockets = weaken.has(Weaken::WasmAllowSockets);
    b.allow_tcp(sockets)
        .allow_udp(sockets)
        .allow_ip_name_lookup(sockets)
        .socket_addr_check(move |_, _| Box::pin(async move { sockets }));
    Ok(b.build_p1())
}

/// Everything of a guest's WASI context but its sockets (core modules and components alike).
fn wasi_builder(
    policy: &Policy,
    weaken: &Weakening,
    argv: &[String],
    output: &Output,
    started: Instant,
) -> Result<WasiCtxBuilder, String> {
    let mut b = WasiCtxBuilder::new();
    let (stdout, stderr) = output.pipes();
    b.stdin(MemoryInputPipe::new(Vec::<u8>::new()))
        .stdout(stdout)
        .stderr(stderr)
        .args(argv)
        .monotonic_clock(RunClock { started })
        .allow_blocking_current_thread(true);
    if weaken.has(Weaken::WasmInheritEnv) {
        b.inherit_env();
    }
    for (k, v) in &policy.env {
        b.env(k, v);
    }
    let preopens = policy
        .fs
        .ro
        .iter()
        .map(|p| (p, FsPerms::ReadOnly))
        .chain(policy.fs.rw.iter().map(|p| (p, FsPerms::ReadWrite)));
    for (path, perms) in preopens {
        let guest = path.to_str().ok_or("a preopen path is not UTF-8")?;
        b.preopened_dir(path, guest, perms)
            .map_err(|e| format!("cannot preopen {}: {}", path.display(), one_line(&e)))?;
    }
    if weaken.has(Weaken::WasmPreopenRoot) {
        b.preopened_dir("/", "/", FsPerms::ReadWrite)
            .map_err(|e| format!("cannot preopen /: {}", one_line(&e)))?;
    }
    Ok(b)
}

/// The guest's monotonic clock: nanoseconds since the run started (no host uptime leaks, and
/// `host::poll_oneoff` can convert absolute deadlines exactly).
struct RunClock {
    started: Instant,
}

impl HostMonotonicClock for RunClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The data of one store.
pub(crate) struct RunState {
    wasi: WasiP1Ctx,
    limiter: StoreLimiter,
    output: Output,
    /// The host API's key-value store, fresh for every run.
    kv: KvStore,
    /// Where host API calls are reported.
    events: Events,
    /// The caller's stop request.
    stop: Option<Arc<AtomicBool>>,
    host_calls: u64,
    max_host_calls: u64,
    bounds_checked: bool,
    started: Instant,
    /// End of the wall-time budget (the policy's, or the safety wall when weakened).
    deadline: Instant,
}

impl RunState {
    /// The checks of every epoch tick: the wall deadline and the host-call cap.
    fn check(&self) -> wasmtime::Result<()> {
        if self.stopped() {
            return Err(wasmtime::Error::new(Stop::Stopped));
        }
        if Instant::now() >= self.deadline {
            return Err(wasmtime::Error::new(Stop::WallTime));
        }
        if self.host_calls > self.max_host_calls {
            return Err(wasmtime::Error::new(Stop::HostCalls));
        }
        if self.output.exceeded() {
            return Err(wasmtime::Error::new(Stop::Output));
        }
        Ok(())
    }
}

impl RunState {
    /// Whether the caller asked the run to stop.
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Sleeps `d` in short slices; `Err(Stop::Stopped)` as soon as the caller asks the run to stop.
    pub(crate) fn sleep(&self, d: Duration) -> wasmtime::Result<()> {
        let end = Instant::now() + d;
        loop {
            if self.stopped() {
                return Err(wasmtime::Error::new(Stop::Stopped));
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }
}

/// Why the host stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    WallTime,
    Output,
    HostCalls,
    /// The caller asked the run to stop (`WasmSandbox::with_stop`).
    Stopped,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stop::WallTime => "wall-time limit reached",
            Stop::Output => "output limit reached",
            Stop::HostCalls => "host call limit reached (wasm.max_host_calls)",
            Stop::Stopped => crate::process::STOPPED_REASON,
        })
    }
}

impl std::error::Error for Stop {}

/// A guest's misuse of the host API (a pointer outside its memory, no exported memory).
#[derive(Clone, Debug)]
pub(crate) struct GuestError(pub(crate) String);

impl std::fmt::Display for GuestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GuestError {}

/// How a run (or its start function) ended.
enum End {
    Exit(i32),
    Limit(Limit, Option<&'static str>),
    Trap(String, Option<String>),
    /// An error that is none of the above (during instantiation: a refusal).
    Other(String),
    /// The sandbox failed.
    Error(String),
    /// The caller stopped the run.
    Stopped,
}

impl End {
    /// Writes how the run ended into `o` (status, limit, trap, exit code, reason). Output past the
    /// cap ends a run, whatever happened in the tick after the crossing write.
    fn apply(self, o: &mut Outcome, truncated: bool) {
        let end = if truncated && !matches!(self, End::Error(_)) {
            End::Limit(Limit::Output, None)
        } else {
            self
        };
        match end {
            End::Exit(code) => o.exit_code = Some(code),
            End::Limit(limit, trap) => {
                o.status = Status::Killed;
                o.limit = Some(limit);
                o.trap = trap.map(str::to_string);
                if !o.usage.limits_hit.contains(&limit) {
                    o.usage.limits_hit.push(limit);
                }
            }
            End::Trap(name, reason) => {
                o.status = Status::Killed;
                o.trap = Some(name);
                o.reason = reason;
            }
            End::Other(reason) => {
                o.status = Status::Killed;
                o.trap = Some("host_error".into());
                o.reason = Some(reason);
            }
            End::Stopped => {
                o.status = Status::Killed;
                o.reason = Some(crate::process::STOPPED_REASON.into());
            }
            End::Error(reason) => {
                o.status = Status::Error;
                o.reason = Some(reason);
            }
        }
    }

    fn of(e: &wasmtime::Error) -> End {
        if let Some(exit) = e.downcast_ref::<I32Exit>() {
            return End::Exit(exit.0);
        }
        if let Some(stop) = e.downcast_ref::<Stop>() {
            return match stop {
                Stop::WallTime => End::Limit(Limit::WallTime, Some("interrupt")),
                Stop::Output => End::Limit(Limit::Output, None),
                Stop::HostCalls => End::Trap("host_call_limit".into(), Some(stop.to_string())),
                Stop::Stopped => End::Stopped,
            };
        }
        if let Some(g) = e.downcast_ref::<GuestError>() {
            return End::Trap("host_api_misuse".into(), Some(g.0.clone()));
        }
        if let Some(trap) = e.downcast_ref::<Trap>() {
            return match trap {
                Trap::OutOfFuel => End::Limit(Limit::CpuTime, Some("out_of_fuel")),
                Trap::Interrupt => End::Limit(Limit::WallTime, Some("interrupt")),
                t => End::Trap(trap_name(*t), None),
            };
        }
        End::Other(one_line(e))
    }
}

/// The snake_case name of a trap.
fn trap_name(t: Trap) -> String {
    match t {
        Trap::StackOverflow => "stack_overflow".into(),
        Trap::MemoryOutOfBounds => "memory_out_of_bounds".into(),
        Trap::TableOutOfBounds => "table_out_of_bounds".into(),
        Trap::IndirectCallToNull => "indirect_call_to_null".into(),
        Trap::BadSignature => "bad_signature".into(),
        Trap::IntegerOverflow => "integer_overflow".into(),
        Trap::IntegerDivisionByZero => "integer_divide_by_zero".into(),
        Trap::BadConversionToInteger => "bad_conversion_to_integer".into(),
        Trap::UnreachableCodeReached => "unreachable".into(),
        other => {
            // The rest, from the variant name: `HeapMisaligned` -> `heap_misaligned`.
            let mut s = String::new();
            for (i, c) in format!("{other:?}").chars().enumerate() {
                if c.is_ascii_uppercase() {
                    if i > 0 {
                        s.push('_');
                    }
                    s.push(c.to_ascii_lowercase());
                } else {
                    s.push(c);
                }
            }
            s
        }
    }
}
