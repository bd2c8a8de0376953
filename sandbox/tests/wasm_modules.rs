//! What the backend accepts as a module, how traps are named, the caches, and prepared repeated runs.

mod wasm_util;

use std::ffi::OsString;

use gauntlet_sandbox::policy::Size;
use gauntlet_sandbox::wasm::{Allocator, WasmOptions, WasmSandbox};
use gauntlet_sandbox::{SandboxErrorKind, Status};
use wasm_util::*;

fn sandbox() -> WasmSandbox {
    WasmSandbox::new(WasmOptions::default()).unwrap()
}

#[test]
fn random_bytes_are_rejected() {
    let s = Scratch::new();
    // A fixed pseudo-random byte string (xorshift), with and without the wasm magic in front.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for (name, bytes) in [
        ("noise.wasm", noise.clone()),
        ("noise.wat", noise.clone()),
        ("magic.wasm", {
            noise.splice(0..8, *b"\0asm\x01\0\0\0");
            noise.clone()
        }),
    ] {
        let m = s.file(name, bytes);
        let o = sandbox().run(&policy(), &m, &[]).unwrap();
        assert_eq!(o.status, Status::Rejected, "{name}: {o:?}");
        let reason = o.reason.unwrap();
        assert!(!reason.contains('\n'), "one line: {reason:?}");
    }
}

#[test]
fn a_module_without_start_is_rejected() {
    let o = run_wat(&policy(), r#"(module (func (export "main")))"#, &[]);
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(o.reason.unwrap().contains("_start"));
    let o = run_wat(
        &policy(),
        r#"(module (func (export "_start") (param i32)))"#,
        &[],
    );
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    let o = run_wat(
        &policy(),
        r#"(module (import "env" "f" (func)) (func (export "_start")))"#,
        &[],
    );
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(o.reason.unwrap().contains("env"));
}

#[test]
fn the_module_size_cap_holds_before_compiling() {
    let mut p = policy();
    p.wasm.max_module_size = Size(100);
    let wat = format!(
        "(module (func (export \"_start\")) {})",
        ";; padding ".repeat(20)
    );
    let o = run_wat(&p, &wat, &[]);
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(o.reason.unwrap().contains("max_module_size"));
}

#[test]
fn bad_input_is_an_error() {
    let e = sandbox()
        .run(&policy(), std::path::Path::new("/nonexistent/m.wasm"), &[])
        .unwrap_err();
    assert!(matches!(e.kind, SandboxErrorKind::ProgramNotFound), "{e}");
    assert!(e.to_string().contains("/nonexistent/m.wasm"));
    assert!(e.is_bad_input());

    let s = Scratch::new();
    let m = s.file("m.wat", r#"(module (func (export "_start")))"#);
    let mut p = policy();
    p.fs.ro.push("/nonexistent/dir".into());
    let e = sandbox().run(&p, &m, &[]).unwrap_err();
    assert!(matches!(e.kind, SandboxErrorKind::MissingPath), "{e}");
    assert!(e.to_string().contains("/nonexistent/dir"));
}

#[test]
fn traps_have_snake_case_names() {
    for (body, trap) in [
        ("unreachable", "unreachable"),
        (
            "(drop (i32.div_u (i32.const 1) (i32.const 0)))",
            "integer_divide_by_zero",
        ),
        (
            "(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))",
            "integer_overflow",
        ),
        (
            "(call_indirect (type $v) (i32.const 5))",
            "table_out_of_bounds",
        ),
        (
            "(call_indirect (type $v) (i32.const 1))",
            "indirect_call_to_null",
        ),
        ("(call_indirect (type $v) (i32.const 0))", "bad_signature"),
        (
            "(drop (i32.trunc_f32_s (f32.const nan)))",
            "bad_conversion_to_integer",
        ),
    ] {
        let wat = format!(
            r#"(module (type $v (func)) (table 2 funcref) (elem (i32.const 0) $f)
              (func $f (param i32))
              (func (export "_start") {body}))"#
        );
        let o = run_wat(&policy(), &wat, &[]);
        assert_eq!(o.status, Status::Killed, "{body}: {o:?}");
        assert_eq!(o.trap.as_deref(), Some(trap), "{body}");
        assert_eq!(o.limit, None);
    }
}

#[test]
fn compiled_modules_are_cached_and_prepared_runs_repeat() {
    let s = Scratch::new();
    // A module unique to this test, so the first compile is a real one.
    let m = s.file(
        "cached.wat",
        r#"(module (func (export "_start") (drop (i32.const 918273645))))"#,
    );
    let sb = sandbox();
    let first = sb.run(&policy(), &m, &[]).unwrap();
    assert_eq!(first.status, Status::Exited);
    assert!(!first.layers.iter().any(|l| l == "module_cache"));
    let second = sb.run(&policy(), &m, &[]).unwrap();
    assert_eq!(second.usage.compile_ms, Some(0));
    assert!(
        second.layers.iter().any(|l| l == "module_cache"),
        "{second:?}"
    );

    let prepared = sb.prepare(&policy(), &m).unwrap();
    assert!(prepared.rejection().is_none());
    for _ in 0..50 {
        let o = prepared.run(&[]).unwrap();
        assert_eq!(o.status, Status::Exited);
        assert!(o.layers.iter().any(|l| l == "pooling_allocator"));
    }
    // Non-UTF-8 arguments are the caller's error.
    use std::os::unix::ffi::OsStringExt;
    assert!(prepared.run(&[OsString::from_vec(vec![0xff])]).is_err());
}

#[test]
fn the_disk_cache_survives_corruption() {
    let cache = Scratch::new();
    let s = Scratch::new();
    let m = s.file(
        "disk.wat",
        r#"(module (func (export "_start") (drop (i32.const 55667788))))"#,
    );
    let sb = sandbox()
        .with_allocator(Allocator::OnDemand)
        .with_disk_cache(Some(cache.path().to_path_buf()));
    let o = sb.run(&policy(), &m, &[]).unwrap();
    assert_eq!(o.status, Status::Exited);
    let files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    // Another engine with the same code compatibility (only the stack limit differs) loads the file.
    let mut p = policy();
    p.wasm.max_stack = Size(192 << 10);
    let o = sb.run(&p, &m, &[]).unwrap();
    assert!(
        o.layers.iter().any(|l| l == "module_cache"),
        "disk hit: {o:?}"
    );
    assert_eq!(o.usage.compile_ms, Some(0));
    // Flip bytes in the middle and truncate another copy: both must be ignored, never trusted.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&files[0], &bytes).unwrap();
    // In this process the in-memory cache answers first; a different wasm stack limit is another engine
    // (another in-memory cache) with the same compiled-code compatibility, so it reads the disk file.
    let mut p = policy();
    p.wasm.max_stack = Size(256 << 10);
    let o = sb.run(&p, &m, &[]).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert!(
        !o.layers.iter().any(|l| l == "module_cache"),
        "corrupt file ignored: {o:?}"
    );
    std::fs::write(&files[0], &bytes[..100]).unwrap();
    let mut p = policy();
    p.wasm.max_stack = Size(384 << 10);
    let o = sb.run(&p, &m, &[]).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    // Still one file: the same key was looked up (and rewritten after each bad read).
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
    let o = sb.run(&policy(), &m, &[]).unwrap();
    assert_eq!(o.status, Status::Exited);
}

#[test]
fn the_on_demand_allocator_works_too() {
    let s = Scratch::new();
    let m = s.file("od.wat", r#"(module (memory 1) (func (export "_start")))"#);
    let o = sandbox()
        .with_allocator(Allocator::OnDemand)
        .run(&policy(), &m, &[])
        .unwrap();
    assert_eq!(o.status, Status::Exited);
    assert!(!o.layers.iter().any(|l| l == "pooling_allocator"));
}
