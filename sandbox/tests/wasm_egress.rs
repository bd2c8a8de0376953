//! The network allowlist of the wasm backend: WASI 0.2 components (`corpora/components/probe.wasm`)
//! under `net.mode = "allow"`, against loopback listeners this test owns. Connects to a listed
//! `ip:port` arrive, anything else is refused before a packet leaves, name lookups fail, listening is
//! refused, `net.mode = "none"` refuses every socket, and every attempt is one `egress` event. Also the
//! component path's usual checks: arguments, environment, exit codes, limits.
//!
//! Only the committed `probe.wasm` is used (the Rust target may be missing here); its `.sha256` sidecar
//! is checked against the source and the binary, so a stale build fails.

mod wasm_util;

use std::ffi::OsString;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gauntlet_sandbox::policy::{Dur, NetMode, Policy};
use gauntlet_sandbox::supervisor::events::{EventResult, Recorded};
use gauntlet_sandbox::wasm::{WasmOptions, WasmSandbox};
use gauntlet_sandbox::{Limit, Outcome, Status};
use sha2::{Digest, Sha256};
use wasm_util::{policy, stderr, stdout};

fn components() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/components")
}

fn probe() -> PathBuf {
    components().join("probe.wasm")
}

/// Runs the probe; returns the Outcome and the events of the run.
fn run(p: &Policy, args: &[&str]) -> (Outcome, Vec<gauntlet_sandbox::supervisor::events::Event>) {
    let events = Arc::new(Recorded::default());
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let o = WasmSandbox::new(WasmOptions::default())
        .expect("the wasm sandbox")
        .with_events(events.clone())
        .run(p, &probe(), &args)
        .expect("the sandbox runs");
    (o, events.take())
}

fn allow(entries: &[String]) -> Policy {
    let mut p = policy();
    p.net.mode = NetMode::Allow;
    p.net.allow = entries.to_vec();
    p
}

/// A nonblocking listener on 127.0.0.1, any port.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// What one connection to `l` sent (the probe has exited, so its stream is complete or closed), or
/// `None` when nobody connected. The run is over when this is called, so a connection that was made
/// is already in the accept queue: no waiting is needed to see that none was.
fn received(l: &TcpListener) -> Option<Vec<u8>> {
    match l.accept() {
        Ok((mut s, _)) => {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            Some(got)
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => None,
        Err(e) => panic!("accept: {e}"),
    }
}

fn egress(
    events: &[gauntlet_sandbox::supervisor::events::Event],
) -> Vec<(String, String, String, bool)> {
    events
        .iter()
        .filter(|e| e.op == "egress")
        .map(|e| {
            assert_eq!(e.args["backend"], "wasm", "{e:?}");
            (
                e.args["proto"].as_str().unwrap().to_string(),
                e.args["use"].as_str().unwrap().to_string(),
                e.args["dest"].as_str().unwrap().to_string(),
                e.result == EventResult::Ok,
            )
        })
        .collect()
}

#[test]
fn the_committed_probe_matches_its_source() {
    let sidecar = std::fs::read_to_string(components().join("probe.wasm.sha256")).unwrap();
    let field = |k: &str| {
        sidecar
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k} ")))
            .unwrap_or_else(|| panic!("no `{k}` line in probe.wasm.sha256"))
            .to_string()
    };
    let hex = |b: &[u8]| -> String {
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    let src = std::fs::read(components().join("src/probe.rs")).unwrap();
    let wasm = std::fs::read(probe()).unwrap();
    assert_eq!(
        field("src"),
        hex(&src),
        "src/probe.rs changed since probe.wasm was built: run scripts/build-components"
    );
    assert_eq!(
        field("wasm"),
        hex(&wasm),
        "probe.wasm is not the build recorded in probe.wasm.sha256: run scripts/build-components"
    );
}

#[test]
fn an_allowed_connect_arrives_and_is_one_ok_event() {
    let (l, port) = listener();
    let dest = format!("127.0.0.1:{port}");
    let (o, events) = run(&allow(std::slice::from_ref(&dest)), &["connect", &dest]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.exit_code, Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("connected {dest}\n"));
    assert!(
        o.layers.iter().any(|l| l == "net_allowlist"),
        "{:?}",
        o.layers
    );
    assert_eq!(received(&l).as_deref(), Some(&b"hello from wasm"[..]));
    assert_eq!(
        egress(&events),
        vec![("tcp".into(), "connect".into(), dest, true)]
    );
    assert_eq!(o.usage.host_calls, 1);
}

#[test]
fn an_unlisted_port_is_refused_and_nothing_arrives() {
    let (allowed, port) = listener();
    let (other, other_port) = listener();
    let dest = format!("127.0.0.1:{port}");
    let unlisted = format!("127.0.0.1:{other_port}");
    let (o, events) = run(&allow(&[dest]), &["connect", &unlisted]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.exit_code, Some(1), "{o:?}");
    assert!(stderr(&o).starts_with("probe: connect:"), "{}", stderr(&o));
    assert!(received(&other).is_none(), "a refused connect arrived");
    assert!(received(&allowed).is_none());
    assert_eq!(
        egress(&events),
        vec![("tcp".into(), "connect".into(), unlisted.clone(), false)]
    );
    match &events[0].result {
        EventResult::Denied(why) => assert!(why.contains(&unlisted), "{why}"),
        r => panic!("{r:?}"),
    }
}

#[test]
fn another_address_on_the_listed_port_is_refused() {
    let (l, port) = listener();
    let dest = format!("127.0.0.1:{port}");
    let (o, events) = run(&allow(&[dest]), &["connect", &format!("127.0.0.2:{port}")]);
    assert_eq!(o.exit_code, Some(1), "{o:?}");
    assert!(received(&l).is_none());
    assert_eq!(egress(&events).len(), 1);
    assert!(!egress(&events)[0].3);
}

#[test]
fn a_name_lookup_fails_even_for_a_listed_name() {
    let (l, port) = listener();
    let (o, events) = run(
        &allow(&[format!("localhost:{port}"), format!("127.0.0.1:{port}")]),
        &["lookup", &format!("localhost:{port}")],
    );
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.exit_code, Some(1), "{o:?}");
    assert!(stderr(&o).starts_with("probe: lookup:"), "{}", stderr(&o));
    assert!(received(&l).is_none());
    assert!(egress(&events).is_empty(), "{events:?}");
}

#[test]
fn listening_is_refused() {
    let (_l, port) = listener();
    let (o, events) = run(&allow(&[format!("127.0.0.1:{port}")]), &["listen"]);
    assert_eq!(o.exit_code, Some(1), "{o:?}");
    assert!(stderr(&o).starts_with("probe: listen:"), "{}", stderr(&o));
    let e = egress(&events);
    assert_eq!(e.len(), 1, "{events:?}");
    assert_eq!(
        (e[0].0.as_str(), e[0].1.as_str(), e[0].3),
        ("tcp", "bind", false)
    );
}

#[test]
fn with_net_none_every_socket_is_refused() {
    let (l, port) = listener();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let udp_dest = udp.local_addr().unwrap().to_string();
    let dest = format!("127.0.0.1:{port}");
    for mode in [NetMode::None, NetMode::Loopback] {
        let mut p = policy();
        p.net.mode = mode;
        for (args, step) in [
            (["connect", dest.as_str()], "connect"),
            (["udp", udp_dest.as_str()], "udp"),
            (["lookup", dest.as_str()], "connect"),
            (["listen", ""], "listen"),
        ] {
            let (o, events) = run(&p, &args);
            assert_eq!(o.status, Status::Exited, "{o:?}");
            assert_eq!(o.exit_code, Some(1), "{args:?}: {}", stdout(&o));
            assert!(
                stderr(&o).starts_with(&format!("probe: {step}:")),
                "{args:?}: {}",
                stderr(&o)
            );
            assert!(o.layers.iter().any(|l| l == "no_sockets"), "{:?}", o.layers);
            assert!(egress(&events).is_empty(), "{events:?}");
        }
    }
    assert!(received(&l).is_none());
    let mut buf = [0u8; 64];
    assert_eq!(
        udp.recv(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[test]
fn udp_follows_the_list_per_datagram() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    let a_dest = a.local_addr().unwrap().to_string();
    let b_dest = b.local_addr().unwrap().to_string();
    let p = allow(std::slice::from_ref(&a_dest));
    let (o, events) = run(&p, &["udp", &a_dest]);
    assert_eq!(o.exit_code, Some(0), "{}", stderr(&o));
    let mut buf = [0u8; 64];
    let n = a.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello from wasm");
    assert_eq!(
        egress(&events),
        vec![("udp".into(), "send".into(), a_dest.clone(), true)]
    );

    let (o, events) = run(&p, &["udp", &b_dest]);
    assert_eq!(o.exit_code, Some(1), "{o:?}");
    assert!(stderr(&o).starts_with("probe: udp:"), "{}", stderr(&o));
    b.set_nonblocking(true).unwrap();
    assert_eq!(b.recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    assert_eq!(
        egress(&events),
        vec![("udp".into(), "send".into(), b_dest, false)]
    );
}

#[test]
fn hello_gets_exactly_its_arguments_and_environment() {
    let mut p = policy();
    p.env.insert("GREETING".into(), "hi there".into());
    let (o, events) = run(&p, &["hello", "a b", "--x=1"]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(o.exit_code, Some(0));
    assert_eq!(
        stdout(&o),
        "arg hello\narg a b\narg --x=1\nenv GREETING=hi there\n"
    );
    assert_eq!(stderr(&o), "probe: hello on stderr\n");
    assert!(
        o.layers.iter().any(|l| l == "component_model"),
        "{:?}",
        o.layers
    );
    assert!(o.usage.peak_memory_bytes > 0);
    assert!(events.is_empty());
}

#[test]
fn exit_codes_and_reads_of_preopens() {
    let (o, _) = run(&policy(), &["exit", "0"]);
    assert_eq!((o.status, o.exit_code), (Status::Exited, Some(0)), "{o:?}");
    // WASI 0.2's `exit` carries success or failure only.
    let (o, _) = run(&policy(), &["exit", "7"]);
    assert_eq!((o.status, o.exit_code), (Status::Exited, Some(1)), "{o:?}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), "12345").unwrap();
    let inside = dir.path().join("f.txt");
    let (o, _) = run(&policy(), &["read", inside.to_str().unwrap()]);
    assert_eq!(o.exit_code, Some(1), "no preopen, no file: {o:?}");
    let mut p = policy();
    p.fs.ro.push(dir.path().to_path_buf());
    let (o, _) = run(&p, &["read", inside.to_str().unwrap()]);
    assert_eq!(o.exit_code, Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "len 5\n");
}

#[test]
fn spin_is_killed_by_the_cpu_and_the_wall_limit() {
    let mut p = policy();
    p.limits.cpu_time = Dur(Duration::from_millis(200));
    let (o, _) = run(&p, &["spin"]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::CpuTime), "{o:?}");
    assert_eq!(o.trap.as_deref(), Some("out_of_fuel"));

    let mut p = policy();
    p.limits.wall_time = Dur(Duration::from_millis(300));
    let started = Instant::now();
    let (o, _) = run(&p, &["spin"]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::WallTime), "{o:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_store_limits_hold_for_components() {
    let mut p = policy();
    p.limits.memory = gauntlet_sandbox::policy::Size(1 << 20);
    let (o, _) = run(&p, &["hello"]);
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(
        o.reason.as_deref().unwrap_or("").starts_with("memory:"),
        "{o:?}"
    );
    assert!(o.usage.limits_hit.contains(&Limit::Memory));

    // A component is several core instances; one is not enough.
    let mut p = policy();
    p.wasm.max_instances = 1;
    let (o, _) = run(&p, &["hello"]);
    assert_eq!(o.status, Status::Rejected, "{o:?}");
    assert!(
        o.reason.as_deref().unwrap_or("").contains("instance"),
        "{o:?}"
    );
}

#[test]
fn a_guest_blocked_in_a_read_ends_at_the_wall_limit() {
    // The listener never accepts nor writes: the connect completes in the backlog and the guest's read
    // blocks in the host, where no epoch check runs.
    let (l, port) = listener();
    let dest = format!("127.0.0.1:{port}");
    let mut p = allow(std::slice::from_ref(&dest));
    p.limits.wall_time = Dur(Duration::from_millis(500));
    let started = Instant::now();
    let (o, events) = run(&p, &["wait", &dest]);
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(o.limit, Some(Limit::WallTime), "{o:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        egress(&events),
        vec![("tcp".into(), "connect".into(), dest, true)]
    );
    drop(l);
}

#[test]
fn a_stop_request_ends_a_blocked_guest() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = l.local_addr().unwrap().to_string();
    let p = allow(std::slice::from_ref(&dest));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Stops the run once the guest's connection has arrived (its read then blocks in the host); keeps
    // the connection open until the run is over.
    let flag = stop.clone();
    let stopper = std::thread::spawn(move || {
        let conn = l.accept().unwrap();
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        conn
    });
    let started = Instant::now();
    let o = WasmSandbox::new(WasmOptions::default())
        .unwrap()
        .with_stop(stop)
        .run(
            &p,
            &probe(),
            &[OsString::from("wait"), OsString::from(&dest)],
        )
        .unwrap();
    assert_eq!(o.status, Status::Killed, "{o:?}");
    assert_eq!(
        o.reason.as_deref(),
        Some(gauntlet_sandbox::process::STOPPED_REASON),
        "{o:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(stopper.join().unwrap());
}
