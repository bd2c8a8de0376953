//! The report's data (`overhead.json`), its Markdown (`overhead.md`), and writing the three files whole.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::subjects::{Group, Subject};
use super::{BenchError, Machine, Measured, Summary, WARMUP_ROUNDS};

#[derive(Debug, Serialize)]
pub struct Report {
    pub command: String,
    pub machine: Machine,
    pub quick: bool,
    pub samples_per_subject: usize,
    pub warmup_rounds: usize,
    pub method: &'static str,
    pub subjects: Vec<SubjectResult>,
    pub layer_costs: Vec<LayerCost>,
}

#[derive(Debug, Serialize)]
pub struct SubjectResult {
    pub id: String,
    pub label: String,
    pub group: Group,
    pub command: String,
    /// `measured`, `not_installed` or `failed`.
    pub status: &'static str,
    pub error: Option<String>,
    pub median_us: Option<f64>,
    pub p10_us: Option<f64>,
    pub p90_us: Option<f64>,
    pub samples: usize,
    pub ratio_to_bare: Option<f64>,
}

/// Full cold sandbox (`ProcessSandbox::run`) minus the same without one layer.
#[derive(Debug, Serialize)]
pub struct LayerCost {
    pub layer: String,
    pub without_median_us: f64,
    pub cost_us: f64,
}

const METHOD: &str =
    "start-to-exit wall time of one run of `true` (or a trivial WASI module); every \
round runs each subject once in a freshly shuffled order, after warm-up rounds that are discarded";

impl Report {
    pub fn new(
        command: String,
        machine: Machine,
        quick: bool,
        samples: usize,
        list: &[Subject],
        measured: Vec<Measured>,
    ) -> Report {
        let mut subjects: Vec<SubjectResult> = list
            .iter()
            .zip(measured)
            .map(|(s, m)| {
                let (status, error, summary) = match m {
                    Measured::NotInstalled => ("not_installed", None, None),
                    Measured::Failed(e) => ("failed", Some(e), None),
                    Measured::Samples(v) => ("measured", None, Summary::of(&v)),
                };
                SubjectResult {
                    id: s.id.clone(),
                    label: s.label.clone(),
                    group: s.group,
                    command: s.command.clone(),
                    status,
                    error,
                    median_us: summary.map(|s| s.median_us),
                    p10_us: summary.map(|s| s.p10_us),
                    p90_us: summary.map(|s| s.p90_us),
                    samples: summary.map_or(0, |s| s.samples),
                    ratio_to_bare: None,
                }
            })
            .collect();
        let bare = subjects.first().and_then(|s| s.median_us);
        for s in &mut subjects {
            s.ratio_to_bare = s.median_us.zip(bare).map(|(m, b)| m / b);
        }
        let full = subjects
            .iter()
            .find(|s| s.id == "gauntlet_run")
            .and_then(|s| s.median_us);
        let layer_costs = list
            .iter()
            .zip(&subjects)
            .filter_map(|(s, r)| {
                let (w, without, full) = (s.without?, r.median_us?, full?);
                Some(LayerCost {
                    layer: w.name(),
                    without_median_us: without,
                    cost_us: full - without,
                })
            })
            .collect();
        Report {
            command,
            machine,
            quick,
            samples_per_subject: samples,
            warmup_rounds: WARMUP_ROUNDS,
            method: METHOD,
            subjects,
            layer_costs,
        }
    }

    pub fn baseline_median_us(&self) -> Option<f64> {
        self.subjects.first().and_then(|s| s.median_us)
    }

    pub fn median(&self, id: &str) -> Option<f64> {
        self.subjects.iter().find(|s| s.id == id)?.median_us
    }
}

/// `812 µs`, `12.3 ms`.
pub fn time(us: f64) -> String {
    if us.abs() < 1000.0 {
        format!("{us:.0} µs")
    } else if us.abs() < 100_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.0} ms", us / 1000.0)
    }
}

/// The subjects table, also printed on stdout.
pub fn table(r: &Report) -> String {
    let mut t = String::from(
        "| subject | median | p10 – p90 | × bare | samples | what runs |\n|---|---:|---:|---:|---:|---|\n",
    );
    for s in &r.subjects {
        let (median, spread, ratio) = match (s.median_us, s.p10_us, s.p90_us, s.ratio_to_bare) {
            (Some(m), Some(lo), Some(hi), Some(x)) => (
                time(m),
                format!("{} – {}", time(lo), time(hi)),
                format!("{x:.2}×"),
            ),
            _ if s.status == "not_installed" => {
                ("not installed".into(), String::new(), String::new())
            }
            _ => {
                let e = s.error.as_deref().unwrap_or("no samples").replace('|', "/");
                (format!("failed: {e}"), String::new(), String::new())
            }
        };
        let _ = writeln!(
            t,
            "| {} | {median} | {spread} | {ratio} | {} | `{}` |",
            s.label, s.samples, s.command
        );
    }
    t
}

fn layer_table(r: &Report) -> String {
    let full = r.median("gauntlet_run");
    let mut t = String::from(
        "| layer removed | cold median without it | cost (full − without) | share of full cold start |\n|---|---:|---:|---:|\n",
    );
    for c in &r.layer_costs {
        let share = full.map_or(String::new(), |f| format!("{:.0}%", 100.0 * c.cost_us / f));
        let _ = writeln!(
            t,
            "| {} | {} | {} | {share} |",
            c.layer,
            time(c.without_median_us),
            time(c.cost_us)
        );
    }
    t
}

/// The two targets, computed from this run.
fn targets(r: &Report) -> String {
    let mut t = String::new();
    match (r.median("gauntlet_warm"), r.baseline_median_us()) {
        (Some(w), Some(b)) => {
            let ok = if w <= 2.0 * b { "met" } else { "not met" };
            let _ = writeln!(
                t,
                "- Warm full isolation within 2× of bare fork+exec: **{ok}** ({:.2}×).",
                w / b
            );
        }
        _ => t.push_str("- Warm full isolation within 2× of bare fork+exec: not measured.\n"),
    }
    match (r.median("gauntlet_run"), r.median("peer_bwrap")) {
        (Some(c), Some(bw)) => {
            let ok = if c <= 0.5 * bw { "met" } else { "not met" };
            let _ = writeln!(
                t,
                "- Cold start (`ProcessSandbox::run`) at most half of bwrap's median: **{ok}** ({} vs {}, {:.2}× bwrap).",
                time(c),
                time(bw),
                c / bw
            );
        }
        _ => t.push_str("- Cold start at most half of bwrap's median: not measured (bwrap or the cold start missing).\n"),
    }
    t
}

pub fn markdown(r: &Report) -> String {
    let mut m = String::from("# Isolation overhead\n\n");
    let _ = writeln!(m, "Produced by `{}`.\n", r.command);
    let _ = writeln!(m, "Machine: {}.\n", r.machine.line());
    let _ = writeln!(
        m,
        "Method: {}. {} samples per subject, {} warm-up rounds. Ratios are medians over the bare fork+exec median.\n",
        r.method, r.samples_per_subject, r.warmup_rounds
    );
    m.push_str("\"Warm\" is `ProcessPool::run`: a sandbox parked ahead of need (namespaces, root, run cgroup, rlimits, Landlock and seccomp all applied, the plugin stopped right before `execve`) is handed its arguments; each run still gets a sandbox of its own, and the pool refills in the background. \"Cold\" is `ProcessSandbox::run`: every namespace, the root, the cgroup and the filters are made for the run (only the compiled filter, a spare network namespace and a spare empty run cgroup are process-wide), and its setup process is forked by the fork server, a small copy of the gauntlet binary started at the process's second run, so the big bench process is not copied for each run; \"forked from the host\" is the same run with `direct_fork`, as a process's first run is. An Outcome returns once every plugin process is dead and reaped; the rest of the teardown (the setup processes' exit, the cgroup's removal) finishes in a background thread, and every sample starts after it has (`process::settle`), so no subject pays for another's teardown. \"Run + teardown\" times a cold run together with that settle. \"CLI\" is `gauntlet exec --json -- true` as a separate process: nothing process-global is warm, and the time includes starting the gauntlet binary itself.\n\n");
    m.push_str(&table(r));
    m.push_str("\n## Targets\n\n");
    m.push_str(&targets(r));
    m.push_str("\n## What each layer costs\n\nThe cold full sandbox's median minus the median of the cold sandbox with exactly that one protection removed. A difference smaller than the spread above is noise; a negative one means removing the layer did not make starts faster in this run.\n\n");
    m.push_str(&layer_table(r));
    m
}

/// Writes `overhead.json`, `overhead.md` and `overhead.svg` into `dir`, each whole (temp file, rename).
pub fn write_all(r: &Report, dir: &Path) -> Result<(), BenchError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BenchError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut json = serde_json::to_string_pretty(r)?;
    json.push('\n');
    for (name, text) in [
        ("overhead.json", json),
        ("overhead.md", markdown(r)),
        ("overhead.svg", super::svg::render(r)),
    ] {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
    }
    Ok(())
}
