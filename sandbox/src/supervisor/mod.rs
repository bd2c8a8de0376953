//! The supervisor around both backends: it runs plugins under their policies and records what they do
//! (audit trail, quarantine, metrics), gives process plugins a message channel and allow-listed egress.

pub mod events;

pub use events::{Event, EventResult, EventSink, NoEvents, Recorded};
