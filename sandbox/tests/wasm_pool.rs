//! The pooling allocator: many concurrent stores work, the address space it reserves is bounded, a
//! 4 GiB-declared memory is still refused cleanly, and a full pool falls back instead of failing.

mod wasm_util;

use std::sync::Arc;

use gauntlet_sandbox::wasm::{WasmOptions, WasmSandbox, POOL_MEMORIES};
use gauntlet_sandbox::Status;
use wasm_util::*;

fn vm_size_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn many_concurrent_stores_and_bounded_address_space() {
    let before = vm_size_kib();
    let s = Scratch::new();
    // Each run holds its store (one 1 MiB memory) while it sleeps 50 ms in poll_oneoff, so runs overlap.
    let m = s.file(
        "sleepy.wat",
        r#"(module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 16)
          (func (export "_start")
            (i32.store (i32.const 16) (i32.const 1))
            (i64.store (i32.const 24) (i64.const 50000000))
            (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#,
    );
    let prepared = Arc::new(
        WasmSandbox::new(WasmOptions::default())
            .unwrap()
            .prepare(&policy(), &m)
            .unwrap(),
    );
    // More concurrent runs than pool slots: the overflow falls back to the on-demand allocator.
    let threads = POOL_MEMORIES as usize + 16;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let p = prepared.clone();
            std::thread::spawn(move || p.run(&[]).unwrap())
        })
        .collect();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for o in &outcomes {
        assert_eq!(o.status, Status::Exited, "{o:?}");
    }
    let pooled = outcomes
        .iter()
        .filter(|o| o.layers.iter().any(|l| l == "pooling_allocator"))
        .count();
    assert!(pooled > 0);
    // The pool reserves address space only: about POOL_MEMORIES * (4 GiB + guard). Well under 1 TiB.
    let grown_gib = vm_size_kib().saturating_sub(before) >> 20;
    assert!(
        grown_gib < 1024,
        "reserved {grown_gib} GiB of address space"
    );

    // The 4 GiB-declared memory is refused by the limiter, pool or not.
    let o = run_wat(
        &policy(),
        r#"(module (memory 65536) (func (export "_start")))"#,
        &[],
    );
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(o.reason.unwrap().contains("memory"));
}
