//! The `gauntlet exec` command-line contract: exit codes, one-line errors, JSON, unprivileged use.

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn gauntlet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
}

fn run(args: &[&str]) -> Output {
    gauntlet().args(args).output().expect("gauntlet runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_outcome_exits_zero_and_has_the_contract_fields() {
    let o = run(&["exec", "--json", "--", "/bin/false"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for field in [
        "status",
        "limit",
        "exit_code",
        "signal",
        "usage",
        "stdout",
        "stderr",
        "layers",
        "layers_missing",
    ] {
        assert!(v.get(field).is_some(), "{field} missing in {v}");
    }
    for field in ["wall_ms", "cpu_ms", "peak_memory_bytes", "peak_pids"] {
        assert!(v["usage"].get(field).is_some(), "usage.{field} missing");
    }
    assert_eq!(v["status"], "exited");
    assert_eq!(v["exit_code"], 1);
}

#[test]
fn plain_mode_passes_the_exit_code_through_and_summarises_on_stderr() {
    let o = run(&[
        "exec",
        "--ro",
        "/usr/bin",
        "--",
        "/bin/sh",
        "-c",
        "echo out; exit 7",
    ]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
    assert!(stderr(&o).contains("gauntlet: process exited code=7"));
}

#[test]
fn a_limit_kill_exits_137() {
    let o = run(&[
        "exec",
        "--wall",
        "300ms",
        "--ro",
        "/usr/bin",
        "--",
        "/bin/sleep",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    assert!(stderr(&o).contains("limit=wall_time"));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[limits]\nmemory = \"12XB\"\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "exec".into(),
                "--policy".into(),
                policy.display().to_string(),
                "--".into(),
                "/bin/true".into(),
            ],
            "limits.memory: \"12XB\" is not a size",
        ),
        (
            vec!["exec".into(), "--".into(), "/nonexistent/program".into()],
            "/nonexistent/program: program not found",
        ),
        (
            vec![
                "exec".into(),
                "--memory".into(),
                "12XB".into(),
                "--".into(),
                "/bin/true".into(),
            ],
            "--memory",
        ),
        (
            vec![
                "exec".into(),
                "--ro".into(),
                "relative/path".into(),
                "--".into(),
                "/bin/true".into(),
            ],
            "fs.ro[0]",
        ),
        (
            vec![
                "exec".into(),
                "--policy".into(),
                "/nonexistent.toml".into(),
                "--".into(),
                "/bin/true".into(),
            ],
            "/nonexistent.toml",
        ),
        (
            vec![
                "exec".into(),
                "--unsafe-weaken".into(),
                "no-such-layer".into(),
                "--".into(),
                "/bin/true".into(),
            ],
            "--unsafe-weaken",
        ),
    ];
    for (args, needle) in cases {
        let o = gauntlet().args(&args).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: not one line: {err}"
        );
        assert!(
            err.contains(needle),
            "{args:?}: {err} does not mention {needle}"
        );
        assert!(o.stdout.is_empty(), "{args:?} wrote to stdout");
    }
}

/// As an unprivileged user the run still works with what there is, says what is missing, and
/// `--require-all` refuses instead.
#[test]
fn unprivileged_runs_report_missing_layers_and_require_all_refuses() {
    let as_nobody = |args: &[&str]| {
        let mut c = gauntlet();
        c.args(args).current_dir("/");
        // SAFETY: setgid/setuid between fork and exec; no allocation, no locks.
        unsafe {
            c.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        c.output().unwrap()
    };
    let o = as_nobody(&["exec", "--json", "--", "/bin/true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "exited", "{v}");
    let missing: Vec<String> = v["layers_missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["layer"].as_str().unwrap().to_string())
        .collect();
    assert!(
        missing.iter().any(|l| l.starts_with("cgroup")),
        "an unprivileged user cannot create cgroups here: {v}"
    );
    let refused = as_nobody(&["exec", "--require-all", "--", "/bin/true"]);
    assert_eq!(refused.status.code(), Some(125), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("required layers missing"));
}
