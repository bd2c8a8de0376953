//! Host-side judges. Each oracle is a small type with one job behind the [`Oracle`] trait: it is built
//! before the case starts (taking its "before" picture), may sample while the case runs, and judges once
//! the `gauntlet exec` child has ended. Oracles read only host state and never trust the plugin, except
//! `self`, whose evidence is labelled `self-report`.

pub mod canary;
pub mod census;
pub mod channel;
pub mod fswalk;
pub mod health;
pub mod honeypot;
pub mod hostfs;
pub mod knobs;
pub mod procfs;
pub mod pstat;
pub mod resources;
pub mod selfreport;

use std::time::Duration;

use gauntlet_sandbox::Outcome;
use serde::{Deserialize, Serialize};

/// The oracles a manifest can name (`health` always runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OracleKind {
    Canary,
    Honeypot,
    Hostfs,
    Census,
    Knobs,
    Pstat,
    Resources,
    #[serde(rename = "self")]
    SelfReport,
    Channel,
    Health,
}

impl OracleKind {
    pub const ALL: &'static [OracleKind] = &[
        OracleKind::Canary,
        OracleKind::Honeypot,
        OracleKind::Hostfs,
        OracleKind::Census,
        OracleKind::Knobs,
        OracleKind::Pstat,
        OracleKind::Resources,
        OracleKind::SelfReport,
        OracleKind::Channel,
        OracleKind::Health,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OracleKind::Canary => "canary",
            OracleKind::Honeypot => "honeypot",
            OracleKind::Hostfs => "hostfs",
            OracleKind::Census => "census",
            OracleKind::Knobs => "knobs",
            OracleKind::Pstat => "pstat",
            OracleKind::Resources => "resources",
            OracleKind::SelfReport => "self",
            OracleKind::Channel => "channel",
            OracleKind::Health => "health",
        }
    }

    pub fn from_name(s: &str) -> Option<OracleKind> {
        Self::ALL.iter().copied().find(|k| k.name() == s)
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|k| k.name()).collect()
    }
}

/// Where a piece of evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// Observed on the host.
    Host,
    /// The attack's own `GAUNTLET-REPORT` line.
    SelfReport,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Host => "host",
            EvidenceKind::SelfReport => "self-report",
        }
    }
}

/// What a piece of evidence shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finding {
    /// Something got out.
    Escape,
    /// The case could not be judged (the harness or the supervisor failed).
    Error,
}

/// One oracle's observation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    pub oracle: OracleKind,
    pub kind: EvidenceKind,
    pub finding: Finding,
    pub detail: String,
}

impl Evidence {
    pub fn escape(oracle: OracleKind, detail: impl Into<String>) -> Evidence {
        Evidence {
            oracle,
            kind: EvidenceKind::Host,
            finding: Finding::Escape,
            detail: detail.into(),
        }
    }
    pub fn error(oracle: OracleKind, detail: impl Into<String>) -> Evidence {
        Evidence {
            oracle,
            kind: EvidenceKind::Host,
            finding: Finding::Error,
            detail: detail.into(),
        }
    }
}

/// What oracles see once the `gauntlet exec` child has ended.
#[derive(Debug)]
pub struct Finished<'a> {
    /// The parsed Outcome, when the child printed one.
    pub outcome: Option<&'a Outcome>,
    /// Why no Outcome could be read.
    pub outcome_error: Option<&'a str>,
    /// The child's wait status (`None` when it could not be reaped).
    pub wait_status: Option<i32>,
    /// The harness killed the child at wall + 5 s.
    pub timed_out: bool,
    pub elapsed: Duration,
    /// The exec child's own stderr (not the plugin's).
    pub exec_stderr: &'a [u8],
}

/// A judge of one case.
pub trait Oracle: Send {
    fn kind(&self) -> OracleKind;
    /// Called once the `gauntlet exec` child is running, with its pid.
    fn started(&mut self, _exec_pid: i32) {}
    /// Called about every 10 ms while the case runs.
    fn sample(&mut self) {}
    /// Judges the case after the exec child ended. Must not panic on hostile data.
    fn judge(&mut self, done: &Finished<'_>) -> Vec<Evidence>;
}

/// Looks for `needle` in `hay` (plain byte search).
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
