//! The `Outcome` of one plugin run: the same shape from both backends, and the JSON contract of
//! `gauntlet exec --json` (field names are relied on by the harness and by users; keep them stable).

use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The plugin's main process (or the wasm `_start`) ended by itself; see `exit_code`.
    Exited,
    /// The run was stopped: by a limit (`limit`), by a signal (`signal`), or by a wasm trap (`trap`).
    Killed,
    /// The plugin never started: an invalid module, or a module whose declared needs exceed the policy.
    Rejected,
    /// The sandbox itself failed (a setup step, a missing kernel feature with `--require-all`).
    Error,
}

/// The limit that stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    WallTime,
    CpuTime,
    Memory,
    Pids,
    Output,
    FileSize,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::WallTime => "wall_time",
            Limit::CpuTime => "cpu_time",
            Limit::Memory => "memory",
            Limit::Pids => "pids",
            Limit::Output => "output",
            Limit::FileSize => "file_size",
        }
    }
}

/// What the run used, measured from the host side (cgroup files, `wait4`, the wasm store).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub wall_ms: u64,
    /// CPU time of the whole process tree (or fuel converted to time, for wasm).
    pub cpu_ms: u64,
    /// Largest memory use reached: cgroup peak (process), or largest total linear memory (wasm).
    pub peak_memory_bytes: u64,
    /// Largest number of processes and threads at once (process backend; 1 for wasm).
    pub peak_pids: u64,
    /// Host API calls made (wasm backend, and process plugins that use the message channel).
    pub host_calls: u64,
    /// Fuel consumed (wasm backend).
    pub fuel_consumed: Option<u64>,
    /// Time spent compiling the module, or 0 when it came from the cache (wasm backend).
    pub compile_ms: Option<u64>,
    /// Every limit that denied the run something, whether or not it ended the run (a fork bomb that
    /// met `pids.max` and then exited has `limits_hit = ["pids"]`).
    pub limits_hit: Vec<Limit>,
}

/// A protection layer that the run was supposed to get but did not, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingLayer {
    pub layer: String,
    pub reason: String,
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// `process` or `wasm`.
    pub backend: String,
    pub status: Status,
    pub limit: Option<Limit>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The wasm trap that ended the run (`stack_overflow`, `memory_out_of_bounds`, `unreachable`, ...).
    #[serde(default)]
    pub trap: Option<String>,
    /// Why a run was rejected or failed, in one line.
    #[serde(default)]
    pub reason: Option<String>,
    pub usage: Usage,
    #[serde(with = "lossy_bytes")]
    pub stdout: Vec<u8>,
    #[serde(with = "lossy_bytes")]
    pub stderr: Vec<u8>,
    /// True when the output limit cut stdout or stderr short.
    #[serde(default)]
    pub output_truncated: bool,
    /// The protection layers applied, in the order they were applied.
    pub layers: Vec<String>,
    pub layers_missing: Vec<MissingLayer>,
}

impl Outcome {
    /// An outcome for a run that never started.
    pub fn not_started(backend: &str, status: Status, reason: impl Into<String>) -> Outcome {
        Outcome {
            backend: backend.to_string(),
            status,
            limit: None,
            exit_code: None,
            signal: None,
            trap: None,
            reason: Some(reason.into()),
            usage: Usage::default(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            output_truncated: false,
            layers: Vec::new(),
            layers_missing: Vec::new(),
        }
    }

    /// The exit code `gauntlet exec` passes on without `--json`: the plugin's own code, 128 + signal when
    /// it was killed by one (137 for a limit kill), 2 when it was rejected, 125 when the sandbox failed.
    pub fn shell_exit_code(&self) -> i32 {
        match self.status {
            Status::Exited => self.exit_code.unwrap_or(0),
            Status::Killed => 128 + self.signal.unwrap_or(libc::SIGKILL),
            Status::Rejected => 2,
            Status::Error => 125,
        }
    }

    /// A one-line human summary, for stderr.
    pub fn summary(&self) -> String {
        let mut s = format!("gauntlet: {} {}", self.backend, status_str(self.status));
        if let Some(c) = self.exit_code {
            s += &format!(" code={c}");
        }
        if let Some(sig) = self.signal {
            s += &format!(" signal={sig}");
        }
        if let Some(l) = self.limit {
            s += &format!(" limit={}", l.as_str());
        }
        if let Some(t) = &self.trap {
            s += &format!(" trap={t}");
        }
        s += &format!(
            " wall={}ms cpu={}ms peak_mem={} peak_pids={}",
            self.usage.wall_ms,
            self.usage.cpu_ms,
            self.usage.peak_memory_bytes,
            self.usage.peak_pids
        );
        if let Some(r) = &self.reason {
            s += &format!(" reason={r:?}");
        }
        if !self.layers_missing.is_empty() {
            let names: Vec<_> = self
                .layers_missing
                .iter()
                .map(|m| m.layer.as_str())
                .collect();
            s += &format!(" missing=[{}]", names.join(","));
        }
        s
    }
}

pub fn status_str(s: Status) -> &'static str {
    match s {
        Status::Exited => "exited",
        Status::Killed => "killed",
        Status::Rejected => "rejected",
        Status::Error => "error",
    }
}

/// Output bytes travel as JSON strings (invalid UTF-8 replaced), and come back as bytes.
mod lossy_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}
