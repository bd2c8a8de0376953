//! The `gauntlet_host_v1` host API: it works, it is scoped to one run, and every bad call is a guest
//! error (trap or negative code), never a host panic.

mod wasm_util;

use gauntlet_sandbox::wasm::{E_BUFFER_TOO_SMALL, E_NOT_FOUND, E_TOO_LARGE};
use gauntlet_sandbox::{Status, Weaken};
use wasm_util::*;

/// A module importing the host API with `body` as `_start`, its results printed with `$print_num`
/// (negative codes print as 4294967295 - n + 1; use `$code` to print them as positive numbers).
fn host_module(data_segs: &[String], body: &str) -> String {
    let base = wasi_module(data_segs, body);
    base.replacen(
        "(memory (export \"memory\") 1)",
        r#"(import "gauntlet_host_v1" "log" (func $log (param i32 i32) (result i32)))
  (import "gauntlet_host_v1" "kv_get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "gauntlet_host_v1" "kv_put" (func $put (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $code (param i32) (call $print_num (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
     (then (i32.add (i32.const 1000) (i32.sub (i32.const 0) (local.get 0)))) (else (local.get 0)))))"#,
        1,
    )
}

/// A printed negative code.
fn neg(code: i32) -> String {
    (1000 - code).to_string()
}

#[test]
fn log_and_key_value_round_trip() {
    let wat = host_module(
        &[
            data(1024, b"hello host"),
            data(1100, b"key"),
            data(1200, b"value-1"),
        ],
        "(call $code (call $log (i32.const 1024) (i32.const 10)))
         (call $code (call $get (i32.const 1100) (i32.const 3) (i32.const 2000) (i32.const 100)))
         (call $code (call $put (i32.const 1100) (i32.const 3) (i32.const 1200) (i32.const 7)))
         (call $code (call $get (i32.const 1100) (i32.const 3) (i32.const 2000) (i32.const 100)))
         (call $print (i32.const 1) (i32.const 2000) (i32.const 7))
         (call $code (call $get (i32.const 1100) (i32.const 3) (i32.const 2000) (i32.const 3)))",
    );
    let o = run_wat(&policy(), &wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(
        stdout(&o),
        format!(
            "0\n{}\n0\n7\nvalue-1{}\n",
            neg(E_NOT_FOUND),
            neg(E_BUFFER_TOO_SMALL)
        )
    );
    assert_eq!(stderr(&o), "[plugin log] hello host\n");
    assert_eq!(o.usage.host_calls, 5 + 6); // 5 host API calls, 6 fd_write
                                           // A fresh store per run: the key from the last run is gone.
    let o = run_wat(&policy(), &wat, &[]);
    assert!(stdout(&o).starts_with(&format!("0\n{}\n", neg(E_NOT_FOUND))));
}

#[test]
fn oversized_requests_get_error_codes() {
    let wat = host_module(
        &[],
        "(call $code (call $log (i32.const 0) (i32.const 5000)))
         (call $code (call $log (i32.const 0) (i32.const -1)))
         (call $code (call $put (i32.const 0) (i32.const 257) (i32.const 0) (i32.const 1)))
         (call $code (call $put (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 65537)))
         (call $code (call $get (i32.const 0) (i32.const -2147483648) (i32.const 0) (i32.const 1)))",
    );
    let o = run_wat(&policy(), &wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    let n = neg(E_TOO_LARGE);
    assert_eq!(stdout(&o), format!("{n}\n{n}\n{n}\n{n}\n{n}\n"));
}

#[test]
fn out_of_bounds_pointers_are_guest_errors() {
    for call in [
        "(call $log (i32.const 65530) (i32.const 100))",
        "(call $log (i32.const -1) (i32.const 2))",
        "(call $put (i32.const 65535) (i32.const 2) (i32.const 0) (i32.const 1))",
        "(call $put (i32.const 0) (i32.const 1) (i32.const 2147483647) (i32.const 65536))",
        "(call $get (i32.const 0) (i32.const 1) (i32.const 65000) (i32.const 65536))",
        "(call $get (i32.const -256) (i32.const 256) (i32.const 0) (i32.const 0))",
    ] {
        let o = run_wat(&policy(), &host_module(&[], &format!("(drop {call})")), &[]);
        assert_eq!(o.status, Status::Killed, "{call}: {o:?}");
        assert_eq!(o.trap.as_deref(), Some("host_api_misuse"), "{call}: {o:?}");
        assert!(
            o.reason
                .as_deref()
                .unwrap()
                .contains("outside linear memory"),
            "{o:?}"
        );
    }
    // No exported memory at all.
    let wat = r#"(module (import "gauntlet_host_v1" "log" (func $log (param i32 i32) (result i32)))
      (func (export "_start") (drop (call $log (i32.const 0) (i32.const 1)))))"#;
    let o = run_wat(&policy(), wat, &[]);
    assert_eq!(o.trap.as_deref(), Some("host_api_misuse"), "{o:?}");
}

#[test]
fn log_counts_toward_the_output_cap() {
    let mut p = policy();
    p.limits.output = gauntlet_sandbox::policy::Size(1000);
    let wat = host_module(
        &[],
        "(loop $l (drop (call $log (i32.const 0) (i32.const 100))) (br $l))",
    );
    let o = run_wat(&p, &wat, &[]);
    assert_eq!(o.limit, Some(gauntlet_sandbox::Limit::Output), "{o:?}");
    assert!(o.stderr.len() <= 1000);
    assert!(o.output_truncated);
}

#[test]
fn the_entry_cap_holds() {
    // 1100 distinct 4-byte keys: the last 76 puts fail with E_FULL, then an existing key is updatable.
    let wat = host_module(
        &[],
        "(local $i i32) (local $fails i32)
         (loop $l
           (i32.store (i32.const 1024) (local.get $i))
           (if (i32.lt_s (call $put (i32.const 1024) (i32.const 4) (i32.const 0) (i32.const 1)) (i32.const 0))
             (then (local.set $fails (i32.add (local.get $fails) (i32.const 1)))))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br_if $l (i32.lt_u (local.get $i) (i32.const 1100))))
         (call $print_num (local.get $fails))
         (i32.store (i32.const 1024) (i32.const 5))
         (call $code (call $put (i32.const 1024) (i32.const 4) (i32.const 0) (i32.const 2)))",
    );
    let o = run_wat(&policy(), &wat, &[]);
    assert_eq!(stdout(&o), "76\n0\n", "{o:?}");
}

#[test]
fn weakened_bounds_clamp_instead_of_trapping() {
    // `log` of 100 bytes starting 4 bytes before the end of memory.
    let wat = host_module(
        &[data(65532, b"TAIL")],
        "(call $code (call $log (i32.const 65532) (i32.const 100)))",
    );
    let o = run_wat(&policy(), &wat, &[]);
    assert_eq!(o.trap.as_deref(), Some("host_api_misuse"), "{o:?}");
    let o = run_wat_with(&policy(), &wat, &[], &[Weaken::WasmHostApiNoBounds]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(stderr(&o), "[plugin log] TAIL\n");
    assert!(o
        .layers_missing
        .iter()
        .any(|m| m.layer == "host_api_bounds_checked"));
}

#[test]
fn host_calls_are_reported_as_events() {
    use gauntlet_sandbox::supervisor::{EventResult, Recorded};
    use gauntlet_sandbox::wasm::{WasmOptions, WasmSandbox};
    let wat = host_module(
        &[data(1024, b"hello"), data(1100, b"key")],
        "(drop (call $log (i32.const 1024) (i32.const 5)))
         (drop (call $get (i32.const 1100) (i32.const 3) (i32.const 2000) (i32.const 10)))
         (drop (call $put (i32.const 1100) (i32.const 300) (i32.const 0) (i32.const 1)))
         (drop (call $put (i32.const 1100) (i32.const 3) (i32.const 1024) (i32.const 5)))
         (drop (call $log (i32.const 65530) (i32.const 100)))",
    );
    let s = Scratch::new();
    let module = s.file("module.wat", &wat);
    let rec = std::sync::Arc::new(Recorded::default());
    let o = WasmSandbox::new(WasmOptions::default())
        .unwrap()
        .with_events(rec.clone())
        .run(&policy(), &module, &[])
        .unwrap();
    assert_eq!(o.trap.as_deref(), Some("host_api_misuse"), "{o:?}");
    let events = rec.take();
    let got: Vec<(&str, &EventResult)> =
        events.iter().map(|e| (e.op.as_str(), &e.result)).collect();
    assert_eq!(got.len(), 5, "{events:?}");
    assert_eq!(got[0], ("log", &EventResult::Ok));
    assert_eq!(events[0].args["bytes"], 5);
    // Not found is a normal answer; an oversized key is a cap; a range outside memory an error.
    assert_eq!(got[1], ("kv_get", &EventResult::Ok));
    assert_eq!(events[1].args["status"], E_NOT_FOUND);
    assert!(
        matches!(got[2], ("kv_put", EventResult::Limit(_))),
        "{events:?}"
    );
    assert_eq!(got[3], ("kv_put", &EventResult::Ok));
    assert!(
        matches!(got[4], ("log", EventResult::Error(m)) if m.contains("outside linear memory"))
    );
    // No payload bytes in any event.
    assert!(!format!("{events:?}").contains("hello"));
}
