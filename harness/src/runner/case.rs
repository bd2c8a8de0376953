//! One case's host-side setup: its directories under the suite directory, the canary, the honeypots,
//! the placeholder values, and its policy file.
//!
//! ```text
//! <suite dir>/case-N/           0755, root
//!     scratch/                  1777: read-write inside the sandbox at the same path
//!     host/                     1777: {host_dir}, write-bait outside the policy
//!     canary/secret             0755/0644: {canary_dir}, {canary_file}; only the sandbox keeps it out
//!     honey.sock                {unix_path}
//!     policy.toml               the effective policy
//! ```

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sys;
use crate::oracles::canary::CanaryWatch;
use crate::oracles::honeypot::Honeypots;

/// A case's setup error: what failed, on which path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {what}: {source}", .path.display())]
pub struct SetupError {
    pub path: PathBuf,
    pub what: &'static str,
    pub source: std::io::Error,
}

fn at<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> SetupError + 'a {
    move |source| SetupError {
        path: path.to_path_buf(),
        what,
        source,
    }
}

pub struct CaseDir {
    pub root: PathBuf,
    pub scratch: PathBuf,
    pub host: PathBuf,
    pub canary_dir: PathBuf,
    pub canary_file: PathBuf,
    pub nonce: String,
    pub token: String,
    pub honeypots: Honeypots,
    pub canary_watch: Option<Arc<CanaryWatch>>,
    /// The descriptor holding the token, handed to the `gauntlet exec` child as `{canary_fd}`.
    pub canary_fd: OwnedFd,
    /// Whether `scratch` is a size-capped tmpfs of its own (to unmount before removal).
    pub scratch_mounted: bool,
}

/// Size and inode cap of a case's scratch tmpfs: a plugin that fills its scratch meets ENOSPC here,
/// not the host's disk.
pub const SCRATCH_SIZE: u64 = 64 << 20;
pub const SCRATCH_INODES: u64 = 16 << 10;

/// Mounts a size-capped tmpfs on `dir` (only in the outer wall's private mount namespace, where the
/// mount disappears with the wall even if the runner is killed).
fn mount_scratch(dir: &Path) -> Result<(), SetupError> {
    use nix::mount::{mount, MsFlags};
    let opts = format!("size={SCRATCH_SIZE},nr_inodes={SCRATCH_INODES},mode=1777");
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(opts.as_str()),
    )
    .map_err(|e| SetupError {
        path: dir.to_path_buf(),
        what: "mount the scratch tmpfs",
        source: e.into(),
    })
}

fn mkdir(p: &Path, mode: u32) -> Result<(), SetupError> {
    std::fs::create_dir(p).map_err(at(p, "create directory"))?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .map_err(at(p, "set permissions"))
}

impl CaseDir {
    /// `private_mounts`: the runner is inside the outer wall's own mount namespace, so the scratch
    /// directory can be a size-capped tmpfs.
    pub fn create(
        suite_dir: &Path,
        index: usize,
        private_mounts: bool,
    ) -> Result<CaseDir, SetupError> {
        let root = suite_dir.join(format!("case-{index}"));
        mkdir(&root, 0o755)?;
        let scratch = root.join("scratch");
        let host = root.join("host");
        let canary_dir = root.join("canary");
        mkdir(&scratch, 0o1777)?;
        if private_mounts {
            mount_scratch(&scratch)?;
        }
        mkdir(&host, 0o1777)?;
        mkdir(&canary_dir, 0o755)?;
        let nonce = sys::random_hex(6);
        let token = format!("gauntlet-secret-{}", sys::random_hex(16));
        let canary_file = canary_dir.join("secret");
        std::fs::write(&canary_file, format!("{token}\n")).map_err(at(&canary_file, "write"))?;
        std::fs::set_permissions(&canary_file, std::fs::Permissions::from_mode(0o644))
            .map_err(at(&canary_file, "set permissions"))?;
        // The watch comes after the harness's own write.
        let canary_watch = CanaryWatch::new(&canary_file).ok().map(Arc::new);
        let honeypots = Honeypots::start(&root, &nonce).map_err(at(&root, "start honeypots"))?;
        let canary_fd = sys::memfd_with("gauntlet-canary", format!("{token}\n").as_bytes())
            .map_err(at(&root, "memfd for the canary descriptor"))?;
        Ok(CaseDir {
            root,
            scratch,
            host,
            canary_dir,
            canary_file,
            nonce,
            token,
            honeypots,
            canary_watch,
            canary_fd,
            scratch_mounted: private_mounts,
        })
    }

    /// Placeholder values; `{supervisor_pid}` is left for the trampoline, which knows its own pid.
    pub fn placeholders(&self, runner_pid: u32) -> BTreeMap<&'static str, String> {
        let a = &self.honeypots.addresses;
        let s = |p: &Path| p.display().to_string();
        BTreeMap::from([
            ("nonce", self.nonce.clone()),
            ("scratch", s(&self.scratch)),
            ("canary_file", s(&self.canary_file)),
            ("canary_dir", s(&self.canary_dir)),
            ("host_dir", s(&self.host)),
            ("tcp_port", a.tcp_port.to_string()),
            ("tcp6_port", a.tcp6_port.to_string()),
            ("udp_port", a.udp_port.to_string()),
            ("dns_port", a.dns_port.to_string()),
            ("unix_path", s(&a.unix_path)),
            ("abstract_name", a.abstract_name.clone()),
            ("allowed_port", a.allowed_port.to_string()),
            ("supervisor_pid", "{supervisor_pid}".to_string()),
            ("runner_pid", runner_pid.to_string()),
            ("canary_fd", self.canary_fd.as_raw_fd().to_string()),
        ])
    }

    /// Stops the honeypots and removes the case directory (never following links).
    pub fn remove(mut self) {
        self.honeypots.stop();
        if self.scratch_mounted {
            let _ = nix::mount::umount2(&self.scratch, nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
