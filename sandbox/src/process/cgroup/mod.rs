//! A cgroup per run, for memory (swap 0), pids and CPU accounting, with peaks read back at the end.
//!
//! One trait, `CgroupManager`, with a v2 and a v1 implementation behind the `Cgroup` enum: v2 where the
//! unified hierarchy has the controllers, v1 where that is what the host has (memory, pids and cpuacct
//! mounted separately). Run cgroups live under `<supervisor's own cgroup>/gauntlet/` and are named
//! `r<supervisor pid>-<supervisor start time>-<seq>`, so that the cgroups of a supervisor that died (a
//! crashed or SIGKILLed run) are recognised and removed at the next start (`sweep_stale`).

mod v1;
mod v2;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// What a run cgroup measured.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CgroupStats {
    pub cpu_ns: Option<u64>,
    pub peak_memory: Option<u64>,
    pub oom_kills: u64,
    pub peak_pids: Option<u64>,
    pub pids_max_hits: u64,
}

/// The limits a run cgroup enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CgroupLimits {
    pub memory: Option<u64>,
    pub pids: Option<u64>,
}

pub(crate) trait CgroupManager {
    /// Moves a process into the run cgroup.
    fn add(&self, pid: libc::pid_t) -> io::Result<()>;
    /// Descriptors a single-threaded process writes `0` to, to move itself into the run cgroup. On v1
    /// these are the `tasks` files: moving only the calling thread skips the global threadgroup lock
    /// (`cgroup_threadgroup_rwsem`), whose first write-lock after a quiet spell waits for an RCU grace
    /// period (8-18 ms here), which `add` through `cgroup.procs` pays. Empty where `add` must be used.
    /// The descriptors are opened by the supervisor, whose credentials the kernel checks.
    fn self_join_files(&self) -> io::Result<Vec<std::os::fd::OwnedFd>>;
    /// CPU time used so far by every process of the run, in nanoseconds.
    fn cpu_ns(&self) -> Option<u64>;
    /// Counters and peaks, read once the run is over.
    fn stats(&self) -> CgroupStats;
    /// SIGKILLs every process still in the cgroup.
    fn kill_all(&self);
    /// Removes the cgroup directories (after `kill_all` if anything is left).
    fn remove(&self) -> io::Result<()>;
}

pub(crate) enum Cgroup {
    V1(v1::CgroupV1),
    V2(v2::CgroupV2),
}

impl Cgroup {
    fn inner(&self) -> &dyn CgroupManager {
        match self {
            Cgroup::V1(c) => c,
            Cgroup::V2(c) => c,
        }
    }

    /// A run cgroup with the given limits on whichever hierarchy the host offers: the spare one when
    /// there is one (see [`Spare`]), else one made now.
    pub(crate) fn create(limits: CgroupLimits) -> Result<(Cgroup, Vec<&'static str>), String> {
        static SWEPT: OnceLock<()> = OnceLock::new();
        let host = host_layout()?;
        SWEPT.get_or_init(|| sweep_stale(&host));
        let (cg, missing) = match Spare::take(limits) {
            Some(ready) => ready,
            None => {
                let cg = Cgroup::make(host)?;
                let missing = cg.limit(limits);
                (cg, missing)
            }
        };
        Spare::want(limits);
        Ok((cg, missing))
    }

    fn make(host: HostLayout) -> Result<Cgroup, String> {
        let name = run_name();
        Ok(match host {
            HostLayout::V2(root) => Cgroup::V2(v2::CgroupV2::create(root, &name)?),
            HostLayout::V1(ctl) => Cgroup::V1(v1::CgroupV1::create(ctl, &name)?),
        })
    }

    fn limit(&self, limits: CgroupLimits) -> Vec<&'static str> {
        match self {
            Cgroup::V1(c) => c.limit(limits),
            Cgroup::V2(c) => c.limit(limits),
        }
    }

    pub(crate) fn version(&self) -> u8 {
        match self {
            Cgroup::V1(_) => 1,
            Cgroup::V2(_) => 2,
        }
    }
}

impl CgroupManager for Cgroup {
    fn add(&self, pid: libc::pid_t) -> io::Result<()> {
        self.inner().add(pid)
    }
    fn self_join_files(&self) -> io::Result<Vec<std::os::fd::OwnedFd>> {
        self.inner().self_join_files()
    }
    fn cpu_ns(&self) -> Option<u64> {
        self.inner().cpu_ns()
    }
    fn stats(&self) -> CgroupStats {
        self.inner().stats()
    }
    fn kill_all(&self) {
        self.inner().kill_all()
    }
    fn remove(&self) -> io::Result<()> {
        self.inner().remove()
    }
}

/// One run cgroup made ahead of need, with the limits of the run before.
///
/// Making a run cgroup (a directory per v1 controller, and the limit writes) costs about 0.25 ms here.
/// Once a process has started two runs, the reaper thread keeps one fresh, empty cgroup ready for the
/// next, with the limits of the run before; a run with other limits makes its own. Nothing ever ran in a spare, so its
/// counters and peaks start at zero like a new one's. [`Spare::drop_all`] (from `process::shutdown`)
/// removes it.
pub(crate) struct Spare;

/// The spare cgroup with the limits written to it, the runs started so far, and whether a refill is queued.
#[derive(Default)]
struct SpareSlot {
    ready: Option<(Cgroup, CgroupLimits, Vec<&'static str>)>,
    runs: u64,
    queued: bool,
    /// Limits of a refill asked for by `want`, queued by `refill` once the run has ended.
    wanted: Option<CgroupLimits>,
}

fn spare_slot() -> std::sync::MutexGuard<'static, SpareSlot> {
    static SLOT: OnceLock<std::sync::Mutex<SpareSlot>> = OnceLock::new();
    SLOT.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

impl Spare {
    /// The spare, when it was made with exactly these limits. One made for other limits is removed
    /// rather than re-limited: limits are only ever written once to a run cgroup, so an unset limit
    /// cannot inherit the value of another run (and v1's memory-before-memsw order always holds).
    fn take(limits: CgroupLimits) -> Option<(Cgroup, Vec<&'static str>)> {
        let (cg, had, missing) = spare_slot().ready.take()?;
        if had == limits {
            Some((cg, missing))
        } else {
            super::reaper::defer(Box::new(move || {
                let _ = cg.remove();
            }));
            None
        }
    }

    /// Notes that a new spare is wanted (from the second run on); [`Spare::refill`] queues it.
    fn want(limits: CgroupLimits) {
        let mut slot = spare_slot();
        slot.runs += 1;
        if slot.runs < 2 || slot.queued || slot.ready.is_some() {
            return;
        }
        slot.wanted = Some(limits);
    }

    /// Queues the spare `want` asked for on the reaper thread. Called when a run has ended and its
    /// teardown is queued: making a cgroup while a run starts would compete with it for the CPU and for
    /// the kernel's cgroup lock, so the spare is made between runs instead.
    pub(crate) fn refill() {
        let limits = {
            let mut slot = spare_slot();
            let Some(limits) = slot.wanted.take() else {
                return;
            };
            slot.queued = true;
            limits
        };
        super::reaper::defer(Box::new(move || {
            let made = host_layout().and_then(Cgroup::make).map(|cg| {
                let missing = cg.limit(limits);
                (cg, limits, missing)
            });
            let mut slot = spare_slot();
            slot.queued = false;
            if let Ok(made) = made {
                if let Some((old, _, _)) = slot.ready.replace(made) {
                    let _ = old.remove();
                }
            }
        }));
    }

    /// Removes the spare, if any.
    pub(crate) fn drop_all() {
        let spare = spare_slot().ready.take();
        if let Some((cg, _, _)) = spare {
            let _ = cg.remove();
        }
    }
}

/// Where this supervisor's run cgroups go.
#[derive(Clone, Debug)]
pub(crate) enum HostLayout {
    /// The `gauntlet` directory in the unified hierarchy.
    V2(PathBuf),
    /// The `gauntlet` directory of each v1 controller: memory, pids, cpuacct (any may be absent).
    V1(V1Dirs),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct V1Dirs {
    pub memory: Option<PathBuf>,
    pub pids: Option<PathBuf>,
    pub cpuacct: Option<PathBuf>,
}

/// Finds this process's own cgroups and picks the hierarchy to use.
pub(crate) fn host_layout() -> Result<HostLayout, String> {
    static LAYOUT: OnceLock<Result<HostLayout, String>> = OnceLock::new();
    LAYOUT.get_or_init(detect_layout).clone()
}

fn detect_layout() -> Result<HostLayout, String> {
    Ok(match own_cgroups()? {
        OwnCgroups::V2(dir) => HostLayout::V2(dir.join("gauntlet")),
        OwnCgroups::V1(list) => {
            let mut dirs = V1Dirs::default();
            for (controller, dir) in list {
                let dir = Some(dir.join("gauntlet"));
                match controller.as_str() {
                    "memory" => dirs.memory = dir,
                    "pids" => dirs.pids = dir,
                    "cpuacct" => dirs.cpuacct = dir,
                    _ => {}
                }
            }
            HostLayout::V1(dirs)
        }
    })
}

/// This process's own cgroup directories, where the host mounts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnCgroups {
    /// The unified hierarchy, when its root offers the memory and pids controllers.
    V2(PathBuf),
    /// Each v1 controller of memory, pids and cpuacct that is mounted: `(controller, directory)`, sorted.
    V1(Vec<(String, PathBuf)>),
}

/// Finds this process's own cgroups (from `/proc/self/cgroup` and the mount table), preferring v2.
pub fn own_cgroups() -> Result<OwnCgroups, String> {
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    let mut v2_mount = None;
    let mut v1_mounts: Vec<(String, PathBuf)> = Vec::new();
    for line in mounts.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        let (Some(mnt), Some(fstype)) = (pre.get(4), post.first()) else {
            continue;
        };
        match *fstype {
            "cgroup2" => v2_mount = Some(PathBuf::from(mnt)),
            "cgroup" => {
                let opts = post.get(2).copied().unwrap_or("");
                for c in opts.split(',') {
                    if matches!(c, "memory" | "pids" | "cpuacct") {
                        v1_mounts.push((c.to_string(), PathBuf::from(mnt)));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(m) = &v2_mount {
        let ctrls = std::fs::read_to_string(m.join("cgroup.controllers")).unwrap_or_default();
        let has = |c: &str| ctrls.split_whitespace().any(|x| x == c);
        if has("memory") && has("pids") {
            let rel = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .unwrap_or("/");
            return Ok(OwnCgroups::V2(m.join(rel.trim_start_matches('/'))));
        }
    }
    let mut dirs: Vec<(String, PathBuf)> = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, rel) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("/"),
        );
        for c in ctrls.split(',') {
            if let Some((name, mnt)) = v1_mounts.iter().find(|(name, _)| name == c) {
                if !dirs.iter().any(|(n, _)| n == name) {
                    dirs.push((name.clone(), mnt.join(rel.trim_start_matches('/'))));
                }
            }
        }
    }
    if dirs.is_empty() {
        return Err("no cgroup hierarchy with memory, pids or cpuacct is mounted".into());
    }
    dirs.sort();
    Ok(OwnCgroups::V1(dirs))
}

/// This supervisor's identity in run cgroup names: pid and start time (clock ticks since boot).
fn owner_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let pid = std::process::id();
        format!("r{pid}-{}", start_time(pid as i32).unwrap_or(0))
    })
}

fn run_name() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", owner_tag(), SEQ.fetch_add(1, Ordering::Relaxed))
}

/// Field 22 of `/proc/<pid>/stat`: the start time in clock ticks since boot.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19)?.parse().ok()
}

/// True when the supervisor that created a run cgroup of this name is gone.
fn is_stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('r') else {
        return false;
    };
    let mut it = rest.split('-');
    let (Some(pid), Some(start)) = (
        it.next().and_then(|p| p.parse::<i32>().ok()),
        it.next().and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return false;
    };
    start_time(pid) != Some(start)
}

/// Removes run cgroups whose supervisor is dead, killing anything left in them first.
pub(crate) fn sweep_stale(host: &HostLayout) {
    let parents: Vec<PathBuf> = match host {
        HostLayout::V2(p) => vec![p.clone()],
        HostLayout::V1(d) => [&d.memory, &d.pids, &d.cpuacct]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
    };
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() && is_stale(&name) {
                kill_procs(&e.path());
                let _ = remove_run_dir(&e.path());
            }
        }
    }
}

/// Count of run cgroups present now under this host's `gauntlet` directories (for leak checks).
pub fn leftover_run_cgroups() -> Vec<PathBuf> {
    let Ok(host) = host_layout() else {
        return Vec::new();
    };
    let parents: Vec<PathBuf> = match host {
        HostLayout::V2(p) => vec![p],
        HostLayout::V1(d) => [d.memory, d.pids, d.cpuacct]
            .into_iter()
            .flatten()
            .collect(),
    };
    parents
        .iter()
        .filter_map(|p| std::fs::read_dir(p).ok())
        .flat_map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect::<Vec<_>>()
        })
        .collect()
}

pub(crate) fn kill_procs(dir: &Path) {
    for _ in 0..100 {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        let pids: Vec<i32> = procs
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            let _ = super::sys::kill(pid, libc::SIGKILL);
        }
        std::thread::yield_now();
    }
}

/// rmdir, retrying while the kernel finishes tearing down the last processes (EBUSY).
/// Removes `dir`, then its parent if that is now empty (the `gauntlet` directory this supervisor made
/// inside its own cgroup must not outlive it: a non-empty cgroup cannot be removed by whoever owns it).
pub(crate) fn remove_run_dir(dir: &Path) -> io::Result<()> {
    remove_dir_retrying(dir)?;
    if let Some(parent) = dir.parent() {
        // Fails harmlessly while other runs still use it.
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

/// Creates `parent/name`, recreating `parent` if a concurrent `remove_run_dir` took it away meanwhile.
pub(crate) fn create_run_dir(parent: &Path, name: &str) -> io::Result<PathBuf> {
    let dir = parent.join(name);
    let mut last = Ok(());
    for _ in 0..5 {
        ensure_dir(parent)?;
        match ensure_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => last = Err(e),
            Err(e) => return Err(e),
        }
    }
    last.map(|()| dir)
}

pub(crate) fn remove_dir_retrying(dir: &Path) -> io::Result<()> {
    let mut last = Ok(());
    for i in 0..200 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Err(e),
        }
        if i > 20 {
            kill_procs(dir);
            std::thread::sleep(std::time::Duration::from_millis(1));
        } else {
            std::thread::yield_now();
        }
    }
    last
}

/// A small cgroup file's text: one open, one read, one close. A cgroup file is a `seq_file`, whose
/// read fills the buffer unless the text ends first, so a short read is the whole text (no size
/// lookup and no second read for the end, which `fs::read_to_string` spends on each file).
fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = [0u8; 512];
    let n = file.read(&mut buf).ok()?;
    if n == buf.len() {
        let mut text = String::from_utf8(buf.to_vec()).ok()?;
        file.read_to_string(&mut text).ok()?;
        return Some(text);
    }
    String::from_utf8(buf[..n].to_vec()).ok()
}

pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    read_small(path)?.trim().parse().ok()
}

/// Value of `key` in a flat-keyed cgroup file (`memory.events`, `pids.events`, `memory.oom_control`).
pub(crate) fn read_keyed(path: &Path, key: &str) -> Option<u64> {
    let text = read_small(path)?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

pub(crate) fn ensure_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
