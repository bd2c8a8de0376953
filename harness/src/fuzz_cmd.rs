//! `gauntlet fuzz`: a fuzz campaign on stable Rust (see [`crate::fuzzing::campaign`]).
//!
//! Exit codes: 0 when the time ran out without a finding; 1 when an oracle failed (the input is saved
//! and its path printed); 2 for bad input (an unknown target or weakening); 3 when the fuzzing setup
//! itself failed (no C compiler for the process target, an unwritable regressions directory).

use std::path::PathBuf;
use std::process::ExitCode;

use gauntlet_sandbox::policy::Dur;
use gauntlet_sandbox::{Weaken, Weakening};

use crate::cli::{EXIT_BAD_INPUT, EXIT_INTERNAL};
use crate::fuzzing::{campaign, CampaignConfig, FuzzEnv, FuzzError, Target};

/// Arguments of `gauntlet fuzz`.
#[derive(clap::Args, Debug, Clone)]
pub struct FuzzArgs {
    /// What to fuzz: wasm, policy, hostapi, process or channel.
    #[arg(long, value_name = "T")]
    pub target: String,
    /// How long to run, e.g. 10s, 5m.
    #[arg(long, value_name = "DUR", default_value = "60s")]
    pub time: Dur,
    /// Seed of the input generator (default: from the clock; printed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Largest generated input, in bytes.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_len: usize,
    /// Seed inputs run first (default: corpora/<target>).
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Where a failing input is written.
    #[arg(long, value_name = "DIR", default_value = "corpora/regressions")]
    pub regressions: PathBuf,
    /// DANGER: remove one protection (to prove the oracles notice), by name as in `gauntlet run`.
    #[arg(long = "unsafe-weaken", value_name = "LAYER")]
    pub unsafe_weaken: Option<String>,
}

fn weakening(name: Option<&str>) -> Result<Weakening, String> {
    let set = match name {
        None => Vec::new(),
        Some(name) => vec![Weaken::from_name(name).ok_or_else(|| {
            let all: Vec<String> = Weaken::ALL.iter().map(|w| w.name()).collect();
            format!(
                "--unsafe-weaken: {name:?} is not a layer ({})",
                all.join(", ")
            )
        })?],
    };
    // SAFETY: not memory safety: the user asked for this removal on the command line; the fuzzer's
    // inputs are generated, and the weakened run is how the oracles are shown to catch the hole.
    Ok(unsafe { Weakening::remove_protections(set) })
}

/// Runs `gauntlet fuzz`.
pub fn run(args: FuzzArgs) -> ExitCode {
    let target = match Target::from_name(&args.target) {
        Some(t) => t,
        None => {
            eprintln!(
                "gauntlet: --target: {}",
                FuzzError::UnknownTarget(args.target)
            );
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let weaken = match weakening(args.unsafe_weaken.as_deref()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("gauntlet: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let cfg = CampaignConfig {
        target,
        time: args.time.0,
        seed,
        env: FuzzEnv { weaken },
        seeds_dir: Some(
            args.corpus
                .unwrap_or_else(|| PathBuf::from("corpora").join(target.name())),
        ),
        regressions_dir: args.regressions,
        max_len: args.max_len.max(1),
    };
    eprintln!(
        "gauntlet fuzz: target {target}, seed {seed}, {} (reproduce with --seed {seed})",
        args.time
    );
    let result = campaign(&cfg, |r| {
        eprintln!(
            "gauntlet fuzz: {} execs in {:.1}s ({:.1} execs/s)",
            r.execs,
            r.elapsed.as_secs_f64(),
            r.execs_per_sec()
        )
    });
    match result {
        Err(e) => {
            eprintln!("gauntlet fuzz: {e}");
            ExitCode::from(EXIT_INTERNAL)
        }
        Ok(report) => {
            println!(
                "{target}: {} execs in {:.1}s, {:.1} execs/s",
                report.execs,
                report.elapsed.as_secs_f64(),
                report.execs_per_sec()
            );
            match report.finding {
                None => ExitCode::SUCCESS,
                Some(f) => {
                    println!(
                        "FOUND after {:.1}s: {}\nreproducer: {}",
                        f.after.as_secs_f64(),
                        f.message,
                        f.path.display()
                    );
                    ExitCode::from(1)
                }
            }
        }
    }
}
