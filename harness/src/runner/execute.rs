//! Running one case: set up its directory and bait, start its oracles, spawn its `gauntlet exec --json`
//! child inside the case cgroup, sample while it runs, judge when it ends, clean up.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gauntlet_sandbox::policy::NetMode;
use gauntlet_sandbox::{Outcome, Policy};

use super::case::CaseDir;
use super::cgroups::Dirs;
use super::result::{CaseResult, OutcomeSummary};
use super::sentinel::Sentinel;
use super::sys;
use crate::library::policy::{effective, substitute};
use crate::library::{Attack, Backend};
use crate::oracles::canary::CanaryOracle;
use crate::oracles::census::CensusOracle;
use crate::oracles::channel::ChannelOracle;
use crate::oracles::health::HealthOracle;
use crate::oracles::honeypot::{HoneypotOracle, SuiteDns};
use crate::oracles::hostfs::HostfsOracle;
use crate::oracles::knobs::KnobsOracle;
use crate::oracles::pstat::{PstatOracle, SelfExe};
use crate::oracles::resources::ResourcesOracle;
use crate::oracles::selfreport::SelfReportOracle;
use crate::oracles::{Evidence, Finished, Oracle, OracleKind};
use crate::verdict::Verdict;

/// The harness gives `gauntlet exec` this much time beyond the policy's wall before killing it.
pub const EXEC_GRACE: Duration = Duration::from_secs(5);
/// How often running cases are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// Bytes of the exec child's stdout and stderr kept.
const CHILD_OUTPUT_CAP: usize = 8 << 20;

/// What all cases of a suite share.
pub struct SuiteContext {
    pub suite_dir: PathBuf,
    pub suite_cgroup: Option<Dirs>,
    pub sentinel: Option<Arc<Sentinel>>,
    pub suite_dns: Option<Arc<SuiteDns>>,
    /// The gauntlet binary that runs `exec`.
    pub exe: PathBuf,
    pub gauntlet: SelfExe,
    /// `--unsafe-weaken` names passed to every exec.
    pub weaken: Vec<String>,
    pub runner_pid: u32,
    /// Inside the outer wall's private mount namespace (scratch dirs become capped tmpfs mounts).
    pub private_mounts: bool,
}

/// One case to run.
pub struct CaseSpec<'a> {
    pub index: usize,
    pub attack: &'a Attack,
    pub backend: Backend,
    pub program: &'a Path,
}

fn result(
    spec: &CaseSpec<'_>,
    verdict: Verdict,
    evidence: Vec<Evidence>,
    outcome: Option<&Outcome>,
) -> CaseResult {
    CaseResult {
        id: spec.attack.id.clone(),
        category: spec.attack.category.clone(),
        title: spec.attack.title.clone(),
        backend: spec.backend,
        verdict,
        expected: spec.attack.expected(spec.backend),
        evidence,
        outcome: outcome.map(OutcomeSummary::from),
    }
}

/// Runs one case to its verdict. Never panics on what the plugin did; setup failures are `error`.
pub fn run_case(ctx: &SuiteContext, spec: &CaseSpec<'_>) -> CaseResult {
    let dir = match CaseDir::create(&ctx.suite_dir, spec.index, ctx.private_mounts) {
        Ok(d) => d,
        Err(e) => {
            return result(
                spec,
                Verdict::error(format!("case setup: {e}")),
                Vec::new(),
                None,
            )
        }
    };
    let cgroup = ctx
        .suite_cgroup
        .as_ref()
        .map(|s| s.child(&format!("case-{}", spec.index)));
    if let Some(cg) = &cgroup {
        if let Err(e) = cg.create() {
            dir.remove();
            return result(
                spec,
                Verdict::error(format!("case cgroup: {e}")),
                Vec::new(),
                None,
            );
        }
    }
    let r = run_in(ctx, spec, &dir, cgroup.as_ref());
    if let Some(cg) = &cgroup {
        let _ = cg.remove();
    }
    dir.remove();
    r
}

fn run_in(
    ctx: &SuiteContext,
    spec: &CaseSpec<'_>,
    dir: &CaseDir,
    cgroup: Option<&Dirs>,
) -> CaseResult {
    let values = dir.placeholders(ctx.runner_pid);
    let policy_path = dir.root.join("policy.toml");
    let text = effective(&spec.attack.policy, &values);
    let policy = match Policy::from_toml_str(&text, Some(&policy_path)) {
        Ok(p) => p,
        Err(e) => {
            return result(
                spec,
                Verdict::error(format!("policy: {e}")),
                Vec::new(),
                None,
            )
        }
    };
    if let Err(e) = std::fs::write(&policy_path, &text) {
        return result(
            spec,
            Verdict::error(format!("{}: {e}", policy_path.display())),
            Vec::new(),
            None,
        );
    }
    let args: Vec<String> = spec
        .attack
        .args
        .iter()
        .map(|a| substitute(a, &values))
        .collect();
    let mut oracles = build_oracles(ctx, spec, dir, cgroup, &policy, &values);

    let host_proc = super::wall::host_proc_fd();
    let mut cmd = Command::new(&ctx.exe);
    cmd.arg("__case-exec");
    if let Some(fd) = host_proc {
        cmd.arg("--host-proc-fd").arg(fd.to_string());
    }
    cmd.arg("--")
        .arg("exec")
        .arg("--json")
        .arg("--backend")
        .arg(spec.backend.as_str())
        .arg("--policy")
        .arg(&policy_path);
    for w in &ctx.weaken {
        cmd.arg("--unsafe-weaken").arg(w);
    }
    if spec.attack.channel {
        cmd.arg("--channel");
    }
    cmd.arg("--")
        .arg(spec.program)
        .args(&args)
        .env("GAUNTLET_CANARY_TOKEN", &dir.token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let files = cgroup.map(|c| c.procs_files()).unwrap_or_default();
    let canary_fd = dir.canary_fd.as_raw_fd();
    // SAFETY: the closure makes only async-signal-safe calls (open/write/close/fcntl) and allocates
    // nothing: the paths were made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            sys::join_cgroups_after_fork(&files)?;
            if let Some(fd) = host_proc {
                sys::clear_cloexec_after_fork(fd)?;
            }
            sys::clear_cloexec_after_fork(canary_fd)
        });
    }
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return result(
                spec,
                Verdict::error(format!("spawn gauntlet exec: {e}")),
                Vec::new(),
                None,
            )
        }
    };
    for o in oracles.iter_mut() {
        o.started(child.id() as i32);
    }
    let deadline = start + policy.limits.wall_time.0 + EXEC_GRACE;
    let run = supervise(&mut child, deadline, &mut oracles, cgroup);
    let elapsed = start.elapsed();

    let parsed: Result<Outcome, String> =
        serde_json::from_slice::<Outcome>(trim(&run.stdout)).map_err(|e| format!("{e}"));
    let (outcome, outcome_error) = match &parsed {
        Ok(o) => (Some(o), None),
        Err(e) => (None, Some(e.as_str())),
    };
    let done = Finished {
        outcome,
        outcome_error,
        wait_status: run.wait_status,
        timed_out: run.timed_out,
        elapsed,
        exec_stderr: &run.stderr,
    };
    // The census looks before anything is killed; then leftovers die before the others judge.
    let mut evidence = Vec::new();
    for o in oracles
        .iter_mut()
        .filter(|o| o.kind() == OracleKind::Census)
    {
        evidence.extend(o.judge(&done));
    }
    if let Some(cg) = cgroup {
        cg.kill_all();
    }
    for o in oracles
        .iter_mut()
        .filter(|o| o.kind() != OracleKind::Census)
    {
        evidence.extend(o.judge(&done));
    }
    result(spec, Verdict::decide(&evidence), evidence, outcome)
}

fn build_oracles(
    ctx: &SuiteContext,
    spec: &CaseSpec<'_>,
    dir: &CaseDir,
    cgroup: Option<&Dirs>,
    policy: &Policy,
    values: &std::collections::BTreeMap<&'static str, String>,
) -> Vec<Box<dyn Oracle>> {
    let mut v: Vec<Box<dyn Oracle>> = Vec::new();
    for kind in &spec.attack.oracles {
        let o: Box<dyn Oracle> = match kind {
            OracleKind::Canary => Box::new(CanaryOracle {
                token: dir.token.clone(),
                nonce: dir.nonce.clone(),
                scratch: dir.scratch.clone(),
                watch: dir.canary_watch.clone(),
                honey: Some(dir.honeypots.log()),
                suite_dns: ctx.suite_dns.clone(),
            }),
            OracleKind::Honeypot => Box::new(HoneypotOracle::new(
                dir.honeypots.log(),
                ctx.suite_dns.clone(),
                &dir.nonce,
            )),
            OracleKind::Hostfs => {
                let mut roots = vec![
                    ("host_dir".to_string(), dir.host.clone()),
                    ("canary_dir".to_string(), dir.canary_dir.clone()),
                ];
                for (i, p) in spec.attack.host_paths.iter().enumerate() {
                    roots.push((
                        format!("host_paths[{i}]"),
                        PathBuf::from(substitute(p, values)),
                    ));
                }
                Box::new(HostfsOracle::new(roots))
            }
            OracleKind::Census => {
                Box::new(CensusOracle::new(cgroup.cloned(), ctx.sentinel.clone()))
            }
            OracleKind::Knobs => Box::new(KnobsOracle::new()),
            OracleKind::Pstat => match cgroup {
                Some(cg) => Box::new(
                    PstatOracle::new(
                        cg.clone(),
                        ctx.gauntlet.clone(),
                        expected_top_dirs(policy, spec.program),
                    )
                    .deny_tcp(policy.net.mode == NetMode::None),
                ),
                None => continue,
            },
            OracleKind::Resources => Box::new(ResourcesOracle {
                limits: policy.limits.clone(),
                expect: spec.attack.expect_outcome.clone(),
            }),
            OracleKind::SelfReport => Box::new(SelfReportOracle::new(&dir.nonce)),
            OracleKind::Channel => Box::new(ChannelOracle::new(
                policy.wasm.max_host_calls,
                policy.limits.output.0,
                spec.attack.expect_channel.clone(),
            )),
            OracleKind::Health => continue,
        };
        v.push(o);
    }
    v.push(Box::new(HealthOracle));
    v
}

/// Top-level directories the sandbox root may show beyond the minimal set: those of the policy's
/// paths and of the program.
fn expected_top_dirs(policy: &Policy, program: &Path) -> Vec<String> {
    let mut paths: Vec<PathBuf> = policy.effective_ro();
    paths.extend(policy.fs.rw.iter().cloned());
    paths.push(program.to_path_buf());
    if policy.net.mode == gauntlet_sandbox::policy::NetMode::Allow {
        // The egress proxy's socket, /run/gauntlet/egress.sock.
        paths.push(gauntlet_sandbox::process::EGRESS_SOCKET.into());
    }
    paths
        .iter()
        .filter_map(|p| {
            p.components().find_map(|c| match c {
                std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
        })
        .collect()
}

struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    wait_status: Option<i32>,
    timed_out: bool,
}

/// Reads the child's output, samples the oracles every 10 ms, kills the child at the deadline, and
/// reaps it.
fn supervise(
    child: &mut Child,
    deadline: Instant,
    oracles: &mut [Box<dyn Oracle>],
    cgroup: Option<&Dirs>,
) -> Run {
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    for fd in [
        out.as_ref().map(|o| o.as_raw_fd()),
        err.as_ref().map(|e| e.as_raw_fd()),
    ]
    .into_iter()
    .flatten()
    {
        // SAFETY: fcntl on our own pipe descriptors.
        unsafe {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
    let pidfd = sys::pidfd_open(child.id() as i32).ok();
    let mut run = Run {
        stdout: Vec::new(),
        stderr: Vec::new(),
        wait_status: None,
        timed_out: false,
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut next_sample = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_sample {
            for o in oracles.iter_mut() {
                o.sample();
            }
            next_sample = now + SAMPLE_EVERY;
        }
        if now >= deadline && !run.timed_out {
            run.timed_out = true;
            let _ = child.kill();
            if let Some(cg) = cgroup {
                cg.kill_all();
            }
        }
        let fds: Vec<i32> = [
            pidfd.as_ref().map(|p| p.as_raw_fd()),
            out.as_ref().map(|o| o.as_raw_fd()),
            err.as_ref().map(|e| e.as_raw_fd()),
        ]
        .into_iter()
        .map(|f| f.unwrap_or(-1))
        .collect();
        let wait = next_sample
            .saturating_duration_since(Instant::now())
            .as_millis()
            .max(1) as i32;
        let ready = sys::poll_readable(&fds, wait);
        drain(&mut out, &mut run.stdout, &mut buf);
        drain(&mut err, &mut run.stderr, &mut buf);
        let exited = match &pidfd {
            Some(_) => ready[0],
            None => matches!(child.try_wait(), Ok(Some(_))),
        };
        if exited {
            break;
        }
    }
    // The child is gone: whatever it wrote is in the pipes.
    drain_to_end(&mut out, &mut run.stdout, &mut buf);
    drain_to_end(&mut err, &mut run.stderr, &mut buf);
    run.wait_status = child.wait().ok().map(|s| s.into_raw());
    run
}

fn drain<R: Read>(r: &mut Option<R>, into: &mut Vec<u8>, buf: &mut [u8]) {
    let Some(reader) = r.as_mut() else { return };
    loop {
        match reader.read(buf) {
            Ok(0) => {
                *r = None;
                return;
            }
            Ok(n) => {
                let room = CHILD_OUTPUT_CAP.saturating_sub(into.len());
                into.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

/// After exit: grandchildren may still hold the pipes, so read only what is there now.
fn drain_to_end<R: Read>(r: &mut Option<R>, into: &mut Vec<u8>, buf: &mut [u8]) {
    drain(r, into, buf);
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}
