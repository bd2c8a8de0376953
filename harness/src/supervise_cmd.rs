//! `gauntlet serve` (plugins from a config file under the `Supervisor`), `gauntlet audit verify` and
//! `gauntlet quarantine list|release`.
//!
//! Exit codes:
//! - `serve`: 0 when, in `once` mode, every plugin's run exited 0, or, in `keep-running` mode, after a
//!   clean shutdown on SIGINT/SIGTERM; 1 when a `once` run did not exit 0 (a non-zero exit, a kill, a
//!   refusal by the quarantine); 2 for bad input (the config, a policy, a missing program, a `--metrics`
//!   address that is not loopback) with one line naming the file and field; 3 when the supervisor failed
//!   (the state directory, an audit trail that does not verify or cannot be written, every plugin ended
//!   by a supervisor error).
//! - `audit verify`: 0 intact; 1 broken, with `FILE:LINE: reason` for the first broken line; 2 bad input
//!   (no such file or state directory).
//! - `quarantine list`: 0, or 2 for a missing state directory. `quarantine release ID`: 0 released; 1
//!   the plugin was not in quarantine; 2 bad input.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use gauntlet_sandbox::outcome::Status;
use gauntlet_sandbox::policy::{Dur, Policy};
use gauntlet_sandbox::supervisor::audit::{format_unix_ms, verify_with_state, Verdict};
use gauntlet_sandbox::supervisor::metrics::CONTENT_TYPE;
use gauntlet_sandbox::supervisor::state::StateDir;
use gauntlet_sandbox::supervisor::{
    Mode, Notice, PluginHandle, PluginSpec, Program, Quarantine, StartOptions, Supervisor,
    SupervisorErrorKind,
};
use nix::sys::signal::{SigSet, Signal};
use serde::Deserialize;

use crate::cli::{EXIT_BAD_INPUT, EXIT_INTERNAL};

/// A run did not exit 0 (`serve` once), a trail is broken, a plugin was not in quarantine.
pub const EXIT_FAIL: u8 = 1;

/// Arguments of `gauntlet serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// The plugins: a TOML file with `mode` and `[[plugin]]` tables (see README "gauntlet serve").
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// The supervisor's state directory (quarantine, audit key and anchors); created 0700.
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// Append the audit trail (JSON lines) to FILE.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Serve the metrics (Prometheus/OpenMetrics text) at http://ADDR/metrics; loopback only
    /// (127.0.0.1:PORT, [::1]:PORT, localhost:PORT; port 0 picks one and prints it).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Write the metrics text to PATH after every run (atomically: temporary file, then rename).
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Override the config's mode.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeArg {
    /// Run every plugin once, then exit.
    Once,
    /// Restart every plugin when it ends (with its policy's back-off) until SIGINT/SIGTERM; reload a
    /// plugin when its program or module changes, and all of them on SIGHUP.
    KeepRunning,
}

/// `gauntlet audit ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum AuditCmd {
    /// Check an audit trail's hash chain (and, with --state, its MACs and anchor). Exit 1 with the first
    /// broken line.
    Verify {
        file: PathBuf,
        /// The state directory of the supervisor that wrote it: checks every MAC and that the trail
        /// still ends where the supervisor last wrote (a cut at the end is found only this way).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `gauntlet quarantine ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum QuarantineCmd {
    /// The plugins in quarantine: id, since, violations, window, last reason.
    List {
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Let a plugin run again (its violations are forgotten).
    Release {
        id: String,
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
}

fn bad_input(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("gauntlet: {msg}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn internal(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("gauntlet: {msg}");
    ExitCode::from(EXIT_INTERNAL)
}

// ---------------------------------------------------------------------------------------------------
// audit verify

pub fn audit(cmd: AuditCmd) -> ExitCode {
    let AuditCmd::Verify { file, state, json } = cmd;
    if !file.is_file() {
        return bad_input(format!("{}: no such file", file.display()));
    }
    let verdict = match verify_with_state(&file, state.as_deref()) {
        Ok(v) => v,
        Err(e) => return bad_input(e),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string(&verdict).expect("verdicts serialize")
        );
    }
    match verdict {
        Verdict::Intact(v) => {
            if !json {
                let checks = match v.anchored_at {
                    Some(a) => format!("chain, MACs and the anchor (seq {a}) checked"),
                    None => "chain checked; MACs and the end not checked (no --state): a rewrite \
                             of the whole file or a cut at the end would not show"
                        .to_string(),
                };
                println!(
                    "{}: intact: {} records (seq 0..{}), trail {}; {checks}",
                    file.display(),
                    v.records,
                    v.last_seq,
                    v.trail
                );
            }
            ExitCode::SUCCESS
        }
        Verdict::Broken(b) => {
            if !json {
                println!("{}:{}: {}", file.display(), b.line, b.reason);
            }
            ExitCode::from(EXIT_FAIL)
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// quarantine list | release

pub fn quarantine(cmd: QuarantineCmd) -> ExitCode {
    let open = |state: &Path| StateDir::open(state).map(|s| Quarantine::new(&s));
    match cmd {
        QuarantineCmd::List { state, json } => {
            let q = match open(&state) {
                Ok(q) => q,
                Err(e) => return bad_input(e),
            };
            let list = match q.list() {
                Ok(l) => l,
                Err(e) => return internal(e),
            };
            if json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(id, e)| {
                        serde_json::json!({"id": id, "since": format_unix_ms(e.since_ms),
                            "violations": e.violations, "window_ms": e.window_ms, "reasons": e.reasons})
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(v));
            } else if list.is_empty() {
                println!("no plugin is in quarantine");
            } else {
                let w = list
                    .iter()
                    .map(|(id, _)| id.len())
                    .max()
                    .unwrap_or(2)
                    .max(2);
                println!(
                    "{:w$}  {:24}  {:>10}  {:>8}  LAST",
                    "ID", "SINCE", "VIOLATIONS", "WINDOW"
                );
                for (id, e) in &list {
                    println!(
                        "{id:w$}  {:24}  {:>10}  {:>8}  {}",
                        format_unix_ms(e.since_ms),
                        e.violations,
                        Dur(Duration::from_millis(e.window_ms)).to_string(),
                        e.reasons.last().map(String::as_str).unwrap_or("-")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        QuarantineCmd::Release { id, state } => {
            let q = match open(&state) {
                Ok(q) => q,
                Err(e) => return bad_input(e),
            };
            match q.release(&id) {
                Ok(e) => {
                    println!(
                        "released {id} (in quarantine since {}, {} violations)",
                        format_unix_ms(e.since_ms),
                        e.violations
                    );
                    ExitCode::SUCCESS
                }
                Err(e) if matches!(e.kind, SupervisorErrorKind::NotQuarantined) => {
                    eprintln!("gauntlet: {e}");
                    ExitCode::from(EXIT_FAIL)
                }
                Err(e) => internal(e),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// serve: the config file

/// The config file of `gauntlet serve`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default = "default_mode")]
    mode: ModeArg,
    /// Reload a plugin when its program or module changes (keep-running mode).
    #[serde(default = "default_true")]
    watch: bool,
    #[serde(default)]
    plugin: Vec<PluginEntry>,
}

fn default_mode() -> ModeArg {
    ModeArg::Once
}

fn default_true() -> bool {
    true
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum BackendName {
    Process,
    Wasm,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginEntry {
    id: String,
    backend: BackendName,
    /// The program (process backend).
    program: Option<PathBuf>,
    /// The `.wasm`/`.wat` module (wasm backend).
    module: Option<PathBuf>,
    #[serde(default)]
    args: Vec<String>,
    /// The policy file (default: the strict default policy).
    policy: Option<PathBuf>,
    /// Give a process plugin the message channel.
    #[serde(default)]
    channel: bool,
}

/// A parsed config: the mode, whether to watch files, the plugins.
#[derive(Debug)]
pub struct Config {
    pub mode: ModeArg,
    pub watch: bool,
    pub plugins: Vec<PluginSpec>,
}

/// A config error: one line naming the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {msg}")]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub msg: String,
}

/// Reads and checks a `gauntlet serve` config; relative paths are relative to the config's directory.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let err = |field: &str, msg: String| ConfigError {
        file: path.display().to_string(),
        field: field.to_string(),
        msg,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| err("<file>", format!("cannot read: {}", e.kind())))?;
    let de = toml::Deserializer::parse(&text).map_err(|e| {
        err(
            "<file>",
            format!(
                "not valid TOML: {}",
                e.message().lines().next().unwrap_or("")
            ),
        )
    })?;
    let file: ConfigFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = match e.path().to_string() {
            f if f == "." => "<file>".to_string(),
            f => f,
        };
        let inner = e.into_inner();
        err(
            &field,
            inner.message().lines().next().unwrap_or("").to_string(),
        )
    })?;
    if file.plugin.is_empty() {
        return Err(err("plugin", "no [[plugin]] table".into()));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let mut ids = HashSet::new();
    let mut plugins = Vec::new();
    for (i, e) in file.plugin.iter().enumerate() {
        let f = |name: &str| format!("plugin[{i}].{name}");
        if !ids.insert(e.id.clone()) {
            return Err(err(&f("id"), format!("{:?} is used twice", e.id)));
        }
        let (program, field) = match (e.backend, &e.program, &e.module) {
            // A program named without a slash is looked up in PATH by the process backend.
            (BackendName::Process, Some(p), None) if !p.to_string_lossy().contains('/') => {
                (Program::Process(p.clone()), None)
            }
            (BackendName::Process, Some(p), None) => {
                (Program::Process(resolve(p)), Some("program"))
            }
            (BackendName::Wasm, None, Some(m)) => (Program::Wasm(resolve(m)), Some("module")),
            (BackendName::Process, _, Some(_)) => {
                return Err(err(
                    &f("module"),
                    "is for wasm plugins (use program)".into(),
                ))
            }
            (BackendName::Wasm, Some(_), _) => {
                return Err(err(
                    &f("program"),
                    "is for process plugins (use module)".into(),
                ))
            }
            (BackendName::Process, None, None) => return Err(err(&f("program"), "missing".into())),
            (BackendName::Wasm, None, None) => return Err(err(&f("module"), "missing".into())),
        };
        if let Some(field) = field.filter(|_| !program.path().is_file()) {
            return Err(err(
                &f(field),
                format!("{}: no such file", program.path().display()),
            ));
        }
        let policy = match &e.policy {
            Some(p) => Policy::from_toml_file(&resolve(p)).map_err(|pe| ConfigError {
                file: pe
                    .file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default(),
                field: pe.field.clone(),
                msg: pe.kind.to_string(),
            })?,
            None => Policy::default(),
        };
        let spec = PluginSpec {
            id: e.id.clone(),
            program,
            args: e.args.iter().map(OsString::from).collect(),
            policy,
            channel: e.channel,
        };
        spec.validate()
            .map_err(|se| err(&f("id"), se.to_string()))?;
        plugins.push(spec);
    }
    Ok(Config {
        mode: file.mode,
        watch: file.watch,
        plugins,
    })
}

/// Parses a `--metrics` address; every address it names must be loopback.
pub fn loopback_addr(s: &str) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("--metrics {s}: not an address (use 127.0.0.1:PORT): {e}"))?
        .collect();
    match addrs.first() {
        Some(a) if addrs.iter().all(|a| a.ip().is_loopback()) => Ok(*a),
        _ => Err(format!(
            "--metrics {s}: not a loopback address (the endpoint has no authentication; use \
             127.0.0.1:PORT or [::1]:PORT)"
        )),
    }
}

// ---------------------------------------------------------------------------------------------------
// serve

enum Msg {
    Notice(Notice),
    Signal(Signal),
}

pub fn serve(args: ServeArgs) -> ExitCode {
    let addr = match args.metrics.as_deref().map(loopback_addr).transpose() {
        Ok(a) => a,
        Err(e) => return bad_input(e),
    };
    let config = match load_config(&args.config) {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    if let Some(a) = &args.audit {
        let dir = a.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) || a.is_dir() {
            return bad_input(format!(
                "--audit {}: not a file in an existing directory",
                a.display()
            ));
        }
    }
    let mode = args.mode.unwrap_or(config.mode);
    // Signals are taken by one thread with sigwait: block them before any thread exists.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM] {
        signals.add(s);
    }
    if let Err(e) = signals.thread_block() {
        return internal(format!("cannot block signals: {e}"));
    }
    let sup = match Supervisor::open(&args.state, args.audit.as_deref()) {
        Ok(s) => s,
        Err(e) if e.is_bad_input() => return bad_input(e),
        Err(e) => return internal(e),
    };
    if let Some(addr) = addr {
        let listener = match TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => return bad_input(format!("--metrics {addr}: cannot listen: {e}")),
        };
        let local = listener.local_addr().unwrap_or(addr);
        eprintln!("gauntlet: metrics on http://{local}/metrics");
        let s = sup.clone();
        let spawned = std::thread::Builder::new()
            .name("gauntlet-metrics".into())
            .spawn(move || serve_metrics(listener, &s));
        if let Err(e) = spawned {
            return internal(format!("metrics thread: {e}"));
        }
    }
    let (tx, rx) = mpsc::channel::<Msg>();
    {
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("gauntlet-signals".into())
            .spawn(move || loop {
                match signals.wait() {
                    Ok(sig) => {
                        if tx.send(Msg::Signal(sig)).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            });
        if let Err(e) = spawned {
            return internal(format!("signal thread: {e}"));
        }
    }
    let (ntx, nrx) = mpsc::channel::<Notice>();
    {
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("gauntlet-notices".into())
            .spawn(move || {
                for n in nrx {
                    if tx.send(Msg::Notice(n)).is_err() {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            return internal(format!("notice thread: {e}"));
        }
    }
    drop(tx);
    let opts = StartOptions {
        mode: match mode {
            ModeArg::Once => Mode::Once,
            ModeArg::KeepRunning => Mode::KeepRunning,
        },
        watch: mode == ModeArg::KeepRunning && config.watch,
        notify: Some(ntx),
    };
    let total = config.plugins.len();
    let mut handles: Vec<PluginHandle> = Vec::new();
    for spec in config.plugins {
        match sup.start(spec, opts.clone()) {
            Ok(h) => handles.push(h),
            Err(e) => {
                for h in &handles {
                    h.stop();
                }
                return internal(e);
            }
        }
    }
    drop(opts);
    write_metrics_file(&sup, args.metrics_file.as_deref());
    let mut last: BTreeMap<String, (Status, Option<i32>)> = BTreeMap::new();
    let mut finished = 0;
    let mut stopped_by_signal = false;
    while finished < total {
        let Ok(msg) = rx.recv() else { break };
        match msg {
            Msg::Notice(Notice::RunEnded { plugin, record }) => {
                let o = &record.outcome;
                eprintln!(
                    "gauntlet: [{plugin}] {}",
                    o.summary().trim_start_matches("gauntlet: ")
                );
                last.insert(plugin, (o.status, o.exit_code));
                write_metrics_file(&sup, args.metrics_file.as_deref());
            }
            Msg::Notice(Notice::Reloaded { plugin, trigger }) => {
                eprintln!("gauntlet: [{plugin}] reloaded ({trigger})");
            }
            Msg::Notice(Notice::Finished { .. }) => finished += 1,
            Msg::Signal(Signal::SIGHUP) if mode == ModeArg::Once => {
                eprintln!("gauntlet: SIGHUP: ignored in once mode");
            }
            Msg::Signal(Signal::SIGHUP) => {
                eprintln!("gauntlet: SIGHUP: reloading every plugin");
                for h in &handles {
                    h.reload();
                }
            }
            Msg::Signal(sig) => {
                eprintln!("gauntlet: {sig}: stopping");
                stopped_by_signal = true;
                for h in &handles {
                    h.stop();
                }
            }
        }
    }
    for h in handles {
        h.stop_and_join();
    }
    let flushed = sup.close();
    write_metrics_file(&sup, args.metrics_file.as_deref());
    drop(sup);
    if let Err(e) = flushed {
        return internal(e);
    }
    let all_ok = last.len() == total
        && last
            .values()
            .all(|(s, c)| *s == Status::Exited && *c == Some(0));
    match mode {
        ModeArg::Once if all_ok => ExitCode::SUCCESS,
        ModeArg::Once => ExitCode::from(EXIT_FAIL),
        ModeArg::KeepRunning if stopped_by_signal => ExitCode::SUCCESS,
        ModeArg::KeepRunning => internal("every plugin stopped by itself (see the errors above)"),
    }
}

/// Writes the metrics text to `path` atomically (a temporary file in the same directory, renamed).
fn write_metrics_file(sup: &Supervisor, path: Option<&Path>) {
    let Some(path) = path else { return };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut f| {
        f.write_all(sup.metrics().encode().as_bytes())?;
        f.persist(path).map_err(|e| e.error)?;
        Ok(())
    });
    if let Err(e) = written {
        eprintln!("gauntlet: --metrics-file {}: {e}", path.display());
    }
}

/// A minimal HTTP/1.1 server for `GET /metrics` (one connection at a time, each bounded in time and
/// size; loopback only).
fn serve_metrics(listener: TcpListener, sup: &Supervisor) {
    for conn in listener.incoming() {
        let Ok(mut s) = conn else { continue };
        let _ = answer(&mut s, sup);
    }
}

fn answer(s: &mut TcpStream, sup: &Supervisor) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", CONTENT_TYPE, sup.metrics().encode()),
        ("GET", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "gauntlet supervisor: metrics at /metrics\n".to_string(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_string(),
        ),
    };
    write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_metrics_addresses() {
        assert!(loopback_addr("127.0.0.1:0").is_ok());
        assert!(loopback_addr("[::1]:9464").is_ok());
        assert!(loopback_addr("localhost:9464").is_ok());
        for bad in ["0.0.0.0:9464", "10.0.0.1:80", "[::]:1", "nonsense"] {
            assert!(loopback_addr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_errors_name_file_and_field() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("serve.toml");
        let check = |text: &str, want: &str| {
            std::fs::write(&p, text).unwrap();
            let e = load_config(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(e.starts_with(&p.display().to_string()), "{e}");
        };
        check("mode = \"often\"\n", "mode: unknown variant");
        check("", "plugin: no [[plugin]] table");
        check(
            "[[plugin]]\nid = \"a\"\nbackend = \"wasm\"\nprogram = \"/bin/true\"\n",
            "plugin[0].program: is for process plugins",
        );
        check(
            "[[plugin]]\nid = \"a\"\nbackend = \"process\"\nprogram = \"/nonexistent\"\n",
            "plugin[0].program: /nonexistent: no such file",
        );
        check(
            "[[plugin]]\nid = \"a\"\nbackend = \"process\"\nprogram = \"/bin/true\"\n\
             [[plugin]]\nid = \"a\"\nbackend = \"process\"\nprogram = \"/bin/true\"\n",
            "plugin[1].id: \"a\" is used twice",
        );
        check(
            "[[plugin]]\nid = \"a\"\nbackend = \"process\"\nprogram = \"/bin/true\"\nextra = 1\n",
            "plugin[0].extra: unknown field `extra`",
        );
        std::fs::write(d.path().join("p.toml"), "[limits]\nmemory = \"12XB\"\n").unwrap();
        std::fs::write(
            &p,
            "[[plugin]]\nid = \"a\"\nbackend = \"process\"\nprogram = \"true\"\npolicy = \"p.toml\"\n",
        )
        .unwrap();
        let e = load_config(&p).unwrap_err().to_string();
        assert!(e.contains("p.toml: limits.memory"), "{e}");
    }
}
