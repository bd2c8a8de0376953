//! The audit trail against real runs: what it records (host-API calls of a real wasm module, a real
//! process run), that it never holds secrets or payload bytes, and that every kind of tampering is found
//! at the right line — with and without the supervisor's state directory.

mod common;
mod supervisor_util;

use std::path::PathBuf;

use gauntlet_sandbox::supervisor::audit::{verify, verify_with_state, Verdict};
use gauntlet_sandbox::supervisor::{Program, Supervisor, SupervisorErrorKind};
use gauntlet_sandbox::Status;
use sha2::{Digest, Sha256};
use supervisor_util::*;

/// A trail written by a real supervisor: three runs of a wasm module that uses the host API.
struct Trail {
    dir: tempfile::TempDir,
}

impl Trail {
    fn new() -> Trail {
        let dir = tempfile::tempdir().unwrap();
        let module = write(
            dir.path(),
            "host.wat",
            &host_module(
                "payload-do-not-audit",
                "(drop (call $log (i32.const 0) (i32.const 20)))
                 (drop (call $put (i32.const 0) (i32.const 7) (i32.const 8) (i32.const 12)))
                 (drop (call $get (i32.const 0) (i32.const 7) (i32.const 100) (i32.const 64)))",
            ),
        );
        let t = Trail { dir };
        let sup = Supervisor::open(&t.state(), Some(&t.file())).unwrap();
        let spec = spec("host", Program::Wasm(module), &[], policy());
        for _ in 0..3 {
            let o = sup.run(&spec).unwrap();
            assert_eq!(o.status, Status::Exited, "{o:?}");
        }
        drop(sup);
        t
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn check(&self, with_state: bool) -> Verdict {
        let state = self.state();
        verify_with_state(&self.file(), with_state.then_some(state.as_path())).unwrap()
    }
}

fn broken_at(v: &Verdict) -> (u64, String) {
    match v {
        Verdict::Broken(b) => (b.line, b.reason.clone()),
        Verdict::Intact(i) => panic!("expected a broken trail, got {i:?}"),
    }
}

#[test]
fn a_clean_trail_verifies_and_records_host_calls_by_shape() {
    let t = Trail::new();
    let recs = records(&t.file());
    let ops: Vec<&str> = recs.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(ops[0], "audit_open");
    assert_eq!(ops[1], "supervisor_start");
    assert_eq!(ops.iter().filter(|o| **o == "run_start").count(), 3);
    assert_eq!(ops.iter().filter(|o| **o == "run").count(), 3);
    assert_eq!(ops.iter().filter(|o| **o == "log").count(), 3);
    assert_eq!(ops.iter().filter(|o| **o == "kv_put").count(), 3);
    assert_eq!(ops.iter().filter(|o| **o == "kv_get").count(), 3);
    assert_eq!(*ops.last().unwrap(), "supervisor_stop");
    let log = recs.iter().find(|r| r["op"] == "log").unwrap();
    assert_eq!(log["plugin"], "host");
    assert_eq!(log["args"]["bytes"], 20);
    assert_eq!(log["result"]["kind"], "ok");
    assert_eq!(log["policy"].as_str().unwrap().len(), 64);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["seq"], i as u64);
    }
    let text = std::fs::read_to_string(t.file()).unwrap();
    assert!(
        !text.contains("payload-do-not-audit"),
        "payload bytes in the trail"
    );

    match t.check(false) {
        Verdict::Intact(v) => {
            assert_eq!(v.records, recs.len() as u64);
            assert!(!v.authenticated);
        }
        b => panic!("{b:?}"),
    }
    match t.check(true) {
        Verdict::Intact(v) => {
            assert!(v.authenticated);
            assert_eq!(v.anchored_at, Some(v.last_seq));
        }
        b => panic!("{b:?}"),
    }
}

#[test]
fn a_deleted_line_is_found_where_it_was() {
    let t = Trail::new();
    let mut l = lines(&t.file());
    l.remove(4);
    write_lines(&t.file(), &l);
    for with_state in [false, true] {
        let (line, reason) = broken_at(&t.check(with_state));
        assert_eq!(line, 5, "{reason}");
        assert!(reason.contains("seq 5 where 4 was expected"), "{reason}");
        assert!(
            reason.contains("1 record before this line is missing"),
            "{reason}"
        );
    }
}

#[test]
fn an_edited_line_is_found_and_a_rehashed_edit_fails_its_mac() {
    let t = Trail::new();
    let orig = lines(&t.file());
    let mut l = orig.clone();
    assert!(l[6].contains("\"plugin\":\"host\""), "{}", l[6]);
    l[6] = l[6].replace("\"plugin\":\"host\"", "\"plugin\":\"hest\"");
    write_lines(&t.file(), &l);
    for with_state in [false, true] {
        let (line, reason) = broken_at(&t.check(with_state));
        assert_eq!(line, 7, "{reason}");
        assert!(reason.contains("hash does not match"), "{reason}");
    }

    // The editor recomputes the line's hash (anyone can): the chain breaks at the next line, and with
    // the state directory the edited line's MAC gives it away.
    let body_end = l[6].find(",\"hash\":\"").unwrap();
    let body = format!("{}}}", &l[6][..body_end]);
    let new_hash = hex(&Sha256::digest(body.as_bytes()));
    let old_hash = &l[6][body_end + 9..body_end + 9 + 64];
    l[6] = l[6].replace(old_hash, &new_hash);
    write_lines(&t.file(), &l);
    let (line, reason) = broken_at(&t.check(false));
    assert_eq!(line, 8, "{reason}");
    assert!(reason.contains("prev does not match"), "{reason}");
    let (line, reason) = broken_at(&t.check(true));
    assert_eq!(line, 7, "{reason}");
    assert!(reason.contains("MAC does not match"), "{reason}");
}

#[test]
fn reordered_lines_are_found() {
    let t = Trail::new();
    let mut l = lines(&t.file());
    l.swap(3, 4);
    write_lines(&t.file(), &l);
    for with_state in [false, true] {
        let (line, reason) = broken_at(&t.check(with_state));
        assert_eq!(line, 4, "{reason}");
        assert!(reason.contains("seq 4 where 3 was expected"), "{reason}");
    }
}

#[test]
fn a_truncated_last_record_is_found() {
    let t = Trail::new();
    let mut l = lines(&t.file());
    let n = l.len();
    let last = l[n - 1].clone();
    l[n - 1] = last[..last.len() / 2].to_string();
    write_lines(&t.file(), &l);
    for with_state in [false, true] {
        let (line, reason) = broken_at(&t.check(with_state));
        assert_eq!(line, n as u64, "{reason}");
        assert!(reason.contains("truncated"), "{reason}");
    }
}

#[test]
fn a_removed_last_line_is_found_with_the_state_directory() {
    let t = Trail::new();
    let mut l = lines(&t.file());
    let n = l.len();
    l.pop();
    write_lines(&t.file(), &l);
    // The chain alone cannot tell: what is left is a valid trail.
    assert!(matches!(t.check(false), Verdict::Intact(_)));
    let (line, reason) = broken_at(&t.check(true));
    assert_eq!(line, n as u64, "{reason}");
    assert!(reason.contains("removed from the end"), "{reason}");
    // And the supervisor refuses to append to it.
    let e = Supervisor::open(&t.state(), Some(&t.file())).unwrap_err();
    assert!(
        matches!(e.kind, SupervisorErrorKind::AuditBroken { line, .. } if line == n as u64),
        "{e}"
    );
}

#[test]
fn a_removed_first_line_and_a_foreign_key_are_found() {
    let t = Trail::new();
    let orig = lines(&t.file());
    write_lines(&t.file(), &orig[1..]);
    let (line, reason) = broken_at(&t.check(false));
    assert_eq!(line, 1, "{reason}");
    assert!(reason.contains("seq 1 where 0 was expected"), "{reason}");

    // The same trail checked with another supervisor's state: the MACs do not match.
    write_lines(&t.file(), &orig);
    let other = tempfile::tempdir().unwrap();
    drop(Supervisor::open(other.path(), Some(&other.path().join("a.jsonl"))).unwrap());
    let (line, reason) = broken_at(&verify_with_state(&t.file(), Some(other.path())).unwrap());
    assert_eq!(line, 1, "{reason}");
    assert!(reason.contains("MAC does not match"), "{reason}");
}

#[test]
fn an_emptied_file_is_refused_by_the_supervisor() {
    let t = Trail::new();
    std::fs::write(t.file(), "").unwrap();
    let e = Supervisor::open(&t.state(), Some(&t.file())).unwrap_err();
    assert!(e.to_string().contains("truncated or replaced"), "{e}");
}

#[test]
fn a_trail_continues_across_supervisors_and_one_file_has_one_writer() {
    let t = Trail::new();
    let before = records(&t.file()).len();
    let sup = Supervisor::open(&t.state(), Some(&t.file())).unwrap();
    let e = Supervisor::open(&t.state(), Some(&t.file())).unwrap_err();
    assert!(matches!(e.kind, SupervisorErrorKind::AuditBusy), "{e}");
    let spec = spec(
        "true",
        Program::Process("/usr/bin/true".into()),
        &[],
        policy(),
    );
    assert_eq!(sup.run(&spec).unwrap().status, Status::Exited);
    drop(sup);
    let recs = records(&t.file());
    assert!(recs.len() > before + 3);
    assert_eq!(
        recs.iter()
            .filter(|r| r["op"] == "supervisor_start")
            .count(),
        2
    );
    let run = recs.iter().rfind(|r| r["op"] == "run").unwrap();
    assert_eq!(run["result"]["status"], "exited");
    assert_eq!(run["result"]["exit_code"], 0);
    assert!(matches!(t.check(true), Verdict::Intact(_)));
    // Without any key (`verify` with none) the chain still holds.
    assert!(matches!(
        verify(&t.file(), None, None).unwrap(),
        Verdict::Intact(_)
    ));
}

#[test]
fn secret_values_never_reach_the_trail() {
    let secret = "tok-3f9a2c71e5b8";
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let file = dir.path().join("audit.jsonl");
    let mut p = policy();
    p.env.insert("API_TOKEN".into(), secret.into());
    p.env.insert("LANG".into(), "C".into());
    p.supervisor.secrets = vec!["API_TOKEN".into()];
    let sup = Supervisor::open(&state, Some(&file)).unwrap();

    // A process plugin that prints its environment, with the secret in its argv too.
    let probe = common::probe();
    let s = spec(
        "envdump",
        Program::Process(probe.to_path_buf()),
        &["env", secret],
        p.clone(),
    );
    let o = sup.run(&s).unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(secret),
        "the plugin saw its secret: {o:?}"
    );

    // A wasm plugin whose module path contains the secret (so the path must be redacted), and that
    // logs the secret through the host API.
    let sub = dir.path().join(secret);
    std::fs::create_dir(&sub).unwrap();
    let module = write(
        &sub,
        "m.wat",
        &host_module(
            secret,
            &format!(
                "(drop (call $log (i32.const 0) (i32.const {})))",
                secret.len()
            ),
        ),
    );
    let w = spec("wasmlog", Program::Wasm(module), &[secret], p);
    let o = sup.run(&w).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    // A module that does not exist under the secret path: the error names the path.
    let missing = spec(
        "missing",
        Program::Wasm(sub.join("absent.wat")),
        &[],
        w.policy.clone(),
    );
    assert!(sup.run(&missing).is_err());
    drop(sup);

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(secret),
        "a secret value is in the audit trail"
    );
    assert!(text.contains("[redacted:API_TOKEN]"), "{text}");
    let start = records(&file)
        .into_iter()
        .find(|r| r["op"] == "run_start" && r["plugin"] == "envdump")
        .unwrap();
    assert_eq!(start["args"]["env_bytes"]["API_TOKEN"], secret.len());
    assert_eq!(start["args"]["argv_bytes"][1], secret.len());
    assert!(matches!(
        verify_with_state(&file, Some(&state)).unwrap(),
        Verdict::Intact(_)
    ));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
