//! Deliberately weakened sandboxes ("mutants"), for proving that the attack suite notices a missing
//! protection. Each `Weaken` removes exactly one protection from a real backend; nothing else changes.
//!
//! A `Weakening` can only be made through `Weakening::remove_protections`, an `unsafe fn`: it is not memory
//! unsafety, but the caller takes on the same kind of duty, because hostile code run under a weakened
//! sandbox may reach the host. No policy file can name a weakening (the `Policy` type has no such field),
//! and `Weakening::default()` removes nothing.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// One protection to remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weaken {
    // process backend
    NoSeccomp,
    NoLandlock,
    NoMountNs,
    NoNetNs,
    NoPidNs,
    NoUserNs,
    NoMemoryLimit,
    NoPidsLimit,
    NoCpuLimit,
    NoWallDeadline,
    NoTreeKill,
    InheritFds,
    InheritEnv,
    KeepTty,
    NoOutputCap,
    ProcSysWritable,
    NoNoNewPrivs,
    KeepCaps,
    /// The egress proxy of `net.mode = "allow"` lets every destination through (no allowlist).
    EgressOpen,
    // wasm backend
    WasmNoFuel,
    WasmNoEpoch,
    WasmNoMemoryLimiter,
    WasmNoTableLimit,
    WasmPreopenRoot,
    WasmAllowSockets,
    WasmInheritEnv,
    WasmNoOutputCap,
    WasmHostApiNoBounds,
}

impl Weaken {
    pub const ALL: &'static [Weaken] = &[
        Weaken::NoSeccomp,
        Weaken::NoLandlock,
        Weaken::NoMountNs,
        Weaken::NoNetNs,
        Weaken::NoPidNs,
        Weaken::NoUserNs,
        Weaken::NoMemoryLimit,
        Weaken::NoPidsLimit,
        Weaken::NoCpuLimit,
        Weaken::NoWallDeadline,
        Weaken::NoTreeKill,
        Weaken::InheritFds,
        Weaken::InheritEnv,
        Weaken::KeepTty,
        Weaken::NoOutputCap,
        Weaken::ProcSysWritable,
        Weaken::NoNoNewPrivs,
        Weaken::KeepCaps,
        Weaken::EgressOpen,
        Weaken::WasmNoFuel,
        Weaken::WasmNoEpoch,
        Weaken::WasmNoMemoryLimiter,
        Weaken::WasmNoTableLimit,
        Weaken::WasmPreopenRoot,
        Weaken::WasmAllowSockets,
        Weaken::WasmInheritEnv,
        Weaken::WasmNoOutputCap,
        Weaken::WasmHostApiNoBounds,
    ];

    /// The name used on the command line (`--unsafe-weaken no-seccomp`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn from_name(name: &str) -> Option<Weaken> {
        Weaken::ALL.iter().copied().find(|w| w.name() == name)
    }

    /// Which backend this weakening applies to.
    pub fn backend(self) -> &'static str {
        if self.name().starts_with("wasm-") {
            "wasm"
        } else {
            "process"
        }
    }
}

/// A set of removed protections. Empty by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Weakening(BTreeSet<Weaken>);

impl Weakening {
    /// Removes protections from a sandbox.
    ///
    /// # Safety
    ///
    /// Not memory safety: a sandbox built with a non-empty weakening does not contain hostile code. Use it
    /// only to test the attack suite itself, with the suite's outer wall around the run.
    pub unsafe fn remove_protections(set: impl IntoIterator<Item = Weaken>) -> Weakening {
        Weakening(set.into_iter().collect())
    }

    pub fn has(&self, w: Weaken) -> bool {
        self.0.contains(&w)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Weaken> + '_ {
        self.0.iter().copied()
    }
}
