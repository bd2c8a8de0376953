//! What a supervised run reports while it runs, besides its `Outcome`: host-API calls (wasm host API and
//! the process message channel), egress attempts through the proxy, denials and limit hits.
//!
//! Producers (the channel server, the egress proxy, the wasm host API) know nothing of the audit trail,
//! the quarantine or the metrics; they hand each event to an [`EventSink`], and the `Supervisor` fans it
//! out. Events carry the *shape* of arguments (sizes, counts, the destination of a connection), never
//! their contents.

use serde::Serialize;

/// One thing a plugin did that the host saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// What was asked: `log`, `kv_get`, `kv_put`, `channel` (a malformed message), `egress`, ...
    pub op: String,
    /// The arguments' shape: sizes in bytes, counts, a destination `host:port`. Never payload bytes.
    pub args: serde_json::Value,
    pub result: EventResult,
}

/// How the host answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum EventResult {
    Ok,
    /// Refused by policy (a destination not on `net.allow`, a call the plugin has no grant for). Counts
    /// as a violation for the quarantine.
    Denied(String),
    /// A cap was reached (message too large, too many calls, bytes over `net.max_bytes`). Counts as a
    /// violation.
    Limit(String),
    /// The plugin sent something malformed; answered with an error. Counts as a violation.
    Error(String),
}

impl EventResult {
    /// Whether this result counts toward the quarantine threshold.
    pub fn is_violation(&self) -> bool {
        !matches!(self, EventResult::Ok)
    }
}

/// Where producers send events. Implementations must be cheap and must not block for long: they are
/// called on the thread that serves the plugin.
pub trait EventSink: Send + Sync {
    fn event(&self, event: Event);
}

/// A sink that drops everything (runs outside a `Supervisor`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn event(&self, _: Event) {}
}

/// A sink that keeps every event in memory, in order (tests, and the supervisor's per-run buffer).
#[derive(Debug, Default)]
pub struct Recorded(pub std::sync::Mutex<Vec<Event>>);

impl Recorded {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl EventSink for Recorded {
    fn event(&self, event: Event) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}
