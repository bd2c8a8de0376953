//! A pool of prepared network namespaces.
//!
//! Creating a network namespace is the costliest single step of a sandbox start, and tearing one down
//! costs the kernel more work in the background (an RCU grace period and a cleanup worker), which slows
//! the next creation. A supervisor that runs many plugins therefore keeps empty namespaces ready and
//! lends one, exclusively, to each run: the run's first process joins it with `setns` before it drops
//! privileges, instead of creating one.
//!
//! Reuse is safe because a plugin cannot change a pooled namespace: the namespace belongs to the initial
//! user namespace, so the plugin, with no capability there, cannot add addresses, routes or rules, and
//! its sockets close when its processes die. Two runs never share a namespace at the same time. A lease
//! whose run may have left processes behind is not returned.
//!
//! Only a supervisor with CAP_SYS_ADMIN (root) can make namespaces owned by the initial user namespace;
//! others create one per run inside the run's own user namespace, as before.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock};

use super::sys;

/// Idle namespaces kept per mode, at most.
const MAX_IDLE: usize = 16;

#[derive(Default)]
struct Pool {
    /// Index 0: `net = none` (loopback down); 1: `net = loopback` (loopback up).
    idle: [Vec<OwnedFd>; 2],
}

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(Mutex::default)
}

/// A network namespace lent to one run.
pub(crate) struct NetnsLease {
    fd: Option<OwnedFd>,
    loopback: bool,
    keep: bool,
}

impl NetnsLease {
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// Do not return this namespace to the pool (the run may have left processes in it).
    pub(crate) fn discard(&mut self) {
        self.keep = false;
    }
}

impl Drop for NetnsLease {
    fn drop(&mut self) {
        let Some(fd) = self.fd.take() else { return };
        if !self.keep {
            return;
        }
        if let Ok(mut p) = pool().lock() {
            let slot = &mut p.idle[self.loopback as usize];
            if slot.len() < MAX_IDLE {
                slot.push(fd);
            }
        }
    }
}

/// Lends a prepared namespace, making one if none is idle.
pub(crate) fn lease(loopback: bool) -> io::Result<NetnsLease> {
    let idle = pool()
        .lock()
        .ok()
        .and_then(|mut p| p.idle[loopback as usize].pop());
    let fd = match idle {
        Some(fd) => fd,
        None => create(loopback)?,
    };
    Ok(NetnsLease {
        fd: Some(fd),
        loopback,
        keep: true,
    })
}

/// Makes a namespace on a short-lived thread (namespaces are per thread; the supervisor's own threads
/// stay where they are) and keeps a descriptor of it.
fn create(loopback: bool) -> io::Result<OwnedFd> {
    std::thread::Builder::new()
        .name("gauntlet-netns".into())
        .spawn(move || -> io::Result<OwnedFd> {
            sys::unshare(libc::CLONE_NEWNET)?;
            if loopback {
                sys::loopback_up()?;
            }
            Ok(std::fs::File::open("/proc/thread-self/ns/net")?.into())
        })?
        .join()
        .map_err(|_| io::Error::other("the namespace thread panicked"))?
}
