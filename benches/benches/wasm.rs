//! The wasm backend's costs, measured in one run so medians compare:
//!
//! * `wasm_start`: instantiate and run a trivial WASI command through the backend's public API (cached
//!   module, `InstancePre`, a fresh store per run), with the pooling and the on-demand allocator;
//! * `wasm_start_in_a_forking_host`: the same pooled run when each one follows a process sandbox start;
//! * `wasm_kernels`: the slowdown that interruption adds to three small compute kernels (a tight loop,
//!   a memory-heavy loop, call-heavy recursion), on bare wasmtime engines with no interruption, with fuel,
//!   and with epochs - the two mechanisms the backend uses for the CPU and the wall limit.
//!
//! `cargo bench -p gauntlet-benches --bench wasm`

use std::ffi::OsString;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use gauntlet_sandbox::policy::Policy;
use gauntlet_sandbox::process::{resolve_program, settle, ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::wasm::{Allocator, WasmOptions, WasmSandbox};
use gauntlet_sandbox::Status;
use wasmtime::{Config, Engine, Instance, Module, Store};

const TRIVIAL: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 0))))"#;

fn start(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("gauntlet-wasm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("trivial.wat");
    std::fs::write(&module, TRIVIAL).unwrap();
    let policy = Policy::default();
    let args: Vec<OsString> = Vec::new();
    let mut g = c.benchmark_group("wasm_start");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    for (name, allocator) in [
        ("pooling", Allocator::Pooling),
        ("on_demand", Allocator::OnDemand),
    ] {
        let sandbox = WasmSandbox::new(WasmOptions::default())
            .unwrap()
            .with_allocator(allocator);
        let prepared = sandbox.prepare(&policy, &module).unwrap();
        g.bench_function(format!("prepared_run/{name}"), |b| {
            b.iter(|| {
                let o = prepared.run(&args).unwrap();
                assert_eq!(o.status, Status::Exited, "{o:?}");
            })
        });
        g.bench_function(format!("run_cached_module/{name}"), |b| {
            b.iter(|| {
                let o = sandbox.run(&policy, &module, &args).unwrap();
                assert_eq!(o.status, Status::Exited, "{o:?}");
            })
        });
    }
    g.finish();
    after_process_runs(c, &policy, &module);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A pooled `Prepared::run` in a host that also starts process sandboxes: before each timed wasm run,
/// one `ProcessSandbox::run` of `true` and its teardown (untimed). It shows what the fork of a sandbox
/// start leaves the host paying afterwards (copy-on-write faults, cold caches); compare with
/// `wasm_start/prepared_run/pooling`, where runs come back to back.
fn after_process_runs(c: &mut Criterion, policy: &Policy, module: &std::path::Path) {
    let process = ProcessSandbox::new(ProcessOptions::default());
    let true_bin = resolve_program(std::path::Path::new("true")).expect("`true` is installed");
    let prepared = WasmSandbox::new(WasmOptions::default())
        .unwrap()
        .prepare(policy, module)
        .unwrap();
    let mut g = c.benchmark_group("wasm_start_in_a_forking_host");
    // Each timed microsecond costs milliseconds untimed: keep the iteration counts small.
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(50))
        .measurement_time(Duration::from_millis(100));
    g.bench_function("prepared_run_after_process_run/pooling", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let o = process.run(policy, &true_bin, &[]).unwrap();
                assert_eq!(o.status, Status::Exited, "{o:?}");
                settle();
                let t = std::time::Instant::now();
                let o = prepared.run(&[]).unwrap();
                total += t.elapsed();
                assert_eq!(o.status, Status::Exited, "{o:?}");
            }
            total
        })
    });
    g.finish();
}

/// `run` runs the kernel once; each is sized to take a few milliseconds.
const KERNELS: &[(&str, &str)] = &[
    (
        "tight_loop",
        r#"(module (func (export "run") (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.add (local.get $acc) (i32.xor (local.get $i) (i32.const 0x5bd1e995))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))
          (local.get $acc)))"#,
    ),
    (
        "memory_heavy",
        r#"(module (memory 16) (func (export "run") (result i32) (local $i i32) (local $pass i32) (local $acc i32)
          (loop $p
            (local.set $i (i32.const 0))
            (loop $l
              (i32.store (local.get $i) (i32.add (i32.load (local.get $i)) (local.get $i)))
              (local.set $acc (i32.add (local.get $acc) (i32.load offset=4 (local.get $i))))
              (local.set $i (i32.add (local.get $i) (i32.const 8)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 1048568))))
            (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
            (br_if $p (i32.lt_u (local.get $pass) (i32.const 8))))
          (local.get $acc)))"#,
    ),
    (
        "call_recursion",
        r#"(module
          (func $fib (param $n i32) (result i32)
            (if (result i32) (i32.lt_u (local.get $n) (i32.const 2)) (then (local.get $n))
              (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                             (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
          (func (export "run") (result i32) (call $fib (i32.const 24))))"#,
    ),
];

#[derive(Clone, Copy)]
enum Interruption {
    None,
    Fuel,
    Epoch,
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("wasm_kernels");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    for (mode_name, mode) in [
        ("none", Interruption::None),
        ("fuel", Interruption::Fuel),
        ("epoch", Interruption::Epoch),
    ] {
        let mut config = Config::new();
        match mode {
            Interruption::None => {}
            Interruption::Fuel => {
                config.consume_fuel(true);
            }
            Interruption::Epoch => {
                config.epoch_interruption(true);
            }
        }
        let engine = Engine::new(&config).unwrap();
        for (kernel, wat) in KERNELS {
            let module = Module::new(&engine, wat).unwrap();
            let mut store = Store::new(&engine, ());
            match mode {
                Interruption::None => {}
                Interruption::Fuel => store.set_fuel(u64::MAX >> 2).unwrap(),
                // The deadline is never reached (nothing ticks), as in a run before its limit.
                Interruption::Epoch => store.set_epoch_deadline(u64::MAX >> 2),
            }
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let run = instance
                .get_typed_func::<(), i32>(&mut store, "run")
                .unwrap();
            g.bench_function(format!("{kernel}/{mode_name}"), |b| {
                b.iter(|| run.call(&mut store, ()).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, start, kernels);
criterion_main!(benches);
