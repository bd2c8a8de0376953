//! Command-line parsing and the exit-code contract. Everything else is in the modules it calls.
//!
//! Exit codes of `gauntlet exec`: without `--json`, the plugin's own exit code, 128 + signal when it was
//! killed (137 for a limit), 2 when the module was rejected, 125 when the sandbox failed; with `--json`, 0
//! whenever an outcome was printed. Bad input (a malformed policy, a missing program, a bad flag) is 2
//! with a one-line message, for every command. 3 is an internal error.
//!
//! Exit codes of `gauntlet run`: 0 when every case that ran was contained (skips are allowed and
//! printed); 1 when a case escaped, a verdict differs from the manifest's `[expect]`, or a case that was
//! contained in the `--baseline` results is now escaped or in error; 2 for bad input (an unknown
//! category or weakening, an unreadable library or baseline); 3 for an internal error (the outer wall or
//! the reports could not be made). `list` and `show` exit 0, or 2 for bad input.
//!
//! Exit codes of `gauntlet serve`: 0 when every plugin's run exited 0 (`once`) or after a clean shutdown
//! on SIGINT/SIGTERM (`keep-running`); 1 when a `once` run did not exit 0; 2 for bad input (the config, a
//! policy, a `--metrics` address that is not loopback); 3 when the supervisor failed (state directory,
//! audit trail). `gauntlet audit verify`: 0 intact, 1 broken (`FILE:LINE: reason`), 2 bad input.
//! `gauntlet quarantine list`: 0; `quarantine release ID`: 0 released, 1 not in quarantine; both 2 for a
//! missing state directory. See `supervise_cmd.rs`.

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
    /// Throw the attack library at the sandboxes and judge every case from the host side.
    Run(RunArgs),
    /// List the attacks: id, category, backends, title.
    List {
        /// The attack library (default: ./attacks).
        #[arg(long, value_name = "DIR")]
        library: Option<PathBuf>,
    },
    /// Print an attack's manifest and source path.
    Show {
        id: String,
        /// The attack library (default: ./attacks).
        #[arg(long, value_name = "DIR")]
        library: Option<PathBuf>,
    },
    /// Prove the suite can fail: run each weakened sandbox (one protection removed) against the attacks
    /// that claim to catch it, and print the mutation score. Exit 0 only when every mutant is caught.
    Mutants(MutantsArgs),
    /// Fuzz one target (wasm, policy, hostapi, process, channel) for a while; a failing input is saved to
    /// corpora/regressions/ and the command exits 1.
    Fuzz(crate::fuzz_cmd::FuzzArgs),
    /// Measure what isolation costs at start: bare fork+exec, Gauntlet cold and warm, each layer, the
    /// installed peer sandboxes and the wasm start paths, interleaved in one run; writes
    /// overhead.{json,md,svg}.
    Bench(BenchArgs),
    /// Run the plugins of a config file under the supervisor: audit trail, quarantine, metrics,
    /// restarts with back-off, reload on change or SIGHUP.
    Serve(crate::supervise_cmd::ServeArgs),
    /// Check an audit trail written by `gauntlet serve` (or a `Supervisor`).
    Audit {
        #[command(subcommand)]
        cmd: crate::supervise_cmd::AuditCmd,
    },
    /// List the plugins in quarantine, or release one.
    Quarantine {
        #[command(subcommand)]
        cmd: crate::supervise_cmd::QuarantineCmd,
    },
    /// (internal) The inner side of the outer wall.
    #[command(name = "__wall", hide = true)]
    Wall {
        spec: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<OsString>,
    },
    /// (internal) Substitute {supervisor_pid} and become `gauntlet exec`.
    #[command(name = "__case-exec", hide = true)]
    CaseExec {
        /// The host's /proc (inside the outer wall), to learn this process's host pid.
        #[arg(long)]
        host_proc_fd: Option<i32>,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        argv: Vec<OsString>,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Fewer samples per subject (about a minute on two cores).
    #[arg(long)]
    pub quick: bool,
    /// Where overhead.json, overhead.md and overhead.svg go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report: PathBuf,
    /// Samples per subject (default: 40 with --quick, else 150).
    #[arg(long, value_name = "N", hide = true)]
    pub samples: Option<usize>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct MutantsArgs {
    /// Backends whose mutants run (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "process,wasm"
    )]
    pub backend: Vec<BackendArg>,
    /// Only these mutants (repeatable), by name as in `--unsafe-weaken`.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// At most two attacks per mutant (host-judged ones first): the subset the tests run.
    #[arg(long)]
    pub fast: bool,
    /// Cases at once.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Where `mutants.md` goes.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report: PathBuf,
    /// The attack library (default: ./attacks).
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Backends to attack (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "process,wasm"
    )]
    pub backend: Vec<BackendArg>,
    /// Only attacks whose id contains PATTERN (`*` matches anything).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Only attacks of this category.
    #[arg(long, value_name = "C")]
    pub category: Option<String>,
    /// Cases run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Where the reports go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report: PathBuf,
    /// A previous results.json: a case contained there and not now is a regression (exit 1).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// DANGER: remove one protection from every case (mutant testing); only that layer's backend runs.
    #[arg(long = "unsafe-weaken", value_name = "LAYER")]
    pub unsafe_weaken: Option<String>,
    /// The attack library (default: $GAUNTLET_ATTACKS, else ./attacks).
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
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
    /// Network reach. `allow`: no route out but the egress proxy, which lets through only `--allow`.
    #[arg(long, value_name = "none|loopback|allow")]
    pub net: Option<NetMode>,
    /// With `--net allow`: a destination the plugin may reach through the proxy (repeatable), e.g.
    /// `127.0.0.1:8080`, `[::1]:443`, `api.example.com:443` (names are resolved once, at start).
    #[arg(long, value_name = "HOST:PORT")]
    pub allow: Vec<String>,
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
    /// Serve the message channel (process backend): the plugin gets it at descriptor 3 and calls the
    /// host API (log, kv_get, kv_put) over it; see README "Message channel".
    #[arg(long)]
    pub channel: bool,
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
    let code = match cli.command {
        Command::Exec(args) => crate::exec::run(args),
        Command::Doctor { json } => crate::exec::doctor(json),
        Command::Run(args) => crate::commands::run(args, std::env::args_os().collect()),
        Command::Mutants(args) => crate::commands::mutants(args, std::env::args_os().collect()),
        Command::Fuzz(args) => crate::fuzz_cmd::run(args),
        Command::Bench(args) => crate::bench::run(args),
        Command::Serve(args) => crate::supervise_cmd::serve(args),
        Command::Audit { cmd } => crate::supervise_cmd::audit(cmd),
        Command::Quarantine { cmd } => crate::supervise_cmd::quarantine(cmd),
        Command::List { library } => crate::commands::list(library),
        Command::Show { id, library } => crate::commands::show(&id, library),
        Command::Wall { spec, rest } => crate::commands::inner(&spec, rest),
        Command::CaseExec { host_proc_fd, argv } => crate::commands::case_exec(host_proc_fd, argv),
    };
    // The last of every process run's teardown (after its Outcome was reported) is done before exit,
    // and the spare run cgroup removed.
    gauntlet_sandbox::process::shutdown();
    code
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GAUNTLET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
