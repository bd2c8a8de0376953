//! The wasm target: hostile wasm-smith modules under small random limits.
//!
//! The generator configures wasm-smith for trouble: no termination guarantee (infinite loops are
//! welcome), start functions allowed (code runs during instantiation), up to five memories of up to
//! 4 GiB with no declared maximum, several tables, bulk memory, reference types and SIMD. Its modules
//! import nothing; a required export list makes every module a WASI command (`_start: () -> ()`), so
//! the generated code really executes. Limits are drawn small: wall 100-400 ms, memory 1-16 MiB, CPU
//! (fuel) 1-10 ms.
//!
//! The oracle ([`check_wasm_outcome`]) holds the backend to its promises: an Outcome always comes back
//! within the wall limit plus [`WALL_GRACE`](super::WALL_GRACE); the peak memory never exceeds the
//! memory limit; the sandbox never fails (`status = error`) or panics; and a run that ends by fuel
//! (`limit = cpu_time`) is deterministic: a second run of the same prepared module gives the same
//! status, limit and trap.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use gauntlet_sandbox::outcome::{Limit, Outcome, Status};
use gauntlet_sandbox::policy::{Dur, Size};
use gauntlet_sandbox::wasm::{WasmOptions, WasmSandbox};
use gauntlet_sandbox::Policy;

use super::{FuzzEnv, FuzzError, WALL_GRACE};

/// One generated wasm run: the module and the policy it runs under.
#[derive(Clone, Debug)]
pub struct WasmCase {
    /// The binary module (always exports `_start: () -> ()`).
    pub module: Vec<u8>,
    pub policy: Policy,
}

/// The module wasm-smith falls back to when it cannot build one from the bytes given.
const FALLBACK: &str = r#"(module (func (export "_start")))"#;

/// Builds a hostile module and small random limits from `u`. Never fails: an input wasm-smith cannot
/// use gives the trivial command module.
pub fn wasm_case(u: &mut Unstructured) -> WasmCase {
    let wall_ms = u.int_in_range(100..=400u64).unwrap_or(100);
    let memory_mib = u.int_in_range(1..=16u64).unwrap_or(1);
    let cpu_ms = u.int_in_range(1..=10u64).unwrap_or(1);
    let mut policy = Policy::default();
    policy.limits.wall_time = Dur(Duration::from_millis(wall_ms));
    policy.limits.cpu_time = Dur(Duration::from_millis(cpu_ms));
    policy.limits.memory = Size(memory_mib << 20);

    let module = generate_module(u)
        .unwrap_or_else(|| wat::parse_str(FALLBACK).expect("the fallback module is valid text"));
    WasmCase { module, policy }
}

fn hostile_config(u: &mut Unstructured) -> arbitrary::Result<wasm_smith::Config> {
    let exports = wat::parse_str(FALLBACK).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    Ok(wasm_smith::Config {
        exports: Some(exports),
        allow_start_export: true,
        max_memories: u.int_in_range(1..=5)?,
        max_tables: u.int_in_range(1..=5)?,
        max_memory32_bytes: 1 << 32,
        memory_max_size_required: false,
        memory64_enabled: false,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        simd_enabled: u.arbitrary()?,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        threads_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        tail_call_enabled: false,
        relaxed_simd_enabled: false,
        disallow_traps: false,
        max_imports: 0,
        max_funcs: u.int_in_range(1..=20)?,
        max_instructions: u.int_in_range(10..=500)?,
        max_data_segments: 8,
        max_table_elements: u.int_in_range(0..=200_000)?,
        ..wasm_smith::Config::default()
    })
}

fn generate_module(u: &mut Unstructured) -> Option<Vec<u8>> {
    let config = hostile_config(u).ok()?;
    let module = wasm_smith::Module::new(config, u).ok()?;
    Some(module.to_bytes())
}

/// Writes `bytes` to a fresh temporary file ending in `suffix` (the backends take paths).
pub fn temp_module(bytes: &[u8], suffix: &str) -> Result<tempfile::NamedTempFile, FuzzError> {
    let mut f = tempfile::Builder::new()
        .prefix("gauntlet-fuzz-")
        .suffix(suffix)
        .tempfile()
        .map_err(|e| FuzzError::io(std::env::temp_dir(), e))?;
    f.write_all(bytes)
        .and_then(|()| f.flush())
        .map_err(|e| FuzzError::io(f.path().to_path_buf(), e))?;
    Ok(f)
}

/// Prepares a module file once under `policy` on the (possibly weakened) wasm backend and runs it `runs`
/// times: each outcome with the wall time of that run alone. Panics when the backend returns `Err` for
/// an input that is valid (the policy validates and the file exists).
pub fn run_module(
    env: &FuzzEnv,
    policy: &Policy,
    path: &Path,
    runs: usize,
) -> Vec<(Outcome, Duration)> {
    let sandbox = WasmSandbox::new(WasmOptions {
        weaken: env.weaken.clone(),
    })
    .unwrap_or_else(|e| panic!("oracle: the wasm backend cannot start: {e}"));
    let prepared = sandbox
        .prepare(policy, path)
        .unwrap_or_else(|e| panic!("oracle: prepare returned Err for valid input: {e}"));
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let o = prepared
                .run(&[])
                .unwrap_or_else(|e| panic!("oracle: run returned Err for valid input: {e}"));
            (o, started.elapsed())
        })
        .collect()
}

/// The wasm target's whole check for one input.
pub fn wasm_oracle(data: &[u8], env: &FuzzEnv) -> Result<(), FuzzError> {
    let mut u = Unstructured::new(data);
    let case = wasm_case(&mut u);
    let file = temp_module(&case.module, ".wasm")?;
    for (outcome, elapsed) in run_module(env, &case.policy, file.path(), 1) {
        check_wasm_outcome(&case, &outcome, elapsed);
        if outcome.limit == Some(Limit::CpuTime) {
            for (second, elapsed) in run_module(env, &case.policy, file.path(), 1) {
                check_wasm_outcome(&case, &second, elapsed);
                check_fuel_determinism(&outcome, &second);
            }
        }
    }
    Ok(())
}

/// Panics unless `outcome` keeps the backend's promises for `case` (see the module docs).
pub fn check_wasm_outcome(case: &WasmCase, outcome: &Outcome, elapsed: Duration) {
    let wall = case.policy.limits.wall_time.0;
    assert!(
        elapsed <= wall + WALL_GRACE,
        "oracle: the run took {elapsed:?}, over the wall limit {wall:?} plus {WALL_GRACE:?} grace: {}",
        outcome.summary()
    );
    assert!(
        outcome.status != Status::Error,
        "oracle: the sandbox failed on a generated module: {}",
        outcome.reason.as_deref().unwrap_or("(no reason)")
    );
    let limit = case.policy.limits.memory.0;
    assert!(
        outcome.usage.peak_memory_bytes <= limit,
        "oracle: peak memory {} bytes is above the memory limit {limit} bytes: {}",
        outcome.usage.peak_memory_bytes,
        outcome.summary()
    );
}

/// Panics unless two runs that ended by fuel ended the same way. A second run stopped by the wall
/// clock instead is host load (the wall limit is real time), not a determinism bug, and passes.
pub fn check_fuel_determinism(first: &Outcome, second: &Outcome) {
    if second.limit == Some(Limit::WallTime) {
        return;
    }
    assert!(
        (first.status, first.limit, &first.trap) == (second.status, second.limit, &second.trap),
        "oracle: a fuel-limited run is not deterministic: first {:?}/{:?}/{:?}, then {:?}/{:?}/{:?}",
        first.status,
        first.limit,
        first.trap,
        second.status,
        second.limit,
        second.trap
    );
}
