//! The `Policy`: plain data that says what a plugin may use. Both backends read it; neither writes it.
//!
//! A policy is deny-by-default: every field that is absent takes the strict default (no network, no
//! environment, no host paths but the system libraries and the program itself, small limits). It loads from
//! TOML (`Policy::from_toml_file`), where unknown fields are errors, and is checked by `Policy::validate`, whose
//! errors name the file and the field (`policy.toml: limits.memory: "12XB" is not a size`).
//!
//! Invariant: nothing in this module makes a system call other than reading the policy file.

mod units;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use units::{Dur, Size, UnitError};

/// Everything a plugin run may use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub limits: Limits,
    pub fs: FsView,
    pub net: Net,
    /// The plugin's whole environment: exactly these variables, nothing inherited.
    pub env: BTreeMap<String, String>,
    pub syscalls: Syscalls,
    pub wasm: WasmLimits,
    pub supervisor: Supervision,
}

/// Resource limits. Each one holds for the whole run (the process tree, or the wasm store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock time from start to the kill of the whole run.
    pub wall_time: Dur,
    /// CPU time of the whole process tree (process backend) or fuel-metered time (wasm backend).
    pub cpu_time: Dur,
    /// Memory of the whole run: cgroup memory with swap 0, or the total of the wasm store's memories.
    pub memory: Size,
    /// Processes and threads at once (cgroup `pids.max`).
    pub pids: u32,
    /// Open descriptors per process (`RLIMIT_NOFILE`).
    pub open_files: u32,
    /// Largest file the plugin may write (`RLIMIT_FSIZE`).
    pub file_size: Size,
    /// stdout plus stderr bytes kept; a run that writes more is killed with `limit = output`.
    pub output: Size,
    /// Stack of the main thread (`RLIMIT_STACK`).
    pub stack: Size,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_time: Dur(Duration::from_secs(10)),
            cpu_time: Dur(Duration::from_secs(5)),
            memory: Size(256 << 20),
            pids: 64,
            open_files: 256,
            file_size: Size(64 << 20),
            output: Size(1 << 20),
            stack: Size(8 << 20),
        }
    }
}

/// What of the host's file system the plugin sees. Everything else is absent from its root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FsView {
    /// Host paths visible read-only (nosuid, nodev) at the same path inside.
    pub ro: Vec<PathBuf>,
    /// Host paths visible read-write (nosuid, nodev, noexec) at the same path inside.
    pub rw: Vec<PathBuf>,
    /// Size of the private `/tmp` (also caps `/dev/shm`).
    pub tmp_size: Size,
    /// Whether the system library paths (`/lib`, `/lib64`, `/usr/lib`, `/usr/lib64`) and the dynamic
    /// loader's cache (`/etc/ld.so.cache`) are added read-only.
    pub system_libs: bool,
}

impl Default for FsView {
    fn default() -> Self {
        FsView {
            ro: Vec::new(),
            rw: Vec::new(),
            tmp_size: Size(64 << 20),
            system_libs: true,
        }
    }
}

/// The system library paths that `fs.system_libs` adds. The loader's cache is one file: without it,
/// every dynamically linked start probes a dozen directories for each library (about 0.3 ms).
pub const SYSTEM_LIB_PATHS: &[&str] = &[
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/etc/ld.so.cache",
];

/// Network reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Net {
    pub mode: NetMode,
    /// With `mode = "allow"`: the only `host:port` destinations the plugin may reach, through the
    /// supervisor's egress proxy (process backend) or wasmtime's socket address check (wasm backend).
    /// A host is an IP literal (`127.0.0.1`, `[::1]`) or a name; a name is resolved once, when the proxy
    /// starts, and only the addresses found then are allowed (no re-resolution, so no DNS rebinding).
    pub allow: Vec<String>,
    /// Longest a connection through the egress proxy may take to open, and may stay idle.
    pub timeout: Dur,
    /// Bytes one connection through the egress proxy may carry, both directions together.
    pub max_bytes: Size,
}

impl Default for Net {
    fn default() -> Self {
        Net {
            mode: NetMode::None,
            allow: Vec::new(),
            timeout: Dur(Duration::from_secs(5)),
            max_bytes: Size(16 << 20),
        }
    }
}

/// One `net.allow` entry, parsed: a host (name or IP literal) and a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AllowEntry {
    pub host: AllowHost,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AllowHost {
    Ip(std::net::IpAddr),
    Name(String),
}

impl std::fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            AllowHost::Ip(std::net::IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            AllowHost::Ip(ip) => write!(f, "{ip}:{}", self.port),
            AllowHost::Name(n) => write!(f, "{n}:{}", self.port),
        }
    }
}

impl std::str::FromStr for AllowEntry {
    type Err = String;
    /// `host:port`, `[v6]:port`; a name is letters, digits, `-` and `.` (at most 253 bytes).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not host:port");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest.split_once("]:").ok_or_else(bad)?;
            let ip: std::net::Ipv6Addr = h.parse().map_err(|_| bad())?;
            (AllowHost::Ip(ip.into()), p)
        } else {
            let (h, p) = s.rsplit_once(':').ok_or_else(bad)?;
            if let Ok(ip) = h.parse::<std::net::Ipv4Addr>() {
                (AllowHost::Ip(ip.into()), p)
            } else {
                let valid = !h.is_empty()
                    && h.len() <= 253
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                    && !h.starts_with(['-', '.']);
                if !valid {
                    return Err(format!("{h:?} is not a host name or IP address"));
                }
                (AllowHost::Name(h.to_ascii_lowercase()), p)
            }
        };
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{port:?} is not a port (1..65535)"))?;
        Ok(AllowEntry { host, port })
    }
}

impl Net {
    /// The parsed `allow` list. Validated policies always parse.
    pub fn allow_entries(&self) -> Result<Vec<AllowEntry>, PolicyError> {
        self.allow
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.parse().map_err(|m| {
                    PolicyError::new(format!("net.allow[{i}]"), PolicyErrorKind::Invalid(m))
                })
            })
            .collect()
    }
}

/// What the `Supervisor` does around runs: quarantine, redaction in the audit trail, restarts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Supervision {
    /// Violations (escape attempts, limit hits, denied calls) within `quarantine_window` that put the
    /// plugin in quarantine. 0 never quarantines.
    pub quarantine_after: u32,
    pub quarantine_window: Dur,
    /// Names of `env` variables whose values are secrets: the audit trail never shows those values.
    pub secrets: Vec<String>,
    /// First wait before a crashed plugin is restarted; each further crash doubles it up to `restart_max`.
    pub restart_backoff: Dur,
    pub restart_max: Dur,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            quarantine_after: 5,
            quarantine_window: Dur(Duration::from_secs(600)),
            secrets: Vec::new(),
            restart_backoff: Dur(Duration::from_millis(100)),
            restart_max: Dur(Duration::from_secs(30)),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetMode {
    /// An empty network namespace: not even loopback is up.
    #[default]
    None,
    /// A private loopback interface inside the sandbox; the host's loopback stays unreachable.
    Loopback,
    /// No route out but the supervisor's egress proxy, which lets through only `net.allow`.
    Allow,
}

impl std::str::FromStr for NetMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(NetMode::None),
            "loopback" => Ok(NetMode::Loopback),
            "allow" => Ok(NetMode::Allow),
            _ => Err(format!(
                "{s:?} is not a network mode (none, loopback, allow)"
            )),
        }
    }
}

/// Adjustments to the process backend's syscall allowlist. The always-denied calls
/// (`crate::process::ALWAYS_DENIED`) cannot be allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Syscalls {
    /// Calls to add to the allowlist.
    pub allow: Vec<String>,
    /// Calls to remove from the allowlist (they fail with EPERM).
    pub deny: Vec<String>,
}

/// Limits that only the wasm backend has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WasmLimits {
    /// Largest module accepted, in bytes of `.wasm` (or `.wat` text).
    pub max_module_size: Size,
    pub max_instances: u32,
    pub max_memories: u32,
    pub max_tables: u32,
    /// Elements of all tables together.
    pub max_table_elements: u32,
    /// Wasm stack (`Config::max_wasm_stack`).
    pub max_stack: Size,
    /// Host API calls allowed in one run.
    pub max_host_calls: u64,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits {
            max_module_size: Size(16 << 20),
            max_instances: 4,
            max_memories: 4,
            max_tables: 4,
            max_table_elements: 100_000,
            max_stack: Size(512 << 10),
            max_host_calls: 1_000_000,
        }
    }
}

/// A policy error: the file (when the policy came from one), the field, and what is wrong with it.
/// Displays as one line: `policy.toml: limits.memory: "12XB" is not a size`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {kind}", .file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default(), .field)]
pub struct PolicyError {
    pub file: Option<PathBuf>,
    /// Dotted path of the field (`limits.memory`, `fs.ro[2]`), or `<file>` when the file itself is at fault.
    pub field: String,
    pub kind: PolicyErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyErrorKind {
    #[error("cannot read: {0}")]
    Read(String),
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    OutOfRange(String),
}

impl PolicyError {
    fn new(field: impl Into<String>, kind: PolicyErrorKind) -> Self {
        PolicyError {
            file: None,
            field: field.into(),
            kind,
        }
    }
    fn in_file(mut self, file: Option<&Path>) -> Self {
        self.file = file.map(Path::to_path_buf);
        self
    }
}

impl Policy {
    /// Reads and validates a policy file.
    pub fn from_toml_file(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PolicyError::new("<file>", PolicyErrorKind::Read(e.kind().to_string()))
                .in_file(Some(path))
        })?;
        Policy::from_toml_str(&text, Some(path))
    }

    /// Parses and validates policy text; `file` only labels errors.
    pub fn from_toml_str(text: &str, file: Option<&Path>) -> Result<Policy, PolicyError> {
        let de =
            toml::Deserializer::parse(text).map_err(|e| syntax_error(text, &e).in_file(file))?;
        let policy: Policy = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let field = if field == "." {
                "<file>".to_string()
            } else {
                field
            };
            PolicyError::new(field, PolicyErrorKind::Invalid(first_line(inner.message())))
                .in_file(file)
        })?;
        policy.validate().map_err(|e| e.in_file(file))?;
        Ok(policy)
    }

    /// Prints the policy as TOML that `from_toml_str` reads back to an equal policy.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Policy always serializes")
    }

    /// Checks ranges and shapes that types alone cannot.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let range = |field: &str, msg: String| {
            Err(PolicyError::new(field, PolicyErrorKind::OutOfRange(msg)))
        };
        let l = &self.limits;
        if l.wall_time.0 < Duration::from_millis(1)
            || l.wall_time.0 > Duration::from_secs(24 * 3600)
        {
            return range(
                "limits.wall_time",
                format!("{} is outside 1ms..24h", l.wall_time),
            );
        }
        if l.cpu_time.0 < Duration::from_millis(1) || l.cpu_time.0 > Duration::from_secs(24 * 3600)
        {
            return range(
                "limits.cpu_time",
                format!("{} is outside 1ms..24h", l.cpu_time),
            );
        }
        if l.memory.0 < (1 << 20) || l.memory.0 > (1 << 40) {
            return range("limits.memory", format!("{} is outside 1M..1T", l.memory));
        }
        if l.pids == 0 || l.pids > 1 << 22 {
            return range("limits.pids", format!("{} is outside 1..4194304", l.pids));
        }
        if l.open_files < 3 || l.open_files > 1 << 20 {
            return range(
                "limits.open_files",
                format!("{} is outside 3..1048576", l.open_files),
            );
        }
        if l.output.0 > 1 << 30 {
            return range("limits.output", format!("{} is above 1G", l.output));
        }
        if l.stack.0 < 64 << 10 || l.stack.0 > 1 << 30 {
            return range("limits.stack", format!("{} is outside 64K..1G", l.stack));
        }
        if self.fs.tmp_size.0 < 4096 || self.fs.tmp_size.0 > 1 << 40 {
            return range(
                "fs.tmp_size",
                format!("{} is outside 4K..1T", self.fs.tmp_size),
            );
        }
        for (list, paths) in [("fs.ro", &self.fs.ro), ("fs.rw", &self.fs.rw)] {
            for (i, p) in paths.iter().enumerate() {
                check_host_path(p).map_err(|m| {
                    PolicyError::new(format!("{list}[{i}]"), PolicyErrorKind::Invalid(m))
                })?;
            }
        }
        for k in self.env.keys() {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(PolicyError::new(
                    format!("env.{k}"),
                    PolicyErrorKind::Invalid(format!("{k:?} is not a variable name")),
                ));
            }
        }
        for (k, v) in &self.env {
            if v.contains('\0') {
                return Err(PolicyError::new(
                    format!("env.{k}"),
                    PolicyErrorKind::Invalid("contains a NUL byte".into()),
                ));
            }
        }
        crate::process::seccomp::validate_adjustments(&self.syscalls)?;
        self.net.allow_entries()?;
        if !self.net.allow.is_empty() && self.net.mode != NetMode::Allow {
            return Err(PolicyError::new(
                "net.allow",
                PolicyErrorKind::Invalid(format!(
                    "needs net.mode = \"allow\" (the mode is {:?})",
                    self.net.mode
                )),
            ));
        }
        if self.net.timeout.0 < Duration::from_millis(1)
            || self.net.timeout.0 > Duration::from_secs(3600)
        {
            return range(
                "net.timeout",
                format!("{} is outside 1ms..1h", self.net.timeout),
            );
        }
        let s = &self.supervisor;
        for (i, name) in s.secrets.iter().enumerate() {
            if !self.env.contains_key(name) {
                return Err(PolicyError::new(
                    format!("supervisor.secrets[{i}]"),
                    PolicyErrorKind::Invalid(format!("{name:?} is not a variable in env")),
                ));
            }
        }
        if s.restart_backoff.0 > s.restart_max.0 {
            return range(
                "supervisor.restart_backoff",
                format!(
                    "{} is above supervisor.restart_max ({})",
                    s.restart_backoff, s.restart_max
                ),
            );
        }
        let w = &self.wasm;
        if w.max_module_size.0 == 0 || w.max_module_size.0 > 1 << 30 {
            return range(
                "wasm.max_module_size",
                format!("{} is outside 1..1G", w.max_module_size),
            );
        }
        if w.max_stack.0 < 16 << 10 || w.max_stack.0 > 64 << 20 {
            return range(
                "wasm.max_stack",
                format!("{} is outside 16K..64M", w.max_stack),
            );
        }
        for (field, v, max) in [
            ("wasm.max_instances", w.max_instances, 10_000),
            ("wasm.max_memories", w.max_memories, 10_000),
            ("wasm.max_tables", w.max_tables, 10_000),
        ] {
            if v == 0 || v > max {
                return range(field, format!("{v} is outside 1..{max}"));
            }
        }
        Ok(())
    }

    /// The host paths visible read-only: the policy's own plus, when `fs.system_libs`, the library paths
    /// that exist on this host.
    pub fn effective_ro(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if self.fs.system_libs {
            out.extend(
                SYSTEM_LIB_PATHS
                    .iter()
                    .map(PathBuf::from)
                    .filter(|p| p.symlink_metadata().is_ok()),
            );
        }
        out.extend(self.fs.ro.iter().cloned());
        out
    }

    /// Applies command-line overrides on top of this policy, then validates the result.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<Policy, PolicyError> {
        if let Some(v) = o.wall_time {
            self.limits.wall_time = Dur(v);
        }
        if let Some(v) = o.cpu_time {
            self.limits.cpu_time = Dur(v);
        }
        if let Some(v) = o.memory {
            self.limits.memory = Size(v);
        }
        if let Some(v) = o.pids {
            self.limits.pids = v;
        }
        if let Some(v) = o.output {
            self.limits.output = Size(v);
        }
        if let Some(v) = o.net {
            self.net.mode = v;
        }
        self.net.allow.extend(o.allow.iter().cloned());
        self.fs.ro.extend(o.ro.iter().cloned());
        self.fs.rw.extend(o.rw.iter().cloned());
        for (k, v) in &o.env {
            self.env.insert(k.clone(), v.clone());
        }
        self.validate()?;
        Ok(self)
    }
}

/// Command-line settings that win over the policy file. Each `None` or empty list leaves the file's value.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub wall_time: Option<Duration>,
    pub cpu_time: Option<Duration>,
    pub memory: Option<u64>,
    pub pids: Option<u32>,
    pub output: Option<u64>,
    pub net: Option<NetMode>,
    /// `net.allow` entries, appended to the file's.
    pub allow: Vec<String>,
    pub ro: Vec<PathBuf>,
    pub rw: Vec<PathBuf>,
    pub env: Vec<(String, String)>,
}

fn check_host_path(p: &Path) -> Result<(), String> {
    let s = p.to_string_lossy();
    if !p.is_absolute() {
        return Err(format!("{s:?} is not an absolute path"));
    }
    if s.contains('\0') {
        return Err(format!("{s:?} contains a NUL byte"));
    }
    if p.components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!("{s:?} contains \"..\""));
    }
    if p == Path::new("/") {
        return Err("\"/\" would expose the whole host; name the paths the plugin needs".into());
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

fn syntax_error(text: &str, e: &toml::de::Error) -> PolicyError {
    let at = e
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line} column {col}: ")
        })
        .unwrap_or_default();
    PolicyError::new(
        "<file>",
        PolicyErrorKind::Syntax(format!("{at}{}", first_line(e.message()))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_is_the_strict_default() {
        let p = Policy::from_toml_str("", None).unwrap();
        assert_eq!(p, Policy::default());
        assert_eq!(p.net.mode, NetMode::None);
        assert!(p.env.is_empty());
        assert_eq!(p.limits.memory, Size(256 << 20));
    }

    #[test]
    fn policy_round_trips_through_toml() {
        let mut p = Policy::default();
        p.limits.memory = Size(3 << 30);
        p.limits.wall_time = Dur(Duration::from_millis(1500));
        p.fs.ro.push("/opt/data".into());
        p.env.insert("LANG".into(), "C".into());
        p.net.mode = NetMode::Loopback;
        p.syscalls.deny.push("chmod".into());
        let again = Policy::from_toml_str(&p.to_toml(), None).unwrap();
        assert_eq!(p, again);
    }

    #[test]
    fn errors_name_file_and_field() {
        let e = Policy::from_toml_str(
            "[limits]\nmemory = \"12XB\"\n",
            Some(Path::new("policy.toml")),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "policy.toml: limits.memory: \"12XB\" is not a size (use e.g. \"64M\", \"1G\" or a number of bytes)");
        assert_eq!(e.field, "limits.memory");
    }
}
