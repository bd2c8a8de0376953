//! Suite and case cgroups.
//!
//! The suite cgroup lives under the runner's own cgroup in each controller, like the sandbox's run
//! cgroups: `<own>/gauntlet-suites/s<pid>-<start time>` (v1: memory, pids, cpuacct; v2: one directory),
//! with memory 12G and pids 8192. A suite whose runner is gone (pid reused or dead) is stale and is killed
//! and removed at the next start. Each case gets `<suite>/case-N`; its `gauntlet exec` child joins it
//! before `execve`, so the sandbox's run cgroups nest under it (`case-N/gauntlet/r...`).

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use gauntlet_sandbox::process::OwnCgroups;
use serde::{Deserialize, Serialize};

pub const SUITE_MEMORY: u64 = 12 << 30;
pub const SUITE_PIDS: u64 = 8192;
const SUITES_DIR: &str = "gauntlet-suites";

#[derive(Clone, Debug)]
pub struct CgroupError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for CgroupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The directories of one cgroup, one per controller (a single one on v2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dirs {
    pub v2: bool,
    pub dirs: Vec<(String, PathBuf)>,
}

impl Dirs {
    pub fn child(&self, name: &str) -> Dirs {
        Dirs {
            v2: self.v2,
            dirs: self
                .dirs
                .iter()
                .map(|(c, d)| (c.clone(), d.join(name)))
                .collect(),
        }
    }

    pub fn create(&self) -> Result<(), CgroupError> {
        for (_, d) in &self.dirs {
            std::fs::create_dir_all(d).map_err(|e| CgroupError {
                path: d.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    fn write(&self, controller: &str, file: &str, value: &str) -> Result<(), CgroupError> {
        for (c, d) in &self.dirs {
            if self.v2 || c == controller {
                let p = d.join(file);
                std::fs::write(&p, value).map_err(|e| CgroupError {
                    path: p.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        Ok(())
    }

    /// `cgroup.procs` of each directory, as C strings (for writing from `pre_exec`).
    pub fn procs_files(&self) -> Vec<CString> {
        use std::os::unix::ffi::OsStrExt;
        self.dirs
            .iter()
            .filter_map(|(_, d)| CString::new(d.join("cgroup.procs").as_os_str().as_bytes()).ok())
            .collect()
    }

    /// Every process in the tree (all controllers), sorted, without duplicates.
    pub fn pids_in_tree(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for (_, d) in &self.dirs {
            for dir in subtree(d) {
                let text = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
            }
        }
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Directories below the root other than the sandbox's `gauntlet` container: leftover run cgroups.
    pub fn nested_run_dirs(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for (_, d) in &self.dirs {
            let container = d.join("gauntlet");
            v.extend(subtree(d).into_iter().filter(|p| p != d && p != &container));
        }
        v
    }

    /// SIGKILLs everything in the tree and waits (pidfd) for each process to end.
    pub fn kill_all(&self) {
        for _ in 0..50 {
            let pids = self.pids_in_tree();
            if pids.is_empty() {
                return;
            }
            let fds: Vec<_> = pids
                .iter()
                .filter_map(|&p| super::sys::pidfd_open(p).ok())
                .collect();
            for &p in &pids {
                // SAFETY: kill has no memory effects.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            for fd in &fds {
                let mut pfd = [libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                }];
                // SAFETY: valid pollfd array for the call.
                unsafe { libc::poll(pfd.as_mut_ptr(), 1, 1000) };
            }
        }
    }

    /// Removes the directories that hold these ones (`gauntlet-suites`) when nothing else uses them: an
    /// empty directory left in the runner's own cgroup would keep whoever owns that cgroup from removing it.
    pub fn remove_empty_parents(&self) {
        for (_, d) in &self.dirs {
            if let Some(parent) = d.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }

    /// Kills what is left and removes the whole tree, deepest first.
    pub fn remove(&self) -> io::Result<()> {
        self.kill_all();
        let mut result = Ok(());
        for (_, d) in &self.dirs {
            let mut dirs = subtree(d);
            dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
            for dir in dirs {
                if let Err(e) = rmdir_retrying(&dir) {
                    result = Err(e);
                }
            }
        }
        result
    }
}

/// `root` and every directory below it (cgroup trees hold no symlinks).
fn subtree(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        out.push(d);
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(e.path());
            }
        }
        if out.len() > 10_000 {
            break;
        }
    }
    out
}

fn rmdir_retrying(dir: &Path) -> io::Result<()> {
    let mut last = Ok(());
    for _ in 0..200 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Err(e),
        }
        std::thread::yield_now();
    }
    last
}

/// The runner's own cgroup directories, per controller (memory, pids, cpuacct on v1).
pub fn own_cgroup() -> Result<Dirs, String> {
    Ok(match gauntlet_sandbox::process::own_cgroups()? {
        OwnCgroups::V2(dir) => Dirs {
            v2: true,
            dirs: vec![("unified".into(), dir)],
        },
        OwnCgroups::V1(dirs) => Dirs { v2: false, dirs },
    })
}

pub use gauntlet_sandbox::process::start_time;

/// `<pid>-<start time>` of this process: the tag in suite cgroup and suite directory names.
pub fn owner_tag() -> String {
    let pid = std::process::id() as i32;
    format!("{pid}-{}", start_time(pid).unwrap_or(0))
}

/// True when the process that named something `<pid>-<start>` is gone.
pub fn tag_is_stale(tag: &str) -> bool {
    let mut it = tag.splitn(2, '-');
    match (
        it.next().and_then(|p| p.parse::<i32>().ok()),
        it.next().and_then(|s| s.parse::<u64>().ok()),
    ) {
        (Some(pid), Some(start)) => start_time(pid) != Some(start),
        _ => false,
    }
}

/// Creates this runner's suite cgroup (after removing stale ones) with the suite limits.
pub fn create_suite() -> Result<Dirs, CgroupError> {
    let own = own_cgroup().map_err(|message| CgroupError {
        path: "/proc/self/cgroup".into(),
        message,
    })?;
    let parent = own.child(SUITES_DIR);
    sweep_stale(&parent);
    let suite = parent.child(&format!("s{}", owner_tag()));
    suite.create()?;
    if suite.v2 {
        for (_, d) in &parent.dirs {
            let _ = std::fs::write(d.join("cgroup.subtree_control"), "+memory +pids");
        }
        suite.write("", "memory.max", &SUITE_MEMORY.to_string())?;
        suite.write("", "pids.max", &SUITE_PIDS.to_string())?;
        let _ = std::fs::write(
            suite.dirs[0].1.join("cgroup.subtree_control"),
            "+memory +pids",
        );
    } else {
        suite.write("memory", "memory.limit_in_bytes", &SUITE_MEMORY.to_string())?;
        suite.write("pids", "pids.max", &SUITE_PIDS.to_string())?;
    }
    Ok(suite)
}

/// Kills and removes suite cgroups of runners that are gone.
pub fn sweep_stale(parent: &Dirs) {
    for (c, d) in &parent.dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(tag) = name.strip_prefix('s') {
                if tag_is_stale(tag) {
                    let stale = Dirs {
                        v2: parent.v2,
                        dirs: vec![(c.clone(), e.path())],
                    };
                    let _ = stale.remove();
                }
            }
        }
    }
}
