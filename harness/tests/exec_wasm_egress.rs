//! `gauntlet exec --backend wasm --net allow --allow HOST:PORT -- probe.wasm connect HOST:PORT`: a WASI
//! 0.2 component reaches a listed destination through wasmtime's sockets (checked by the same allowlist
//! as the process backend's proxy), and an unlisted one is refused. Loopback only; the listeners
//! belong to this test.

use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

fn probe() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora/components/probe.wasm")
}

fn exec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .arg("exec")
        .args(args)
        .output()
        .expect("gauntlet runs")
}

#[test]
fn exec_wasm_connects_to_an_allowed_port_only() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    other.set_nonblocking(true).unwrap();
    let allow = server.local_addr().unwrap().to_string();
    let unlisted = other.local_addr().unwrap().to_string();
    let probe = probe();
    let probe = probe.to_str().unwrap();

    let o = exec(&[
        "--json",
        "--backend",
        "wasm",
        "--net",
        "allow",
        "--allow",
        &allow,
        "--",
        probe,
        "connect",
        &allow,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON Outcome");
    assert_eq!(v["status"], "exited", "{v}");
    assert_eq!(v["exit_code"], 0, "{v}");
    assert_eq!(v["stdout"], format!("connected {allow}\n"), "{v}");
    // The run is over: its connection is in the accept queue, complete.
    let (mut s, _) = server.accept().expect("the allowed connection arrived");
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hello from wasm");

    let o = exec(&[
        "--backend",
        "wasm",
        "--net",
        "allow",
        "--allow",
        &allow,
        "--",
        probe,
        "connect",
        &unlisted,
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("probe: connect:"), "{err}");
    assert_eq!(
        other.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock,
        "the unlisted port got a connection"
    );
}
