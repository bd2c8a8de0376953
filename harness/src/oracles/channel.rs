//! The `channel` oracle: attacks on the process message channel (manifests with `channel = true`, run
//! as `gauntlet exec --channel`), judged from the host side only:
//!
//! * the supervisor's own account of the channel: `gauntlet exec` prints one line
//!   `gauntlet: channel: {json}` ([`STATS_PREFIX`], a `ChannelStats`) on *its* stderr, which the plugin
//!   cannot write to (the plugin's output is inside the Outcome on stdout);
//! * the supervisor process's peak resident memory, `VmHWM` of the host's `/proc/<pid>/status` for the
//!   `gauntlet exec` process, and the size of its descriptor table (`/proc/<pid>/fd`), sampled while the
//!   case runs;
//! * the Outcome (`usage.host_calls` counts the channel's requests).
//!
//! Escaped when the server served past its caps (more than `wasm.max_host_calls + 1` frames, log bytes
//! over `limits.output`, more keys or store bytes than the host API allows), buffered more than
//! `MAX_BUFFERED`, the supervisor's memory passed [`supervisor_memory_bound`], its descriptor table
//! grew past [`SUPERVISOR_MAX_FDS`] (descriptors passed by the plugin installed), the Outcome does not
//! count the requests, or `[expect.channel]` is not met (fewer errors or caps than the attack's
//! malformed frames must cause, another reason for the server to close). An `error` when there is no
//! channel report (the supervisor did not serve or did not finish the channel).

use gauntlet_sandbox::hostapi::{MAX_ENTRIES, MAX_STORE_BYTES};
use gauntlet_sandbox::supervisor::channel::{ChannelStats, Closed, MAX_BUFFERED};
use serde::Serialize;

use super::{Evidence, Finished, Oracle, OracleKind};

/// Prefix of the channel report line on `gauntlet exec`'s stderr.
pub const STATS_PREFIX: &str = "gauntlet: channel: ";

/// Resident memory of a `gauntlet exec` process that serves no channel, with room for the allocator:
/// measured at about 16 MiB for a debug build (`VmHWM` of `gauntlet exec --channel -- /bin/true`).
pub const SUPERVISOR_BASE: u64 = 32 << 20;

/// Descriptors a `gauntlet exec` process serving one channel holds at most: stdio, the case's, the run's
/// pipes, pidfd and cgroup, the socket pairs (about 20); a plugin's SCM_RIGHTS batch is 100 and more.
pub const SUPERVISOR_MAX_FDS: usize = 64;

/// Most resident memory a supervisor serving one channel may reach under a policy with output cap
/// `output`: its base, the fullest store the host API allows, the channel's buffers, the kept log
/// lines and the plugin's captured output (each kept at most twice while the Outcome is built).
pub fn supervisor_memory_bound(output: u64) -> u64 {
    SUPERVISOR_BASE + MAX_STORE_BYTES + 2 * MAX_BUFFERED as u64 + 4 * output
}

/// `[expect.channel]` of a manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChannelExpect {
    /// At least this many frames answered as malformed (`stats.errors`).
    pub min_errors: u64,
    /// At least this many caps reached (`stats.limited`).
    pub min_limited: u64,
    /// Why the server must have closed.
    pub closed: Option<Closed>,
}

/// The report line in `gauntlet exec`'s stderr, if any (the last one wins).
pub fn parse_stats(exec_stderr: &[u8]) -> Option<Result<ChannelStats, String>> {
    let text = String::from_utf8_lossy(exec_stderr);
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(STATS_PREFIX))?;
    Some(serde_json::from_str(line).map_err(|e| e.to_string()))
}

/// Entries in a host process's descriptor table.
pub fn open_fds(pid: i32) -> Option<usize> {
    Some(
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()?
            .take(100_000)
            .count(),
    )
}

/// `VmHWM` of a host process, in bytes.
pub fn vm_hwm(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = text.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

pub struct ChannelOracle {
    /// `policy.wasm.max_host_calls`.
    pub max_requests: u64,
    /// `policy.limits.output`.
    pub output: u64,
    pub expect: Option<ChannelExpect>,
    /// The supervisor's resident memory bound ([`supervisor_memory_bound`] of `output`).
    memory_bound: u64,
    exec_pid: Option<i32>,
    /// Largest `VmHWM` seen of the `gauntlet exec` process.
    peak: Option<u64>,
    /// Largest descriptor table seen of the `gauntlet exec` process.
    max_fds: Option<usize>,
}

impl ChannelOracle {
    pub fn new(max_requests: u64, output: u64, expect: Option<ChannelExpect>) -> ChannelOracle {
        ChannelOracle {
            max_requests,
            output,
            expect,
            memory_bound: supervisor_memory_bound(output),
            exec_pid: None,
            peak: None,
            max_fds: None,
        }
    }

    /// Another memory bound (tests).
    pub fn with_memory_bound(mut self, bound: u64) -> ChannelOracle {
        self.memory_bound = bound;
        self
    }

    /// The peak memory and descriptor count seen so far (tests).
    pub fn peaks(&self) -> (Option<u64>, Option<usize>) {
        (self.peak, self.max_fds)
    }
}

impl Oracle for ChannelOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Channel
    }

    fn started(&mut self, exec_pid: i32) {
        self.exec_pid = Some(exec_pid);
        self.sample();
    }

    fn sample(&mut self) {
        let Some(pid) = self.exec_pid else { return };
        if let Some(hwm) = vm_hwm(pid) {
            self.peak = Some(self.peak.map_or(hwm, |p| p.max(hwm)));
        }
        if let Some(n) = open_fds(pid) {
            self.max_fds = Some(self.max_fds.map_or(n, |m| m.max(n)));
        }
    }

    fn judge(&mut self, done: &Finished<'_>) -> Vec<Evidence> {
        let mut ev = Vec::new();
        let mut esc = |d: String| ev.push(Evidence::escape(OracleKind::Channel, d));
        let bound = self.memory_bound;
        if let Some(peak) = self.peak.filter(|&p| p > bound) {
            esc(format!(
                "the supervisor's resident memory reached {peak} bytes, above the bound {bound}"
            ));
        }
        if let Some(n) = self.max_fds.filter(|&n| n > SUPERVISOR_MAX_FDS) {
            esc(format!(
                "the supervisor held {n} descriptors, above {SUPERVISOR_MAX_FDS}"
            ));
        }
        let stats = match parse_stats(done.exec_stderr) {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                ev.push(Evidence::error(
                    OracleKind::Channel,
                    format!("unreadable channel report: {e}"),
                ));
                return ev;
            }
            None => {
                if done.outcome.is_some() {
                    ev.push(Evidence::error(
                        OracleKind::Channel,
                        "gauntlet exec printed no channel report",
                    ));
                }
                return ev;
            }
        };
        let mut esc = |d: String| ev.push(Evidence::escape(OracleKind::Channel, d));
        if stats.requests > self.max_requests.saturating_add(1) {
            esc(format!(
                "the channel served {} requests, past the cap of {} (+1 refused)",
                stats.requests, self.max_requests
            ));
        }
        if stats.log_bytes > self.output {
            esc(format!(
                "the channel kept {} log bytes, past limits.output {}",
                stats.log_bytes, self.output
            ));
        }
        if stats.kv_entries > MAX_ENTRIES as u64 || stats.kv_bytes > MAX_STORE_BYTES {
            esc(format!(
                "the store holds {} keys and {} bytes, past the host API's {MAX_ENTRIES} keys / {MAX_STORE_BYTES} bytes",
                stats.kv_entries, stats.kv_bytes
            ));
        }
        if stats.max_buffered > MAX_BUFFERED as u64 {
            esc(format!(
                "the channel buffered {} bytes, past {MAX_BUFFERED}",
                stats.max_buffered
            ));
        }
        if let Some(o) = done.outcome {
            if o.usage.host_calls < stats.requests {
                esc(format!(
                    "usage.host_calls is {}, but the channel served {} requests",
                    o.usage.host_calls, stats.requests
                ));
            }
        }
        if let Some(x) = &self.expect {
            if stats.errors < x.min_errors {
                esc(format!(
                    "{} frames answered as malformed, expected at least {} (the server accepted forged frames)",
                    stats.errors, x.min_errors
                ));
            }
            if stats.limited < x.min_limited {
                esc(format!(
                    "{} caps reached, expected at least {}",
                    stats.limited, x.min_limited
                ));
            }
            if let Some(c) = x.closed {
                if stats.closed != c {
                    esc(format!(
                        "the channel closed with {}, expected {}",
                        closed_name(stats.closed),
                        closed_name(c)
                    ));
                }
            }
        }
        ev
    }
}

/// The snake_case name of a close reason.
pub fn closed_name(c: Closed) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The close reason named `s`.
pub fn closed_from_name(s: &str) -> Option<Closed> {
    serde_json::from_value(serde_json::Value::String(s.into())).ok()
}
