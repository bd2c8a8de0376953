//! What this host offers each layer, probed once per process (`gauntlet doctor` prints it).

use std::sync::OnceLock;

use serde::Serialize;

use super::cgroup::{host_layout, HostLayout};
use super::sys;

/// One line of `gauntlet doctor`.
#[derive(Clone, Debug, Serialize)]
pub struct LayerReport {
    pub layer: String,
    pub available: bool,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub(crate) struct HostProbe {
    pub userns: Result<(), String>,
    pub landlock_abi: Result<i32, String>,
    pub seccomp: bool,
}

pub(crate) fn host() -> &'static HostProbe {
    static PROBE: OnceLock<HostProbe> = OnceLock::new();
    PROBE.get_or_init(|| HostProbe {
        userns: probe_userns(),
        landlock_abi: sys::landlock_abi().map_err(|e| match e.raw_os_error() {
            Some(libc::ENOSYS) => "not built into this kernel".to_string(),
            Some(libc::EOPNOTSUPP) => {
                "built in but not enabled (add landlock to the lsm= boot parameter)".to_string()
            }
            _ => e.to_string(),
        }),
        seccomp: sys::seccomp_supported(),
    })
}

/// Forks a child that tries to create a user namespace.
fn probe_userns() -> Result<(), String> {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    if max.trim() == "0" {
        return Err("user.max_user_namespaces is 0".into());
    }
    match sys::fork() {
        Err(e) => Err(format!("fork: {e}")),
        Ok(sys::Forked::Child) => {
            let ok = sys::unshare(libc::CLONE_NEWUSER).is_ok();
            sys::exit_now(if ok { 0 } else { 1 })
        }
        Ok(sys::Forked::Parent(pid)) => match sys::wait4(pid) {
            Ok((status, _)) if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 => Ok(()),
            Ok(_) => Err(
                if std::path::Path::new("/proc/sys/kernel/unprivileged_userns_clone").exists() {
                    "unshare(CLONE_NEWUSER) failed (see kernel.unprivileged_userns_clone)".into()
                } else {
                    "unshare(CLONE_NEWUSER) failed".into()
                },
            ),
            Err(e) => Err(format!("wait: {e}")),
        },
    }
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Every layer, whether this host can apply it, and why.
pub fn doctor() -> Vec<LayerReport> {
    let h = host();
    let root = sys::geteuid() == 0;
    let mut out = Vec::new();
    let mut add = |layer: &str, available: bool, detail: String| {
        out.push(LayerReport {
            layer: layer.to_string(),
            available,
            detail,
        })
    };
    add("kernel", true, sys::uname_release());
    add(
        "identity",
        true,
        if root {
            "root: runs use a dedicated unprivileged host uid".into()
        } else {
            format!("uid {}", sys::geteuid())
        },
    );
    match &h.userns {
        Ok(()) => add("user_ns", true, "unshare(CLONE_NEWUSER) works".into()),
        Err(e) => add("user_ns", false, e.clone()),
    }
    let ns_ok = h.userns.is_ok() || root;
    for ns in [
        "pid_ns",
        "mount_ns",
        "net_ns",
        "ipc_ns",
        "uts_ns",
        "cgroup_ns",
        "pivot_root",
    ] {
        add(
            ns,
            ns_ok,
            if ns_ok {
                "inside the user namespace".into()
            } else {
                "needs the user namespace or root".into()
            },
        );
    }
    add(
        "seccomp",
        h.seccomp,
        if h.seccomp {
            "filter mode available".into()
        } else {
            "PR_GET_SECCOMP failed".into()
        },
    );
    match &h.landlock_abi {
        Ok(v) => add("landlock", true, format!("ABI {v}")),
        Err(e) => add("landlock", false, e.clone()),
    }
    add("no_new_privs", true, "prctl(PR_SET_NO_NEW_PRIVS)".into());
    match host_layout() {
        Ok(HostLayout::V2(dir)) => {
            let writable = dir.parent().is_some_and(nix_writable);
            add(
                "cgroup",
                writable,
                format!(
                    "v2 at {} ({})",
                    dir.display(),
                    if writable { "writable" } else { "not writable" }
                ),
            );
        }
        Ok(HostLayout::V1(d)) => {
            for (name, dir) in [
                ("cgroup_memory", &d.memory),
                ("cgroup_pids", &d.pids),
                ("cgroup_cpu", &d.cpuacct),
            ] {
                match dir {
                    Some(dir) => {
                        let writable = dir.parent().is_some_and(nix_writable);
                        add(
                            name,
                            writable,
                            format!(
                                "v1 at {} ({})",
                                dir.display(),
                                if writable { "writable" } else { "not writable" }
                            ),
                        );
                    }
                    None => add(name, false, "controller not mounted".into()),
                }
            }
        }
        Err(e) => add("cgroup", false, e),
    }
    match read_trim("/proc/sys/dev/tty/legacy_tiocsti") {
        Some(v) => add(
            "tiocsti",
            true,
            format!("dev.tty.legacy_tiocsti = {v}; seccomp denies TIOCSTI either way"),
        ),
        None => add(
            "tiocsti",
            true,
            "dev.tty.legacy_tiocsti absent (older kernel); seccomp denies TIOCSTI".into(),
        ),
    }
    if let Some(v) = read_trim("/proc/sys/kernel/io_uring_disabled") {
        add(
            "io_uring",
            true,
            format!("kernel.io_uring_disabled = {v}; seccomp denies io_uring_* either way"),
        );
    }
    out
}

/// Whether run cgroups can be made under `parent`: tries to create (and remove) a probe directory.
fn nix_writable(parent: &std::path::Path) -> bool {
    let probe = parent.join(format!("gauntlet-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    ok
}
