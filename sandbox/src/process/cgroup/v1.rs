//! cgroup v1: one directory per controller (memory, pids, cpuacct).

use std::io;
use std::path::PathBuf;

use super::{
    create_run_dir, kill_procs, read_keyed, read_u64, remove_run_dir, CgroupLimits, CgroupManager,
    CgroupStats, V1Dirs,
};

pub(crate) struct CgroupV1 {
    memory: Option<PathBuf>,
    pids: Option<PathBuf>,
    cpuacct: Option<PathBuf>,
    /// `tasks` files opened when the cgroup was made: handed out once, to the run that uses it.
    join_ahead: std::sync::Mutex<Vec<std::os::fd::OwnedFd>>,
}

impl CgroupV1 {
    /// Creates `<controller>/gauntlet/<name>` for each controller present.
    pub(crate) fn create(dirs: V1Dirs, name: &str) -> Result<CgroupV1, String> {
        let make = |parent: &Option<PathBuf>| -> Option<PathBuf> {
            create_run_dir(parent.as_ref()?, name).ok()
        };
        let cg = CgroupV1 {
            memory: make(&dirs.memory),
            pids: make(&dirs.pids),
            cpuacct: make(&dirs.cpuacct),
            join_ahead: Default::default(),
        };
        if cg.memory.is_none() && cg.pids.is_none() && cg.cpuacct.is_none() {
            return Err("cannot create a cgroup in any v1 controller (not writable)".into());
        }
        // Opened with the directories (for a spare, on the reaper thread, off the next run's start);
        // if this fails, `self_join_files` opens them when the run starts.
        if let Ok(files) = cg.open_join_files() {
            *cg.join_ahead.lock().unwrap_or_else(|e| e.into_inner()) = files;
        }
        Ok(cg)
    }

    /// Writes the limits; returns the names of the layers that could not be set up.
    pub(crate) fn limit(&self, limits: CgroupLimits) -> Vec<&'static str> {
        let mut missing = Vec::new();
        match (&self.memory, limits.memory) {
            (Some(m), Some(bytes)) => {
                let set = std::fs::write(m.join("memory.limit_in_bytes"), bytes.to_string());
                // memsw = mem means no swap at all; absent when swap accounting is off.
                let _ = std::fs::write(m.join("memory.memsw.limit_in_bytes"), bytes.to_string());
                let _ = std::fs::write(m.join("memory.swappiness"), "0");
                if set.is_err() {
                    missing.push("cgroup_memory");
                }
            }
            (None, _) => missing.push("cgroup_memory"),
            _ => {}
        }
        match (&self.pids, limits.pids) {
            (Some(p), Some(n)) if std::fs::write(p.join("pids.max"), n.to_string()).is_err() => {
                missing.push("cgroup_pids")
            }
            (None, _) => missing.push("cgroup_pids"),
            _ => {}
        }
        if self.cpuacct.is_none() {
            missing.push("cgroup_cpu");
        }
        missing
    }

    fn open_join_files(&self) -> io::Result<Vec<std::os::fd::OwnedFd>> {
        self.all()
            .map(|dir| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(dir.join("tasks"))
                    .map(Into::into)
            })
            .collect()
    }

    fn all(&self) -> impl Iterator<Item = &PathBuf> {
        [&self.memory, &self.pids, &self.cpuacct]
            .into_iter()
            .flatten()
    }
}

impl CgroupManager for CgroupV1 {
    fn add(&self, pid: libc::pid_t) -> io::Result<()> {
        for dir in self.all() {
            std::fs::write(dir.join("cgroup.procs"), pid.to_string())?;
        }
        Ok(())
    }

    fn self_join_files(&self) -> io::Result<Vec<std::os::fd::OwnedFd>> {
        let ahead = std::mem::take(&mut *self.join_ahead.lock().unwrap_or_else(|e| e.into_inner()));
        if !ahead.is_empty() {
            return Ok(ahead);
        }
        self.open_join_files()
    }

    fn cpu_ns(&self) -> Option<u64> {
        read_u64(&self.cpuacct.as_ref()?.join("cpuacct.usage"))
    }

    fn stats(&self) -> CgroupStats {
        let mem = self.memory.as_ref();
        let pids = self.pids.as_ref();
        CgroupStats {
            cpu_ns: self.cpu_ns(),
            peak_memory: mem.and_then(|m| read_u64(&m.join("memory.max_usage_in_bytes"))),
            oom_kills: mem
                .and_then(|m| read_keyed(&m.join("memory.oom_control"), "oom_kill"))
                .unwrap_or(0),
            peak_pids: pids.and_then(|p| read_u64(&p.join("pids.peak"))),
            pids_max_hits: pids
                .and_then(|p| read_keyed(&p.join("pids.events"), "max"))
                .unwrap_or(0),
        }
    }

    fn kill_all(&self) {
        for dir in self.all() {
            kill_procs(dir);
        }
    }

    fn remove(&self) -> io::Result<()> {
        let mut result = Ok(());
        for dir in self.all() {
            if let Err(e) = remove_run_dir(dir) {
                result = Err(e);
            }
        }
        result
    }
}
