//! The process message channel in the harness: `gauntlet exec --channel` (log lines, host calls, the
//! report line, bad input), the manifest's `channel` fields, and the `channel` oracle - on fabricated
//! reports, on a real process's /proc, and end to end through `gauntlet run`, where a supervisor that
//! counted fewer errors than an attack's forged frames must make the case escaped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use gauntlet::library::{Library, VerdictWord};
use gauntlet::oracles::channel::{
    parse_stats, supervisor_memory_bound, ChannelExpect, ChannelOracle, STATS_PREFIX,
};
use gauntlet::oracles::{EvidenceKind, Finding, Finished, Oracle, OracleKind};
use gauntlet::report::Results;
use gauntlet_sandbox::supervisor::channel::{ChannelStats, Closed};
use gauntlet_sandbox::{Outcome, Status};

/// The channel test client of the sandbox crate, compiled once.
fn client() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../sandbox/tests/programs/chan_client.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("harness_chan_client");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(format!("chan_client-{}", std::process::id()));
        let ok = Command::new("cc")
            .args(["-O1", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chan_client.c failed to build");
        out
    })
}

fn gauntlet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
}

#[test]
fn exec_serves_the_channel_and_reports_it_on_its_own_stderr() {
    let o = gauntlet()
        .args(["exec", "--json", "--channel", "--"])
        .arg(client())
        .arg("roundtrip")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let outcome: Outcome = serde_json::from_slice(&o.stdout).expect("one Outcome");
    assert_eq!(outcome.status, Status::Exited);
    assert_eq!(outcome.usage.host_calls, 5);
    assert_eq!(
        String::from_utf8_lossy(&outcome.stderr),
        "[plugin log] hello\n"
    );
    let stats = parse_stats(&o.stderr).expect("a report line").unwrap();
    assert_eq!((stats.requests, stats.ok, stats.errors), (5, 5, 0));
    // Plain mode: the log line on stderr, the report line after the summary.
    let o = gauntlet()
        .args(["exec", "--channel", "--"])
        .arg(client())
        .arg("malformed")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("[plugin log] in step\n"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(last.starts_with(STATS_PREFIX), "{err}");
    assert!(last.contains("\"closed\":\"oversized_frame\""), "{err}");
    // Without --channel there is no descriptor 3 and no report.
    let o = gauntlet()
        .args(["exec", "--"])
        .arg(client())
        .arg("nofd")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "no fd 3\n");
    assert!(parse_stats(&o.stderr).is_none());
}

#[test]
fn channel_with_the_wasm_backend_is_bad_input() {
    let o = gauntlet()
        .args(["exec", "--backend", "wasm", "--channel", "--", "x.wat"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--channel"), "{err}");
}

fn finished<'a>(o: Option<&'a Outcome>, exec_stderr: &'a [u8]) -> Finished<'a> {
    Finished {
        outcome: o,
        outcome_error: None,
        wait_status: Some(0),
        timed_out: false,
        elapsed: Duration::from_millis(10),
        exec_stderr,
    }
}

fn stats_line(s: &ChannelStats) -> Vec<u8> {
    format!(
        "something else\n{STATS_PREFIX}{}\n",
        serde_json::to_string(s).unwrap()
    )
    .into_bytes()
}

fn outcome(host_calls: u64) -> Outcome {
    let mut o = Outcome::not_started("process", Status::Exited, "");
    o.usage.host_calls = host_calls;
    o
}

fn judge(oracle: &mut ChannelOracle, s: &ChannelStats) -> Vec<String> {
    let line = stats_line(s);
    let o = outcome(s.requests);
    oracle
        .judge(&finished(Some(&o), &line))
        .into_iter()
        .map(|e| {
            assert_eq!(e.oracle, OracleKind::Channel);
            assert_eq!(e.kind, EvidenceKind::Host);
            assert_eq!(e.finding, Finding::Escape, "{e:?}");
            e.detail
        })
        .collect()
}

#[test]
fn the_oracle_judges_the_supervisors_counts() {
    let expect = ChannelExpect {
        min_errors: 3,
        min_limited: 0,
        closed: Some(Closed::OversizedFrame),
    };
    let mut oracle = ChannelOracle::new(100, 65536, Some(expect));
    let good = ChannelStats {
        requests: 4,
        ok: 1,
        errors: 3,
        closed: Closed::OversizedFrame,
        ..Default::default()
    };
    assert_eq!(judge(&mut oracle, &good), Vec::<String>::new());
    // Forged frames accepted: fewer errors than the attack sent.
    let fewer = ChannelStats {
        errors: 2,
        ok: 2,
        ..good.clone()
    };
    let ev = judge(&mut oracle, &fewer);
    assert!(ev[0].contains("2 frames answered as malformed"), "{ev:?}");
    // Caps broken.
    for (s, what) in [
        (
            ChannelStats {
                requests: 102,
                ..good.clone()
            },
            "past the cap",
        ),
        (
            ChannelStats {
                log_bytes: 65537,
                ..good.clone()
            },
            "limits.output",
        ),
        (
            ChannelStats {
                kv_entries: 1025,
                ..good.clone()
            },
            "keys",
        ),
        (
            ChannelStats {
                max_buffered: 10 << 20,
                ..good.clone()
            },
            "buffered",
        ),
        (
            ChannelStats {
                closed: Closed::Eof,
                ..good.clone()
            },
            "closed with eof",
        ),
    ] {
        let ev = judge(&mut oracle, &s);
        assert!(ev.iter().any(|d| d.contains(what)), "{what}: {ev:?}");
    }
    // Requests not counted in the Outcome.
    let line = stats_line(&good);
    let o = outcome(0);
    let ev = oracle.judge(&finished(Some(&o), &line));
    assert!(ev[0].detail.contains("usage.host_calls"), "{ev:?}");
    // No report at all: an error, not a pass. A forged report inside the plugin's output does not
    // count: only gauntlet exec's own stderr is read.
    let mut o = outcome(0);
    o.stderr = stats_line(&good);
    let ev = oracle.judge(&finished(Some(&o), b"gauntlet: process exited\n"));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].finding, Finding::Error);
}

#[test]
fn the_oracle_samples_the_supervisors_memory_and_descriptors() {
    let mut oracle = ChannelOracle::new(100, 65536, None);
    oracle.started(std::process::id() as i32);
    oracle.sample();
    let (peak, fds) = oracle.peaks();
    let peak = peak.expect("VmHWM of a live process");
    assert!(
        peak > 1 << 20 && peak < supervisor_memory_bound(65536),
        "{peak}"
    );
    assert!(fds.expect("its descriptor table") >= 3);
    // A supervisor above its bound is an escape, whatever it reported.
    let line = stats_line(&ChannelStats::default());
    let o = outcome(0);
    let mut big = ChannelOracle::new(100, 65536, None).with_memory_bound(peak / 2);
    big.started(std::process::id() as i32);
    let ev = big.judge(&finished(Some(&o), &line));
    assert!(
        ev.iter().any(|e| e.detail.contains("resident memory")),
        "{ev:?}"
    );
}

const FIXTURE_C: &str = r#"
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
/* Sends N frames with an unknown op (N = argv[1]) and reads the answers. */
int main(int argc, char **argv) {
    int n = argc > 1 ? argv[1][0] - '0' : 1;
    for (int i = 0; i < n && i < 9; i++) {
        uint8_t f[9] = {5, 0, 0, 0, 0x7f, (uint8_t)(i + 1), 0, 0, 0};
        send(3, f, sizeof f, MSG_NOSIGNAL);
        uint8_t r[12];
        struct pollfd p = {3, POLLIN, 0};
        if (poll(&p, 1, 2000) == 1) recv(3, r, sizeof r, MSG_WAITALL);
    }
    return 0;
}
"#;

fn fixture_attack(root: &Path, name: &str, frames: u32, min_errors: u32, expect: &str) {
    let dir = root.join("channel").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.c")), FIXTURE_C).unwrap();
    std::fs::write(
        dir.join("attack.toml"),
        format!(
            r#"id = "fix.chan.{name}"
category = "channel"
title = "{name}"
technique = "Unknown op codes on the channel."
backends = ["process"]
source = "{name}.c"
args = ["{frames}"]
oracles = ["census"]
channel = true

[expect]
process = "{expect}"

[expect.channel]
min_errors = {min_errors}
"#
        ),
    )
    .unwrap();
}

#[test]
fn a_run_judges_channel_attacks_from_the_supervisors_counts() {
    let lib = tempfile::tempdir().unwrap();
    // Honest: two forged frames, two errors expected.
    fixture_attack(lib.path(), "honest", 2, 2, "contained");
    // The same attack claiming three: the supervisor counted two, so the host sees the difference.
    fixture_attack(lib.path(), "overclaim", 2, 3, "escaped");
    let loaded = Library::load(lib.path()).unwrap();
    assert!(loaded.problems().is_empty(), "{:?}", loaded.problems());
    assert!(loaded
        .attacks
        .iter()
        .all(|a| a.channel && a.oracles.contains(&OracleKind::Channel)));
    let report = tempfile::tempdir().unwrap();
    let out = gauntlet()
        .args(["run", "--backend", "process", "--library"])
        .arg(lib.path())
        .arg("--report")
        .arg(report.path())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(report.path().join("results.json")).unwrap_or_else(|e| {
        panic!(
            "no results.json ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let results: Results = serde_json::from_str(&text).unwrap();
    let case = |id: &str| results.cases.iter().find(|c| c.id == id).unwrap();
    let honest = case("fix.chan.honest");
    assert_eq!(
        honest.verdict.word,
        VerdictWord::Contained,
        "{:?}",
        honest.evidence
    );
    let over = case("fix.chan.overclaim");
    assert_eq!(
        over.verdict.word,
        VerdictWord::Escaped,
        "{:?}",
        over.evidence
    );
    assert!(over.evidence.iter().any(|e| e.oracle == OracleKind::Channel
        && e.kind == EvidenceKind::Host
        && e.detail.contains("2 frames answered as malformed")));
}

#[test]
fn manifest_channel_fields_are_validated() {
    let lib = tempfile::tempdir().unwrap();
    let write = |cat: &str, name: &str, src: &str, extra: &str| {
        let dir = lib.path().join(cat).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(src), "int main(void){return 0;}\n").unwrap();
        std::fs::write(
            dir.join("attack.toml"),
            format!(
                "id = \"fix.chan.{name}\"\ncategory = \"{cat}\"\ntitle = \"t\"\ntechnique = \"t\"\n\
                 backends = [\"{}\"]\nsource = \"{src}\"\n{extra}",
                if src.ends_with(".wat") { "wasm" } else { "process" }
            ),
        )
        .unwrap();
    };
    write(
        "wasm",
        "on_wasm",
        "on_wasm.wat",
        "oracles = []\nchannel = true\n",
    );
    write(
        "channel",
        "no_flag",
        "no_flag.c",
        "oracles = [\"channel\"]\n",
    );
    write(
        "channel",
        "expect_only",
        "expect_only.c",
        "oracles = []\n[expect.channel]\nmin_errors = 1\n",
    );
    write(
        "channel",
        "bad_closed",
        "bad_closed.c",
        "oracles = []\nchannel = true\n[expect.channel]\nclosed = \"gone\"\n",
    );
    let mut problems: Vec<String> = Library::load(lib.path())
        .unwrap()
        .problems()
        .iter()
        .map(|e| {
            let s = e.to_string();
            s[s.find("attack.toml").unwrap()..].to_string()
        })
        .collect();
    problems.sort();
    assert_eq!(problems.len(), 4, "{problems:?}");
    let all = problems.join("\n");
    for want in [
        "channel: only the process backend has a message channel",
        "oracles: the channel oracle judges only attacks with channel = true",
        "expect.channel: needs channel = true",
        "expect.channel.closed: \"gone\" is not a close reason",
    ] {
        assert!(all.contains(want), "{want} not in:\n{all}");
    }
}
