//! Properties of `Policy` and the seccomp allowlist, checked with proptest over generated policies.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use gauntlet_sandbox::policy::{Dur, NetMode, Size, Syscalls};
use gauntlet_sandbox::process::seccomp::{all_syscalls, allowed_names, validate_adjustments};
use gauntlet_sandbox::process::ALWAYS_DENIED;
use gauntlet_sandbox::Policy;
use proptest::prelude::*;

/// Syscall names a policy lists; the always-denied ones are filtered out where a valid policy is needed.
const NAMES: &[&str] = &[
    "read",
    "write",
    "ptrace",
    "keyctl",
    "socket",
    "getpid",
    "personality",
    "bpf",
];
const PATHS: &[&str] = &["/etc", "/usr/share", "/opt/data", "/srv/a b", "/var/lib/x"];

fn syscalls() -> impl Strategy<Value = Syscalls> {
    let allowed: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| !ALWAYS_DENIED.contains(n))
        .collect();
    let names = proptest::sample::subsequence(allowed, 0..=3)
        .prop_map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
    (names.clone(), names).prop_map(|(allow, deny)| Syscalls { allow, deny })
}

fn policy() -> impl Strategy<Value = Policy> {
    let limits = (
        1u64..=86_400_000,
        1u64..=86_400_000,
        (1u64 << 20)..=(1u64 << 40),
        1u32..=(1 << 22),
        3u32..=(1 << 20),
        0u64..=(1 << 30),
        (64u64 << 10)..=(1 << 30),
    );
    let env = proptest::collection::btree_map("[A-Z_][A-Z0-9_]{0,8}", "[ -~]{0,12}", 0..4);
    let paths = proptest::sample::subsequence(PATHS, 0..=3)
        .prop_map(|v| v.into_iter().map(PathBuf::from).collect::<Vec<_>>());
    (
        limits,
        env,
        paths.clone(),
        paths,
        any::<bool>(),
        any::<bool>(),
        syscalls(),
    )
        .prop_map(
            |((wall, cpu, mem, pids, files, output, stack), env, ro, rw, loopback, libs, sys)| {
                let mut p = Policy::default();
                p.limits.wall_time = Dur(Duration::from_millis(wall));
                p.limits.cpu_time = Dur(Duration::from_millis(cpu));
                p.limits.memory = Size(mem);
                p.limits.pids = pids;
                p.limits.open_files = files;
                p.limits.output = Size(output);
                p.limits.stack = Size(stack);
                p.env = env.into_iter().collect::<BTreeMap<_, _>>();
                p.fs.ro = ro;
                p.fs.rw = rw;
                p.fs.system_libs = libs;
                p.net.mode = if loopback {
                    NetMode::Loopback
                } else {
                    NetMode::None
                };
                p.syscalls = sys;
                p
            },
        )
}

/// Any adjustment: names drawn from the whole syscall table, always-denied ones included.
fn any_adjustment() -> impl Strategy<Value = Syscalls> {
    let table = all_syscalls();
    let name = (0..table.len()).prop_map(move |i| table[i].0.to_string());
    let denied = (0..ALWAYS_DENIED.len()).prop_map(|i| ALWAYS_DENIED[i].to_string());
    let either = prop_oneof![name, denied];
    (
        proptest::collection::vec(either.clone(), 0..12),
        proptest::collection::vec(either, 0..12),
    )
        .prop_map(|(allow, deny)| Syscalls { allow, deny })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A valid policy prints to TOML that loads back to an equal policy.
    #[test]
    fn policy_round_trips_through_toml(p in policy()) {
        prop_assert!(p.validate().is_ok(), "{:?}", p.validate());
        let text = p.to_toml();
        let back = Policy::from_toml_str(&text, None);
        prop_assert_eq!(back.as_ref(), Ok(&p), "{}", text);
    }

    /// Whatever a policy allows or denies, no always-denied call is in the allowlist.
    #[test]
    fn allowlist_never_grants_an_always_denied_call(adjust in any_adjustment()) {
        let allowed = allowed_names(&adjust);
        for name in ALWAYS_DENIED {
            prop_assert!(!allowed.contains(name), "{} allowed by {:?}", name, adjust);
        }
    }

    /// Asking to allow an always-denied call is an error naming the entry.
    #[test]
    fn allowing_an_always_denied_call_is_rejected(adjust in any_adjustment()) {
        let bad = adjust.allow.iter().position(|n| ALWAYS_DENIED.contains(&n.as_str()));
        match (bad, validate_adjustments(&adjust)) {
            (Some(i), Err(e)) => {
                // An earlier unknown name could be reported first; all table names are known.
                prop_assert!(e.field.starts_with("syscalls.allow["), "{}", e);
                prop_assert!(e.field == format!("syscalls.allow[{i}]"), "{}", e);
            }
            (Some(i), Ok(())) => prop_assert!(false, "allow[{}] = {:?} accepted", i, adjust.allow[i]),
            (None, r) => prop_assert!(r.is_ok(), "{:?}", r),
        }
    }
}
