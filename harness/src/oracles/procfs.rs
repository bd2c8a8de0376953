//! Reading other processes' /proc entries from the host side. Every read tolerates the process being
//! gone or hostile (any field may be missing or garbage).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Namespaces compared by `pstat`.
pub const NAMESPACES: &[&str] = &["pid", "net", "mnt", "user", "ipc", "uts", "cgroup"];

/// The fields of /proc/<pid>/status that `pstat` judges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub name: String,
    pub uids: Vec<u32>,
    pub cap_eff: u64,
    pub cap_prm: u64,
    pub cap_bnd: u64,
    pub cap_amb: u64,
    pub no_new_privs: Option<u32>,
    pub seccomp: Option<u32>,
}

pub fn parse_status(text: &str) -> Status {
    let mut s = Status::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        let hex = || u64::from_str_radix(v, 16).unwrap_or(0);
        match k {
            "Name" => s.name = v.chars().take(32).collect(),
            "Uid" => {
                s.uids = v
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            }
            "CapEff" => s.cap_eff = hex(),
            "CapPrm" => s.cap_prm = hex(),
            "CapBnd" => s.cap_bnd = hex(),
            "CapAmb" => s.cap_amb = hex(),
            "NoNewPrivs" => s.no_new_privs = v.parse().ok(),
            "Seccomp" => s.seccomp = v.parse().ok(),
            _ => {}
        }
    }
    s
}

pub fn status(pid: i32) -> Option<Status> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .map(|t| parse_status(&t))
}

/// Namespace inodes of a process (`self` for the runner), by name.
pub fn namespaces(pid: &str) -> BTreeMap<&'static str, String> {
    NAMESPACES
        .iter()
        .filter_map(|ns| {
            let link = std::fs::read_link(format!("/proc/{pid}/ns/{ns}")).ok()?;
            Some((*ns, link.to_string_lossy().into_owned()))
        })
        .collect()
}

/// The executable of a process, " (deleted)" removed.
pub fn exe(pid: &str) -> Option<PathBuf> {
    let p = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let s = p.to_string_lossy();
    Some(PathBuf::from(
        s.strip_suffix(" (deleted)").unwrap_or(&s).to_string(),
    ))
}

/// (dev, ino) of a process's executable.
pub fn exe_id(pid: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
    Some((m.dev(), m.ino()))
}

/// Names in a directory of the process's root as the host sees it (`""` for the root itself).
pub fn list_root(pid: i32, sub: &str) -> Option<BTreeSet<String>> {
    let rd = std::fs::read_dir(format!("/proc/{pid}/root/{sub}")).ok()?;
    Some(
        rd.flatten()
            .take(1000)
            .map(|e| e.file_name().to_string_lossy().chars().take(64).collect())
            .collect(),
    )
}

/// The session id of a process (field 6 of `/proc/<pid>/stat`, in the reader's pid namespace).
pub fn session(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(3)?.parse().ok()
}

/// Local ports of the TCP sockets (IPv4 and IPv6) listed in the process's network namespace, as
/// the kernel lists them in `/proc/<pid>/net/tcp{,6}` (`None`: unreadable).
pub fn tcp_local_ports(pid: i32) -> Option<BTreeSet<u16>> {
    let mut ports = BTreeSet::new();
    let mut any = false;
    for file in ["tcp", "tcp6"] {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) {
            any = true;
            ports.extend(parse_tcp_local_ports(&text));
        }
    }
    any.then_some(ports)
}

/// The local ports of a `/proc/net/tcp` or `tcp6` table (`sl local_address:port ...`, hex).
pub fn parse_tcp_local_ports(text: &str) -> impl Iterator<Item = u16> + '_ {
    text.lines().skip(1).filter_map(|line| {
        let local = line.split_whitespace().nth(1)?;
        u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()
    })
}

/// Whether `/proc/sys` is a read-only mount in the process's mount table (`None`: unreadable).
pub fn proc_sys_read_only(pid: i32) -> Option<bool> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).ok()?;
    let mut verdict = Some(false);
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.get(4) == Some(&"/proc/sys") {
            // The last mount on the path is the one that counts.
            verdict = Some(f.get(5).is_some_and(|o| o.split(',').any(|x| x == "ro")));
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::parse_tcp_local_ports;

    #[test]
    fn tcp_tables_give_their_local_ports() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n   \
                  0: 00000000:4E20 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n   \
                  1: 0100007F:94F7 0100007F:4E20 01 00000000:00000000 00:00000000 00000000     0\n";
        assert_eq!(
            parse_tcp_local_ports(v4).collect::<Vec<_>>(),
            [20000, 38135]
        );
        let v6 = "  sl  local_address                         remote_address\n   \
                  0: 00000000000000000000000000000000:4E21 00000000000000000000000000000000:0000 0A\n";
        assert_eq!(parse_tcp_local_ports(v6).collect::<Vec<_>>(), [20001]);
        // A hostile or truncated table yields what parses, never a panic.
        assert_eq!(
            parse_tcp_local_ports("header\n0: nonsense\n1: 00:zzzz 0\n\n").count(),
            0
        );
    }
}
