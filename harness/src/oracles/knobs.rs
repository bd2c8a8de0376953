//! The `knobs` oracle: host settings before and after the case: hostname, `kernel.core_pattern`,
//! `kernel.modprobe`, the runner's mount table, loaded modules, swaps, and the realtime-monotonic clock
//! offset (within 1 s). Changed hostname, core_pattern and modprobe are put back.

use std::collections::BTreeSet;

use super::{Evidence, Finished, Oracle, OracleKind};

const CORE_PATTERN: &str = "/proc/sys/kernel/core_pattern";
const MODPROBE: &str = "/proc/sys/kernel/modprobe";

/// One picture of the knobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Knobs {
    pub hostname: String,
    pub core_pattern: String,
    pub modprobe: String,
    pub mounts: BTreeSet<String>,
    pub modules: BTreeSet<String>,
    pub swaps: BTreeSet<String>,
    /// CLOCK_REALTIME - CLOCK_MONOTONIC, in ns.
    pub clock_offset_ns: i128,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn clock_ns(id: nix::time::ClockId) -> i128 {
    nix::time::clock_gettime(id)
        .map(|t| t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128)
        .unwrap_or(0)
}

impl Knobs {
    pub fn take() -> Knobs {
        // mount point, fs type and source: mount ids and options of unrelated mounts are not compared.
        // The runner's own scratch tmpfs mounts (one per case, coming and going) are not the host's.
        let suite_dirs = std::env::temp_dir().join(crate::runner::wall::SUITE_DIR_PREFIX);
        let suite_dirs = suite_dirs.to_string_lossy().into_owned();
        let mounts = read("/proc/self/mountinfo")
            .lines()
            .filter_map(|l| {
                let (pre, post) = l.split_once(" - ")?;
                let mnt = pre.split(' ').nth(4)?;
                if mnt.starts_with(&suite_dirs) && mnt.ends_with("/scratch") {
                    return None;
                }
                let mut p = post.split(' ');
                Some(format!("{mnt} {} {}", p.next()?, p.next()?))
            })
            .collect();
        let modules = read("/proc/modules")
            .lines()
            .filter_map(|l| l.split(' ').next().map(str::to_string))
            .collect();
        let swaps = read("/proc/swaps")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some(format!("{} {} {}", f.first()?, f.get(1)?, f.get(2)?))
            })
            .collect();
        Knobs {
            hostname: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            core_pattern: read(CORE_PATTERN),
            modprobe: read(MODPROBE),
            mounts,
            modules,
            swaps,
            clock_offset_ns: clock_ns(nix::time::ClockId::CLOCK_REALTIME)
                - clock_ns(nix::time::ClockId::CLOCK_MONOTONIC),
        }
    }

    /// Differences from `self` to `after`, one line each.
    pub fn diff(&self, after: &Knobs) -> Vec<String> {
        let mut out = Vec::new();
        let short = |s: &str| s.trim().chars().take(80).collect::<String>();
        for (name, b, a) in [
            ("hostname", &self.hostname, &after.hostname),
            (
                "kernel.core_pattern",
                &self.core_pattern,
                &after.core_pattern,
            ),
            ("kernel.modprobe", &self.modprobe, &after.modprobe),
        ] {
            if b != a {
                out.push(format!(
                    "{name} changed from {:?} to {:?}",
                    short(b),
                    short(a)
                ));
            }
        }
        for (name, b, a) in [
            ("mount", &self.mounts, &after.mounts),
            ("module", &self.modules, &after.modules),
            ("swap", &self.swaps, &after.swaps),
        ] {
            for x in a.difference(b).take(3) {
                out.push(format!("{name} appeared: {}", short(x)));
            }
            for x in b.difference(a).take(3) {
                out.push(format!("{name} vanished: {}", short(x)));
            }
        }
        let drift = (after.clock_offset_ns - self.clock_offset_ns).abs();
        if drift > 1_000_000_000 {
            out.push(format!(
                "realtime clock moved by {} ms against the monotonic clock",
                drift / 1_000_000
            ));
        }
        out
    }

    /// Puts back hostname, core_pattern and modprobe where `now` differs from `self`.
    pub fn restore(&self, now: &Knobs) {
        if now.hostname != self.hostname {
            let _ = nix::unistd::sethostname(&self.hostname);
        }
        for (path, b, a) in [
            (CORE_PATTERN, &self.core_pattern, &now.core_pattern),
            (MODPROBE, &self.modprobe, &now.modprobe),
        ] {
            if a != b {
                let _ = std::fs::write(path, b.trim_end_matches('\n'));
            }
        }
    }
}

pub struct KnobsOracle {
    before: Knobs,
}

impl KnobsOracle {
    pub fn new() -> Self {
        KnobsOracle {
            before: Knobs::take(),
        }
    }
}

impl Default for KnobsOracle {
    fn default() -> Self {
        Self::new()
    }
}

impl Oracle for KnobsOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Knobs
    }

    fn judge(&mut self, _done: &Finished<'_>) -> Vec<Evidence> {
        let after = Knobs::take();
        let diffs = self.before.diff(&after);
        self.before.restore(&after);
        diffs
            .into_iter()
            .map(|d| Evidence::escape(OracleKind::Knobs, d))
            .collect()
    }
}
