//! Shared helpers of the supervisor tests: policies, WAT modules written to a scratch directory, and
//! reading and rewriting audit files line by line (the tampering the tests then detect).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use gauntlet_sandbox::policy::{Dur, Policy, Size};
use gauntlet_sandbox::supervisor::{PluginSpec, Program};

/// A strict policy with short limits.
pub fn policy() -> Policy {
    let mut p = Policy::default();
    p.limits.wall_time = Dur(Duration::from_secs(10));
    p.limits.cpu_time = Dur(Duration::from_secs(5));
    p.limits.memory = Size(64 << 20);
    p
}

pub fn spec(id: &str, program: Program, args: &[&str], policy: Policy) -> PluginSpec {
    PluginSpec {
        id: id.into(),
        program,
        args: args.iter().map(Into::into).collect(),
        policy,
        channel: false,
    }
}

/// A module whose `_start` runs `body`, with the host API (`$log`, `$put`, `$get`), `$exit`
/// (proc_exit), one exported page of memory and `data` at 0.
pub fn host_module(data: &str, body: &str) -> String {
    let mut esc = String::new();
    for b in data.bytes() {
        esc.push_str(&format!("\\{b:02x}"));
    }
    format!(
        r#"(module
  (import "gauntlet_host_v1" "log" (func $log (param i32 i32) (result i32)))
  (import "gauntlet_host_v1" "kv_put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "gauntlet_host_v1" "kv_get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{esc}")
  (func (export "_start") {body}))"#
    )
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The file's lines, each with its newline.
pub fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_inclusive('\n').map(str::to_string).collect()
}

pub fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.concat()).unwrap();
}

/// The audit records as JSON values.
pub fn records(path: &Path) -> Vec<serde_json::Value> {
    lines(path)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Compiles C source to an executable in `dir` with the system compiler.
pub fn cc(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let status = std::process::Command::new("cc")
        .args(["-O1", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("cc runs");
    assert!(status.success(), "{name}.c failed to build");
    out
}

/// Parses Prometheus / OpenMetrics text into (name with labels, value) samples, checking every line's
/// shape: `# HELP`, `# TYPE`, `# UNIT`, `# EOF` (last), or `name{labels} value`.
pub fn parse_metrics(text: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no # EOF at the end");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let kw = rest.split(' ').next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT"].contains(&kw),
                "bad comment {line:?}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "bad metric name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels in {line:?}");
        }
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        out.push((series.to_string(), v));
    }
    out
}

/// The value of one series (exact text of name and labels), or None.
pub fn sample(samples: &[(String, f64)], series: &str) -> Option<f64> {
    samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v)
}
