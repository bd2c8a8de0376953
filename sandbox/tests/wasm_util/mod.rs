//! Shared helpers of the wasm-backend integration tests: modules are written as `.wat` text into a
//! temporary file and run through the public API, exactly as `gauntlet exec --backend wasm` does.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gauntlet_sandbox::policy::{Dur, Policy, Size};
use gauntlet_sandbox::wasm::{WasmOptions, WasmSandbox};
use gauntlet_sandbox::{Outcome, Weaken, Weakening};

/// A strict policy with short limits, suitable for tests.
pub fn policy() -> Policy {
    let mut p = Policy::default();
    p.limits.wall_time = Dur(Duration::from_secs(10));
    p.limits.cpu_time = Dur(Duration::from_secs(10));
    p.limits.memory = Size(64 << 20);
    p.limits.output = Size(64 << 10);
    p
}

/// A temporary directory that holds the test's module files.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` in the scratch dir.
    pub fn file(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write a scratch file");
        p
    }
}

/// Runs WAT text under `policy`.
pub fn run_wat(policy: &Policy, wat: &str, args: &[&str]) -> Outcome {
    run_wat_with(policy, wat, args, &[])
}

/// Runs WAT text with some protections removed.
pub fn run_wat_with(policy: &Policy, wat: &str, args: &[&str], weaken: &[Weaken]) -> Outcome {
    let s = Scratch::new();
    let module = s.file("module.wat", wat);
    run_file(policy, &module, args, weaken)
}

pub fn run_file(policy: &Policy, module: &Path, args: &[&str], weaken: &[Weaken]) -> Outcome {
    // SAFETY: not memory safety; these tests run bounded modules and check the host afterwards.
    let weaken = unsafe { Weakening::remove_protections(weaken.iter().copied()) };
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    WasmSandbox::new(WasmOptions { weaken })
        .expect("the wasm sandbox")
        .run(policy, module, &args)
        .expect("the sandbox runs")
}

/// A `(data ...)` segment with `s` at `at`.
pub fn data(at: u32, s: &[u8]) -> String {
    let mut esc = String::new();
    for b in s {
        esc.push_str(&format!("\\{b:02x}"));
    }
    format!("(data (i32.const {at}) \"{esc}\")")
}

/// A WASI command module with helpers, one page of memory, `data` segments (at 1024 and up, below
/// 4096) and `body` as `_start`. Helpers:
/// * `$print (fd ptr len)` writes bytes;
/// * `$print_num (n)` writes `n` in decimal plus a newline to stdout;
/// * `$cat (dirfd ptr len) -> errno` opens a path for reading and prints up to 4 KiB of it to stdout;
/// * `$create (dirfd ptr len) -> errno` opens a path for writing (create, truncate) and writes "PWNED".
///
/// Scratch memory: 0..16 iovec, 16..24 second iovec, 100 opened fd, 104 count, 200..241 digits,
/// 4096..8192 read buffer.
pub fn wasi_module(data: &[String], body: &str) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  {data}
  (data (i32.const 3000) "PWNED")
  (func $print (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $print_num (param $n i32)
    (local $p i32)
    (local.set $p (i32.const 240))
    (i32.store8 (i32.const 240) (i32.const 10))
    (loop $l
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $l (local.get $n)))
    (call $print (i32.const 1) (local.get $p) (i32.sub (i32.const 241) (local.get $p))))
  (func $cat (param $dirfd i32) (param $ptr i32) (param $len i32) (result i32)
    (local $err i32)
    (local.set $err (call $path_open (local.get $dirfd) (i32.const 0) (local.get $ptr) (local.get $len)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 100)))
    (if (i32.eqz (local.get $err)) (then
      (i32.store (i32.const 16) (i32.const 4096))
      (i32.store (i32.const 20) (i32.const 4096))
      (drop (call $fd_read (i32.load (i32.const 100)) (i32.const 16) (i32.const 1) (i32.const 104)))
      (call $print (i32.const 1) (i32.const 4096) (i32.load (i32.const 104)))))
    (local.get $err))
  (func $create (param $dirfd i32) (param $ptr i32) (param $len i32) (result i32)
    (local $err i32)
    ;; oflags: creat (1) | trunc (8); rights: fd_write (64)
    (local.set $err (call $path_open (local.get $dirfd) (i32.const 0) (local.get $ptr) (local.get $len)
      (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 100)))
    (if (i32.eqz (local.get $err)) (then
      (call $print (i32.load (i32.const 100)) (i32.const 3000) (i32.const 5))))
    (local.get $err))
  (func (export "_start") {body}))"#,
        data = data.join("\n  "),
        body = body,
    )
}

pub fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
