//! Every limit of the policy, applied by the wasm backend, also inside the start function and during
//! instantiation. Each test also shows the protection matters: where a weakening exists, the same
//! module with that protection removed gets past the limit.

mod wasm_util;

use std::time::{Duration, Instant};

use gauntlet_sandbox::policy::{Dur, Size};
use gauntlet_sandbox::wasm::FUEL_PER_MS;
use gauntlet_sandbox::{Limit, Status, Weaken};
use wasm_util::*;

const LOOP_IN_START: &str = r#"(module (func (export "_start") (loop (br 0))))"#;
const LOOP_IN_START_FUNCTION: &str =
    r#"(module (func $spin (loop (br 0))) (start $spin) (func (export "_start")))"#;

fn wall_policy(ms: u64) -> gauntlet_sandbox::Policy {
    let mut p = policy();
    p.limits.wall_time = Dur(Duration::from_millis(ms));
    // CPU far above the wall, so the wall limit fires first.
    p.limits.cpu_time = Dur(Duration::from_secs(3600));
    p
}

fn assert_wall_kill(wat: &str) {
    let p = wall_policy(300);
    let t = Instant::now();
    let o = run_wat(&p, wat, &[]);
    let took = t.elapsed();
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::WallTime), "{o:?}");
    assert!(o.usage.limits_hit.contains(&Limit::WallTime));
    assert!(o.usage.wall_ms >= 300, "{o:?}");
    // Within 0.5 s of the limit, measured from the run itself (the module was compiled before it).
    assert!(
        o.usage.wall_ms < 800,
        "killed {} ms after start",
        o.usage.wall_ms
    );
    assert!(took < Duration::from_secs(30), "whole call took {took:?}");
}

#[test]
fn infinite_loop_in_start_is_killed_at_the_wall_limit() {
    assert_wall_kill(LOOP_IN_START);
}

#[test]
fn infinite_loop_in_the_start_function_is_killed_at_the_wall_limit() {
    assert_wall_kill(LOOP_IN_START_FUNCTION);
}

#[test]
fn without_the_epoch_deadline_fuel_must_end_the_loop() {
    // With the wall deadline weakened away, a loop outlives the wall limit; here fuel (1 s) ends it.
    let mut p = wall_policy(100);
    p.limits.cpu_time = Dur(Duration::from_secs(1));
    let o = run_wat_with(&p, LOOP_IN_START, &[], &[Weaken::WasmNoEpoch]);
    assert_eq!(o.limit, Some(Limit::CpuTime), "{o:?}");
    assert!(o.layers_missing.iter().any(|m| m.layer == "epoch_deadline"));
    assert!(!o.layers.iter().any(|l| l == "epoch_deadline"));
}

#[test]
fn fuel_kills_with_cpu_time() {
    let mut p = policy();
    p.limits.cpu_time = Dur(Duration::from_millis(200));
    p.limits.wall_time = Dur(Duration::from_secs(120));
    let o = run_wat(&p, LOOP_IN_START, &[]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::CpuTime), "{o:?}");
    assert_eq!(o.trap.as_deref(), Some("out_of_fuel"));
    assert_eq!(o.usage.fuel_consumed, Some(200 * FUEL_PER_MS));
    assert_eq!(o.usage.cpu_ms, 200);
    assert!(o.layers.iter().any(|l| l == "fuel"));

    // The same loop in the start function, during instantiation.
    let o = run_wat(&p, LOOP_IN_START_FUNCTION, &[]);
    assert_eq!(o.limit, Some(Limit::CpuTime), "{o:?}");
}

#[test]
fn without_fuel_the_wall_limit_must_end_the_loop() {
    let mut p = policy();
    p.limits.cpu_time = Dur(Duration::from_millis(50));
    p.limits.wall_time = Dur(Duration::from_millis(400));
    let o = run_wat_with(&p, LOOP_IN_START, &[], &[Weaken::WasmNoFuel]);
    assert_eq!(o.limit, Some(Limit::WallTime), "{o:?}");
    // Ran for the whole 400 ms wall although the CPU limit was 50 ms.
    assert!(o.usage.wall_ms >= 400, "{o:?}");
    assert!(o
        .layers_missing
        .iter()
        .any(|m| m.layer == "fuel" && m.reason == "weakened"));
}

#[test]
fn fuel_calibration_is_plausible() {
    // FUEL_PER_MS should turn a CPU limit into roughly that much time for a tight loop. Loose bounds
    // (this runs unoptimized and beside other tests): the 300 ms limit must take more than 30 ms of wall
    // time and not more than 60 s.
    let mut p = policy();
    p.limits.cpu_time = Dur(Duration::from_millis(300));
    p.limits.wall_time = Dur(Duration::from_secs(120));
    let wat = r#"(module (func (export "_start") (local $i i32)
        (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.const 1)))))"#;
    let o = run_wat(&p, wat, &[]);
    assert_eq!(o.limit, Some(Limit::CpuTime), "{o:?}");
    assert!(o.usage.wall_ms >= 30, "{o:?}");
}

const GROW_LOOP: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start")
    ;; grow by 1 MiB until refused, then exit normally
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))))"#;

#[test]
fn memory_grow_loop_stops_at_the_limit() {
    let p = policy(); // 64 MiB
    let o = run_wat(&p, GROW_LOOP, &[]);
    assert_eq!(
        o.status,
        Status::Exited,
        "grow must return -1, not trap: {o:?}"
    );
    assert!(o.usage.peak_memory_bytes <= 64 << 20, "{o:?}");
    assert!(o.usage.peak_memory_bytes >= 63 << 20, "{o:?}");
    assert!(o.usage.limits_hit.contains(&Limit::Memory), "{o:?}");
    assert!(o.layers.iter().any(|l| l == "store_limiter"));

    let o = run_wat_with(&p, GROW_LOOP, &[], &[Weaken::WasmNoMemoryLimiter]);
    assert!(
        o.usage.peak_memory_bytes > 64 << 20,
        "weakened: grows past the limit: {o:?}"
    );
}

#[test]
fn the_limit_is_the_total_of_all_memories() {
    // Three memories of 30 MiB each: each alone is under 64 MiB, all three are not.
    let wat = r#"(module
      (memory $a 1) (memory $b 1) (memory $c 1)
      (func (export "_start")
        (drop (memory.grow $a (i32.const 480)))
        (drop (memory.grow $b (i32.const 480)))
        (if (i32.ne (memory.grow $c (i32.const 480)) (i32.const -1)) (then unreachable))))"#;
    let o = run_wat(&policy(), wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert!(o.usage.peak_memory_bytes <= 64 << 20, "{o:?}");
    assert!(o.usage.limits_hit.contains(&Limit::Memory));
}

#[test]
fn table_grow_loop_stops_at_the_limit() {
    let mut p = policy();
    p.wasm.max_table_elements = 5000;
    let wat = r#"(module
      (table $t 1 funcref)
      (func (export "_start")
        (loop $l (br_if $l (i32.ne (table.grow $t (ref.null func) (i32.const 100)) (i32.const -1))))
        (if (i32.gt_u (table.size $t) (i32.const 5000)) (then unreachable))))"#;
    let o = run_wat(&p, wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert!(o.usage.limits_hit.contains(&Limit::Memory), "{o:?}");
    assert!(o.usage.peak_memory_bytes <= 5000 * 8 + (64 << 10), "{o:?}");

    // Weakened: the element cap is gone, the table grows past 5000 (until the memory total stops it).
    let o = run_wat_with(&p, wat, &[], &[Weaken::WasmNoTableLimit]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.trap.as_deref(), Some("unreachable"));
}

#[test]
fn too_many_memories_or_instances_are_rejected() {
    let mut p = policy();
    p.wasm.max_memories = 1;
    let wat = r#"(module (memory 1) (memory 1) (func (export "_start")))"#;
    let o = run_wat(&p, wat, &[]);
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(o.reason.as_deref().unwrap().contains("memor"), "{o:?}");
}

#[test]
fn deep_recursion_traps_with_stack_overflow() {
    let wat = r#"(module
      (func $down (param i64) (result i64)
        (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
      (func (export "_start") (drop (call $down (i64.const 0)))))"#;
    for stack in [64 << 10, 512 << 10, 8 << 20] {
        let mut p = policy();
        p.wasm.max_stack = Size(stack);
        let o = run_wat(&p, wat, &[]);
        assert_eq!(o.status, Status::Killed, "{o:?}");
        assert_eq!(o.trap.as_deref(), Some("stack_overflow"), "{o:?}");
        assert_eq!(o.limit, None);
    }
    // The host is alive and runs the next module.
    let o = run_wat(&policy(), r#"(module (func (export "_start")))"#, &[]);
    assert_eq!(o.status, Status::Exited);
}

#[test]
fn deep_recursion_traps_on_the_callers_thread_and_on_a_worker() {
    // A caller with a large stack runs the module on its own thread (the stack bounds it checks are
    // read once per thread, so the later runs use the cached ones); one with a small stack hands it to
    // a worker. Both must end in the trap, never in the host's guard page.
    let wat = r#"(module
      (func $down (param i64) (result i64)
        (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
      (func (export "_start") (drop (call $down (i64.const 0)))))"#;
    for thread_stack in [32 << 20, 256 << 10] {
        let runs = std::thread::Builder::new()
            .stack_size(thread_stack)
            .spawn(move || {
                let mut outcomes = Vec::new();
                for stack in [64 << 10, 8 << 20, 64 << 10, 8 << 20] {
                    let mut p = policy();
                    p.wasm.max_stack = Size(stack);
                    outcomes.push(run_wat(&p, wat, &[]));
                }
                outcomes
            })
            .expect("a test thread")
            .join()
            .expect("the runs return");
        for o in runs {
            assert_eq!(o.status, Status::Killed, "{o:?}");
            assert_eq!(o.trap.as_deref(), Some("stack_overflow"), "{o:?}");
        }
    }
}

#[test]
fn out_of_bounds_load_traps() {
    let wat = r#"(module (memory 1)
      (func (export "_start") (drop (i32.load (i32.const 65534)))))"#;
    let o = run_wat(&policy(), wat, &[]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.trap.as_deref(), Some("memory_out_of_bounds"));
    assert_eq!(o.limit, None);
}

#[test]
fn four_gib_of_declared_memory_is_rejected() {
    let wat = r#"(module (memory 65536) (func (export "_start")))"#;
    let o = run_wat(&policy(), wat, &[]);
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    let reason = o.reason.as_deref().unwrap();
    assert!(reason.contains("memory"), "{reason}");
    assert!(o.usage.limits_hit.contains(&Limit::Memory));
    assert!(o.usage.peak_memory_bytes <= 64 << 20);

    // Without the store limiter the 4 GiB memory is granted (address space only; never touched).
    let o = run_wat_with(&policy(), wat, &[], &[Weaken::WasmNoMemoryLimiter]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.usage.peak_memory_bytes, 4 << 30, "{o:?}");
}

const FLOOD: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 1000))
    (memory.fill (i32.const 1024) (i32.const 65) (i32.const 1000))
    ;; 4000 writes of 1000 bytes: 4 MB, unless stopped
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4000))))))"#;

#[test]
fn stdout_flood_is_capped() {
    let p = policy(); // 64 KiB
    let o = run_wat(&p, FLOOD, &[]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::Output));
    assert!(o.output_truncated);
    assert!(o.stdout.len() as u64 <= 64 << 10);
    assert!(
        o.stdout.len() as u64 >= (64 << 10) - 1000,
        "{}",
        o.stdout.len()
    );
    assert!(o.stdout.iter().all(|&b| b == b'A'));

    let o = run_wat_with(&p, FLOOD, &[], &[Weaken::WasmNoOutputCap]);
    assert_eq!(o.status, Status::Exited, "{}", o.summary());
    assert_eq!(o.stdout.len(), 4_000_000);
}

#[test]
fn stdout_and_stderr_share_one_cap() {
    let mut p = policy();
    p.limits.output = Size(3000);
    // 2000 bytes to stdout, then 2000 to stderr: each fits alone, together they do not.
    let wat = wasm_util::wasi_module(
        &[],
        r#"(memory.fill (i32.const 1024) (i32.const 66) (i32.const 2000))
           (call $print (i32.const 1) (i32.const 1024) (i32.const 2000))
           (call $print (i32.const 2) (i32.const 1024) (i32.const 2000))"#,
    );
    let o = run_wat(&p, &wat, &[]);
    assert_eq!(o.limit, Some(Limit::Output), "{o:?}");
    assert!(o.stdout.len() + o.stderr.len() <= 3000);
}

#[test]
fn sleeping_in_poll_oneoff_does_not_escape_the_wall_limit() {
    // poll_oneoff with one relative clock subscription of one hour.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (i32.store8 (i32.const 8) (i32.const 0))          ;; tag: clock
        (i32.store (i32.const 16) (i32.const 1))          ;; monotonic
        (i64.store (i32.const 24) (i64.const 3600000000000))
        (i32.store16 (i32.const 40) (i32.const 0))         ;; relative
        (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#;
    let o = run_wat(&wall_policy(300), wat, &[]);
    assert_eq!(o.limit, Some(Limit::WallTime), "{o:?}");
    assert!(o.usage.wall_ms < 800, "{o:?}");
}

#[test]
fn host_calls_are_counted_and_capped() {
    let mut p = policy();
    p.wasm.max_host_calls = 100;
    let wat = r#"(module
      (import "gauntlet_host_v1" "kv_put" (func $put (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (local $i i32)
        (loop $l
          (drop (call $put (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))))"#;
    let o = run_wat(&p, wat, &[]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.trap.as_deref(), Some("host_call_limit"));
    assert_eq!(o.usage.host_calls, 101);

    p.wasm.max_host_calls = 1000;
    let o = run_wat(&p, wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.usage.host_calls, 1000);
}

#[test]
fn wasi_calls_count_and_their_cap_holds() {
    let mut p = policy();
    p.wasm.max_host_calls = 1000;
    // sched_yield forever: only WASI calls, no gauntlet_host_v1 call.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (loop $l (drop (call $y)) (br $l))))"#;
    let o = run_wat(&p, wat, &[]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.trap.as_deref(), Some("host_call_limit"), "{o:?}");
    assert!(o.usage.host_calls > 1000);
}
