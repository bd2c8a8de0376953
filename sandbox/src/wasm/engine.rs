//! Engines, the epoch ticker, and the compiled-module cache.
//!
//! An `Engine` owns compiled code, the instance allocator and the epoch counter, and is expensive to
//! make; every run with the same engine settings shares one (`engines()`), created on first use. The
//! settings that vary are the wasm stack limit (`wasm.max_stack` is an engine setting in wasmtime) and the
//! allocator. Each engine gets exactly one ticker thread, started with it, that bumps its epoch every
//! [`TICK`]; the thread holds only a weak reference and ends if the engine is ever dropped.
//!
//! Compiled modules are cached per engine, keyed by the sha256 of the module bytes (the engine itself is
//! the rest of the key, so settings can never mix). With [`super::WasmSandbox::with_disk_cache`] they are
//! also serialized to disk: `<sha256(bytes, engine compatibility hash)>.cwasm`, a digest-checked
//! envelope around `Module::serialize` (see [`load_cached`]).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Module, OptLevel, PoolingAllocationConfig,
};

/// Period of the epoch ticker. The wall-time deadline is checked at each tick, so a run ends at most one
/// tick (plus scheduling delay) after its limit.
pub const TICK: Duration = Duration::from_millis(5);

/// Memory slots of the pooling allocator, per engine. With wasmtime's default 4 GiB reservation plus
/// 32 MiB guard per slot this reserves about 258 GiB of *address space* (PROT_NONE, no commit charge;
/// x86-64 user space is 128 TiB); see `tests/wasm_pool.rs`.
pub const POOL_MEMORIES: u32 = 64;
/// Table slots and instance slots of the pooling allocator.
pub const POOL_TABLES: u32 = 64;
pub const POOL_INSTANCES: u32 = 64;
/// Largest linear memory a pool slot holds. Policies with a larger `limits.memory` use the on-demand
/// allocator. A memory declared larger than this (or than `limits.memory`) is refused by the store
/// limiter before the pool is asked for it.
pub const POOL_MAX_MEMORY: u64 = 4 << 30;
/// Elements of one pooled table; policies whose `wasm.max_table_elements` exceeds it use on-demand.
pub const POOL_TABLE_ELEMENTS: u32 = 100_000;
/// Memories and tables one pooled module may define.
pub const POOL_PER_MODULE: u32 = 4;

/// Compiled modules kept per engine before the cache is emptied (a crude but bounded eviction).
const MEMORY_CACHE_ENTRIES: usize = 128;

/// Which instance allocator an engine uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Allocator {
    /// The pooling allocator: pre-reserved slots, no mmap per instantiation. Falls back to on-demand for
    /// a run whose policy or module does not fit the pool, or when all slots are busy.
    #[default]
    Pooling,
    /// wasmtime's default: memories mapped per instantiation.
    OnDemand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct EngineKey {
    pub(crate) allocator: Allocator,
    pub(crate) max_stack: usize,
}

/// An engine plus its module cache.
pub(crate) struct EngineEntry {
    pub(crate) engine: Engine,
    modules: Mutex<HashMap<[u8; 32], Module>>,
}

/// The engine for `key`, made (with its ticker) on first use. `Err` is a one-line reason.
pub(crate) fn engine(key: EngineKey) -> Result<Arc<EngineEntry>, String> {
    static ENGINES: OnceLock<Mutex<HashMap<EngineKey, Arc<EngineEntry>>>> = OnceLock::new();
    let mut map = ENGINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(e) = map.get(&key) {
        return Ok(e.clone());
    }
    let engine = Engine::new(&config(key)).map_err(|e| one_line(&e))?;
    start_ticker(&engine);
    let entry = Arc::new(EngineEntry {
        engine,
        modules: Mutex::new(HashMap::new()),
    });
    map.insert(key, entry.clone());
    Ok(entry)
}

/// The wasmtime configuration of every engine of this backend.
///
/// Both interruption mechanisms are on, because they answer different questions:
/// * **fuel** (`consume_fuel`) counts executed wasm operators, deterministically: it is the CPU-time
///   limit, independent of host load, and never fires early because the host was busy. It costs a
///   counter update per basic block.
/// * **epochs** (`epoch_interruption`) only check a shared counter at loop heads and function entries,
///   which is cheaper, but advance with real time: they are the wall-clock limit, and also end runs that
///   burn no fuel (a guest blocked in a host call returns to an expired deadline).
pub(crate) fn config(key: EngineKey) -> Config {
    let mut c = Config::new();
    c.consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(key.max_stack)
        // Not used (runs are synchronous), but wasmtime requires it to be at least the wasm stack.
        .async_stack_size(key.max_stack + (1 << 20))
        .cranelift_opt_level(OptLevel::Speed)
        // No wasm backtraces on traps: an `Outcome` keeps only the first line of an error, so the frame
        // walk and symbol lookup that wasmtime would do at every trap and `proc_exit` are never seen.
        .wasm_backtrace_max_frames(None)
        // Proposals whose resources the store limiter does not see, or that this backend does not
        // need, are off: shared memories and threads, GC heaps, stack switching, components.
        .wasm_threads(false)
        .shared_memory(false)
        .wasm_gc(false)
        .wasm_stack_switching(false)
        .wasm_component_model(false);
    if key.allocator == Allocator::Pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_memories(POOL_MEMORIES)
            .total_tables(POOL_TABLES)
            .total_core_instances(POOL_INSTANCES)
            .total_component_instances(0)
            .total_gc_heaps(0)
            .total_stacks(0)
            .max_memories_per_module(POOL_PER_MODULE)
            .max_tables_per_module(POOL_PER_MODULE)
            .table_elements(POOL_TABLE_ELEMENTS as usize)
            .max_memory_size(POOL_MAX_MEMORY as usize)
            // Keep a few slots warm (resident) for fast re-instantiation, not all of them.
            .max_unused_warm_slots(8);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    c
}

/// The engine for WASI 0.2 components (`super::component`) with this wasm stack limit: the settings of
/// [`config`] on the on-demand allocator, plus the component model; runs are async (a component run
/// is one future, so a guest blocked in a host call still ends at its wall deadline). Kept apart from
/// the core-module engines, which stay synchronous and pooled. Made (with its ticker) on first use.
pub(crate) fn component_engine(max_stack: usize) -> Result<Engine, String> {
    static ENGINES: OnceLock<Mutex<HashMap<usize, Engine>>> = OnceLock::new();
    let mut map = ENGINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(e) = map.get(&max_stack) {
        return Ok(e.clone());
    }
    let mut c = config(EngineKey {
        allocator: Allocator::OnDemand,
        max_stack,
    });
    c.wasm_component_model(true);
    let engine = Engine::new(&c).map_err(|e| one_line(&e))?;
    start_ticker(&engine);
    map.insert(max_stack, engine.clone());
    Ok(engine)
}

fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("gauntlet-wasm-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        });
    if let Err(e) = spawned {
        // Without a ticker no epoch deadline would ever fire; runs would still end by fuel, but the
        // wall limit would not hold. Failing to spawn one thread means the host is out of resources.
        tracing::error!("cannot start the wasm epoch ticker: {e}");
    }
}

/// Where a module came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Compiled,
    MemoryCache,
    DiskCache,
}

impl EngineEntry {
    /// The compiled module for `bytes` (binary wasm), from the caches or compiled now. Returns the module,
    /// where it came from and the time spent. `Err` is a one-line reason (an invalid module).
    pub(crate) fn module(
        &self,
        bytes: &[u8],
        disk: Option<&Path>,
    ) -> Result<(Module, Source, Duration), String> {
        let started = Instant::now();
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(m) = self.lock().get(&digest) {
            return Ok((m.clone(), Source::MemoryCache, started.elapsed()));
        }
        let file = disk.map(|dir| dir.join(format!("{}.cwasm", hex(&self.disk_key(&digest)))));
        let (module, source) = match file.as_deref().and_then(|f| load_cached(&self.engine, f)) {
            Some(m) => (m, Source::DiskCache),
            None => {
                let m = Module::from_binary(&self.engine, bytes).map_err(|e| one_line(&e))?;
                if let Some(f) = &file {
                    store_cached(&m, f);
                }
                (m, Source::Compiled)
            }
        };
        let mut cache = self.lock();
        if cache.len() >= MEMORY_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(digest, module.clone());
        Ok((module, source, started.elapsed()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Module>> {
        self.modules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The on-disk key: the module digest plus everything that makes compiled code engine-specific.
    fn disk_key(&self, digest: &[u8; 32]) -> [u8; 32] {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        let mut d = Sha256::new();
        d.update(digest);
        d.update(h.finish().to_le_bytes());
        d.update(env!("CARGO_PKG_VERSION").as_bytes());
        d.finalize().into()
    }
}

/// Magic of a cache file: `GNTLWASM`, then the sha256 of the artifact, then the artifact.
const CACHE_MAGIC: &[u8; 8] = b"GNTLWASM";

/// Loads a serialized module, or `None` (a miss) when the file is absent, short, or its digest does not
/// match its contents. Only a file whose bytes are exactly what [`store_cached`] wrote reaches
/// `Module::deserialize`; a truncated or bit-flipped file is a miss and the module is compiled again.
fn load_cached(engine: &Engine, file: &Path) -> Option<Module> {
    let data = std::fs::read(file).ok()?;
    let rest = data.strip_prefix(CACHE_MAGIC.as_slice())?;
    if rest.len() < 32 {
        return None;
    }
    let (digest, artifact) = rest.split_at(32);
    if Sha256::digest(artifact).as_slice() != digest {
        tracing::warn!("ignoring corrupt wasm cache file {}", file.display());
        return None;
    }
    match super::sys::deserialize_module(engine, artifact) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!(
                "ignoring wasm cache file {}: {}",
                file.display(),
                one_line(&e)
            );
            None
        }
    }
}

/// Writes a module to the disk cache, atomically (a temporary file renamed into place). Failures only
/// cost the next run a compile.
fn store_cached(module: &Module, file: &Path) {
    let Ok(artifact) = module.serialize() else {
        return;
    };
    let Some(dir) = file.parent() else {
        return;
    };
    let mut data = Vec::with_capacity(CACHE_MAGIC.len() + 32 + artifact.len());
    data.extend_from_slice(CACHE_MAGIC);
    data.extend_from_slice(&Sha256::digest(&artifact));
    data.extend_from_slice(&artifact);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let written = create_private_dir(dir)
        .and_then(|()| std::fs::write(&tmp, &data))
        .and_then(|()| std::fs::rename(&tmp, file));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!("cannot write wasm cache file {}: {e}", file.display());
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The default disk cache directory: `$XDG_CACHE_HOME/gauntlet/wasm`, else `$HOME/.cache/gauntlet/wasm`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("gauntlet").join("wasm"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first line of an error and its causes, as one line.
pub(crate) fn one_line(e: &wasmtime::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        let line = s.lines().next().unwrap_or("").trim().to_string();
        if !line.is_empty() && !parts.contains(&line) {
            parts.push(line);
        }
    }
    parts.join(": ")
}
