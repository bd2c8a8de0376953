//! The `canary` oracle: the case's secret token must not appear in the plugin's output, in any file
//! under the scratch directory, or in a honeypot payload; and host inotify must not see the canary file
//! opened or read.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use super::fswalk::{walk, WalkLimits};
use super::honeypot::{self, SharedLog, SuiteDns};
use super::{contains, Evidence, Finished, Oracle, OracleKind};

/// An inotify watch (IN_OPEN | IN_ACCESS) on the canary file, set up after the harness wrote it.
pub struct CanaryWatch {
    inotify: Inotify,
}

impl CanaryWatch {
    pub fn new(file: &Path) -> nix::Result<CanaryWatch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(file, AddWatchFlags::IN_OPEN | AddWatchFlags::IN_ACCESS)?;
        Ok(CanaryWatch { inotify })
    }

    /// Events seen so far: (opened, read).
    pub fn events(&self) -> (usize, usize) {
        let (mut opened, mut read) = (0, 0);
        while let Ok(evs) = self.inotify.read_events() {
            if evs.is_empty() {
                break;
            }
            for e in evs {
                if e.mask.contains(AddWatchFlags::IN_OPEN) {
                    opened += 1;
                }
                if e.mask.contains(AddWatchFlags::IN_ACCESS) {
                    read += 1;
                }
            }
        }
        (opened, read)
    }

    /// True when an event is waiting (for tests).
    pub fn pending(&self) -> bool {
        let mut fds = [nix::poll::PollFd::new(
            self.inotify.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).unwrap_or(0) > 0
    }
}

/// Where the canary oracle looks.
pub struct CanaryOracle {
    pub token: String,
    pub nonce: String,
    pub scratch: PathBuf,
    pub watch: Option<Arc<CanaryWatch>>,
    pub honey: Option<SharedLog>,
    pub suite_dns: Option<Arc<SuiteDns>>,
}

impl CanaryOracle {
    /// Files under `scratch` that contain the token (relative paths), never following links.
    pub fn scan_scratch(&self) -> (Vec<PathBuf>, bool) {
        let token = self.token.as_bytes();
        let mut hits = Vec::new();
        let mut reader = |rel: &Path, bytes: &[u8]| {
            if contains(bytes, token) {
                hits.push(rel.to_path_buf());
            }
        };
        let w = walk(&self.scratch, WalkLimits::default(), Some(&mut reader));
        (hits, w.truncated)
    }
}

impl Oracle for CanaryOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Canary
    }

    fn judge(&mut self, done: &Finished<'_>) -> Vec<Evidence> {
        let token = self.token.as_bytes();
        let mut ev = Vec::new();
        let mut found = |what: String| ev.push(Evidence::escape(OracleKind::Canary, what));
        if let Some(o) = done.outcome {
            if contains(&o.stdout, token) {
                found("secret token in the plugin's stdout".into());
            }
            if contains(&o.stderr, token) {
                found("secret token in the plugin's stderr".into());
            }
        }
        if contains(done.exec_stderr, token) {
            found("secret token in gauntlet exec's stderr".into());
        }
        let (files, _) = self.scan_scratch();
        for f in files.iter().take(5) {
            found(format!(
                "secret token in scratch file {:?}",
                f.display().to_string()
            ));
        }
        if let Some(log) = &self.honey {
            if contains(&honeypot::lock(log).payload, token) {
                found("secret token in a honeypot payload".into());
            }
        }
        if let Some(dns) = &self.suite_dns {
            if dns.datagrams_for(&self.nonce).iter().any(|d| {
                contains(
                    &d.to_ascii_lowercase(),
                    self.token.to_ascii_lowercase().as_bytes(),
                )
            }) {
                found("secret token in a suite dns query".into());
            }
        }
        if let Some(w) = &self.watch {
            let (opened, read) = w.events();
            if opened > 0 || read > 0 {
                found(format!(
                    "inotify saw the canary file opened {opened} time(s) and read {read} time(s)"
                ));
            }
        }
        ev
    }
}
