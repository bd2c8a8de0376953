//! `net.mode = "allow"` in the process backend, with real processes and sockets: the plugin (a small C
//! client, tests/programs/egress_client.c) reaches loopback servers this test binds only through the
//! supervisor's egress proxy, which enforces `net.allow`, the timeouts and the byte cap, and reports
//! every attempt as exactly one event. Only 127.0.0.0/8 addresses on the host's loopback are used.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gauntlet_sandbox::policy::{Dur, NetMode, Policy, Size};
use gauntlet_sandbox::process::{ProcessOptions, ProcessSandbox, RunExtras, EGRESS_SOCKET};
use gauntlet_sandbox::supervisor::egress::{EgressConfig, EgressProxy};
use gauntlet_sandbox::supervisor::{Event, EventResult, Recorded};
use gauntlet_sandbox::{Outcome, Status};
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// The client, compiled once per test process.
fn client() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/egress_client.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("egress");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(format!("egress_client-{}", std::process::id()));
        let status = std::process::Command::new("cc")
            .args(["-O1", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("cc runs");
        assert!(status.success(), "egress_client.c failed to build");
        out
    })
}

/// A loopback server owned by the test: for each connection it keeps what arrives until end of file,
/// then answers `pong`.
struct Server {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(listener: TcpListener) -> Server {
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let (stop_tx, stop_rx) = UnixStream::pair().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let (acc, g) = (accepted.clone(), got.clone());
        let thread = std::thread::spawn(move || {
            let mut conns = Vec::new();
            loop {
                let mut fds = [
                    PollFd::new(listener.as_fd(), PollFlags::POLLIN),
                    PollFd::new(stop_rx.as_fd(), PollFlags::POLLIN),
                ];
                let _ = nix::poll::poll(&mut fds, PollTimeout::NONE);
                while let Ok((mut s, _)) = listener.accept() {
                    acc.fetch_add(1, Ordering::SeqCst);
                    let g = g.clone();
                    conns.push(std::thread::spawn(move || {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                        let mut buf = Vec::new();
                        let _ = s.read_to_end(&mut buf);
                        g.lock().unwrap().push(buf);
                        let _ = s.write_all(b"pong\n");
                    }));
                }
                if fds[1].revents().is_some_and(|r| !r.is_empty()) {
                    break;
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Server {
            addr,
            accepted,
            got,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn loopback() -> Server {
        Server::start(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops accepting, waits for every connection to end, returns what each one sent.
    fn finish(&mut self) -> Vec<Vec<u8>> {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let mut v = self.got.lock().unwrap().clone();
        v.sort();
        v
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.finish();
    }
}

fn allow_policy(allow: &[String]) -> Policy {
    let mut p = Policy::default();
    p.limits.wall_time = Dur(Duration::from_secs(20));
    p.limits.memory = Size(128 << 20);
    p.net.mode = NetMode::Allow;
    p.net.allow = allow.to_vec();
    p.validate().unwrap();
    p
}

/// Runs the client through a fresh proxy for `policy`; returns the Outcome and every event.
fn run_through(policy: &Policy, config: EgressConfig, args: &[&str]) -> (Outcome, Vec<Event>) {
    let events = Arc::new(Recorded::default());
    let mut proxy = EgressProxy::start(config, events.clone()).expect("the proxy starts");
    let outcome = run_with_proxy(policy, &proxy, args);
    proxy.stop().unwrap();
    (outcome, events.take())
}

fn run_with_proxy(policy: &Policy, proxy: &EgressProxy, args: &[&str]) -> Outcome {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let extras = RunExtras {
        egress: Some(proxy.socket_path()),
        ..RunExtras::default()
    };
    let o = ProcessSandbox::new(ProcessOptions::default())
        .run_with(policy, client(), &args, extras)
        .expect("the sandbox runs");
    assert_eq!(o.status, Status::Exited, "{o:?}");
    o
}

fn config(policy: &Policy) -> EgressConfig {
    EgressConfig::from_policy(policy, &Default::default()).unwrap()
}

fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn dest(e: &Event) -> String {
    e.args["dest"].as_str().unwrap_or("-").to_string()
}

#[test]
fn an_allowed_loopback_server_is_reached_through_http_connect_and_socks5() {
    let mut server = Server::loopback();
    let p = server.port();
    let policy = allow_policy(&[format!("127.0.0.1:{p}")]);
    let auth = format!("127.0.0.1:{p}");
    let port = p.to_string();
    let (o, events) = run_through(&policy, config(&policy), &["http", &auth, "ping-http"]);
    let out = stdout(&o);
    assert!(out.contains(&format!("http {auth} -> 200")), "{out}");
    assert!(out.contains("got pong"), "{out}");
    let (o2, events2) = run_through(
        &policy,
        config(&policy),
        &["socks", "4", "127.0.0.1", &port, "ping-socks4"],
    );
    let (o3, events3) = run_through(
        &policy,
        config(&policy),
        &["socks", "6", "::ffff:127.0.0.1", &port, "ping-mapped"],
    );
    for o in [&o2, &o3] {
        let out = stdout(o);
        assert!(out.contains("-> 0\n") && out.contains("got pong"), "{out}");
    }
    let got = server.finish();
    assert_eq!(
        got,
        vec![
            b"ping-http".to_vec(),
            b"ping-mapped".to_vec(),
            b"ping-socks4".to_vec()
        ]
    );
    for (evs, proto, up) in [
        (&events, "http", 9),
        (&events2, "socks5", 11),
        (&events3, "socks5", 11),
    ] {
        assert_eq!(evs.len(), 1, "{evs:?}");
        let e = &evs[0];
        assert_eq!(e.op, "egress");
        assert_eq!(e.result, EventResult::Ok, "{e:?}");
        assert_eq!(e.args["proto"], proto);
        assert_eq!(dest(e), auth);
        assert_eq!(e.args["bytes_up"], up);
        assert_eq!(e.args["bytes_down"], 5);
        assert_eq!(e.args["reply"], 200);
        assert!(e.args.get("error").is_none(), "{e:?}");
    }
}

#[test]
fn destinations_off_the_list_are_refused_and_never_reached() {
    let mut allowed = Server::loopback();
    let mut other = Server::loopback();
    let (a, b) = (allowed.port(), other.port());
    let policy = allow_policy(&[format!("127.0.0.1:{a}")]);
    let b_auth = format!("127.0.0.1:{b}");
    let b_port = b.to_string();
    let tricky = format!("127.1:{a}");
    let attempts: [&[&str]; 5] = [
        &["http", &b_auth, "x"],
        &["socks", "4", "127.0.0.1", &b_port, "x"],
        &["socks", "name", "localhost", &b_port, "x"],
        &["socks", "6", "::1", &b_port, "x"],
        &["http", &tricky, "x"],
    ];
    let mut all = Vec::new();
    for args in attempts {
        let (o, events) = run_through(&policy, config(&policy), args);
        all.push((stdout(&o), events));
    }
    assert!(all[0].0.contains(" -> 403"), "{}", all[0].0);
    for (out, _) in &all[1..4] {
        assert!(out.contains(" -> 2\n"), "SOCKS5 'not allowed': {out}");
    }
    assert!(all[4].0.contains(" -> 400"), "{}", all[4].0);
    let results: Vec<&EventResult> = all
        .iter()
        .map(|(_, ev)| {
            assert_eq!(ev.len(), 1, "one event per attempt: {ev:?}");
            &ev[0].result
        })
        .collect();
    for r in &results[..4] {
        assert!(matches!(r, EventResult::Denied(_)), "{r:?}");
    }
    assert!(
        matches!(results[4], EventResult::Error(_)),
        "{:?}",
        results[4]
    );
    assert_eq!(dest(&all[0].1[0]), b_auth);
    assert_eq!(dest(&all[2].1[0]), format!("localhost:{b}"));
    assert_eq!(all[4].1[0].args["dest"], serde_json::Value::Null);
    other.finish();
    allowed.finish();
    assert_eq!(other.accepted.load(Ordering::SeqCst), 0);
    assert_eq!(allowed.accepted.load(Ordering::SeqCst), 0);
}

#[test]
fn there_is_no_route_around_the_proxy() {
    let mut server = Server::loopback();
    let p = server.port();
    let port = p.to_string();
    let policy = allow_policy(&[format!("127.0.0.1:{p}")]);
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let host_sock = dir.path().join("host.sock");
    let unix = std::os::unix::net::UnixListener::bind(&host_sock).unwrap();
    std::fs::set_permissions(&host_sock, std::fs::Permissions::from_mode(0o777)).unwrap();
    unix.set_nonblocking(true).unwrap();
    let name = format!("gauntlet-egress-test-{}", std::process::id());
    use std::os::linux::net::SocketAddrExt;
    let abs_addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let abs = std::os::unix::net::UnixListener::bind_addr(&abs_addr).unwrap();
    abs.set_nonblocking(true).unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let udp_port = udp.local_addr().unwrap().port().to_string();
    let host_path = host_sock.to_str().unwrap();
    let mut outs = Vec::new();
    let mut all_events = Vec::new();
    for args in [
        &["direct", "127.0.0.1", &port][..],
        &["udp", "127.0.0.1", &udp_port],
        &["unix", host_path],
        &["abstract", &name],
    ] {
        let (o, ev) = run_through(&policy, config(&policy), args);
        outs.push(stdout(&o));
        all_events.extend(ev);
    }
    assert!(!outs[0].contains("CONNECTED"), "{}", outs[0]);
    assert!(!outs[1].contains("SENT"), "{}", outs[1]);
    assert!(outs[2].contains("No such file"), "{}", outs[2]);
    assert!(!outs[3].contains("CONNECTED"), "{}", outs[3]);
    assert!(all_events.is_empty(), "{all_events:?}");
    server.finish();
    assert_eq!(server.accepted.load(Ordering::SeqCst), 0);
    assert!(unix.accept().is_err() && abs.accept().is_err());
    let mut buf = [0u8; 16];
    assert!(udp.recv_from(&mut buf).is_err(), "a datagram got out");
}

#[test]
fn the_byte_cap_closes_a_tunnel_exactly_at_the_limit() {
    let mut server = Server::loopback();
    let p = server.port();
    let mut policy = allow_policy(&[format!("127.0.0.1:{p}")]);
    policy.net.max_bytes = Size(4096);
    let auth = format!("127.0.0.1:{p}");
    let (o, events) = run_through(&policy, config(&policy), &["bulk", &auth, "100000"]);
    let out = stdout(&o);
    assert!(
        out.contains("-> 200") && out.contains("bulk back 0"),
        "{out}"
    );
    let got = server.finish();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].len(), 4096, "the destination got more than the cap");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        matches!(&events[0].result, EventResult::Limit(r) if r.contains("net.max_bytes")),
        "{events:?}"
    );
    assert_eq!(events[0].args["bytes_up"], 4096);
}

#[test]
fn idle_tunnels_slow_requests_and_silent_destinations_hit_the_timeout() {
    let mut server = Server::loopback();
    let p = server.port();
    // A listener with a full accept queue: connects to it get no answer.
    let silent = silent_listener();
    let s = silent.port();
    let mut policy = allow_policy(&[format!("127.0.0.1:{p}"), format!("127.0.0.1:{s}")]);
    policy.net.timeout = Dur(Duration::from_millis(300));
    let auth = format!("127.0.0.1:{p}");
    let silent_auth = format!("127.0.0.1:{s}");
    let (idle, idle_ev) = run_through(&policy, config(&policy), &["idle", &auth]);
    let (slow, slow_ev) = run_through(&policy, config(&policy), &["slow"]);
    let (dead, dead_ev) = run_through(&policy, config(&policy), &["http", &silent_auth, "x"]);
    assert!(
        stdout(&idle).contains("idle closed after"),
        "{}",
        stdout(&idle)
    );
    assert!(
        stdout(&slow).contains("slow closed after"),
        "{}",
        stdout(&slow)
    );
    assert!(stdout(&dead).contains("-> 504"), "{}", stdout(&dead));
    for (ev, word) in [(&idle_ev, "idle"), (&slow_ev, "no complete request")] {
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert!(
            matches!(&ev[0].result, EventResult::Limit(r) if r.contains(word)),
            "{ev:?}"
        );
        let ms = ev[0].args["duration_ms"].as_u64().unwrap();
        assert!((290..5000).contains(&ms), "closed after {ms} ms");
    }
    assert_eq!(dead_ev.len(), 1);
    assert_eq!(dead_ev[0].result, EventResult::Ok);
    assert_eq!(dead_ev[0].args["reply"], 504);
    assert!(dead_ev[0].args["error"]
        .as_str()
        .unwrap()
        .contains("no answer"));
    server.finish();
    drop(silent);
}

/// A loopback listener whose accept queue (backlog 0) is full, so that further SYNs are dropped.
struct Silent {
    port: u16,
    _listener: std::os::fd::OwnedFd,
    _fillers: Vec<std::os::fd::OwnedFd>,
}

impl Silent {
    fn port(&self) -> u16 {
        self.port
    }
}

fn silent_listener() -> Silent {
    use nix::sys::socket::*;
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    let any = SockaddrIn::new(127, 0, 0, 1, 0);
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &any).unwrap();
    listen(&fd, Backlog::new(0).unwrap()).unwrap();
    let addr: SockaddrIn = getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd)).unwrap();
    let port = addr.port();
    let mut fillers = Vec::new();
    // Fill the queue until a connect does not complete at once.
    for _ in 0..8 {
        let c = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )
        .unwrap();
        let r = connect(
            std::os::fd::AsRawFd::as_raw_fd(&c),
            &SockaddrIn::new(127, 0, 0, 1, port),
        );
        let mut fds = [PollFd::new(c.as_fd(), PollFlags::POLLOUT)];
        let done = r.is_ok() || nix::poll::poll(&mut fds, PollTimeout::from(200u16)) == Ok(1);
        fillers.push(c);
        if !done {
            break;
        }
    }
    Silent {
        port,
        _listener: fd,
        _fillers: fillers,
    }
}

#[test]
fn allowed_names_are_pinned_when_the_proxy_starts() {
    // The same port on 127.0.0.1 (the name's first answer) and on 127.0.0.2 (what it would say next).
    let (mut pinned, mut decoy) = same_port_pair();
    let p = pinned.port();
    let port = p.to_string();
    let policy = allow_policy(&[format!("svc.gauntlet.test:{p}")]);
    let lookups = AtomicUsize::new(0);
    let resolve = |name: &str| -> std::io::Result<Vec<IpAddr>> {
        assert_eq!(name, "svc.gauntlet.test");
        let first = lookups.fetch_add(1, Ordering::SeqCst) == 0;
        Ok(vec![if first { "127.0.0.1" } else { "127.0.0.2" }
            .parse()
            .unwrap()])
    };
    let events = Arc::new(Recorded::default());
    let mut proxy =
        EgressProxy::start_with_resolver(config(&policy), events.clone(), &resolve).unwrap();
    assert_eq!(
        proxy.pinned().get("svc.gauntlet.test"),
        Some(&vec!["127.0.0.1".parse::<IpAddr>().unwrap()])
    );
    let upper = format!("SVC.Gauntlet.Test.:{p}");
    let by_pinned_ip = format!("127.0.0.1:{p}");
    let by_other_ip = format!("127.0.0.2:{p}");
    let mut outs = Vec::new();
    for args in [
        &["socks", "name", "svc.gauntlet.test", &port, "by-name"][..],
        &["http", &upper, "by-upper"],
        &["http", &by_pinned_ip, "by-ip"],
        &["http", &by_other_ip, "x"],
        &["socks", "name", "svc.gauntlet.test\u{1}", &port, "x"],
    ] {
        outs.push(stdout(&run_with_proxy(&policy, &proxy, args)));
    }
    proxy.stop().unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        1,
        "the name was resolved again"
    );
    assert!(outs[0].contains("-> 0\n"), "{}", outs[0]);
    assert!(outs[1].contains("-> 200"), "{}", outs[1]);
    assert!(outs[2].contains("-> 200"), "{}", outs[2]);
    assert!(outs[3].contains("-> 403"), "{}", outs[3]);
    assert!(outs[4].contains("-> 1\n"), "{}", outs[4]);
    let ev = events.take();
    assert_eq!(ev.len(), 5, "{ev:?}");
    assert_eq!(dest(&ev[1]), format!("svc.gauntlet.test:{p}"));
    assert_eq!(
        pinned.finish(),
        vec![b"by-ip".to_vec(), b"by-name".to_vec(), b"by-upper".to_vec()]
    );
    decoy.finish();
    assert_eq!(decoy.accepted.load(Ordering::SeqCst), 0);
}

fn same_port_pair() -> (Server, Server) {
    for _ in 0..50 {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if let Ok(b) = TcpListener::bind(("127.0.0.2", p)) {
            return (Server::start(a), Server::start(b));
        }
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2");
}

/// Host-side client of the proxy socket (the test itself, no sandbox).
fn raw(proxy: &EgressProxy, bytes: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(proxy.socket_path()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn malformed_and_oversized_requests_are_answered_and_logged_once_each() {
    let policy = allow_policy(&["127.0.0.1:9".into()]);
    let events = Arc::new(Recorded::default());
    let mut proxy = EgressProxy::start(config(&policy), events.clone()).unwrap();
    let mut huge = b"CONNECT 127.0.0.1:9 HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 9000));
    let answers = [
        raw(&proxy, b"\x16\x03\x01\x02\x00"),
        raw(&proxy, b"GET http://127.0.0.1:9/ HTTP/1.1\r\n\r\n"),
        raw(&proxy, &huge),
        raw(&proxy, b"\x05\x01\x02"),
        raw(&proxy, b"CONNECT 127.0.0.1:9\0 HTTP/1.1\r\n\r\n"),
        raw(
            &proxy,
            b"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x09",
        ),
    ];
    proxy.stop().unwrap();
    assert!(answers[0].is_empty());
    assert!(answers[1].starts_with(b"HTTP/1.1 405"));
    assert!(answers[2].starts_with(b"HTTP/1.1 431"));
    assert_eq!(answers[3], b"\x05\xff");
    assert!(answers[4].starts_with(b"HTTP/1.1 400"));
    assert_eq!(
        &answers[5][2..4],
        b"\x05\x07",
        "command BIND is not supported"
    );
    let ev = events.take();
    assert_eq!(ev.len(), 6, "{ev:?}");
    assert!(matches!(ev[2].result, EventResult::Limit(_)), "{:?}", ev[2]);
    for i in [0, 1, 3, 4, 5] {
        assert!(matches!(ev[i].result, EventResult::Error(_)), "{:?}", ev[i]);
    }
    assert!(!proxy.socket_path().exists(), "stop removes the socket");
}

#[test]
fn the_connection_cap_holds_and_stop_ends_open_tunnels() {
    let mut server = Server::loopback();
    let p = server.port();
    let policy = allow_policy(&[format!("127.0.0.1:{p}")]);
    let mut cfg = config(&policy);
    cfg.max_conns = 2;
    let events = Arc::new(Recorded::default());
    let mut proxy = EgressProxy::start(cfg, events.clone()).unwrap();
    let open = |proxy: &EgressProxy| {
        let mut s = UnixStream::connect(proxy.socket_path()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "CONNECT 127.0.0.1:{p} HTTP/1.1\r\n\r\n").unwrap();
        let mut head = [0u8; 39];
        s.read_exact(&mut head).unwrap();
        assert!(head.starts_with(b"HTTP/1.1 200"));
        s
    };
    let mut held = [open(&proxy), open(&proxy)];
    let mut third = UnixStream::connect(proxy.socket_path()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(third.read_to_end(&mut buf).unwrap(), 0, "closed at once");
    let t = Instant::now();
    proxy.stop().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "stop waited on a tunnel"
    );
    for s in &mut held {
        let mut rest = Vec::new();
        assert_eq!(
            s.read_to_end(&mut rest).unwrap(),
            0,
            "the tunnel stays open"
        );
    }
    let ev = events.take();
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(matches!(&ev[0].result, EventResult::Limit(r) if r.contains("2 connections")));
    for e in &ev[1..] {
        assert_eq!(e.result, EventResult::Ok);
        assert_eq!(e.args["closed"], "the run ended");
    }
    server.finish();
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn the_socket_is_at_the_documented_path_only_with_allow() {
    assert_eq!(EGRESS_SOCKET, "/run/gauntlet/egress.sock");
    let policy = allow_policy(&[]);
    let events = Arc::new(Recorded::default());
    let proxy = EgressProxy::start(config(&policy), events).unwrap();
    let mut none = Policy::default();
    none.net.mode = NetMode::None;
    let args: Vec<OsString> = vec!["unix".into(), EGRESS_SOCKET.into()];
    let err = ProcessSandbox::new(ProcessOptions::default())
        .run_with(
            &none,
            client(),
            &args,
            RunExtras {
                egress: Some(proxy.socket_path()),
                ..RunExtras::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("net.mode"), "{err}");
    let o = run_with_proxy(&policy, &proxy, &["unix", EGRESS_SOCKET]);
    assert!(stdout(&o).contains("CONNECTED"), "{}", stdout(&o));
    let o = ProcessSandbox::new(ProcessOptions::default())
        .run(&policy, client(), &args)
        .unwrap();
    assert!(stdout(&o).contains("No such file"), "{}", stdout(&o));
}
