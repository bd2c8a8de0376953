//! `gauntlet exec` and `gauntlet doctor`.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use gauntlet_sandbox::policy::{NetMode, Overrides, Policy};
use gauntlet_sandbox::process::{ProcessOptions, ProcessSandbox, RunExtras, StdinMode};
use gauntlet_sandbox::supervisor::channel::{ChannelLimits, ChannelServer, ChannelStats};
use gauntlet_sandbox::supervisor::{
    EgressConfig, EgressError, EgressProxy, EventResult, NoEvents, Recorded,
};
use gauntlet_sandbox::wasm::{WasmOptions, WasmSandbox};
use gauntlet_sandbox::{Outcome, SandboxError, SandboxErrorKind, Weaken, Weakening};

use crate::cli::{BackendArg, ExecArgs, EXIT_BAD_INPUT, EXIT_INTERNAL};

fn bad_input(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("gauntlet: {msg}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Builds the effective policy: the file (or the strict defaults), then the flags.
pub fn effective_policy(args: &ExecArgs) -> Result<Policy, String> {
    let base = match &args.policy {
        Some(path) => Policy::from_toml_file(path).map_err(|e| e.to_string())?,
        None => Policy::default(),
    };
    let overrides = Overrides {
        wall_time: args.wall.map(|d| d.0),
        cpu_time: args.cpu.map(|d| d.0),
        memory: args.memory.map(|s| s.0),
        pids: args.pids,
        output: args.output.map(|s| s.0),
        net: args.net,
        allow: args.allow.clone(),
        ro: args.ro.clone(),
        rw: args.rw.clone(),
        env: args.env.clone(),
    };
    base.with_overrides(&overrides).map_err(|e| {
        // Errors from flags name the flag's field; say it came from the command line.
        let mut e = e;
        if e.file.is_none() {
            e.file = Some(PathBuf::from("command line"));
        }
        e.to_string()
    })
}

fn weakening(args: &ExecArgs, backend: &str) -> Result<Weakening, String> {
    let mut set = Vec::new();
    for name in &args.unsafe_weaken {
        let w = Weaken::from_name(name).ok_or_else(|| {
            let all: Vec<String> = Weaken::ALL.iter().map(|w| w.name()).collect();
            format!(
                "--unsafe-weaken: {name:?} is not a layer ({})",
                all.join(", ")
            )
        })?;
        if w.backend() != backend {
            return Err(format!(
                "--unsafe-weaken: {name:?} applies to the {} backend, not {backend}",
                w.backend()
            ));
        }
        set.push(w);
    }
    if !set.is_empty() {
        eprintln!("gauntlet: WARNING: --unsafe-weaken removes protections ({}); this sandbox does NOT contain hostile code", args.unsafe_weaken.join(", "));
    }
    // SAFETY: not memory safety: the user asked for these removals on the command line, and was warned.
    Ok(unsafe { Weakening::remove_protections(set) })
}

pub fn run(args: ExecArgs) -> ExitCode {
    let policy = match effective_policy(&args) {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    let program = PathBuf::from(&args.program[0]);
    let rest = args.program[1..].to_vec();
    let backend = match args.backend {
        BackendArg::Process => "process",
        BackendArg::Wasm => "wasm",
    };
    let weaken = match weakening(&args, backend) {
        Ok(w) => w,
        Err(e) => return bad_input(e),
    };
    if args.channel && args.backend != BackendArg::Process {
        return bad_input("--channel: only the process backend has a message channel (wasm plugins import gauntlet_host_v1)");
    }
    let mut channel = None;
    // net.mode = "allow" (process backend): this run's egress proxy, stopped once the run is over.
    let egress = match args.backend {
        BackendArg::Process => match start_egress(&policy, &weaken) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("gauntlet: {e}");
                return ExitCode::from(EXIT_INTERNAL);
            }
        },
        BackendArg::Wasm => None,
    };
    let egress_socket = egress.as_ref().map(|e| e.proxy.socket_path().to_path_buf());
    let socket = egress_socket.as_deref();
    let result: Result<Outcome, SandboxError> = match args.backend {
        BackendArg::Process => {
            let opts = ProcessOptions {
                require_all: args.require_all,
                stdin: if args.stdin {
                    StdinMode::Inherit
                } else {
                    StdinMode::Null
                },
                weaken,
                // One run per process: the fork server would never be started anyway.
                ..ProcessOptions::default()
            };
            let sandbox = ProcessSandbox::new(opts);
            if args.channel {
                run_with_channel(&sandbox, &policy, &program, &rest, socket).map(|(o, stats)| {
                    channel = Some(stats);
                    o
                })
            } else {
                let extras = RunExtras {
                    egress: socket,
                    ..RunExtras::default()
                };
                sandbox.run_with(&policy, &program, &rest, extras)
            }
        }
        BackendArg::Wasm => {
            WasmSandbox::new(WasmOptions { weaken }).and_then(|s| s.run(&policy, &program, &rest))
        }
    };
    let mut outcome = match result {
        Ok(o) => o,
        Err(e) if e.is_bad_input() => return bad_input(e),
        Err(e) => {
            eprintln!("gauntlet: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    if let Some(e) = egress {
        finish_egress(e, &mut outcome);
    }
    let channel_line = channel.map(|s| {
        format!(
            "{}{}",
            crate::oracles::channel::STATS_PREFIX,
            serde_json::to_string(&s).unwrap_or_default()
        )
    });
    if args.json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &outcome);
        let _ = writeln!(out);
        if let Some(line) = &channel_line {
            eprintln!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&outcome.stdout);
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&outcome.stderr);
    let _ = writeln!(err, "{}", outcome.summary());
    if let Some(line) = &channel_line {
        let _ = writeln!(err, "{line}");
    }
    ExitCode::from(outcome.shell_exit_code().clamp(0, 255) as u8)
}

/// One process run with a message channel at descriptor 3: the channel's requests count in
/// `usage.host_calls`, its log lines end `stderr` (within `limits.output`), and its stats come back for
/// the `gauntlet: channel: {json}` line on this process's own stderr (where the harness's `channel`
/// oracle reads them, out of the plugin's reach).
fn run_with_channel(
    sandbox: &ProcessSandbox,
    policy: &Policy,
    program: &Path,
    args: &[OsString],
    egress: Option<&Path>,
) -> Result<(Outcome, ChannelStats), SandboxError> {
    let setup = |e: gauntlet_sandbox::supervisor::channel::ChannelError| {
        SandboxError::new("message channel", SandboxErrorKind::Setup(e.to_string()))
    };
    let limits = ChannelLimits::from_policy(policy, Instant::now());
    let (server, plugin_end) = ChannelServer::start(limits, Arc::new(NoEvents)).map_err(setup)?;
    let extras = RunExtras {
        channel: Some(plugin_end.as_fd()),
        egress,
        ..RunExtras::default()
    };
    let result = sandbox.run_with(policy, program, args, extras);
    // The run is over: the last copy of the plugin's end goes, and the server serves what is left.
    drop(plugin_end);
    let report = server.finish().map_err(setup)?;
    let mut outcome = result?;
    report.apply(&mut outcome, policy.limits.output.0);
    Ok((outcome, report.stats))
}

/// The egress proxy of one run, and the events it reports.
struct Egress {
    proxy: EgressProxy,
    events: Arc<Recorded>,
}

/// Attempts through the proxy listed on the Outcome's stderr, at most; the rest are counted.
const EGRESS_LINES: usize = 100;

/// Starts the proxy when the policy says `net.mode = "allow"`.
fn start_egress(policy: &Policy, weaken: &Weakening) -> Result<Option<Egress>, EgressError> {
    if policy.net.mode != NetMode::Allow {
        return Ok(None);
    }
    let events = Arc::new(Recorded::default());
    let config = EgressConfig::from_policy(policy, weaken)?;
    let proxy = EgressProxy::start(config, events.clone())?;
    Ok(Some(Egress { proxy, events }))
}

/// Stops the proxy (every attempt has its event then) and appends one line per attempt to the
/// Outcome's stderr: `gauntlet egress: http 127.0.0.1:8080 ok (up 5 B, down 5 B, 3 ms)`.
fn finish_egress(mut e: Egress, outcome: &mut Outcome) {
    if let Err(err) = e.proxy.stop() {
        eprintln!("gauntlet: {err}");
    }
    let events = e.events.take();
    let mut text = String::new();
    for ev in events.iter().take(EGRESS_LINES) {
        let a = &ev.args;
        let word = |k: &str| a[k].as_str().unwrap_or("-").to_string();
        let result = match &ev.result {
            EventResult::Ok => match (a["error"].as_str(), a["closed"].as_str()) {
                (Some(err), _) => format!("ok, not reached: {err}"),
                (None, Some(why)) => format!("ok, closed: {why}"),
                (None, None) => "ok".into(),
            },
            EventResult::Denied(r) => format!("denied: {r}"),
            EventResult::Limit(r) => format!("limit: {r}"),
            EventResult::Error(r) => format!("error: {r}"),
        };
        text.push_str(&format!(
            "gauntlet egress: {} {} {result} (up {} B, down {} B, {} ms)\n",
            word("proto"),
            word("dest"),
            a["bytes_up"],
            a["bytes_down"],
            a["duration_ms"]
        ));
    }
    if events.len() > EGRESS_LINES {
        text.push_str(&format!(
            "gauntlet egress: {} more attempts\n",
            events.len() - EGRESS_LINES
        ));
    }
    outcome.stderr.extend_from_slice(text.as_bytes());
}

pub fn doctor(json: bool) -> ExitCode {
    let report = gauntlet_sandbox::process::doctor();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        for r in &report {
            println!(
                "{:<14} {:<4} {}",
                r.layer,
                if r.available { "ok" } else { "MISSING" },
                r.detail
            );
        }
    }
    ExitCode::SUCCESS
}
