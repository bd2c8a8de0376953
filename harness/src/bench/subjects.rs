//! What is measured: each subject starts `true` (or a trivial wasm module) once per sample and times
//! start to exit. A subject times only its own run; per-sample setup (writing a fresh module) is outside.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use gauntlet_sandbox::process::{resolve_program, ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::wasm::{Allocator, WasmOptions, WasmSandbox};
use gauntlet_sandbox::{Outcome, Policy, Status, Weaken, Weakening};
use serde::Serialize;

/// One timed run, or why it could not run.
pub type Sampler = Box<dyn FnMut() -> Result<Duration, String>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Baseline,
    Gauntlet,
    Layer,
    Peer,
    Wasm,
}

pub struct Subject {
    pub id: String,
    pub label: String,
    pub group: Group,
    /// What runs, as a shell-like line, for the reports.
    pub command: String,
    /// For `Group::Layer`: the one protection removed.
    pub without: Option<Weaken>,
    /// `None` when the tool is not installed.
    pub sampler: Option<Sampler>,
}

/// The protections whose cost gets a row: the full warm sandbox with exactly that one removed.
pub const LAYERS: &[Weaken] = &[
    Weaken::NoNetNs,
    Weaken::NoMountNs,
    Weaken::NoPidNs,
    Weaken::NoUserNs,
    Weaken::NoSeccomp,
    Weaken::NoLandlock,
    Weaken::NoMemoryLimit,
    Weaken::NoPidsLimit,
    Weaken::NoCpuLimit,
];

/// Where the subjects find `true`, the gauntlet binary and a scratch folder for wasm modules.
pub struct Context {
    pub true_bin: PathBuf,
    pub gauntlet: PathBuf,
    pub scratch: PathBuf,
}

/// The trivial WASI command; `n` makes the module's bytes (and so its cache key) unique.
fn trivial_wat(n: u64) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $unique i32 (i32.const {n}))
  (func (export "_start") (call $exit (i32.const 0))))"#
    )
}

/// Every subject, in report order. Fails only when the wasm scratch module cannot be made or prepared.
pub fn all(ctx: &Context) -> Result<Vec<Subject>, String> {
    let t = &ctx.true_bin;
    let mut v = vec![
        external(
            "bare_fork_exec",
            "bare fork+exec",
            Group::Baseline,
            t.clone(),
            vec![],
        ),
        pooled(t)?,
        per_run(
            "gauntlet_run",
            "Gauntlet cold (ProcessSandbox::run, full)",
            ProcessOptions::default(),
            None,
            t,
        ),
        per_run(
            "gauntlet_run_direct_fork",
            "Gauntlet cold, forked from the host (direct_fork)",
            ProcessOptions {
                direct_fork: true,
                ..ProcessOptions::default()
            },
            None,
            t,
        ),
        settled(t),
        cold_exec(ctx),
    ];
    for &w in LAYERS {
        // SAFETY: not memory safety: the program run is `true`, a trusted system binary.
        let weaken = unsafe { Weakening::remove_protections([w]) };
        let id = format!("gauntlet_run_without_{}", w.name());
        let label = format!("Gauntlet cold, {} (one layer removed)", w.name());
        let opts = ProcessOptions {
            weaken,
            ..ProcessOptions::default()
        };
        v.push(per_run(&id, &label, opts, Some(w), t));
    }
    let peers: [(&str, &str, Vec<&str>); 4] = [
        (
            "bwrap",
            "bwrap --unshare-all",
            vec![
                "--unshare-all",
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
            ],
        ),
        (
            "firejail",
            "firejail --net=none",
            vec!["--quiet", "--noprofile", "--net=none"],
        ),
        ("runsc", "runsc do", vec!["do"]),
        (
            "unshare",
            "unshare -Urpfmiun",
            vec!["-Urpfmiun", "--mount-proc"],
        ),
    ];
    for (tool, label, args) in peers {
        let mut args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
        args.push(t.clone().into_os_string());
        let id = format!("peer_{tool}");
        match resolve_program(Path::new(tool)) {
            Ok(bin) => v.push(external(&id, label, Group::Peer, bin, args)),
            Err(_) => v.push(Subject {
                id,
                label: label.into(),
                group: Group::Peer,
                command: line(Path::new(tool), &args),
                without: None,
                sampler: None,
            }),
        }
    }
    v.extend(wasm(ctx)?);
    Ok(v)
}

fn line(program: &Path, args: &[OsString]) -> String {
    std::iter::once(program.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A program started with `std::process::Command`, all stdio on /dev/null; success is exit 0.
fn external(id: &str, label: &str, group: Group, program: PathBuf, args: Vec<OsString>) -> Subject {
    let command = line(&program, &args);
    let sampler: Sampler = Box::new(move || {
        let started = Instant::now();
        let status = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let took = started.elapsed();
        match status {
            Ok(s) if s.success() => Ok(took),
            Ok(s) => Err(diagnose(&program, &args, s)),
            Err(e) => Err(format!("cannot start {}: {e}", program.display())),
        }
    });
    Subject {
        id: id.into(),
        label: label.into(),
        group,
        command,
        without: None,
        sampler: Some(sampler),
    }
}

/// Runs a failed command again with its stderr captured, for a one-line reason.
fn diagnose(program: &Path, args: &[OsString], status: ExitStatus) -> String {
    let again = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output();
    let last = again
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_default();
    format!("{status}: {last}")
}

/// `gauntlet exec --json -- true` as its own process: nothing process-global is warm.
fn cold_exec(ctx: &Context) -> Subject {
    let args: Vec<OsString> = ["exec", "--json", "--"]
        .into_iter()
        .map(OsString::from)
        .chain([ctx.true_bin.clone().into_os_string()])
        .collect();
    let exe = ctx.gauntlet.clone();
    let command = line(Path::new("gauntlet"), &args);
    let sampler: Sampler = Box::new(move || {
        let started = Instant::now();
        let out = Command::new(&exe)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let took = started.elapsed();
        let outcome: Outcome = serde_json::from_slice(&out.stdout).map_err(|e| {
            let err = String::from_utf8_lossy(&out.stderr);
            format!("{}: no Outcome ({e}): {}", out.status, err.trim())
        })?;
        check(&outcome).map(|()| took)
    });
    Subject {
        id: "gauntlet_cold_exec".into(),
        label: "Gauntlet CLI (gauntlet exec, a new process)".into(),
        group: Group::Gauntlet,
        command,
        without: None,
        sampler: Some(sampler),
    }
}

/// `ProcessPool::run`: a parked sandbox (namespaces, root, cgroup, every filter already applied) is
/// handed the program's arguments; the pool refills itself in the background.
fn pooled(prog: &Path) -> Result<Subject, String> {
    let pool = ProcessSandbox::new(ProcessOptions::default())
        .pool(&Policy::default(), prog, 1)
        .map_err(|e| format!("cannot make a process pool: {e}"))?;
    let command = format!("ProcessPool::run({})", prog.display());
    let sampler: Sampler = Box::new(move || {
        // The refill is not timed: this row is the start latency with a sandbox parked.
        if !pool.wait_parked(std::time::Duration::from_secs(10)) {
            return Err("no sandbox parked within 10 s".into());
        }
        let started = Instant::now();
        let outcome = pool.run(&[]).map_err(|e| e.to_string())?;
        let took = started.elapsed();
        // Nor does it overlap the next sample (of any subject): the refill's fork makes the whole
        // process take copy-on-write faults for a while.
        pool.wait_full(std::time::Duration::from_secs(10));
        check(&outcome).map(|()| took)
    });
    Ok(Subject {
        id: "gauntlet_warm".into(),
        label: "Gauntlet warm (ProcessPool, parked sandbox)".into(),
        group: Group::Gauntlet,
        command,
        without: None,
        sampler: Some(sampler),
    })
}

/// `ProcessSandbox::run` in this process: every namespace, the root, the cgroup and the filters are made
/// for the run (the compiled filter and a spare network namespace are process-wide and reused).
fn per_run(
    id: &str,
    label: &str,
    opts: ProcessOptions,
    without: Option<Weaken>,
    prog: &Path,
) -> Subject {
    let sandbox = ProcessSandbox::new(opts);
    let policy = Policy::default();
    let prog = prog.to_path_buf();
    let command = format!("ProcessSandbox::run({})", prog.display());
    let sampler: Sampler = Box::new(move || {
        let started = Instant::now();
        let outcome = sandbox
            .run(&policy, &prog, &[])
            .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        check(&outcome).map(|()| took)
    });
    Subject {
        id: id.into(),
        label: label.into(),
        group: if without.is_some() {
            Group::Layer
        } else {
            Group::Gauntlet
        },
        command,
        without,
        sampler: Some(sampler),
    }
}

/// `ProcessSandbox::run` followed by `process::settle`: the run's whole cost, its background teardown
/// (setup processes reaped, cgroup removed) included.
fn settled(prog: &Path) -> Subject {
    let mut s = per_run(
        "gauntlet_run_settled",
        "Gauntlet cold, run + teardown (then settle)",
        ProcessOptions::default(),
        None,
        prog,
    );
    s.command = format!("{}; process::settle()", s.command);
    if let Some(mut run) = s.sampler.take() {
        s.sampler = Some(Box::new(move || {
            let started = Instant::now();
            run()?;
            gauntlet_sandbox::process::settle();
            Ok(started.elapsed())
        }));
    }
    s
}

fn check(o: &Outcome) -> Result<(), String> {
    if o.status == Status::Exited && o.exit_code == Some(0) {
        return Ok(());
    }
    Err(format!(
        "{:?} (exit {:?}, signal {:?}): {}",
        o.status,
        o.exit_code,
        o.signal,
        o.reason.as_deref().unwrap_or("no reason given")
    ))
}

fn wasm(ctx: &Context) -> Result<Vec<Subject>, String> {
    let policy = Policy::default();
    let module = ctx.scratch.join("trivial.wat");
    std::fs::write(&module, trivial_wat(0)).map_err(|e| format!("{}: {e}", module.display()))?;
    let make = |allocator| {
        WasmSandbox::new(WasmOptions::default())
            .map(|s| s.with_allocator(allocator))
            .map_err(|e| e.to_string())
    };
    let mut v = Vec::new();

    let scratch = ctx.scratch.clone();
    let (p, mut n) = (policy.clone(), 0u64);
    let cold: Sampler = Box::new(move || {
        n += 1;
        let path = scratch.join(format!("cold-{n}.wat"));
        std::fs::write(&path, trivial_wat(n)).map_err(|e| format!("{}: {e}", path.display()))?;
        let started = Instant::now();
        let outcome = WasmSandbox::new(WasmOptions::default())
            .and_then(|s| s.run(&p, &path, &[]))
            .map_err(|e| e.to_string());
        let took = started.elapsed();
        let _ = std::fs::remove_file(&path);
        check(&outcome?).map(|()| took)
    });
    v.push(wasm_subject(
        "wasm_cold_compile",
        "wasm cold compile (new module)",
        "WasmSandbox::run(unique .wat)",
        cold,
    ));

    let (sandbox, p, m) = (make(Allocator::Pooling)?, policy.clone(), module.clone());
    let cached: Sampler = Box::new(move || {
        let started = Instant::now();
        let outcome = sandbox.run(&p, &m, &[]).map_err(|e| e.to_string())?;
        let took = started.elapsed();
        check(&outcome).map(|()| took)
    });
    v.push(wasm_subject(
        "wasm_cached_run",
        "wasm cached module, run",
        "WasmSandbox::run(cached module), pooling",
        cached,
    ));

    for (id, label, allocator) in [
        (
            "wasm_prepared_pooling",
            "wasm prepared run, pooling",
            Allocator::Pooling,
        ),
        (
            "wasm_prepared_on_demand",
            "wasm prepared run, on-demand",
            Allocator::OnDemand,
        ),
    ] {
        let prepared = make(allocator)?
            .prepare(&policy, &module)
            .map_err(|e| e.to_string())?;
        let sampler: Sampler = Box::new(move || {
            let started = Instant::now();
            let outcome = prepared.run(&[]).map_err(|e| e.to_string())?;
            let took = started.elapsed();
            check(&outcome).map(|()| took)
        });
        let command = format!("Prepared::run, {allocator:?} allocator");
        v.push(wasm_subject(id, label, &command, sampler));
    }
    Ok(v)
}

fn wasm_subject(id: &str, label: &str, command: &str, sampler: Sampler) -> Subject {
    Subject {
        id: id.into(),
        label: label.into(),
        group: Group::Wasm,
        command: command.into(),
        without: None,
        sampler: Some(sampler),
    }
}
