//! `gauntlet exec --net allow --allow HOST:PORT`: the proxy runs for the run and lists every attempt on
//! the Outcome's stderr; bad entries are one-line errors (exit 2). And the suite's allowed server: its
//! connections are not escapes, while the honeypot on 127.0.0.2 at the same port is one. Loopback only.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use gauntlet::oracles::honeypot::{HoneypotOracle, Honeypots};
use gauntlet::oracles::{Finished, Oracle};

/// The sandbox tests' egress client, compiled once.
fn client() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../sandbox/tests/programs/egress_client.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exec-egress");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(format!("egress_client-{}", std::process::id()));
        let ok = Command::new("cc")
            .args(["-O1", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("cc runs")
            .success();
        assert!(ok, "egress_client.c failed to build");
        out
    })
}

fn exec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .arg("exec")
        .args(args)
        .output()
        .expect("gauntlet runs")
}

#[test]
fn exec_runs_the_proxy_and_lists_every_attempt() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = server.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        s.write_all(b"pong\n").unwrap();
        got
    });
    let allow = format!("127.0.0.1:{p}");
    let denied = format!("127.0.0.1:{}", if p == 65535 { 1 } else { p + 1 });
    let client = client().to_str().unwrap();
    let o = exec(&[
        "--json", "--net", "allow", "--allow", &allow, "--", client, "http", &allow, "hi",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON Outcome");
    assert_eq!(v["status"], "exited");
    assert!(v["stdout"].as_str().unwrap().contains("-> 200"), "{v}");
    assert!(v["stdout"].as_str().unwrap().contains("got pong"), "{v}");
    let err = v["stderr"].as_str().unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "gauntlet egress: http {allow} ok (up 2 B, down 5 B"
        )),
        "{err}"
    );
    assert_eq!(t.join().unwrap(), b"hi");

    let o = exec(&[
        "--net", "allow", "--allow", &allow, "--", client, "http", &denied, "x",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "gauntlet egress: http {denied} denied: {denied} is not on net.allow"
        )),
        "{err}"
    );
}

#[test]
fn bad_allow_entries_are_one_line_errors() {
    for (args, needle) in [
        (
            &["--net", "allow", "--allow", "127.0.0.1:99999"][..],
            "net.allow[0]: \"99999\" is not a port",
        ),
        (
            &[
                "--net",
                "allow",
                "--allow",
                "a.example:1",
                "--allow",
                "a b:1",
            ],
            "net.allow[1]",
        ),
        (
            &["--allow", "127.0.0.1:80"],
            "net.allow: needs net.mode = \"allow\"",
        ),
    ] {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--", "/bin/true"]);
        let o = exec(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn the_allowed_server_is_not_an_escape_but_its_port_on_127_0_0_2_is() {
    let d = tempfile::tempdir().unwrap();
    let mut hp = Honeypots::start(d.path(), "allowed").unwrap();
    let p = hp.addresses.allowed_port;
    for host in ["127.0.0.1", "::1"] {
        let mut s = std::net::TcpStream::connect((host, p)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut banner = [0u8; 17];
        s.read_exact(&mut banner).unwrap();
        assert_eq!(&banner, b"GAUNTLET-ALLOWED\n");
    }
    hp.stop();
    let finished = Finished {
        outcome: None,
        outcome_error: None,
        wait_status: Some(0),
        timed_out: false,
        elapsed: Duration::ZERO,
        exec_stderr: b"",
    };
    assert!(HoneypotOracle::new(hp.log(), None, "allowed")
        .judge(&finished)
        .is_empty());
    assert_eq!(gauntlet::oracles::honeypot::lock(&hp.log()).allowed, 2);

    drop(hp);
    let mut hp = Honeypots::start(d.path(), "rebind").unwrap();
    let p = hp.addresses.allowed_port;
    drop(std::net::TcpStream::connect(("127.0.0.2", p)).unwrap());
    hp.stop();
    let ev = HoneypotOracle::new(hp.log(), None, "rebind").judge(&finished);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(
        ev[0].detail,
        "tcp 127.0.0.2 (the allowed port) honeypot received 1 connection(s)"
    );
}
