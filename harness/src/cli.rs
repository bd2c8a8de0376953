//! Command-line parsing and the exit-code contract. Everything else is in the modules it calls.
//!
//! Exit codes of `gauntlet exec`: without `--json`, the plugin's own exit code, 128 + signal when it was
//! killed (137 for a limit), 2 when the module was rejected, 125 when the sandbox failed; with `--json`, 0
//! whenever an outcome was printed. Bad input (a malformed policy, a missing program, a bad flag) is 2
//! with a one-line message, for every command. 3 is an internal error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use gauntlet_sandbox::policy::{Dur, NetMode, Size};

pub const EXIT_BAD_INPUT: u8 = 2;
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "gauntlet",
    version,
    about = "Run untrusted plugins in a process or wasm sandbox, and attack both"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one program or module in a sandbox and report its Outcome.
    Exec(ExecArgs),
    /// Show which protection layers this host can apply, and why not.
    Doctor {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Process,
    Wasm,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// Which sandbox runs the plugin.
    #[arg(long, value_enum, default_value = "process")]
    pub backend: BackendArg,
    /// Policy file (TOML); flags below override it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Wall-clock limit, e.g. 500ms, 2s.
    #[arg(long, value_name = "DUR")]
    pub wall: Option<Dur>,
    /// CPU-time limit of the whole run.
    #[arg(long, value_name = "DUR")]
    pub cpu: Option<Dur>,
    /// Memory limit, e.g. 64M, 1G.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<Size>,
    /// Processes and threads at once.
    #[arg(long, value_name = "N")]
    pub pids: Option<u32>,
    /// stdout + stderr bytes kept before the run is killed.
    #[arg(long, value_name = "SIZE")]
    pub output: Option<Size>,
    /// Network reach.
    #[arg(long, value_name = "none|loopback")]
    pub net: Option<NetMode>,
    /// Host path visible read-only (repeatable).
    #[arg(long, value_name = "PATH")]
    pub ro: Vec<PathBuf>,
    /// Host path visible read-write (repeatable).
    #[arg(long, value_name = "PATH")]
    pub rw: Vec<PathBuf>,
    /// Environment variable for the plugin (repeatable); nothing else is passed.
    #[arg(long, value_name = "K=V", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Print the Outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Fail instead of running when any protection layer is missing on this host.
    #[arg(long)]
    pub require_all: bool,
    /// Pass the caller's stdin to the plugin (default: /dev/null).
    #[arg(long)]
    pub stdin: bool,
    /// DANGER: remove one protection (for testing the attack suite only). Repeatable.
    #[arg(long = "unsafe-weaken", value_name = "LAYER")]
    pub unsafe_weaken: Vec<String>,
    /// The program (process backend) or .wasm/.wat module (wasm backend), then its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub program: Vec<OsString>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not K=V")),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.render().to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("bad arguments");
            eprintln!("gauntlet: {}", line.trim_start_matches("error: "));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match cli.command {
        Command::Exec(args) => crate::exec::run(args),
        Command::Doctor { json } => crate::exec::doctor(json),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GAUNTLET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
