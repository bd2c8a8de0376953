//! Start-to-exit of a trivial program: bare fork+exec, Gauntlet's full process sandbox, and bubblewrap
//! (when installed), measured in the same run so their medians can be compared.
//!
//! `cargo bench -p gauntlet-benches --bench process_start`

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};
use gauntlet_sandbox::policy::Policy;
use gauntlet_sandbox::process::{ProcessOptions, ProcessSandbox};
use gauntlet_sandbox::{Status, Weaken, Weakening};

fn true_bin() -> PathBuf {
    gauntlet_sandbox::process::resolve_program(Path::new("true")).expect("`true` is installed")
}

fn which(name: &str) -> Option<PathBuf> {
    gauntlet_sandbox::process::resolve_program(Path::new(name)).ok()
}

/// `iters` cold runs, timed from the call to its Outcome; each starts after the background teardown
/// of the one before (`process::settle`, not timed), as in `gauntlet bench`.
fn start_to_exit(
    sandbox: &ProcessSandbox,
    policy: &Policy,
    prog: &Path,
    iters: u64,
) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    for _ in 0..iters {
        gauntlet_sandbox::process::settle();
        let t = std::time::Instant::now();
        let o = sandbox.run(policy, prog, &[]).unwrap();
        total += t.elapsed();
        assert_eq!(o.status, Status::Exited, "{o:?}");
    }
    gauntlet_sandbox::process::settle();
    total
}

fn start(c: &mut Criterion) {
    let prog = true_bin();
    let mut g = c.benchmark_group("process_start");
    g.sample_size(40);
    g.measurement_time(std::time::Duration::from_secs(3));
    g.bench_function("bare_fork_exec", |b| {
        b.iter(|| {
            let st = Command::new(&prog).stdin(Stdio::null()).status().unwrap();
            assert!(st.success());
        })
    });
    let policy = Policy::default();
    let sandbox = ProcessSandbox::new(ProcessOptions::default());
    let args: Vec<OsString> = Vec::new();
    g.bench_function("gauntlet_full", |b| {
        b.iter_custom(|iters| start_to_exit(&sandbox, &policy, &prog, iters))
    });
    // The same cold start with the setup process forked from this process each time, as on a
    // process's first run (without it, runs after the first go through the fork server).
    let direct = ProcessSandbox::new(ProcessOptions {
        direct_fork: true,
        ..ProcessOptions::default()
    });
    g.bench_function("gauntlet_full_direct_fork", |b| {
        b.iter_custom(|iters| start_to_exit(&direct, &policy, &prog, iters))
    });
    // The fast start path: a parked sandbox per run, refilled in the background.
    let pool = sandbox.pool(&policy, &prog, 1).unwrap();
    // Start latency with a sandbox parked: the wait for the background refill is not timed (runs
    // started faster than sandboxes can be prepared are cold starts, measured above).
    g.bench_function("gauntlet_pooled", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                assert!(pool.wait_full(std::time::Duration::from_secs(10)));
                let t = std::time::Instant::now();
                let o = pool.run(&args).unwrap();
                total += t.elapsed();
                assert_eq!(o.status, Status::Exited, "{o:?}");
                // Nor does the refill overlap the next sample.
                assert!(pool.wait_full(std::time::Duration::from_secs(10)));
            }
            total
        })
    });
    drop(pool);
    // What each layer costs: the full sandbox with exactly that layer removed.
    for w in [
        Weaken::NoNetNs,
        Weaken::NoMountNs,
        Weaken::NoSeccomp,
        Weaken::NoLandlock,
        Weaken::NoPidNs,
    ] {
        // SAFETY: not memory safety: the program run is `true`.
        let weaken = unsafe { Weakening::remove_protections([w]) };
        let sandbox = ProcessSandbox::new(ProcessOptions {
            weaken,
            ..ProcessOptions::default()
        });
        g.bench_function(format!("gauntlet_without_{}", w.name()), |b| {
            b.iter_custom(|iters| start_to_exit(&sandbox, &policy, &prog, iters))
        });
    }
    if let Some(bwrap) = which("bwrap") {
        g.bench_function("bwrap_unshare_all", |b| {
            b.iter(|| {
                let st = Command::new(&bwrap)
                    .args([
                        "--unshare-all",
                        "--ro-bind",
                        "/",
                        "/",
                        "--dev",
                        "/dev",
                        "--proc",
                        "/proc",
                    ])
                    .arg(&prog)
                    .stdin(Stdio::null())
                    .status()
                    .unwrap();
                assert!(st.success());
            })
        });
    } else {
        eprintln!("bwrap not installed: bwrap_unshare_all not measured");
    }
    g.finish();
}

criterion_group!(benches, start);
criterion_main!(benches);
