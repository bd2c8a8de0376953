//! Running the suite: plan the cases (attacks × backends, with skips and library errors), build the
//! native attacks, run the cases in parallel (each in its own `gauntlet exec --json` child), and collect
//! the results in a stable order.

pub mod case;
pub mod cgroups;
pub mod execute;
pub mod progress;
pub mod result;
pub mod sentinel;
pub mod sys;
pub mod wall;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gauntlet_sandbox::{Weaken, Weakening};

pub use execute::{CaseSpec, SuiteContext};
pub use result::{CaseResult, OutcomeSummary};

/// How the runner re-executes itself: the magic link names the running binary even after the file
/// was replaced or deleted (a rebuild during a run).
pub const SELF_EXE: &str = "/proc/self/exe";

use crate::library::{build, Attack, Backend, Library, LibraryError, VerdictWord};
use crate::oracles::honeypot::SuiteDns;
use crate::oracles::pstat::SelfExe;
use crate::verdict::Verdict;

#[derive(Debug, thiserror::Error)]
#[error("{what}: {message}")]
pub struct RunError {
    pub what: &'static str,
    pub message: String,
    pub kind: RunErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunErrorKind {
    /// The user asked for something that does not exist (a bad library root, an unknown id).
    BadInput,
    /// The harness could not set up the suite.
    Internal,
}

impl RunError {
    pub fn bad_input(what: &'static str, message: impl Into<String>) -> RunError {
        RunError {
            what,
            message: message.into(),
            kind: RunErrorKind::BadInput,
        }
    }
    pub fn internal(what: &'static str, message: impl Into<String>) -> RunError {
        RunError {
            what,
            message: message.into(),
            kind: RunErrorKind::Internal,
        }
    }
}

impl From<LibraryError> for RunError {
    fn from(e: LibraryError) -> Self {
        RunError::bad_input("library", e.to_string())
    }
}

/// Which cases to run and how.
#[derive(Clone, Debug)]
pub struct Selection {
    pub backends: Vec<Backend>,
    /// Substring of the id, or a pattern with `*`.
    pub filter: Option<String>,
    pub category: Option<String>,
    /// Exactly these ids (for the mutants command), else everything that matches.
    pub ids: Option<Vec<String>>,
}

impl Selection {
    pub fn matches(&self, id: &str, category: &str) -> bool {
        if let Some(ids) = &self.ids {
            if !ids.iter().any(|i| i == id) {
                return false;
            }
        }
        if self.category.as_deref().is_some_and(|c| c != category) {
            return false;
        }
        self.filter
            .as_deref()
            .is_none_or(|f| pattern_matches(f, id))
    }
}

/// `*` matches any run of characters; a pattern without `*` matches as a substring.
pub fn pattern_matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        return id.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// How the suite runs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub library: PathBuf,
    pub cache: PathBuf,
    pub jobs: usize,
    pub weaken: Weakening,
    /// `Err(reason)` when the outer wall could not be built.
    pub wall: Result<wall::WallSpec, String>,
}

/// The layers this host can apply, from `gauntlet doctor`'s probe.
pub fn available_layers() -> BTreeSet<String> {
    let report = gauntlet_sandbox::process::doctor();
    let mut set: BTreeSet<String> = report
        .iter()
        .filter(|r| r.available)
        .map(|r| r.layer.clone())
        .collect();
    if set.contains("cgroup") {
        set.extend(["cgroup_memory", "cgroup_pids", "cgroup_cpu"].map(String::from));
    }
    let probed: BTreeSet<String> = report.iter().map(|r| r.layer.clone()).collect();
    // Layers the sandbox applies on any host (setsid, rlimits, ...) are not probed: always there.
    for l in crate::library::manifest::PROCESS_LAYERS {
        if !probed.contains(*l) && !l.starts_with("cgroup_") && *l != "landlock_full" {
            set.insert(l.to_string());
        }
    }
    if set.contains("landlock") {
        set.insert("landlock_full".into());
    }
    set
}

enum Planned<'a> {
    Run(&'a Attack, Backend),
    Done(Box<CaseResult>),
}

fn fixed(attack: &Attack, backend: Backend, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: attack.id.clone(),
        category: attack.category.clone(),
        title: attack.title.clone(),
        backend,
        verdict,
        expected: attack.expected(backend),
        evidence: Vec::new(),
        outcome: None,
    }
}

/// Runs the selected cases and returns their results, sorted by id and backend. Call it inside the
/// outer wall (`gauntlet run` does); `on_done` is told about each case as it finishes.
pub fn run_suite(
    lib: &Library,
    sel: &Selection,
    cfg: &RunConfig,
    on_done: &(dyn Fn(&CaseResult, usize) + Sync),
) -> Result<Vec<CaseResult>, RunError> {
    let weakened_backend = cfg.weaken.iter().next().map(|w| w.backend());
    let layers = available_layers();
    let mut planned: Vec<Planned<'_>> = Vec::new();
    for b in &lib.broken {
        if !sel.matches(&b.label, &b.category) {
            continue;
        }
        for &backend in b.backends.iter().filter(|x| sel.backends.contains(x)) {
            if weakened_backend.is_some_and(|w| w != backend.as_str()) {
                continue;
            }
            planned.push(Planned::Done(Box::new(CaseResult {
                id: b.label.clone(),
                category: b.category.clone(),
                title: String::new(),
                backend,
                verdict: Verdict::error(b.error.to_string()),
                expected: VerdictWord::Contained,
                evidence: Vec::new(),
                outcome: None,
            })));
        }
    }
    let mut to_build: Vec<&Attack> = Vec::new();
    for a in lib
        .attacks
        .iter()
        .filter(|a| sel.matches(&a.id, &a.category))
    {
        for &backend in a.backends.iter().filter(|x| sel.backends.contains(x)) {
            if weakened_backend.is_some_and(|w| w != backend.as_str()) {
                continue;
            }
            let missing: Vec<&String> = if backend == Backend::Process {
                a.needs.iter().filter(|n| !layers.contains(*n)).collect()
            } else {
                Vec::new()
            };
            if let Some(first) = missing.first() {
                let why = match &cfg.wall {
                    Err(reason) => format!("no outer wall: {reason}; missing {first}"),
                    Ok(_) => format!("missing {first}"),
                };
                planned.push(Planned::Done(Box::new(fixed(
                    a,
                    backend,
                    Verdict::skipped(why),
                ))));
                continue;
            }
            if !to_build.iter().any(|x| x.id == a.id) {
                to_build.push(a);
            }
            planned.push(Planned::Run(a, backend));
        }
    }
    let programs = build::build_all(&to_build, &cfg.cache, cfg.jobs);
    let mut runs: Vec<(&Attack, Backend, PathBuf)> = Vec::new();
    let mut results: Vec<CaseResult> = Vec::new();
    for p in planned {
        match p {
            Planned::Done(r) => results.push(*r),
            Planned::Run(a, backend) => match programs.get(&a.id) {
                Some(Ok(prog)) => runs.push((a, backend, prog.clone())),
                Some(Err(e)) => results.push(fixed(a, backend, Verdict::error(e.kind.to_string()))),
                None => results.push(fixed(a, backend, Verdict::error("not built"))),
            },
        }
    }
    let total = results.len() + runs.len();
    for r in &results {
        on_done(r, total);
    }
    let ctx = make_context(cfg)?;
    results.extend(run_parallel(&ctx, &runs, cfg.jobs, total, on_done));
    results.sort_by(|a, b| (&a.id, a.backend).cmp(&(&b.id, b.backend)));
    Ok(results)
}

fn make_context(cfg: &RunConfig) -> Result<SuiteContext, RunError> {
    let (suite_dir, suite_cgroup, runner_pid) = match &cfg.wall {
        Ok(spec) => (spec.suite_dir.clone(), spec.cgroup.clone(), spec.outer_pid),
        Err(_) => {
            let dir = wall::create_suite_dir()
                .map_err(|e| RunError::internal("suite directory", e.to_string()))?;
            (dir, cgroups::create_suite().ok(), std::process::id())
        }
    };
    // The running binary even when cargo replaced the file meanwhile.
    let exe = PathBuf::from(SELF_EXE);
    Ok(SuiteContext {
        suite_dir,
        suite_cgroup,
        sentinel: sentinel::Sentinel::start().ok().map(Arc::new),
        suite_dns: Some(Arc::new(SuiteDns::start())),
        exe,
        gauntlet: SelfExe::current(),
        weaken: cfg.weaken.iter().map(|w| w.name()).collect(),
        runner_pid,
        private_mounts: cfg.wall.is_ok(),
    })
}

fn run_parallel(
    ctx: &SuiteContext,
    runs: &[(&Attack, Backend, PathBuf)],
    jobs: usize,
    total: usize,
    on_done: &(dyn Fn(&CaseResult, usize) + Sync),
) -> Vec<CaseResult> {
    let next = AtomicUsize::new(0);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(runs.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((attack, backend, program)) = runs.get(i) else {
                    break;
                };
                let spec = CaseSpec {
                    index: i,
                    attack,
                    backend: *backend,
                    program,
                };
                let r = execute::run_case(ctx, &spec);
                on_done(&r, total);
                out.lock().unwrap_or_else(|p| p.into_inner()).push(r);
            });
        }
    });
    out.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// For the mutants command: runs the given attack ids on one backend with a weakening (inside the
/// caller's outer wall, or none) and returns each case's verdict and evidence. Cleans its own suite
/// directory and cgroup.
pub fn run_attacks(
    library: &Path,
    ids: &[String],
    backend: Backend,
    weakening: &Weakening,
    jobs: usize,
) -> Result<Vec<CaseResult>, RunError> {
    let lib = Library::load(library)?;
    for id in ids {
        if lib.find(id).is_none() {
            return Err(RunError::bad_input(
                "attack",
                format!("{id:?} is not in the library"),
            ));
        }
    }
    if let Some(w) = weakening
        .iter()
        .find(|w: &Weaken| w.backend() != backend.as_str())
    {
        return Err(RunError::bad_input(
            "weakening",
            format!("{} applies to the {} backend", w.name(), w.backend()),
        ));
    }
    let cfg = RunConfig {
        library: library.to_path_buf(),
        cache: build::default_cache_dir(),
        jobs,
        weaken: weakening.clone(),
        wall: Err("run_attacks runs inside the caller's wall".into()),
    };
    let sel = Selection {
        backends: vec![backend],
        filter: None,
        category: None,
        ids: Some(ids.to_vec()),
    };
    let results = run_suite(&lib, &sel, &cfg, &|_, _| {});
    cleanup_own_suite();
    results
}

/// Removes the suite directory and cgroup this process made when it ran without the outer wall.
pub fn cleanup_own_suite() {
    let tag = cgroups::owner_tag();
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("{}{tag}", wall::SUITE_DIR_PREFIX)),
    );
    if let Ok(own) = cgroups::own_cgroup() {
        let _ = own
            .child("gauntlet-suites")
            .child(&format!("s{tag}"))
            .remove();
    }
}
