//! A fuzz campaign on stable Rust: no libFuzzer, no coverage feedback. The seed files of
//! `corpora/<target>/` run first; then a seeded [`XorShift`] fills byte buffers of random length until
//! the time is up. The first input whose oracle panics is written to
//! `<regressions>/<target>-<hash>.bin` and ends the campaign.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{run_target, short_hash, FuzzEnv, FuzzError, Target, XorShift};

/// What a campaign runs.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    pub target: Target,
    /// How long to run (the input running when it ends is finished).
    pub time: Duration,
    pub seed: u64,
    pub env: FuzzEnv,
    /// Seed inputs run first (`corpora/<target>/`; a missing directory is no seeds).
    pub seeds_dir: Option<PathBuf>,
    /// Where a failing input is written (`corpora/regressions/`).
    pub regressions_dir: PathBuf,
    /// Largest generated input, in bytes.
    pub max_len: usize,
}

/// A failing input.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Where the input was saved.
    pub path: PathBuf,
    /// The oracle's panic message.
    pub message: String,
    /// Time from the start of the campaign to the failure.
    pub after: Duration,
}

/// How a campaign went.
#[derive(Clone, Debug)]
pub struct CampaignReport {
    pub execs: u64,
    pub elapsed: Duration,
    pub finding: Option<Finding>,
}

impl CampaignReport {
    /// Inputs run per second.
    pub fn execs_per_sec(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Runs one input and turns an oracle panic into `Ok(Some(message))`.
pub fn try_input(target: Target, data: &[u8], env: &FuzzEnv) -> Result<Option<String>, FuzzError> {
    match catch_unwind(AssertUnwindSafe(|| run_target(target, data, env))) {
        Ok(r) => r.map(|()| None),
        Err(p) => Ok(Some(panic_message(&*p))),
    }
}

/// Writes a failing input as `<dir>/<target>-<hash>.bin` and returns the path.
pub fn save_regression(dir: &Path, target: Target, data: &[u8]) -> Result<PathBuf, FuzzError> {
    std::fs::create_dir_all(dir).map_err(|e| FuzzError::io(dir, e))?;
    let path = dir.join(format!("{target}-{}.bin", short_hash(data)));
    std::fs::write(&path, data).map_err(|e| FuzzError::io(&path, e))?;
    Ok(path)
}

/// The seed files of `dir`, sorted by name (none when it does not exist).
pub fn seed_files(dir: &Path) -> Result<Vec<PathBuf>, FuzzError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FuzzError::io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| FuzzError::io(dir, e))?.path();
        if path.is_file() && path.extension().is_some_and(|x| x == "bin") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs a campaign (see the module docs). `progress` is called about once a second with the report so
/// far.
pub fn campaign(
    cfg: &CampaignConfig,
    mut progress: impl FnMut(&CampaignReport),
) -> Result<CampaignReport, FuzzError> {
    let started = Instant::now();
    let mut report = CampaignReport {
        execs: 0,
        elapsed: Duration::ZERO,
        finding: None,
    };
    let mut rng = XorShift::new(cfg.seed);
    let seeds = match &cfg.seeds_dir {
        Some(d) => seed_files(d)?,
        None => Vec::new(),
    };
    let mut seeds = seeds.into_iter();
    let mut last_progress = Instant::now();
    while started.elapsed() < cfg.time {
        let data = match seeds.next() {
            Some(path) => std::fs::read(&path).map_err(|e| FuzzError::io(&path, e))?,
            None => {
                let len = (rng.next_u64() % cfg.max_len.max(1) as u64) as usize;
                rng.bytes(len)
            }
        };
        let verdict = try_input(cfg.target, &data, &cfg.env)?;
        report.execs += 1;
        report.elapsed = started.elapsed();
        if let Some(message) = verdict {
            let path = save_regression(&cfg.regressions_dir, cfg.target, &data)?;
            report.finding = Some(Finding {
                path,
                message,
                after: report.elapsed,
            });
            return Ok(report);
        }
        if last_progress.elapsed() >= Duration::from_secs(1) {
            progress(&report);
            last_progress = Instant::now();
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}
