//! Per-plugin metrics in the Prometheus / OpenMetrics text format, with `prometheus-client`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `gauntlet_runs_total` | counter | plugin, backend |
//! | `gauntlet_outcomes_total` | counter | plugin, status (`exited`, `killed`, `rejected`, `error`), cause (`exit_0`, `exit_nonzero`, a limit, a trap, `signal_N`, `stopped`, `quarantined`, `rejected`, `error`) |
//! | `gauntlet_run_wall_seconds` | histogram | plugin |
//! | `gauntlet_run_cpu_seconds` | histogram | plugin |
//! | `gauntlet_run_peak_memory_bytes` | histogram | plugin |
//! | `gauntlet_host_calls_total` | counter | plugin (the Outcomes' `usage.host_calls`) |
//! | `gauntlet_events_total` | counter | plugin, op, result (`ok`, `denied`, `limit`, `error`) |
//! | `gauntlet_denials_total` | counter | plugin, op |
//! | `gauntlet_violations_total` | counter | plugin, kind |
//! | `gauntlet_quarantined` | gauge | plugin (1 while in quarantine) |
//! | `gauntlet_restarts_total`, `gauntlet_reloads_total` | counter | plugin |
//!
//! Runs refused by the quarantine count in `runs` and `outcomes` but not in the histograms (nothing ran).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use super::events::{Event, EventResult};
use crate::outcome::{Outcome, Status};

/// The content type of [`Metrics::encode`]'s text (Prometheus 2.5+ and OpenMetrics scrapers).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `reason` of an Outcome stopped by the supervisor (reload, stop, quarantine).
pub(crate) use crate::process::STOPPED_REASON;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginL {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunL {
    plugin: String,
    backend: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeL {
    plugin: String,
    status: String,
    cause: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventL {
    plugin: String,
    op: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpL {
    plugin: String,
    op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindL {
    plugin: String,
    kind: String,
}

type Hist = Family<PluginL, Histogram, fn() -> Histogram>;

fn seconds_hist() -> Histogram {
    // 1 ms .. about 4.4 min.
    Histogram::new(exponential_buckets(0.001, 4.0, 10))
}

fn bytes_hist() -> Histogram {
    // 1 MiB .. 4 GiB.
    Histogram::new(exponential_buckets(1048576.0, 4.0, 7))
}

/// The supervisor's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    runs: Family<RunL, Counter>,
    outcomes: Family<OutcomeL, Counter>,
    wall: Hist,
    cpu: Hist,
    memory: Hist,
    host_calls: Family<PluginL, Counter>,
    events: Family<EventL, Counter>,
    denials: Family<OpL, Counter>,
    violations: Family<KindL, Counter>,
    quarantined: Family<PluginL, Gauge>,
    restarts: Family<PluginL, Counter>,
    reloads: Family<PluginL, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            runs: Family::default(),
            outcomes: Family::default(),
            wall: Family::new_with_constructor(seconds_hist),
            cpu: Family::new_with_constructor(seconds_hist),
            memory: Family::new_with_constructor(bytes_hist),
            host_calls: Family::default(),
            events: Family::default(),
            denials: Family::default(),
            violations: Family::default(),
            quarantined: Family::default(),
            restarts: Family::default(),
            reloads: Family::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("gauntlet_runs", "Runs started or refused", m.runs.clone());
        r.register(
            "gauntlet_outcomes",
            "Runs by how they ended",
            m.outcomes.clone(),
        );
        r.register_with_unit(
            "gauntlet_run_wall",
            "Wall time of a run",
            Unit::Seconds,
            m.wall.clone(),
        );
        r.register_with_unit(
            "gauntlet_run_cpu",
            "CPU time of a run (the whole process tree, or fuel for wasm)",
            Unit::Seconds,
            m.cpu.clone(),
        );
        r.register_with_unit(
            "gauntlet_run_peak_memory",
            "Peak memory of a run",
            Unit::Bytes,
            m.memory.clone(),
        );
        r.register(
            "gauntlet_host_calls",
            "Host calls made by runs (usage.host_calls)",
            m.host_calls.clone(),
        );
        r.register(
            "gauntlet_events",
            "Host-API calls and egress attempts reported during runs, by answer",
            m.events.clone(),
        );
        r.register(
            "gauntlet_denials",
            "Calls refused by policy",
            m.denials.clone(),
        );
        r.register(
            "gauntlet_violations",
            "Violations counted toward the quarantine",
            m.violations.clone(),
        );
        r.register(
            "gauntlet_quarantined",
            "1 while the plugin is in quarantine",
            m.quarantined.clone(),
        );
        r.register(
            "gauntlet_restarts",
            "Restarts after a run ended",
            m.restarts.clone(),
        );
        r.register(
            "gauntlet_reloads",
            "Reloads of a plugin's module or binary",
            m.reloads.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text exposition (OpenMetrics, which Prometheus reads; ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut s = String::new();
        prometheus_client::encoding::text::encode(&mut s, &self.registry)
            .expect("writing to a String does not fail");
        s
    }

    /// Counts one run (or refusal) and its outcome.
    pub fn record_run(&self, plugin: &str, outcome: &Outcome, refused: bool) {
        let p = || plugin.to_string();
        self.runs
            .get_or_create(&RunL {
                plugin: p(),
                backend: outcome.backend.clone(),
            })
            .inc();
        self.outcomes
            .get_or_create(&OutcomeL {
                plugin: p(),
                status: crate::outcome::status_str(outcome.status).into(),
                cause: cause(outcome, refused),
            })
            .inc();
        if refused {
            return;
        }
        let l = PluginL { plugin: p() };
        let u = &outcome.usage;
        self.wall
            .get_or_create(&l)
            .observe(u.wall_ms as f64 / 1000.0);
        self.cpu.get_or_create(&l).observe(u.cpu_ms as f64 / 1000.0);
        self.memory
            .get_or_create(&l)
            .observe(u.peak_memory_bytes as f64);
        self.host_calls.get_or_create(&l).inc_by(u.host_calls);
    }

    /// Counts one event.
    pub fn record_event(&self, plugin: &str, e: &Event) {
        let result = match e.result {
            EventResult::Ok => "ok",
            EventResult::Denied(_) => "denied",
            EventResult::Limit(_) => "limit",
            EventResult::Error(_) => "error",
        };
        self.events
            .get_or_create(&EventL {
                plugin: plugin.into(),
                op: e.op.clone(),
                result: result.into(),
            })
            .inc();
        if matches!(e.result, EventResult::Denied(_)) {
            self.denials
                .get_or_create(&OpL {
                    plugin: plugin.into(),
                    op: e.op.clone(),
                })
                .inc();
        }
    }

    pub fn record_violation(&self, plugin: &str, kind: &str) {
        self.violations
            .get_or_create(&KindL {
                plugin: plugin.into(),
                kind: kind.into(),
            })
            .inc();
    }

    pub fn set_quarantined(&self, plugin: &str, on: bool) {
        self.quarantined
            .get_or_create(&PluginL {
                plugin: plugin.into(),
            })
            .set(i64::from(on));
    }

    pub fn record_restart(&self, plugin: &str) {
        self.restarts
            .get_or_create(&PluginL {
                plugin: plugin.into(),
            })
            .inc();
    }

    pub fn record_reload(&self, plugin: &str) {
        self.reloads
            .get_or_create(&PluginL {
                plugin: plugin.into(),
            })
            .inc();
    }
}

/// The `cause` label of an outcome.
fn cause(o: &Outcome, refused: bool) -> String {
    match o.status {
        Status::Exited if o.exit_code == Some(0) => "exit_0".into(),
        Status::Exited => "exit_nonzero".into(),
        Status::Killed => {
            if let Some(l) = o.limit {
                l.as_str().into()
            } else if let Some(t) = &o.trap {
                t.clone()
            } else if o.reason.as_deref() == Some(STOPPED_REASON) {
                "stopped".into()
            } else if let Some(s) = o.signal {
                format!("signal_{s}")
            } else {
                "killed".into()
            }
        }
        Status::Rejected if refused => "quarantined".into(),
        Status::Rejected => "rejected".into(),
        Status::Error => "error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_counters_histograms_and_eof() {
        let m = Metrics::new();
        let mut o = Outcome::not_started("wasm", Status::Exited, "");
        o.exit_code = Some(0);
        o.usage.wall_ms = 20;
        o.usage.host_calls = 3;
        m.record_run("a", &o, false);
        m.record_run("a", &o, false);
        let t = m.encode();
        assert!(
            t.contains("gauntlet_runs_total{plugin=\"a\",backend=\"wasm\"} 2"),
            "{t}"
        );
        assert!(
            t.contains("gauntlet_host_calls_total{plugin=\"a\"} 6"),
            "{t}"
        );
        assert!(
            t.contains("gauntlet_run_wall_seconds_count{plugin=\"a\"} 2"),
            "{t}"
        );
        assert!(t.ends_with("# EOF\n"));
    }
}
