//! A WASI 0.2 command component for the wasm backend's tests (`sandbox/tests/wasm_egress.rs`).
//!
//! Built by `scripts/build-components` with `rustc --target wasm32-wasip2`; the committed `probe.wasm`
//! is checked against this file's hash (the `src` line of `probe.wasm.sha256`).
//!
//! `probe MODE [ARG]`, one action per run. WASI 0.2's `exit` carries only success or failure, so every
//! failure below leaves with exit code 1 (the code in brackets is what a WASIp1 build would return) and
//! a `probe: STEP: error` line on stderr that names the step.
//! - `hello`: prints its arguments and its environment to stdout, one line each, then a line on stderr.
//! - `exit N`: exits with code N (0 or 1 under WASI 0.2).
//! - `spin`: loops forever (ends by fuel or the wall deadline).
//! - `read PATH`: prints the file's length.
//! - `connect IP:PORT`: TCP connect (a literal address, no lookup), sends `hello from wasm`; exit 0 when
//!   sent, [3] when the connect failed (the error goes to stderr).
//! - `lookup HOST:PORT`: name lookup and connect; exit 0 when connected, [4] when the lookup failed.
//! - `listen`: binds and listens on 127.0.0.1:0; exit 0 when listening, [5] when refused.
//! - `udp IP:PORT`: sends one datagram; exit 0 when sent, [6] when refused.
//! - `wait IP:PORT`: TCP connect, then reads until the peer closes (a guest blocked in a host call);
//!   prints the byte count.
//!
//! `GAUNTLET_DEST` in the environment replaces the argument of `connect`, `lookup`, `udp` and `wait`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::process::exit;

fn fail(code: i32, what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("probe: {what}: {e}");
    exit(code)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("hello");
    let dest = std::env::var("GAUNTLET_DEST")
        .ok()
        .or_else(|| args.get(2).cloned())
        .unwrap_or_default();
    match mode {
        "hello" => {
            for a in &args[1..] {
                println!("arg {a}");
            }
            for (k, v) in std::env::vars() {
                println!("env {k}={v}");
            }
            eprintln!("probe: hello on stderr");
        }
        "exit" => exit(dest.parse().unwrap_or(1)),
        "spin" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "read" => match std::fs::read(&dest) {
            Ok(b) => println!("len {}", b.len()),
            Err(e) => fail(2, "read", e),
        },
        "connect" => {
            let addr: SocketAddr = dest.parse().unwrap_or_else(|e| fail(2, "address", e));
            match TcpStream::connect(addr) {
                Ok(mut s) => {
                    s.write_all(b"hello from wasm").unwrap_or_else(|e| fail(2, "write", e));
                    println!("connected {addr}");
                }
                Err(e) => fail(3, "connect", e),
            }
        }
        "lookup" => match dest.to_socket_addrs() {
            Ok(mut addrs) => match addrs.next().map(TcpStream::connect) {
                Some(Ok(_)) => println!("connected {dest}"),
                Some(Err(e)) => fail(3, "connect", e),
                None => fail(4, "lookup", "no address"),
            },
            Err(e) => fail(4, "lookup", e),
        },
        "wait" => {
            let addr: SocketAddr = dest.parse().unwrap_or_else(|e| fail(2, "address", e));
            let mut s = TcpStream::connect(addr).unwrap_or_else(|e| fail(3, "connect", e));
            let mut got = Vec::new();
            match s.read_to_end(&mut got) {
                Ok(n) => println!("read {n}"),
                Err(e) => fail(2, "read", e),
            }
        }
        "listen" => match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => println!("listening {:?}", l.local_addr()),
            Err(e) => fail(5, "listen", e),
        },
        "udp" => {
            let sent = UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"hello from wasm", &dest));
            match sent {
                Ok(_) => println!("sent {dest}"),
                Err(e) => fail(6, "udp", e),
            }
        }
        other => fail(2, "mode", other),
    }
}
