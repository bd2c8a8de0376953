//! `gauntlet bench` writes its three reports with every subject present. No timing assertions: only
//! the files' shape.

use std::process::Command;

const SUBJECTS: &[&str] = &[
    "bare_fork_exec",
    "gauntlet_warm",
    "gauntlet_run",
    "gauntlet_run_direct_fork",
    "gauntlet_cold_exec",
    "gauntlet_run_without_no-net-ns",
    "gauntlet_run_without_no-mount-ns",
    "gauntlet_run_without_no-pid-ns",
    "gauntlet_run_without_no-user-ns",
    "gauntlet_run_without_no-seccomp",
    "gauntlet_run_without_no-landlock",
    "gauntlet_run_without_no-memory-limit",
    "gauntlet_run_without_no-pids-limit",
    "gauntlet_run_without_no-cpu-limit",
    "peer_bwrap",
    "peer_firejail",
    "peer_runsc",
    "peer_unshare",
    "wasm_cold_compile",
    "wasm_cached_run",
    "wasm_prepared_pooling",
    "wasm_prepared_on_demand",
];

#[test]
fn quick_bench_writes_json_markdown_and_svg_with_every_subject() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["bench", "--quick", "--samples", "2", "--report"])
        .arg(&report)
        .output()
        .expect("gauntlet runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");

    let json = std::fs::read_to_string(report.join("overhead.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).expect("overhead.json parses");
    for field in ["kernel", "cpu_model", "cores", "memory_bytes"] {
        assert!(v["machine"].get(field).is_some(), "machine.{field} missing");
    }
    let subjects = v["subjects"].as_array().expect("subjects is a list");
    for id in SUBJECTS {
        let s = subjects
            .iter()
            .find(|s| s["id"] == *id)
            .unwrap_or_else(|| panic!("{id} missing from {json}"));
        let status = s["status"].as_str().unwrap();
        assert!(
            ["measured", "not_installed", "failed"].contains(&status),
            "{id}: {status}"
        );
        if status == "measured" {
            assert_eq!(s["samples"], 2, "{id}");
            for f in ["median_us", "p10_us", "p90_us", "ratio_to_bare"] {
                assert!(s[f].is_number(), "{id}.{f} in {s}");
            }
        }
    }
    // What Gauntlet itself runs must work; peers may be missing or broken on a host.
    for id in [
        "bare_fork_exec",
        "gauntlet_cold_exec",
        "gauntlet_warm",
        "wasm_prepared_pooling",
    ] {
        let s = subjects.iter().find(|s| s["id"] == *id).unwrap();
        assert_eq!(s["status"], "measured", "{s}");
    }
    assert!(v["layer_costs"].as_array().is_some());

    let md = std::fs::read_to_string(report.join("overhead.md")).unwrap();
    assert!(md.starts_with("# Isolation overhead"), "{md}");
    assert!(md.contains("What each layer costs"));
    assert!(
        md.contains("bench --quick --samples 2"),
        "the command is quoted"
    );

    let svg = std::fs::read_to_string(report.join("overhead.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_eq!(svg.matches("<svg").count(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(&report)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}
