//! The `pstat` oracle: samples, every ~10 ms while the case runs, every process in the case's
//! cgroup tree except the `gauntlet exec` child and processes still running the gauntlet binary
//! (the sandbox's own setup processes). A plugin process must have no uid 0, no capability
//! (effective, permitted, bounding, ambient), NoNewPrivs 1, Seccomp 2 (or 3, killed by the filter
//! this moment), no namespace shared with the runner, and a root and /dev that show no more than
//! the minimal view. Under a policy that allows no network, no TCP socket of the plugin's own network
//! namespace may hold a port outside the kernel's ephemeral range: only an explicit `bind` gets one,
//! and Landlock refuses every TCP bind there (a `listen` without one takes an ephemeral port, which
//! Landlock does not govern; the namespace's only interface, its loopback, is down).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::procfs;
use super::{Evidence, Finished, Oracle, OracleKind};
use crate::runner::cgroups::Dirs;

/// Entries of a minimal /dev.
pub const MINIMAL_DEV: &[&str] = &[
    "null", "zero", "full", "random", "urandom", "fd", "stdin", "stdout", "stderr", "shm",
];
/// Top-level entries every sandbox root may have (plus the top-level dirs of the policy's paths).
pub const MINIMAL_ROOT: &[&str] = &["bin", "lib", "lib64", "usr", "tmp", "dev", "proc"];

/// The ports a socket gets without an explicit `bind` (`net.ipv4.ip_local_port_range` of a new
/// network namespace; the plugin cannot change it: /proc/sys is read-only and it holds no capability).
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;

/// The gauntlet binary, to tell the sandbox's own processes from the plugin's.
#[derive(Clone, Debug)]
pub struct SelfExe {
    pub path: Option<PathBuf>,
    pub id: Option<(u64, u64)>,
}

impl SelfExe {
    pub fn current() -> SelfExe {
        SelfExe {
            path: procfs::exe("self"),
            id: procfs::exe_id("self"),
        }
    }

    fn is(&self, pid: i32) -> bool {
        let p = pid.to_string();
        (self.id.is_some() && procfs::exe_id(&p) == self.id)
            || (self.path.is_some() && procfs::exe(&p) == self.path)
    }
}

pub struct PstatOracle {
    cgroup: Dirs,
    exec_pid: Option<i32>,
    gauntlet: SelfExe,
    runner_ns: BTreeMap<&'static str, String>,
    expected_root: BTreeSet<String>,
    expected_dev: BTreeSet<String>,
    tcp_denied: bool,
    findings: BTreeSet<String>,
    sampled: BTreeSet<i32>,
}

impl PstatOracle {
    /// `extra_root` are the top-level directories of the policy's paths and of the program.
    pub fn new(
        cgroup: Dirs,
        gauntlet: SelfExe,
        extra_root: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut expected_root: BTreeSet<String> =
            MINIMAL_ROOT.iter().map(|s| s.to_string()).collect();
        expected_root.extend(extra_root);
        PstatOracle {
            cgroup,
            exec_pid: None,
            gauntlet,
            runner_ns: procfs::namespaces("self"),
            expected_root,
            expected_dev: MINIMAL_DEV.iter().map(|s| s.to_string()).collect(),
            tcp_denied: false,
            findings: BTreeSet::new(),
            sampled: BTreeSet::new(),
        }
    }

    /// The policy allows the plugin no TCP socket of its own (`net = "none"`).
    pub fn deny_tcp(mut self, denied: bool) -> Self {
        self.tcp_denied = denied;
        self
    }

    pub fn set_exec_pid(&mut self, pid: i32) {
        self.exec_pid = Some(pid);
    }

    /// Judges one process now; returns what is wrong with it.
    pub fn check_pid(&self, pid: i32) -> Vec<String> {
        let mut out = Vec::new();
        let Some(st) = procfs::status(pid) else {
            return out;
        };
        let who = format!("plugin process {:?}", st.name);
        if st.uids.contains(&0) {
            out.push(format!("{who} runs with host uid 0"));
        }
        for (name, v) in [
            ("CapEff", st.cap_eff),
            ("CapPrm", st.cap_prm),
            ("CapBnd", st.cap_bnd),
            ("CapAmb", st.cap_amb),
        ] {
            if v != 0 {
                out.push(format!("{who} has capabilities ({name} {v:016x})"));
            }
        }
        if st.no_new_privs != Some(1) {
            out.push(format!("{who} has NoNewPrivs {:?}", st.no_new_privs));
        }
        if !seccomp_confined(st.seccomp) {
            out.push(format!("{who} has Seccomp {:?}", st.seccomp));
        }
        let ns = procfs::namespaces(&pid.to_string());
        for (name, inode) in &ns {
            if self.runner_ns.get(name) == Some(inode) {
                out.push(format!("{who} shares the host's {name} namespace"));
            }
        }
        // In the host's namespace the table is the host's; sharing it is reported above.
        let own_net = ns.contains_key("net") && ns.get("net") != self.runner_ns.get("net");
        if self.tcp_denied && own_net {
            let bound: Vec<String> = procfs::tcp_local_ports(pid)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| !EPHEMERAL_PORTS.contains(p))
                .take(4)
                .map(|p| p.to_string())
                .collect();
            if !bound.is_empty() {
                out.push(format!(
                    "{who}'s network namespace has a TCP socket bound to port {} under net = none",
                    bound.join(", ")
                ));
            }
        }
        if procfs::proc_sys_read_only(pid) == Some(false) {
            out.push(format!("{who} has /proc/sys mounted writable"));
        }
        for (sub, expected, what) in [
            ("", &self.expected_root, "root"),
            ("dev", &self.expected_dev, "/dev"),
        ] {
            if let Some(seen) = procfs::list_root(pid, sub) {
                let extra: Vec<&String> = seen.difference(expected).take(6).collect();
                if !extra.is_empty() {
                    let names: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
                    out.push(format!(
                        "{who} sees more than the minimal {what} ({})",
                        names.join(", ")
                    ));
                }
            }
        }
        out
    }
}

/// Whether a `Seccomp:` mode of /proc/PID/status is the sandbox's filter at work: 2 (filter), or 3
/// (`SECCOMP_MODE_DEAD`, Linux 5.17+: the filter has just killed the process, which is on its way out).
/// 0 (none) and 1 (strict, not the sandbox's) are not.
pub fn seccomp_confined(mode: Option<u32>) -> bool {
    matches!(mode, Some(2 | 3))
}

impl Oracle for PstatOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Pstat
    }

    fn started(&mut self, exec_pid: i32) {
        self.set_exec_pid(exec_pid);
    }

    fn sample(&mut self) {
        let supervisor_session = self.exec_pid.and_then(procfs::session);
        for pid in self.cgroup.pids_in_tree() {
            if Some(pid) == self.exec_pid || self.gauntlet.is(pid) {
                continue;
            }
            // A process whose exe cannot be read is gone or not ours to judge yet.
            if procfs::exe(&pid.to_string()).is_none() {
                continue;
            }
            self.sampled.insert(pid);
            let mut found = self.check_pid(pid);
            if supervisor_session.is_some() && procfs::session(pid) == supervisor_session {
                found.push(format!(
                    "plugin process {pid} is in the supervisor's session (no setsid)"
                ));
            }
            if self.findings.len() < 50 {
                self.findings.extend(found);
            }
        }
    }

    fn judge(&mut self, _done: &Finished<'_>) -> Vec<Evidence> {
        self.findings
            .iter()
            .take(8)
            .map(|f| Evidence::escape(OracleKind::Pstat, f.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::seccomp_confined;

    #[test]
    fn a_process_the_filter_is_killing_is_still_confined() {
        assert!(seccomp_confined(Some(2)));
        assert!(seccomp_confined(Some(3)));
        for mode in [None, Some(0), Some(1), Some(4)] {
            assert!(!seccomp_confined(mode), "{mode:?}");
        }
    }
}
