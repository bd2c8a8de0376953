//! `net.mode = "allow"` in the process backend: the plugin keeps its empty network namespace (no
//! interface up, no route) and Landlock's TCP fence, and gets one extra entry in its root, the egress
//! proxy's unix socket (`supervisor::egress`) bind-mounted at [`EGRESS_SOCKET`]. Nothing else changes:
//! seccomp already allows `AF_UNIX` sockets, abstract unix sockets stay scoped to the sandbox (Landlock)
//! and to its empty network namespace, and no other host socket is in the root.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use super::plan::{Plan, ViewEntry, NEW_ROOT, OLD_ROOT};
use crate::error::{SandboxError, SandboxErrorKind};
use crate::policy::{NetMode, Policy};

/// Where the plugin finds the egress proxy's socket (HTTP CONNECT and SOCKS5), with
/// `net.mode = "allow"`.
pub const EGRESS_SOCKET: &str = "/run/gauntlet/egress.sock";

/// Adds the proxy's socket at `socket` (a host path) to the plan's root, and hands the socket to the
/// run's unprivileged uid when the plugin runs as one (the socket is created 0600 by the supervisor).
pub(crate) fn attach(mut plan: Plan, policy: &Policy, socket: &Path) -> Result<Plan, SandboxError> {
    let bad = |m: &str| SandboxError::path(socket, SandboxErrorKind::Setup(m.into()));
    if policy.net.mode != NetMode::Allow {
        return Err(bad("an egress socket needs net.mode = \"allow\""));
    }
    if !socket.is_absolute() {
        return Err(bad("the egress socket path is not absolute"));
    }
    let meta = std::fs::symlink_metadata(socket)
        .map_err(|e| SandboxError::path(socket, SandboxErrorKind::Io(e)))?;
    if !meta.file_type().is_socket() {
        return Err(bad("not a unix socket"));
    }
    if let Some((uid, gid)) = plan.switch_to {
        std::os::unix::fs::chown(socket, Some(uid), Some(gid))
            .map_err(|e| SandboxError::path(socket, SandboxErrorKind::Io(e)))?;
    }
    if let Some(root) = plan.root.as_mut() {
        let cstr = |prefix: &str, p: &[u8]| {
            let mut v = prefix.as_bytes().to_vec();
            v.extend_from_slice(p);
            std::ffi::CString::new(v).map_err(|_| bad("contains a NUL byte"))
        };
        root.entries.push(ViewEntry::Bind {
            src: cstr(OLD_ROOT, socket.as_os_str().as_bytes())?,
            dst: cstr(NEW_ROOT, EGRESS_SOCKET.as_bytes())?,
            dir: false,
            writable: false,
        });
    }
    Ok(plan)
}
