//! Each oracle's unit behaviour, on real host objects (files, sockets, /proc), including hostile data.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use gauntlet::library::manifest::LimitExpect;
use gauntlet::library::OutcomeExpect;
use gauntlet::oracles::canary::{CanaryOracle, CanaryWatch};
use gauntlet::oracles::health::HealthOracle;
use gauntlet::oracles::honeypot::{HoneypotOracle, Honeypots};
use gauntlet::oracles::hostfs::HostfsOracle;
use gauntlet::oracles::knobs::Knobs;
use gauntlet::oracles::procfs;
use gauntlet::oracles::pstat::{PstatOracle, SelfExe};
use gauntlet::oracles::resources::ResourcesOracle;
use gauntlet::oracles::selfreport::SelfReportOracle;
use gauntlet::oracles::{EvidenceKind, Finding, Finished, Oracle, OracleKind};
use gauntlet::runner::cgroups::Dirs;
use gauntlet_sandbox::{Limit, Outcome, Policy, Status};

const TOKEN: &str = "gauntlet-secret-0123456789abcdef";

fn outcome(stdout: &str) -> Outcome {
    let mut o = Outcome::not_started("process", Status::Exited, "");
    o.reason = None;
    o.exit_code = Some(0);
    o.stdout = stdout.as_bytes().to_vec();
    o
}

fn finished(o: Option<&Outcome>) -> Finished<'_> {
    Finished {
        outcome: o,
        outcome_error: o.is_none().then_some("EOF"),
        wait_status: Some(0),
        timed_out: false,
        elapsed: Duration::from_millis(10),
        exec_stderr: b"",
    }
}

fn canary(scratch: PathBuf) -> CanaryOracle {
    CanaryOracle {
        token: TOKEN.into(),
        nonce: "n0nce".into(),
        scratch,
        watch: None,
        honey: None,
        suite_dns: None,
    }
}

#[test]
fn canary_finds_the_token_in_stdout_and_in_a_nested_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("a/b")).unwrap();
    std::fs::write(d.path().join("a/b/loot"), format!("xx{TOKEN}yy")).unwrap();
    let o = outcome(&format!("leak {TOKEN}\n"));
    let ev = canary(d.path().into()).judge(&finished(Some(&o)));
    let details: Vec<&str> = ev.iter().map(|e| e.detail.as_str()).collect();
    assert!(
        details.contains(&"secret token in the plugin's stdout"),
        "{details:?}"
    );
    assert!(
        details.contains(&"secret token in scratch file \"a/b/loot\""),
        "{details:?}"
    );
    assert!(ev
        .iter()
        .all(|e| e.kind == EvidenceKind::Host && e.finding == Finding::Escape));
}

#[test]
fn canary_never_follows_symlinks_or_opens_fifos() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), TOKEN).unwrap();
    std::fs::create_dir(outside.path().join("dir")).unwrap();
    std::fs::write(outside.path().join("dir/secret"), TOKEN).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("link")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("dir"), d.path().join("dirlink")).unwrap();
    nix::unistd::mkfifo(
        &d.path().join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    // A FIFO with no writer would block a plain open; the oracle must return promptly.
    let ev = canary(d.path().into()).judge(&finished(Some(&outcome(""))));
    assert!(ev.is_empty(), "{ev:?}");
}

#[test]
fn canary_inotify_sees_an_open_after_the_watch() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("secret");
    std::fs::write(&f, TOKEN).unwrap();
    let watch = CanaryWatch::new(&f).unwrap();
    assert!(!watch.pending());
    let _ = std::fs::read(&f).unwrap();
    let mut c = canary(d.path().join("scratch"));
    c.watch = Some(std::sync::Arc::new(watch));
    let ev = c.judge(&finished(Some(&outcome(""))));
    assert_eq!(ev.len(), 1);
    assert!(
        ev[0]
            .detail
            .starts_with("inotify saw the canary file opened 1 time(s)"),
        "{}",
        ev[0].detail
    );
}

#[test]
fn honeypot_records_a_real_loopback_connect_and_datagram() {
    let d = tempfile::tempdir().unwrap();
    let mut hp = Honeypots::start(d.path(), "n0nce").unwrap();
    let a = hp.addresses.clone();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", a.tcp_port)).unwrap();
    s.write_all(TOKEN.as_bytes()).unwrap();
    drop(s);
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(b"hello", ("127.0.0.1", a.udp_port)).unwrap();
    let mut us = UnixStream::connect(&a.unix_path).unwrap();
    us.write_all(b"x").unwrap();
    hp.stop();
    let log = hp.log();
    let mut o = HoneypotOracle::new(log.clone(), None, "n0nce");
    let ev = o.judge(&finished(None));
    let details: Vec<&str> = ev.iter().map(|e| e.detail.as_str()).collect();
    assert!(
        details.contains(&"tcp 127.0.0.1 honeypot received 1 connection(s)"),
        "{details:?}"
    );
    assert!(
        details.contains(&"udp 127.0.0.1 honeypot received 1 datagram(s)"),
        "{details:?}"
    );
    assert!(
        details.contains(&"unix path honeypot received 1 connection(s)"),
        "{details:?}"
    );
    // The canary oracle sees the token in the payload.
    let mut c = canary(d.path().join("none"));
    c.honey = Some(log);
    let ev = c.judge(&finished(None));
    assert_eq!(ev[0].detail, "secret token in a honeypot payload");
}

#[test]
fn honeypot_without_traffic_is_silent() {
    let d = tempfile::tempdir().unwrap();
    let mut hp = Honeypots::start(d.path(), "quiet").unwrap();
    hp.stop();
    assert!(HoneypotOracle::new(hp.log(), None, "quiet")
        .judge(&finished(None))
        .is_empty());
}

#[test]
fn self_report_needs_the_right_nonce_and_word() {
    let o = outcome(
        "GAUNTLET-REPORT wrong escaped forged\n\
         GAUNTLET-REPORT n0nce denied mount\n\
         GAUNTLET-REPORT n0nce contained all\n\
         GAUNTLET-REPORT n0nce escaped ptrace attach\n\
         \u{0}\u{ff}garbage GAUNTLET-REPORT n0nce escaped inline\n",
    );
    let ev = SelfReportOracle::new("n0nce").judge(&finished(Some(&o)));
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].kind, EvidenceKind::SelfReport);
    assert_eq!(ev[0].detail, "attack reports: escaped ptrace attach");
}

#[test]
fn hostfs_sees_appear_change_and_vanish() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("keep"), "1").unwrap();
    std::fs::write(d.path().join("gone"), "1").unwrap();
    let mut o = HostfsOracle::new(vec![("host_dir".into(), d.path().into())]);
    assert!(o.judge(&finished(None)).is_empty());
    let mut o = HostfsOracle::new(vec![("host_dir".into(), d.path().into())]);
    std::fs::write(d.path().join("new"), "x").unwrap();
    std::fs::write(d.path().join("keep"), "22").unwrap();
    std::fs::remove_file(d.path().join("gone")).unwrap();
    let ev = o.judge(&finished(None));
    let text: Vec<String> = ev.iter().map(|e| e.detail.clone()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("host_dir: appeared \"new\"")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("host_dir: changed \"keep\"")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("host_dir: vanished \"gone\"")),
        "{text:?}"
    );
}

#[test]
fn knobs_diff_names_what_changed() {
    let before = Knobs::take();
    assert!(before.diff(&Knobs::take()).is_empty());
    let mut after = before.clone();
    after.core_pattern = "|/tmp/evil".into();
    after.modules.insert("evil_mod".into());
    after.clock_offset_ns += 5_000_000_000;
    let d = before.diff(&after);
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(d[0].starts_with("kernel.core_pattern changed"));
    assert_eq!(d[1], "module appeared: evil_mod");
    assert_eq!(
        d[2],
        "realtime clock moved by 5000 ms against the monotonic clock"
    );
}

#[test]
fn pstat_flags_a_host_process() {
    // This test process is a host process: same namespaces as itself, full root.
    let o = PstatOracle::new(Dirs::default(), SelfExe::current(), Vec::<String>::new());
    let found = o.check_pid(std::process::id() as i32);
    assert!(
        found
            .iter()
            .any(|f| f.contains("shares the host's mnt namespace")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.contains("more than the minimal root")),
        "{found:?}"
    );
    assert!(found.iter().any(|f| f.contains("Seccomp")), "{found:?}");
}

#[test]
fn procfs_status_parser_survives_garbage() {
    let s = procfs::parse_status("Uid:\tx y\nCapEff:\tzz\nNoNewPrivs: -1\nSeccomp\n\u{0}:\n");
    assert!(s.uids.is_empty());
    assert_eq!(s.cap_eff, 0);
    assert_eq!(s.no_new_privs, None);
}

#[test]
fn resources_judge_limits_and_expectations() {
    let limits = Policy::default().limits;
    let mut o = outcome("");
    o.usage.peak_pids = limits.pids as u64 + 1;
    o.usage.peak_memory_bytes = limits.memory.0 * 2;
    let mut r = ResourcesOracle {
        limits: limits.clone(),
        expect: Some(OutcomeExpect {
            status: Some(Status::Killed),
            limit: Some(LimitExpect::Is(Limit::Pids)),
            limits_hit: vec![Limit::Pids],
            trap: None,
        }),
    };
    let ev = r.judge(&finished(Some(&o)));
    let text: Vec<&str> = ev.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(text.len(), 5, "{text:?}");
    assert!(text[0].starts_with("peak memory"));
    assert_eq!(text[2], "status is exited, expected killed");
    assert_eq!(text[3], "limit is none, expected pids");
    assert_eq!(text[4], "limit pids was not hit");
    let mut fine = ResourcesOracle {
        limits,
        expect: None,
    };
    assert!(fine.judge(&finished(Some(&outcome("")))).is_empty());
}

#[test]
fn health_reports_errors() {
    let mut h = HealthOracle;
    assert_eq!(h.kind(), OracleKind::Health);
    let ev = h.judge(&finished(None));
    assert_eq!(ev[0].finding, Finding::Error);
    assert_eq!(ev[0].detail, "gauntlet exec printed no valid Outcome: EOF");
    let mut f = finished(None);
    f.timed_out = true;
    assert!(h.judge(&f)[0].detail.starts_with("gauntlet exec hung"));
    let mut bad = outcome("");
    bad.status = Status::Error;
    bad.reason = Some("mount failed".into());
    assert_eq!(
        h.judge(&finished(Some(&bad)))[0].detail,
        "the sandbox failed: mount failed"
    );
    assert!(h.judge(&finished(Some(&outcome("")))).is_empty());
}
