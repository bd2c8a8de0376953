//! The `census` oracle: after the `gauntlet exec` child ended, the case's cgroup tree must hold no
//! process and no leftover run cgroup, and the suite's sentinel process must still be alive. What it
//! finds is recorded; the runner then kills and removes it.

use std::sync::Arc;

use super::{Evidence, Finished, Oracle, OracleKind};
use crate::runner::cgroups::Dirs;
use crate::runner::sentinel::Sentinel;

pub struct CensusOracle {
    cgroup: Option<Dirs>,
    sentinel: Option<Arc<Sentinel>>,
    sentinel_was_alive: bool,
}

impl CensusOracle {
    /// Notes whether the sentinel is alive now, at the start of the case.
    pub fn new(cgroup: Option<Dirs>, sentinel: Option<Arc<Sentinel>>) -> Self {
        let sentinel_was_alive = sentinel.as_ref().is_some_and(|s| s.alive());
        CensusOracle {
            cgroup,
            sentinel,
            sentinel_was_alive,
        }
    }
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().chars().take(32).collect())
        .unwrap_or_else(|_| "?".into())
}

impl Oracle for CensusOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Census
    }

    fn judge(&mut self, _done: &Finished<'_>) -> Vec<Evidence> {
        let mut ev = Vec::new();
        if let Some(cg) = &self.cgroup {
            let pids = cg.pids_in_tree();
            if !pids.is_empty() {
                let names: Vec<String> = pids.iter().take(5).map(|&p| comm(p)).collect();
                ev.push(Evidence::escape(
                    OracleKind::Census,
                    format!(
                        "{} process(es) of the case alive after it ended ({})",
                        pids.len(),
                        names.join(", ")
                    ),
                ));
            }
            let dirs = cg.nested_run_dirs();
            if !dirs.is_empty() {
                ev.push(Evidence::escape(
                    OracleKind::Census,
                    format!("{} run cgroup(s) left behind", dirs.len()),
                ));
            }
        }
        if let Some(s) = &self.sentinel {
            if self.sentinel_was_alive && !s.alive() {
                ev.push(Evidence::escape(
                    OracleKind::Census,
                    "the suite's sentinel process died during the case",
                ));
            }
        }
        ev
    }
}
