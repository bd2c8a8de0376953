//! cgroup v2: one directory in the unified hierarchy, with memory and pids enabled for its children.

use std::io;
use std::path::PathBuf;

use super::{
    create_run_dir, kill_procs, read_keyed, read_u64, remove_run_dir, CgroupLimits, CgroupManager,
    CgroupStats,
};

pub(crate) struct CgroupV2 {
    dir: PathBuf,
}

impl CgroupV2 {
    pub(crate) fn create(parent: PathBuf, name: &str) -> Result<CgroupV2, String> {
        let dir = create_run_dir(&parent, name)
            .map_err(|e| format!("{}: {e}", parent.join(name).display()))?;
        // Enable the controllers for the run cgroups (the parent's own parent must already delegate them).
        let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+memory +pids +cpu");
        Ok(CgroupV2 { dir })
    }

    /// Writes the limits; returns the names of the layers that could not be set up.
    pub(crate) fn limit(&self, limits: CgroupLimits) -> Vec<&'static str> {
        let dir = &self.dir;
        let mut missing = Vec::new();
        if let Some(bytes) = limits.memory {
            let ok = std::fs::write(dir.join("memory.max"), bytes.to_string()).is_ok();
            let _ = std::fs::write(dir.join("memory.swap.max"), "0");
            if !ok {
                missing.push("cgroup_memory");
            }
        }
        if let Some(n) = limits.pids {
            if std::fs::write(dir.join("pids.max"), n.to_string()).is_err() {
                missing.push("cgroup_pids");
            }
        }
        if !dir.join("cpu.stat").exists() {
            missing.push("cgroup_cpu");
        }
        missing
    }
}

impl CgroupManager for CgroupV2 {
    fn add(&self, pid: libc::pid_t) -> io::Result<()> {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
    }

    fn self_join_files(&self) -> io::Result<Vec<std::os::fd::OwnedFd>> {
        // `cgroup.procs` takes the global lock whatever is written; `cgroup.threads` needs threaded mode.
        Ok(Vec::new())
    }

    fn cpu_ns(&self) -> Option<u64> {
        read_keyed(&self.dir.join("cpu.stat"), "usage_usec").map(|us| us * 1000)
    }

    fn stats(&self) -> CgroupStats {
        CgroupStats {
            cpu_ns: self.cpu_ns(),
            peak_memory: read_u64(&self.dir.join("memory.peak")),
            oom_kills: read_keyed(&self.dir.join("memory.events"), "oom_kill").unwrap_or(0),
            peak_pids: read_u64(&self.dir.join("pids.peak")),
            pids_max_hits: read_keyed(&self.dir.join("pids.events"), "max").unwrap_or(0),
        }
    }

    fn kill_all(&self) {
        if std::fs::write(self.dir.join("cgroup.kill"), "1").is_err() {
            kill_procs(&self.dir);
        }
    }

    fn remove(&self) -> io::Result<()> {
        remove_run_dir(&self.dir)
    }
}
