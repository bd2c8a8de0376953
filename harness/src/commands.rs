//! `gauntlet run`, `list`, `show`, and the hidden helpers `__wall` (the inner side of the outer wall)
//! and `__case-exec` (substitutes `{supervisor_pid}` with its own pid, then becomes `gauntlet exec`).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use gauntlet_sandbox::{Weaken, Weakening};

use crate::cli::{BackendArg, MutantsArgs, RunArgs, EXIT_BAD_INPUT, EXIT_INTERNAL};
use crate::library::{build, manifest::CATEGORIES, Backend, Library, VerdictWord};
use crate::mutants;
use crate::report;
use crate::runner::{self, progress::Progress, wall, RunConfig, RunErrorKind, Selection};

pub const EXIT_ESCAPE: u8 = 1;

fn bad_input(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("gauntlet: {msg}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn library_root(args: &RunArgs) -> PathBuf {
    args.library
        .clone()
        .unwrap_or_else(crate::library::default_root)
}

/// Checks what can be checked before the wall is built; returns the weakening.
fn check_args(args: &RunArgs) -> Result<Weakening, String> {
    if let Some(c) = &args.category {
        if !CATEGORIES.contains(&c.as_str()) {
            return Err(format!(
                "--category: {c:?} is not a category ({})",
                CATEGORIES.join(", ")
            ));
        }
    }
    if args.jobs == Some(0) {
        return Err("--jobs: must be at least 1".into());
    }
    if let Some(b) = &args.baseline {
        report::load_baseline(b).map_err(|e| format!("--baseline: {e}"))?;
    }
    Library::load(&library_root(args)).map_err(|e| e.to_string())?;
    let set = match &args.unsafe_weaken {
        None => Vec::new(),
        Some(name) => {
            let w = Weaken::from_name(name).ok_or_else(|| {
                let all: Vec<String> = Weaken::ALL.iter().map(|w| w.name()).collect();
                format!(
                    "--unsafe-weaken: {name:?} is not a layer ({})",
                    all.join(", ")
                )
            })?;
            vec![w]
        }
    };
    // SAFETY: not memory safety: the user asked for this removal on the command line and is warned;
    // every case still runs inside the outer wall.
    Ok(unsafe { Weakening::remove_protections(set) })
}

/// `gauntlet run`: validates, then builds the outer wall and runs the suite inside it (or in place when
/// the wall cannot be built).
pub fn run(args: RunArgs, raw: Vec<OsString>) -> ExitCode {
    if let Err(e) = check_args(&args) {
        return bad_input(e);
    }
    match wall::unavailable_reason() {
        None => enter_wall(&raw, "run"),
        Some(reason) => {
            eprintln!(
                "gauntlet: no outer wall ({reason}); cases that need a missing layer are skipped"
            );
            let code = suite(args, Err(reason));
            runner::cleanup_own_suite();
            code
        }
    }
}

/// Re-executes this command (the original arguments from `subcommand` on) inside the outer wall.
fn enter_wall(raw: &[OsString], subcommand: &str) -> ExitCode {
    let rest: Vec<OsString> = raw
        .iter()
        .skip_while(|a| a.as_os_str() != subcommand)
        .cloned()
        .collect();
    match wall::run_inside(&rest) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("gauntlet: {e}");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

/// `gauntlet __wall SPEC run ...`: pid 1 of the wall.
pub fn inner(spec: &str, rest: Vec<OsString>) -> ExitCode {
    let spec: wall::WallSpec = match serde_json::from_str(spec) {
        Ok(s) => s,
        Err(e) => return bad_input(format!("__wall: bad spec: {e}")),
    };
    if let Err(e) = wall::become_init() {
        eprintln!("gauntlet: {e}");
        return ExitCode::from(EXIT_INTERNAL);
    }
    let mut argv = vec![OsString::from("gauntlet")];
    argv.extend(rest);
    use clap::Parser;
    match crate::cli::Cli::try_parse_from(argv) {
        Ok(crate::cli::Cli {
            command: crate::cli::Command::Run(args),
        }) => suite(args, Ok(spec)),
        Ok(crate::cli::Cli {
            command: crate::cli::Command::Mutants(args),
        }) => mutants_inside(args, Ok(spec)),
        _ => bad_input("__wall: expected `run` or `mutants` arguments"),
    }
}

fn suite(args: RunArgs, wall: Result<wall::WallSpec, String>) -> ExitCode {
    let weaken = match check_args(&args) {
        Ok(w) => w,
        Err(e) => return bad_input(e),
    };
    if let Some(w) = weaken.iter().next() {
        eprintln!(
            "gauntlet: WARNING: --unsafe-weaken {} removes a protection from every case; only {} cases run; \
             the sandbox does NOT contain hostile code, only the outer wall does",
            w.name(),
            w.backend()
        );
    }
    let lib = match Library::load(&library_root(&args)) {
        Ok(l) => l,
        Err(e) => return bad_input(e),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let sel = Selection {
        backends: args
            .backend
            .iter()
            .map(|b| match b {
                BackendArg::Process => Backend::Process,
                BackendArg::Wasm => Backend::Wasm,
            })
            .collect(),
        filter: args.filter.clone(),
        category: args.category.clone(),
        ids: None,
    };
    let cfg = RunConfig {
        library: lib.root.clone(),
        cache: build::default_cache_dir(),
        jobs,
        weaken,
        wall,
    };
    let progress = Progress::new();
    let started = std::time::Instant::now();
    let results =
        match runner::run_suite(&lib, &sel, &cfg, &|r, total| progress.case_done(r, total)) {
            Ok(r) => r,
            Err(e) => {
                progress.finish();
                eprintln!("gauntlet: {e}");
                return ExitCode::from(match e.kind {
                    RunErrorKind::BadInput => EXIT_BAD_INPUT,
                    RunErrorKind::Internal => EXIT_INTERNAL,
                });
            }
        };
    progress.finish();
    let regressions = match &args.baseline {
        Some(b) => match report::load_baseline(b) {
            Ok(base) => report::regressions(&base, &results),
            Err(e) => return bad_input(e),
        },
        None => Vec::new(),
    };
    if let Err(e) = report::write_all(&args.report, &results, &regressions) {
        eprintln!("gauntlet: {e}");
        return ExitCode::from(EXIT_INTERNAL);
    }
    let count = |w: VerdictWord| results.iter().filter(|r| r.verdict.word == w).count();
    for r in results
        .iter()
        .filter(|r| r.verdict.word != VerdictWord::Contained)
    {
        eprintln!("gauntlet: {} {}: {}", r.id, r.backend.as_str(), r.verdict);
    }
    for line in &regressions {
        eprintln!("gauntlet: regression: {line}");
    }
    eprintln!(
        "gauntlet: {} cases in {:.1}s: {} contained, {} escaped, {} error, {} skipped; reports in {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        count(VerdictWord::Contained),
        count(VerdictWord::Escaped),
        count(VerdictWord::Error),
        count(VerdictWord::Skipped),
        args.report.display()
    );
    let failed = count(VerdictWord::Escaped) > 0
        || !regressions.is_empty()
        || results.iter().any(|r| r.unexpected());
    if failed {
        ExitCode::from(EXIT_ESCAPE)
    } else {
        ExitCode::SUCCESS
    }
}

fn mutant_backends(args: &MutantsArgs) -> Vec<Backend> {
    args.backend
        .iter()
        .map(|b| match b {
            BackendArg::Process => Backend::Process,
            BackendArg::Wasm => Backend::Wasm,
        })
        .collect()
}

fn mutants_library(args: &MutantsArgs) -> PathBuf {
    args.library
        .clone()
        .unwrap_or_else(crate::library::default_root)
}

/// `gauntlet mutants`: validates, then runs the mutants inside the outer wall. Without the wall (not
/// root) it refuses: a weakened sandbox with nothing around it is not something to run hostile code in.
pub fn mutants(args: MutantsArgs, raw: Vec<OsString>) -> ExitCode {
    if args.jobs == Some(0) {
        return bad_input("--jobs: must be at least 1");
    }
    if let Err(e) = mutants::select(&mutant_backends(&args), &args.only) {
        return bad_input(e);
    }
    if let Err(e) = Library::load(&mutants_library(&args)) {
        return bad_input(e);
    }
    match wall::unavailable_reason() {
        None => enter_wall(&raw, "mutants"),
        Some(reason) => {
            eprintln!(
                "gauntlet: mutants need the outer wall, which cannot be built here: {reason}"
            );
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

fn mutants_inside(args: MutantsArgs, wall: Result<wall::WallSpec, String>) -> ExitCode {
    let lib = match Library::load(&mutants_library(&args)) {
        Ok(l) => l,
        Err(e) => return bad_input(e),
    };
    let selected = match mutants::select(&mutant_backends(&args), &args.only) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    eprintln!(
        "gauntlet: WARNING: running {} weakened sandboxes (one protection removed each); only the outer wall holds them",
        selected.len()
    );
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let results = match mutants::run(&lib, &selected, args.fast, jobs, wall, &|r| {
        println!("{}", mutants::line(r))
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gauntlet: {e}");
            return ExitCode::from(match e.kind {
                RunErrorKind::BadInput => EXIT_BAD_INPUT,
                RunErrorKind::Internal => EXIT_INTERNAL,
            });
        }
    };
    let (caught, total) = mutants::score(&results);
    let host = results.iter().filter(|r| r.caught_on_host()).count();
    println!(
        "mutation score: {caught}/{total} caught ({:.0}%), {host} with host-side evidence",
        if total == 0 {
            100.0
        } else {
            caught as f64 * 100.0 / total as f64
        }
    );
    if let Err(e) = mutants::write_report(&args.report, &results, args.fast) {
        eprintln!("gauntlet: {}: {e}", args.report.display());
        return ExitCode::from(EXIT_INTERNAL);
    }
    runner::cleanup_own_suite();
    if caught == total {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ESCAPE)
    }
}

/// `gauntlet list`.
pub fn list(library: Option<PathBuf>) -> ExitCode {
    let lib = match Library::load(&library.unwrap_or_else(crate::library::default_root)) {
        Ok(l) => l,
        Err(e) => return bad_input(e),
    };
    for a in &lib.attacks {
        let backends: Vec<&str> = a.backends.iter().map(|b| b.as_str()).collect();
        println!(
            "{:<40} {:<11} {:<13} {}",
            a.id,
            a.category,
            backends.join(","),
            a.title
        );
    }
    for b in &lib.broken {
        eprintln!("gauntlet: {}", b.error);
    }
    ExitCode::SUCCESS
}

/// `gauntlet show ID`.
pub fn show(id: &str, library: Option<PathBuf>) -> ExitCode {
    let root = library.unwrap_or_else(crate::library::default_root);
    let lib = match Library::load(&root) {
        Ok(l) => l,
        Err(e) => return bad_input(e),
    };
    let Some(a) = lib.find(id) else {
        return bad_input(format!("{id:?} is not an attack (see gauntlet list)"));
    };
    let manifest = a.source.with_file_name(crate::library::discover::MANIFEST);
    match std::fs::read_to_string(&manifest) {
        Ok(text) => {
            println!("# {}", manifest.display());
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            println!("# source: {}", a.source.display());
            ExitCode::SUCCESS
        }
        Err(e) => bad_input(format!("{}: {e}", manifest.display())),
    }
}

/// `gauntlet __case-exec [--host-proc-fd N] -- ARGS`: replaces `{supervisor_pid}` in ARGS with this
/// process's host pid and becomes `gauntlet ARGS` (same pid, so the placeholder names the supervising
/// `gauntlet exec`).
pub fn case_exec(host_proc_fd: Option<i32>, argv: Vec<OsString>) -> ExitCode {
    let pid = wall::host_pid_via(host_proc_fd).to_string();
    if let Some(fd) = host_proc_fd {
        // SAFETY: the descriptor was handed to us for this one read; `gauntlet exec` must not get it.
        unsafe { libc::close(fd) };
        // Inside the wall: what the case writes to /tmp, /var/tmp or /dev/shm dies with it.
        if let Err(e) = wall::private_case_scratch() {
            eprintln!("gauntlet: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    }
    let argv: Vec<OsString> = argv
        .into_iter()
        .map(|a| match a.to_str() {
            Some(s) if s.contains("{supervisor_pid}") => s.replace("{supervisor_pid}", &pid).into(),
            _ => a,
        })
        .collect();
    let e = std::process::Command::new(runner::SELF_EXE)
        .args(argv)
        .exec();
    eprintln!("gauntlet: exec: {e}");
    ExitCode::from(EXIT_INTERNAL)
}
