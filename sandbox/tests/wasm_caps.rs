//! Capabilities of the wasm backend, deny by default: preopens only, read-only means read-only, no
//! sockets, exactly the policy's environment, the given arguments, empty stdin, `proc_exit`.

mod wasm_util;

use gauntlet_sandbox::{Status, Weaken};
use wasm_util::*;

const SECRET: &str = "TOP-SECRET-4711";

/// A temp dir with `secret.txt` outside the preopened `box/`, which holds `inside.txt`.
fn layout() -> (Scratch, std::path::PathBuf) {
    let s = Scratch::new();
    std::fs::write(s.path().join("secret.txt"), SECRET).unwrap();
    let boxed = s.path().join("box");
    std::fs::create_dir(&boxed).unwrap();
    std::fs::write(boxed.join("inside.txt"), "inside-ok").unwrap();
    (s, boxed)
}

#[test]
fn dotdot_and_absolute_paths_do_not_leave_the_preopen() {
    let (s, boxed) = layout();
    let mut p = policy();
    p.fs.ro.push(boxed.clone());
    let abs = s.path().join("secret.txt");
    let abs = abs.to_str().unwrap().as_bytes();
    let paths: [&[u8]; 4] = [
        b"inside.txt",
        b"../secret.txt",
        abs,
        b"inside.txt/../../secret.txt",
    ];
    let mut segs = Vec::new();
    let mut body = String::new();
    let mut at = 1024;
    for path in paths {
        segs.push(data(at, path));
        body += &format!(
            "(call $print_num (call $cat (i32.const 3) (i32.const {at}) (i32.const {})))\n",
            path.len()
        );
        at += path.len() as u32 + 8;
    }
    let o = run_wat(&p, &wasi_module(&segs, &body), &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    let out = stdout(&o);
    assert!(
        out.starts_with("inside-ok0\n"),
        "the preopen itself is readable: {out:?}"
    );
    assert!(!out.contains(SECRET), "read outside the preopen: {out:?}");
    // Three failed opens, each a nonzero errno.
    let errnos: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(errnos.len(), 3, "{out:?}");
    assert!(errnos.iter().all(|e| *e != "0"), "{out:?}");

    // Weakened: "/" is preopened read-write as fd 4; the absolute path (relative to "/") is readable.
    let rel = &abs[1..];
    let wat = wasi_module(
        &[data(1024, rel)],
        &format!(
            "(drop (call $cat (i32.const 4) (i32.const 1024) (i32.const {})))",
            rel.len()
        ),
    );
    let o = run_wat_with(&p, &wat, &[], &[Weaken::WasmPreopenRoot]);
    assert!(stdout(&o).contains(SECRET), "{o:?}");
    assert!(o
        .layers_missing
        .iter()
        .any(|m| m.layer == "wasi_preopens_only"));
}

#[test]
fn read_only_preopens_refuse_writes() {
    let (_s, boxed) = layout();
    let mut p = policy();
    p.fs.ro.push(boxed.clone());
    let wat = wasi_module(
        &[data(1024, b"inside.txt"), data(1100, b"new.txt")],
        "(call $print_num (call $create (i32.const 3) (i32.const 1024) (i32.const 10)))
         (call $print_num (call $create (i32.const 3) (i32.const 1100) (i32.const 7)))",
    );
    let o = run_wat(&p, &wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert!(stdout(&o).lines().all(|e| e != "0"), "{o:?}");
    assert_eq!(
        std::fs::read(boxed.join("inside.txt")).unwrap(),
        b"inside-ok"
    );
    assert!(!boxed.join("new.txt").exists());

    // The same module with the directory read-write does write: the refusal above was the permission.
    let mut p = policy();
    p.fs.rw.push(boxed.clone());
    let o = run_wat(&p, &wat, &[]);
    assert_eq!(stdout(&o), "0\n0\n", "{o:?}");
    assert_eq!(std::fs::read(boxed.join("inside.txt")).unwrap(), b"PWNED");
}

#[test]
fn sockets_are_refused() {
    // WASIp1 cannot create sockets; the socket calls on every plausible descriptor fail.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_shutdown" (func $shut (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (local $fd i32)
        (loop $l
          (if (i32.eqz (call $accept (local.get $fd) (i32.const 0) (i32.const 100))) (then unreachable))
          (if (i32.eqz (call $send (local.get $fd) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100))) (then unreachable))
          (if (i32.eqz (call $recv (local.get $fd) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 104))) (then unreachable))
          (if (i32.eqz (call $shut (local.get $fd) (i32.const 3))) (then unreachable))
          (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $fd) (i32.const 64))))))"#;
    let o = run_wat(&policy(), wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert!(o.layers.iter().any(|l| l == "no_sockets"));
    // Weakened, the layer is reported missing (WASIp1 itself still has no way to open a socket).
    let o = run_wat_with(&policy(), wat, &[], &[Weaken::WasmAllowSockets]);
    assert!(o.layers_missing.iter().any(|m| m.layer == "no_sockets"));
}

/// A module that prints its environment (`KEY=VALUE` lines) and its arguments.
fn env_and_args_module() -> String {
    r#"(module
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esz (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_get" (func $eget (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $asz (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_get" (func $aget (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 64)
      ;; prints n NUL-terminated strings whose pointers are at $ptrs, each followed by a newline
      (func $dump (param $ptrs i32) (param $n i32)
        (local $i i32) (local $s i32) (local $e i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $s (i32.load (i32.add (local.get $ptrs) (i32.mul (local.get $i) (i32.const 4)))))
          (local.set $e (local.get $s))
          (block $z (loop $c
            (br_if $z (i32.eqz (i32.load8_u (local.get $e))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $c)))
          (i32.store8 (local.get $e) (i32.const 10))
          (i32.store (i32.const 0) (local.get $s))
          (i32.store (i32.const 4) (i32.add (i32.sub (local.get $e) (local.get $s)) (i32.const 1)))
          (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l))))
      (func (export "_start")
        (drop (call $esz (i32.const 16) (i32.const 20)))
        (drop (call $eget (i32.const 65536) (i32.const 131072)))
        (call $dump (i32.const 65536) (i32.load (i32.const 16)))
        (drop (call $asz (i32.const 16) (i32.const 20)))
        (drop (call $aget (i32.const 196608) (i32.const 262144)))
        (call $dump (i32.const 196608) (i32.load (i32.const 16)))
        ;; stdin is empty: a read returns 0 bytes
        (i32.store (i32.const 24) (i32.const 1000))
        (i32.store (i32.const 28) (i32.const 100))
        (i32.store (i32.const 32) (i32.const 77))
        (drop (call $fd_read (i32.const 0) (i32.const 24) (i32.const 1) (i32.const 32)))
        (if (i32.ne (i32.load (i32.const 32)) (i32.const 0)) (then unreachable))))"#
        .to_string()
}

#[test]
fn environment_is_exactly_the_policy_and_args_are_as_given() {
    std::env::set_var("GAUNTLET_HOST_ONLY_VAR", "leak");
    let mut p = policy();
    p.env.insert("LANG".into(), "C".into());
    p.env.insert("PLUGIN_MODE".into(), "test".into());
    let s = Scratch::new();
    let module = s.file("env.wat", env_and_args_module());
    let o = run_file(&p, &module, &["one", "two words"], &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    let expected = format!(
        "LANG=C\nPLUGIN_MODE=test\n{}\none\ntwo words\n",
        module.display()
    );
    assert_eq!(stdout(&o), expected);
    assert!(o.layers.iter().any(|l| l == "clean_env"));

    let o = run_file(&p, &module, &[], &[Weaken::WasmInheritEnv]);
    assert!(stdout(&o).contains("GAUNTLET_HOST_ONLY_VAR=leak"), "{o:?}");
    assert!(o.layers_missing.iter().any(|m| m.layer == "clean_env"));
}

#[test]
fn proc_exit_is_the_exit_code() {
    let wat = wasi_module(&[], "(call $proc_exit (i32.const 7)) unreachable");
    let o = run_wat(&policy(), &wat, &[]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.exit_code, Some(7));
    let o = run_wat(&policy(), &wasi_module(&[], ""), &[]);
    assert_eq!((o.status, o.exit_code), (Status::Exited, Some(0)));
    assert_eq!(o.usage.peak_pids, 1);
    assert_eq!(o.backend, "wasm");
    // proc_exit in the start function.
    let wat = r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $x (param i32)))
      (memory (export "memory") 1)
      (func $s (call $x (i32.const 3))) (start $s) (func (export "_start") unreachable))"#;
    let o = run_wat(&policy(), wat, &[]);
    assert_eq!((o.status, o.exit_code), (Status::Exited, Some(3)), "{o:?}");
}
