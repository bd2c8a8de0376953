//! `gauntlet bench`: the start-to-exit cost of isolation, measured interleaved in one run (bare
//! fork+exec, Gauntlet warm (pooled), cold and CLI, each layer, installed peers, the wasm start paths), written to
//! `overhead.json`, `overhead.md` and `overhead.svg`.

mod machine;
mod report;
mod stats;
mod subjects;
mod svg;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub use machine::Machine;
pub use report::{LayerCost, Report, SubjectResult};
pub use stats::Summary;
pub use subjects::Group;

use crate::cli::{BenchArgs, EXIT_INTERNAL};

/// Samples per subject when `--samples` is not given.
pub const QUICK_SAMPLES: usize = 40;
pub const FULL_SAMPLES: usize = 150;
/// Rounds run and thrown away before the measured ones.
pub const WARMUP_ROUNDS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot find `true`: {0}")]
    NoTrue(#[source] gauntlet_sandbox::SandboxError),
    #[error("cannot find the gauntlet binary: {0}")]
    NoExe(#[source] std::io::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the wasm subjects: {0}")]
    Wasm(String),
    #[error("the baseline (bare fork+exec) could not be measured: {0}")]
    NoBaseline(String),
    #[error("cannot encode overhead.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Entry point of `gauntlet bench`.
pub fn run(args: BenchArgs) -> ExitCode {
    match bench(&args) {
        Ok(report) => {
            print!("{}", report::table(&report));
            println!("reports written to {}", args.report.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gauntlet: bench: {e}");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

fn bench(args: &BenchArgs) -> Result<Report, BenchError> {
    let samples = args
        .samples
        .unwrap_or(if args.quick {
            QUICK_SAMPLES
        } else {
            FULL_SAMPLES
        })
        .max(1);
    let scratch = std::env::temp_dir().join(format!("gauntlet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|source| BenchError::Io {
        path: scratch.clone(),
        source,
    })?;
    let ctx = subjects::Context {
        true_bin: gauntlet_sandbox::process::resolve_program("true".as_ref())
            .map_err(BenchError::NoTrue)?,
        gauntlet: std::env::current_exe().map_err(BenchError::NoExe)?,
        scratch: scratch.clone(),
    };
    let result = subjects::all(&ctx)
        .map_err(BenchError::Wasm)
        .map(|mut list| {
            let mut machine = Machine::describe();
            let measured = measure(&mut list, samples);
            machine.finish();
            (list, measured, machine)
        });
    let _ = std::fs::remove_dir_all(&scratch);
    let (list, measured, machine) = result?;
    let report = Report::new(
        std::env::args().collect::<Vec<_>>().join(" "),
        machine,
        args.quick,
        samples,
        &list,
        measured,
    );
    if report.baseline_median_us().is_none() {
        let why = report.subjects[0].error.clone().unwrap_or_default();
        return Err(BenchError::NoBaseline(why));
    }
    report::write_all(&report, &args.report)?;
    Ok(report)
}

/// What one subject yielded: its samples, or the error that stopped it.
pub enum Measured {
    NotInstalled,
    Samples(Vec<Duration>),
    Failed(String),
}

/// Warm-up, then `samples` rounds; each round runs every live subject once, in a new shuffled order.
fn measure(list: &mut [subjects::Subject], samples: usize) -> Vec<Measured> {
    let mut out: Vec<Measured> = list
        .iter()
        .map(|s| match s.sampler {
            Some(_) => Measured::Samples(Vec::with_capacity(samples)),
            None => Measured::NotInstalled,
        })
        .collect();
    let mut rng = Rng::seeded();
    let mut order: Vec<usize> = (0..list.len()).collect();
    let started = Instant::now();
    eprintln!(
        "gauntlet bench: {} subjects, {WARMUP_ROUNDS} warm-up + {samples} interleaved rounds",
        list.len()
    );
    for round in 0..WARMUP_ROUNDS + samples {
        rng.shuffle(&mut order);
        for &i in &order {
            let (Some(sampler), Measured::Samples(got)) = (list[i].sampler.as_mut(), &mut out[i])
            else {
                continue;
            };
            // Every sample starts on a quiet machine: the background teardown of the runs before it
            // is finished first (its cost is the "run + teardown" row's).
            gauntlet_sandbox::process::settle();
            match sampler() {
                Ok(d) if round >= WARMUP_ROUNDS => got.push(d),
                Ok(_) => {}
                Err(e) => out[i] = Measured::Failed(e),
            }
        }
        if (round + 1) % 10 == 0 {
            eprintln!(
                "  round {}/{} ({:.1}s)",
                round + 1,
                WARMUP_ROUNDS + samples,
                started.elapsed().as_secs_f64()
            );
        }
    }
    out
}

/// xorshift64*, seeded from the clock: only for the order of subjects within a round.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng(t | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}
