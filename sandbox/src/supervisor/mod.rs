//! The supervisor around both backends: it runs plugins under their policies and records what they do
//! (audit trail, quarantine, metrics), gives process plugins a message channel and allow-listed egress.

pub mod audit;
pub mod channel;
pub mod egress;
mod error;
pub mod events;
pub mod metrics;
pub mod quarantine;
mod service;
pub mod state;

pub use channel::{ChannelLimits, ChannelReport, ChannelServer, ChannelStats};
pub use egress::{EgressConfig, EgressError, EgressErrorKind, EgressProxy};
pub use error::{SupervisorError, SupervisorErrorKind};
pub use events::{Event, EventResult, EventSink, NoEvents, Recorded};
pub use metrics::Metrics;
pub use quarantine::{Quarantine, QuarantineEntry, Violation, ViolationKind};
pub use service::{
    backoff, Mode, Notice, PluginHandle, PluginSink, PluginSpec, Program, RunRecord, Start,
    StartOptions, StopToken, Supervisor, SupervisorOptions, WATCH_INTERVAL,
};
