//! Quarantine: a plugin that commits `supervisor.quarantine_after` violations within
//! `supervisor.quarantine_window` is refused further runs until it is released.
//!
//! Violations are escape attempts (a process killed by SIGSYS, i.e. by seccomp), limit hits (a run killed
//! by a limit, or a limit that denied it something), host-API misuse (a wasm trap of that kind) and
//! every [`Event`] whose result [`is_violation`](crate::supervisor::EventResult::is_violation) (denied
//! calls, caps reached, malformed messages).
//!
//! The state lives in `STATE/quarantine.json` and is read and written under the state lock for every
//! decision, so it survives a restart of the supervisor and a `gauntlet quarantine release` from another
//! process takes effect at the next run. Times are wall-clock milliseconds since the Unix epoch (a
//! window must survive a restart, which a monotonic clock does not).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::{SupervisorError, SupervisorErrorKind};
use super::events::{Event, EventResult};
use super::state::{StateDir, QUARANTINE_FILE};
use crate::outcome::{Outcome, Status};

/// Violations kept per plugin at most (older ones are dropped first).
const MAX_KEPT: usize = 1000;
/// Reasons remembered in a quarantine entry.
const REASONS_KEPT: usize = 5;

/// What kind of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// Killed by seccomp (SIGSYS): the plugin tried a forbidden system call.
    Seccomp,
    /// A run killed by a limit, or a limit that denied a run something.
    Limit,
    /// A wasm trap of kind `host_api_misuse` or `host_call_limit`.
    HostApiMisuse,
    /// An event answered `Denied`.
    Denied,
    /// An event answered `Limit`.
    EventLimit,
    /// An event answered `Error` (malformed input).
    EventError,
}

impl ViolationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Seccomp => "seccomp",
            ViolationKind::Limit => "limit",
            ViolationKind::HostApiMisuse => "host_api_misuse",
            ViolationKind::Denied => "denied",
            ViolationKind::EventLimit => "event_limit",
            ViolationKind::EventError => "event_error",
        }
    }
}

/// One violation: its kind and a one-line detail (`limit memory`, `kv_put: too large`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub detail: String,
}

impl Violation {
    /// The violation an Outcome is, if any (at most one per run).
    pub fn of_outcome(o: &Outcome) -> Option<Violation> {
        let v = |kind, detail: String| Some(Violation { kind, detail });
        if o.status == Status::Killed && o.signal == Some(libc::SIGSYS) {
            return v(ViolationKind::Seccomp, "killed by SIGSYS (seccomp)".into());
        }
        if let Some(t) = o
            .trap
            .as_deref()
            .filter(|t| matches!(*t, "host_api_misuse" | "host_call_limit"))
        {
            return v(ViolationKind::HostApiMisuse, format!("trap {t}"));
        }
        if o.status == Status::Killed {
            if let Some(l) = o.limit {
                return v(
                    ViolationKind::Limit,
                    format!("killed by limit {}", l.as_str()),
                );
            }
        }
        if let Some(l) = o.usage.limits_hit.first() {
            return v(ViolationKind::Limit, format!("limit {} hit", l.as_str()));
        }
        None
    }

    /// The violation an event is, if any.
    pub fn of_event(e: &Event) -> Option<Violation> {
        let (kind, detail) = match &e.result {
            EventResult::Ok => return None,
            EventResult::Denied(d) => (ViolationKind::Denied, d),
            EventResult::Limit(d) => (ViolationKind::EventLimit, d),
            EventResult::Error(d) => (ViolationKind::EventError, d),
        };
        Some(Violation {
            kind,
            detail: format!("{}: {detail}", e.op),
        })
    }

    /// Whether this outcome-level violation is the same incident as a violation event the host API
    /// already reported (a trapping host call is reported as an event, then ends the run).
    pub fn reported_by_host_api(&self, o: &Outcome) -> bool {
        let output = Some(crate::Limit::Output);
        self.kind == ViolationKind::HostApiMisuse
            || (self.kind == ViolationKind::Limit
                && (o.limit == output
                    || (o.limit.is_none() && o.usage.limits_hit.first().copied() == output)))
    }
}

/// One recorded violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationRecord {
    pub at_ms: u64,
    pub kind: ViolationKind,
    pub detail: String,
}

/// A plugin in quarantine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// When it was put in quarantine (ms since the Unix epoch).
    pub since_ms: u64,
    /// Violations within the window at that moment.
    pub violations: u32,
    pub window_ms: u64,
    /// The last few violations' details, oldest first.
    pub reasons: Vec<String>,
}

impl QuarantineEntry {
    /// The reason a refused run carries: the plugin, since when, how many violations in which window,
    /// and the release command.
    pub fn refusal(&self, plugin: &str, state: &std::path::Path) -> String {
        format!(
            "plugin {plugin:?} is in quarantine since {}: {} violations within {} (last: {}); \
             release it with `gauntlet quarantine release {plugin} --state {}`",
            super::audit::format_unix_ms(self.since_ms),
            self.violations,
            crate::policy::Dur(Duration::from_millis(self.window_ms)),
            self.reasons.last().map(String::as_str).unwrap_or("-"),
            state.display()
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct PluginState {
    #[serde(default)]
    violations: Vec<ViolationRecord>,
    #[serde(default)]
    quarantined: Option<QuarantineEntry>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct QuarantineFile {
    #[serde(default)]
    plugins: BTreeMap<String, PluginState>,
}

/// What recording a violation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Counted; the plugin is not in quarantine (`in_window` violations within the window).
    Counted { in_window: u32 },
    /// This violation put the plugin in quarantine.
    Quarantined(QuarantineEntry),
    /// The plugin already was in quarantine.
    AlreadyQuarantined,
}

/// The quarantine state of one state directory.
#[derive(Clone, Debug)]
pub struct Quarantine {
    state: StateDir,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

impl Quarantine {
    pub fn new(state: &StateDir) -> Quarantine {
        Quarantine {
            state: state.clone(),
        }
    }

    pub fn state_dir(&self) -> &std::path::Path {
        self.state.path()
    }

    /// The plugin's quarantine entry, when it is in quarantine.
    pub fn status(&self, plugin: &str) -> Result<Option<QuarantineEntry>, SupervisorError> {
        let f: QuarantineFile = self.state.read_json(QUARANTINE_FILE)?;
        Ok(f.plugins.get(plugin).and_then(|p| p.quarantined.clone()))
    }

    /// Every plugin in quarantine, by id.
    pub fn list(&self) -> Result<Vec<(String, QuarantineEntry)>, SupervisorError> {
        let f: QuarantineFile = self.state.read_json(QUARANTINE_FILE)?;
        Ok(f.plugins
            .into_iter()
            .filter_map(|(id, p)| p.quarantined.map(|q| (id, q)))
            .collect())
    }

    /// Counts one violation; quarantines the plugin when `threshold` (> 0) violations fall within
    /// `window`. A threshold of 0 never quarantines (the violation is still counted).
    pub fn record(
        &self,
        plugin: &str,
        v: &Violation,
        threshold: u32,
        window: Duration,
    ) -> Result<Recorded, SupervisorError> {
        let _lock = self.state.lock()?;
        let mut f: QuarantineFile = self.state.read_json(QUARANTINE_FILE)?;
        let p = f.plugins.entry(plugin.to_string()).or_default();
        if p.quarantined.is_some() {
            return Ok(Recorded::AlreadyQuarantined);
        }
        let now = now_ms();
        let window_ms = window.as_millis() as u64;
        p.violations
            .retain(|r| now.saturating_sub(r.at_ms) < window_ms.max(1));
        p.violations.push(ViolationRecord {
            at_ms: now,
            kind: v.kind,
            detail: v.detail.clone(),
        });
        if p.violations.len() > MAX_KEPT {
            let drop = p.violations.len() - MAX_KEPT;
            p.violations.drain(..drop);
        }
        let in_window = p.violations.len() as u32;
        let result = if threshold > 0 && in_window >= threshold {
            let skip = p.violations.len().saturating_sub(REASONS_KEPT);
            let entry = QuarantineEntry {
                since_ms: now,
                violations: in_window,
                window_ms,
                reasons: p.violations[skip..]
                    .iter()
                    .map(|r| format!("{}: {}", r.kind.as_str(), r.detail))
                    .collect(),
            };
            p.quarantined = Some(entry.clone());
            Recorded::Quarantined(entry)
        } else {
            Recorded::Counted { in_window }
        };
        // Counting survives a restart of the supervisor without a sync; entering quarantine is synced.
        let durable = matches!(result, Recorded::Quarantined(_));
        self.state.write_json(QUARANTINE_FILE, &f, durable)?;
        Ok(result)
    }

    /// Releases a plugin from quarantine and forgets its violations; returns the entry it had.
    pub fn release(&self, plugin: &str) -> Result<QuarantineEntry, SupervisorError> {
        let _lock = self.state.lock()?;
        let mut f: QuarantineFile = self.state.read_json(QUARANTINE_FILE)?;
        let Some(entry) = f.plugins.get(plugin).and_then(|p| p.quarantined.clone()) else {
            return Err(SupervisorError::new(
                plugin,
                SupervisorErrorKind::NotQuarantined,
            ));
        };
        f.plugins.remove(plugin);
        self.state.write_json(QUARANTINE_FILE, &f, true)?;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit() -> Violation {
        Violation {
            kind: ViolationKind::Limit,
            detail: "killed by limit memory".into(),
        }
    }

    #[test]
    fn threshold_within_the_window_quarantines_and_release_forgets() {
        let d = tempfile::tempdir().unwrap();
        let q = Quarantine::new(&StateDir::create(d.path()).unwrap());
        let w = Duration::from_secs(60);
        assert_eq!(
            q.record("p", &limit(), 3, w).unwrap(),
            Recorded::Counted { in_window: 1 }
        );
        assert_eq!(
            q.record("p", &limit(), 3, w).unwrap(),
            Recorded::Counted { in_window: 2 }
        );
        let Recorded::Quarantined(e) = q.record("p", &limit(), 3, w).unwrap() else {
            panic!("not quarantined")
        };
        assert_eq!(e.violations, 3);
        assert_eq!(
            q.record("p", &limit(), 3, w).unwrap(),
            Recorded::AlreadyQuarantined
        );
        assert_eq!(q.list().unwrap().len(), 1);
        assert!(q.status("other").unwrap().is_none());
        q.release("p").unwrap();
        assert!(q.status("p").unwrap().is_none());
        assert!(matches!(
            q.release("p").unwrap_err().kind,
            SupervisorErrorKind::NotQuarantined
        ));
        assert_eq!(
            q.record("p", &limit(), 3, w).unwrap(),
            Recorded::Counted { in_window: 1 }
        );
    }

    #[test]
    fn violations_outside_the_window_do_not_count_and_zero_never_quarantines() {
        let d = tempfile::tempdir().unwrap();
        let state = StateDir::create(d.path()).unwrap();
        let q = Quarantine::new(&state);
        let old = ViolationRecord {
            at_ms: now_ms() - 120_000,
            kind: ViolationKind::Denied,
            detail: "old".into(),
        };
        let mut f = QuarantineFile::default();
        f.plugins.entry("p".into()).or_default().violations = vec![old.clone(), old];
        state.write_json(QUARANTINE_FILE, &f, false).unwrap();
        let w = Duration::from_secs(60);
        assert_eq!(
            q.record("p", &limit(), 2, w).unwrap(),
            Recorded::Counted { in_window: 1 }
        );
        for n in 1..=3 {
            assert_eq!(
                q.record("z", &limit(), 0, w).unwrap(),
                Recorded::Counted { in_window: n }
            );
        }
    }
}
