//! The suite's sentinel: a child of the runner that only sleeps. If a case kills it (a `kill(-1)` that
//! got out), the census notices.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

pub struct Sentinel {
    child: Mutex<Child>,
    pidfd: OwnedFd,
}

impl Sentinel {
    /// Starts `sleep infinity` (the runner's own child).
    pub fn start() -> std::io::Result<Sentinel> {
        let child = Command::new("sleep")
            .arg("infinity")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let pidfd = super::sys::pidfd_open(child.id() as i32)?;
        Ok(Sentinel {
            child: Mutex::new(child),
            pidfd,
        })
    }

    /// Alive: its pidfd is not readable (a pidfd becomes readable when the process ends).
    pub fn alive(&self) -> bool {
        !super::sys::poll_readable(&[self.pidfd.as_raw_fd()], 0)[0]
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let mut c = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = c.kill();
        let _ = c.wait();
    }
}
