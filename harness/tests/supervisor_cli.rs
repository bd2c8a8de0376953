//! The supervisor's command line, end to end with real wasm modules and real processes: `gauntlet serve`
//! (once and keep-running, the metrics file and the loopback endpoint, SIGHUP and SIGTERM), `gauntlet audit
//! verify` against deleted, edited, reordered and cut lines, and `gauntlet quarantine list|release`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

fn gauntlet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
}

fn run(args: &[&str]) -> Output {
    gauntlet().args(args).output().expect("gauntlet runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scratch directory with a config, its modules and policies, a state directory and an audit file.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// A module whose `_start` runs `body`, with `$log` (host API) and `$exit` (proc_exit).
fn module(body: &str) -> String {
    format!(
        r#"(module
  (import "gauntlet_host_v1" "log" (func $log (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  (func (export "_start") {body}))"#
    )
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .split_inclusive('\n')
        .map(str::to_string)
        .collect()
}

/// A trail written by `gauntlet serve` in once mode: a wasm plugin and a process plugin.
fn serve_once(s: &Setup) -> Output {
    s.write(
        "ok.wat",
        &module("(drop (call $log (i32.const 0) (i32.const 5)))"),
    );
    s.write(
        "serve.toml",
        "mode = \"once\"\n\
         [[plugin]]\nid = \"hello\"\nbackend = \"wasm\"\nmodule = \"ok.wat\"\n\
         [[plugin]]\nid = \"true\"\nbackend = \"process\"\nprogram = \"/usr/bin/true\"\n",
    );
    run(&[
        "serve",
        &s.s("serve.toml"),
        "--state",
        &s.s("state"),
        "--audit",
        &s.s("audit.jsonl"),
        "--metrics-file",
        &s.s("metrics.prom"),
    ])
}

#[test]
fn serve_once_runs_every_plugin_and_writes_the_metrics_file() {
    let s = Setup::new();
    let o = serve_once(&s);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("[hello] wasm exited code=0"), "{err}");
    assert!(err.contains("[true] process exited code=0"), "{err}");
    let m = std::fs::read_to_string(s.path("metrics.prom")).unwrap();
    assert!(
        m.contains("gauntlet_runs_total{plugin=\"hello\",backend=\"wasm\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("gauntlet_runs_total{plugin=\"true\",backend=\"process\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("gauntlet_events_total{plugin=\"hello\",op=\"log\",result=\"ok\"} 1"),
        "{m}"
    );
    assert!(m.ends_with("# EOF\n"));

    // A plugin that does not exit 0: exit 1.
    s.write(
        "fail.toml",
        "[[plugin]]\nid = \"false\"\nbackend = \"process\"\nprogram = \"/usr/bin/false\"\n",
    );
    let o = run(&["serve", &s.s("fail.toml"), "--state", &s.s("state")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

#[test]
fn audit_verify_finds_each_kind_of_tampering() {
    let s = Setup::new();
    assert_eq!(serve_once(&s).status.code(), Some(0));
    let file = s.path("audit.jsonl");
    let state = s.s("state");
    let verify = |f: &Path, with_state: bool| {
        let f = f.display().to_string();
        let mut args = vec!["audit", "verify", f.as_str()];
        if with_state {
            args.extend(["--state", state.as_str()]);
        }
        run(&args)
    };
    for with_state in [false, true] {
        let o = verify(&file, with_state);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        assert!(text(&o.stdout).contains("intact"), "{}", text(&o.stdout));
    }
    let orig = lines(&file);
    let n = orig.len();
    assert!(n > 6, "{orig:?}");
    let tampered = s.path("tampered.jsonl");
    let t = tampered.display().to_string();
    let case = |edit: &dyn Fn(&mut Vec<String>), with_state: bool, line: usize, words: &str| {
        let mut l = orig.clone();
        edit(&mut l);
        std::fs::write(&tampered, l.concat()).unwrap();
        let o = verify(&tampered, with_state);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
        assert!(out.starts_with(&format!("{t}:{line}: ")), "{out}");
        assert!(out.contains(words), "{out} lacks {words:?}");
        assert_eq!(out.lines().count(), 1, "{out}");
    };
    for with_state in [false, true] {
        case(&|l| drop(l.remove(2)), with_state, 3, "missing");
        case(
            &|l| l[2] = l[2].replacen("\"seq\":2,\"time\":\"2", "\"seq\":2,\"time\":\"1", 1),
            with_state,
            3,
            "edited",
        );
        case(&|l| l.swap(2, 3), with_state, 3, "reordered");
        case(
            &|l| {
                let last = l.pop().unwrap();
                l.push(last[..last.len() - 10].to_string());
            },
            with_state,
            n,
            "truncated",
        );
    }
    // A removed last line: only the state directory's anchor tells.
    let mut l = orig.clone();
    l.pop();
    std::fs::write(&tampered, l.concat()).unwrap();
    assert_eq!(verify(&tampered, false).status.code(), Some(0));
    case(&|l| drop(l.pop()), true, n, "removed from the end");

    let o = run(&["audit", "verify", &s.s("absent.jsonl")]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stderr).lines().count(), 1);
}

#[test]
fn quarantine_list_and_release() {
    let s = Setup::new();
    s.write(
        "oob.wat",
        &module("(drop (call $log (i32.const 65530) (i32.const 100)))"),
    );
    s.write("strict.toml", "[supervisor]\nquarantine_after = 1\n");
    s.write(
        "serve.toml",
        "[[plugin]]\nid = \"oob\"\nbackend = \"wasm\"\nmodule = \"oob.wat\"\npolicy = \"strict.toml\"\n",
    );
    let serve = || run(&["serve", &s.s("serve.toml"), "--state", &s.s("state")]);
    let o = serve();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("trap=host_api_misuse"),
        "{}",
        text(&o.stderr)
    );

    let o = run(&["quarantine", "list", "--state", &s.s("state")]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(out.starts_with("ID "), "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("oob "), "{out}");
    let o = run(&["quarantine", "list", "--state", &s.s("state"), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["id"], "oob");
    assert_eq!(v[0]["violations"], 1);

    // Refused while in quarantine, with the release command in the reason.
    let o = serve();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("rejected"), "{err}");
    assert!(err.contains("is in quarantine since"), "{err}");
    assert!(
        err.contains("gauntlet quarantine release oob --state "),
        "{err}"
    );

    let o = run(&["quarantine", "release", "oob", "--state", &s.s("state")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("released oob"));
    let o = run(&["quarantine", "release", "oob", "--state", &s.s("state")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("not in quarantine"));
    let o = run(&["quarantine", "list", "--state", &s.s("state")]);
    assert_eq!(text(&o.stdout).trim(), "no plugin is in quarantine");
    // It runs again (and is quarantined again by its misuse).
    assert!(text(&serve().stderr).contains("trap=host_api_misuse"));

    let o = run(&["quarantine", "list", "--state", &s.s("no-such-state")]);
    assert_eq!(o.status.code(), Some(2));
}

/// Kills the child on drop (a failed assertion must not leave a server behind).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> (String, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

/// The value of one exact series in metrics text.
fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn serve_keeps_running_with_a_loopback_metrics_endpoint_and_stops_on_sigterm() {
    let s = Setup::new();
    s.write(
        "ok.wat",
        &module("(drop (call $log (i32.const 0) (i32.const 5)))"),
    );
    s.write(
        "quick.toml",
        "[supervisor]\nrestart_backoff = \"20ms\"\nrestart_max = \"20ms\"\n",
    );
    s.write(
        "serve.toml",
        "mode = \"keep-running\"\n\
         [[plugin]]\nid = \"loop\"\nbackend = \"wasm\"\nmodule = \"ok.wat\"\npolicy = \"quick.toml\"\n",
    );
    let child = gauntlet()
        .args([
            "serve",
            &s.s("serve.toml"),
            "--state",
            &s.s("state"),
            "--audit",
            &s.s("audit.jsonl"),
            "--metrics",
            "127.0.0.1:0",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let (tx, rx) = mpsc::channel();
    let stderr = server.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_line = |want: &str| -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.contains(want) => return l,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {want:?}: {e}"),
            }
        }
    };
    let line = wait_line("metrics on http://");
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .trim_end_matches("/metrics")
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    // Wait (with a deadline) until the endpoint shows at least three runs.
    let series = r#"gauntlet_runs_total{plugin="loop",backend="wasm"}"#;
    let deadline = Instant::now() + DEADLINE;
    let body = loop {
        let (head, body) = http_get(&addr, "/metrics");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("application/openmetrics-text"), "{head}");
        if metric(&body, series).is_some_and(|v| v >= 3.0) {
            break body;
        }
        assert!(Instant::now() < deadline, "too few runs:\n{body}");
        wait_line("[loop]");
    };
    assert!(body.ends_with("# EOF\n"));
    assert!(metric(&body, r#"gauntlet_restarts_total{plugin="loop"}"#).unwrap() >= 2.0);
    let (head, _) = http_get(&addr, "/nope");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    // SIGHUP reloads, SIGTERM stops cleanly.
    let pid = nix::unistd::Pid::from_raw(server.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    wait_line("SIGHUP: reloading");
    // The reload is recorded before the notice that prints this line.
    wait_line("[loop] reloaded (requested)");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    wait_line("stopping");
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(st) = server.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        // Polling the child's exit, with a deadline.
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let o = run(&[
        "audit",
        "verify",
        &s.s("audit.jsonl"),
        "--state",
        &s.s("state"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let trail = std::fs::read_to_string(s.path("audit.jsonl")).unwrap();
    assert!(trail.contains("\"op\":\"reload\""), "no reload record");
    assert!(trail.contains("\"op\":\"supervisor_stop\""));
}

#[test]
fn serve_refuses_a_metrics_address_that_is_not_loopback() {
    let s = Setup::new();
    s.write(
        "serve.toml",
        "[[plugin]]\nid = \"t\"\nbackend = \"process\"\nprogram = \"/usr/bin/true\"\n",
    );
    for addr in ["0.0.0.0:9464", "[::]:9464", "192.0.2.1:80"] {
        let o = run(&[
            "serve",
            &s.s("serve.toml"),
            "--state",
            &s.s("state"),
            "--metrics",
            addr,
        ]);
        assert_eq!(o.status.code(), Some(2), "{addr}");
        let err = text(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("not a loopback address"), "{err}");
    }
    assert!(!s.path("state").exists(), "nothing starts before the check");
}
