//! Landlock: the second fence around the same paths the mount namespace shows, applied by the plugin's
//! process just before `execve`, with the best ABI the kernel offers (best effort: an older kernel gets
//! what it has, and the outcome records the ABI reached).
//!
//! Rights: read-only paths and the program get read + execute; read-write paths and the private `/tmp`
//! get everything but execute; `/dev` nodes get read and write; `/proc` is readable. With `net = none`,
//! TCP bind and connect are handled with no rule, so both fail. Abstract unix sockets and signals are
//! scoped to the sandbox (ABI 6).

use std::path::PathBuf;

use landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

/// The paths, as seen inside the new root, and what each may do.
#[derive(Clone, Debug, Default)]
pub(crate) struct FenceSpec {
    pub read_exec: Vec<PathBuf>,
    pub read_write: Vec<PathBuf>,
    pub devices: Vec<PathBuf>,
    pub read_only: Vec<PathBuf>,
    /// The paths above that are not directories (they get no directory-only rights). Known from the
    /// view, so the plugin's process does not stat each path before its rule.
    pub files: Vec<PathBuf>,
    pub deny_tcp: bool,
}

/// What `restrict_self` achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FenceResult {
    Full,
    Partial,
    NotEnforced,
}

/// The newest ABI this build knows; the crate falls back to what the kernel has.
const TARGET: ABI = ABI::V6;

/// `no_new_privs`: whether Landlock may set it (it needs it, or CAP_SYS_ADMIN, which the plugin's
/// process still has at this point; only the `no-no-new-privs` weakening passes false).
pub(crate) fn restrict_self(spec: &FenceSpec, no_new_privs: bool) -> Result<FenceResult, String> {
    apply(spec, no_new_privs).map_err(|e| e.to_string())
}

fn apply(spec: &FenceSpec, no_new_privs: bool) -> Result<FenceResult, Box<dyn std::error::Error>> {
    let all = AccessFs::from_all(TARGET);
    let read = AccessFs::from_read(TARGET);
    let read_no_exec = read & !AccessFs::Execute;
    let rw_no_exec = all & !AccessFs::Execute;
    let device = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev;

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)?;
    if spec.deny_tcp {
        ruleset = ruleset.handle_access(AccessNet::from_all(TARGET))?;
    }
    ruleset = ruleset.scope(Scope::from_all(TARGET))?;
    let mut created = ruleset.create()?;
    // The root directory itself: listing only.
    created = created.add_rule(PathBeneath::new(PathFd::new("/")?, AccessFs::ReadDir))?;
    for (paths, access) in [
        (&spec.read_exec, read),
        (&spec.read_write, rw_no_exec),
        (&spec.devices, device),
        (&spec.read_only, read_no_exec),
    ] {
        for p in paths {
            // A path that vanished (a dangling symlink in the view) gets no rule, which denies it.
            if let Ok(fd) = PathFd::new(p) {
                let access = if spec.files.contains(p) {
                    access & AccessFs::from_file(TARGET)
                } else {
                    access
                };
                created = created.add_rule(PathBeneath::new(fd, access))?;
            }
        }
    }
    let status = created.no_new_privs(no_new_privs).restrict_self()?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => FenceResult::Full,
        RulesetStatus::PartiallyEnforced => FenceResult::Partial,
        RulesetStatus::NotEnforced => FenceResult::NotEnforced,
    })
}
