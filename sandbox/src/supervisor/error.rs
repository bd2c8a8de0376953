//! Errors of the supervisor: a struct naming what was at fault (a path in the state directory, the audit
//! file, a plugin id) plus a [`SupervisorErrorKind`]. What happens to a plugin is still an `Outcome`; a
//! refused (quarantined) run is an `Outcome` with status `rejected`, not an error.

use std::path::Path;

use crate::error::SandboxError;

/// The state directory, the audit trail or a plugin could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{subject}: {kind}")]
pub struct SupervisorError {
    /// The path (state directory, state file, audit file) or the plugin id at fault.
    pub subject: String,
    pub kind: SupervisorErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum SupervisorErrorKind {
    #[error("{0}")]
    Io(std::io::Error),
    /// A state file that does not parse, or has the wrong permissions.
    #[error("{0}")]
    BadState(String),
    /// The audit trail does not verify: the supervisor refuses to append to it.
    #[error("line {line}: {reason} (the trail does not verify; run `gauntlet audit verify` and move the file aside)")]
    AuditBroken { line: u64, reason: String },
    /// Another supervisor holds the audit file.
    #[error("in use by another supervisor (it holds the file's lock)")]
    AuditBusy,
    /// Writing the audit trail failed earlier; runs are refused until the supervisor is reopened.
    #[error("the audit trail could not be written ({0}); runs are refused")]
    AuditFailed(String),
    /// [`Supervisor::close`](crate::supervisor::Supervisor::close) was called: no run starts.
    #[error("the supervisor is closed")]
    Closed,
    /// `release` of a plugin that is not in quarantine.
    #[error("not in quarantine")]
    NotQuarantined,
    /// Input the caller must fix (an empty plugin id, a backend option the plugin does not support).
    #[error("{0}")]
    Invalid(String),
    /// A part of the supervisor that is not integrated yet (see the report in `supervisor/mod.rs`).
    #[error("{0}")]
    Unsupported(String),
    /// The sandbox refused the run's input (a missing program, a policy error).
    #[error("{0}")]
    Sandbox(Box<SandboxError>),
}

impl SupervisorError {
    pub fn new(subject: impl Into<String>, kind: SupervisorErrorKind) -> Self {
        SupervisorError {
            subject: subject.into(),
            kind,
        }
    }

    pub(crate) fn io(path: &Path, e: std::io::Error) -> Self {
        SupervisorError::new(path.display().to_string(), SupervisorErrorKind::Io(e))
    }

    pub(crate) fn bad_state(path: &Path, msg: impl Into<String>) -> Self {
        SupervisorError::new(
            path.display().to_string(),
            SupervisorErrorKind::BadState(msg.into()),
        )
    }

    /// True for errors caused by the caller's input (exit code 2): a bad plugin definition, a program
    /// that does not exist, a release of a plugin that is not in quarantine.
    pub fn is_bad_input(&self) -> bool {
        match &self.kind {
            SupervisorErrorKind::Invalid(_) | SupervisorErrorKind::Unsupported(_) => true,
            SupervisorErrorKind::Sandbox(e) => e.is_bad_input(),
            _ => false,
        }
    }
}
