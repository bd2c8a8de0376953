//! The policy target: policy text must never panic the loader, and every error must name a field.
//!
//! Three generators share the target (the first input byte picks one):
//! * raw bytes, read as (lossy) UTF-8 text;
//! * [`policy_text`]: structured, near-valid TOML: the real sections and keys, values drawn from lists
//!   of good, borderline and wrong ones (bad units, out-of-range numbers, relative paths, unknown keys,
//!   always-denied syscalls);
//! * [`policy_value`]: a `Policy` value, printed with `to_toml`.
//!
//! The oracle ([`check_policy_text`]): `Policy::from_toml_str` never panics; an error has a non-empty
//! `field` and displays as one line; a policy that loads prints (`to_toml`) to text that loads back
//! equal.

use std::path::PathBuf;
use std::time::Duration;

use arbitrary::Unstructured;
use gauntlet_sandbox::policy::{Dur, NetMode, Size};
use gauntlet_sandbox::Policy;

/// The policy target's whole check for one input (never needs setup, so no `Result`).
pub fn policy_oracle(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        check_policy_text("");
        return;
    };
    match which % 3 {
        0 => policy_bytes_oracle(rest),
        1 => check_policy_text(&policy_text(&mut Unstructured::new(rest))),
        _ => {
            let policy = policy_value(&mut Unstructured::new(rest));
            check_policy_text(&policy.to_toml());
        }
    }
}

/// Arbitrary bytes as policy TOML.
pub fn policy_bytes_oracle(data: &[u8]) {
    check_policy_text(&String::from_utf8_lossy(data));
}

/// Panics unless loading `text` keeps the policy loader's promises (see the module docs).
pub fn check_policy_text(text: &str) {
    match Policy::from_toml_str(text, None) {
        Err(e) => {
            assert!(
                !e.field.is_empty(),
                "oracle: a policy error names no field: {e} (input {text:?})"
            );
            let shown = e.to_string();
            assert!(
                !shown.contains('\n') && !shown.contains('\r'),
                "oracle: a policy error is not one line: {shown:?} (input {text:?})"
            );
        }
        Ok(policy) => {
            let printed = policy.to_toml();
            match Policy::from_toml_str(&printed, None) {
                Ok(back) => assert!(
                    back == policy,
                    "oracle: a policy does not round-trip through TOML: {printed:?} (input {text:?})"
                ),
                Err(e) => panic!(
                    "oracle: a loaded policy prints to text that does not load: {e} ({printed:?}, input {text:?})"
                ),
            }
        }
    }
}

fn pick<'a>(u: &mut Unstructured, items: &[&'a str]) -> &'a str {
    items[u.choose_index(items.len()).unwrap_or(0)]
}

const DURATIONS: &[&str] = &[
    "\"1ms\"",
    "\"500ms\"",
    "\"2s\"",
    "\"1m\"",
    "\"24h\"",
    "\"25h\"",
    "\"0s\"",
    "\"-1s\"",
    "\"1.5s\"",
    "\"10\"",
    "10",
    "\"s\"",
    "\"\"",
    "\"1x\"",
    "\"18446744073709551615s\"",
    "true",
    "[]",
];
const SIZES: &[&str] = &[
    "\"64M\"",
    "\"1G\"",
    "\"1T\"",
    "\"2T\"",
    "\"12XB\"",
    "\"0\"",
    "4096",
    "0",
    "-1",
    "\"1K\"",
    "\"99999999999999999999\"",
    "18446744073709551615",
    "1.5",
    "\"1.5M\"",
    "\"\"",
    "{}",
];
const COUNTS: &[&str] = &[
    "0",
    "1",
    "3",
    "64",
    "4194304",
    "4194305",
    "-1",
    "4294967296",
    "\"8\"",
    "1e3",
];
const PATHS: &[&str] = &[
    "\"/\"",
    "\"/etc\"",
    "\"relative\"",
    "\"\"",
    "\"/tmp/../etc\"",
    "\"/nonexistent\"",
    "\"/a\\u0000b\"",
    "\"/proc\"",
    "\"/dev/null\"",
    "5",
];
const SYSCALL_NAMES: &[&str] = &[
    "\"read\"",
    "\"ptrace\"",
    "\"mount\"",
    "\"bpf\"",
    "\"setns\"",
    "\"openat2\"",
    "\"clone3\"",
    "\"no_such_call\"",
    "\"\"",
    "\"keyctl\"",
    "\"io_uring_setup\"",
    "\"getpid\"",
    "1",
];
const ENV_KEYS: &[&str] = &[
    "PATH",
    "A",
    "\"\"",
    "\"A=B\"",
    "\"a b\"",
    "\"\\u0000\"",
    "HOME",
    "\"é\"",
];
const ENV_VALUES: &[&str] = &[
    "\"x\"",
    "\"\"",
    "\"a\\u0000b\"",
    "1",
    "\"line\\nbreak\"",
    "[]",
];

/// Structured, near-valid policy TOML built from `u`.
pub fn policy_text(u: &mut Unstructured) -> String {
    let mut out = String::new();
    let sections = u.int_in_range(0..=8u8).unwrap_or(0);
    for _ in 0..sections {
        match u.int_in_range(0..=6u8).unwrap_or(0) {
            0 => {
                out += "[limits]\n";
                for _ in 0..u.int_in_range(0..=4u8).unwrap_or(0) {
                    let key = pick(
                        u,
                        &[
                            "wall_time",
                            "cpu_time",
                            "memory",
                            "pids",
                            "open_files",
                            "file_size",
                            "output",
                            "stack",
                            "bogus",
                        ],
                    );
                    let value = match key {
                        "wall_time" | "cpu_time" => pick(u, DURATIONS),
                        "pids" | "open_files" => pick(u, COUNTS),
                        _ => pick(u, SIZES),
                    };
                    out += &format!("{key} = {value}\n");
                }
            }
            1 => {
                out += "[fs]\n";
                for key in ["ro", "rw"] {
                    if u.arbitrary().unwrap_or(false) {
                        let n = u.int_in_range(0..=3usize).unwrap_or(0);
                        let items: Vec<&str> = (0..n).map(|_| pick(u, PATHS)).collect();
                        out += &format!("{key} = [{}]\n", items.join(", "));
                    }
                }
                if u.arbitrary().unwrap_or(false) {
                    out += &format!("tmp_size = {}\n", pick(u, SIZES));
                }
                if u.arbitrary().unwrap_or(false) {
                    out += &format!("system_libs = {}\n", pick(u, &["true", "false", "\"yes\""]));
                }
            }
            2 => {
                out += &format!(
                    "[net]\nmode = {}\n",
                    pick(u, &["\"none\"", "\"loopback\"", "\"host\"", "\"\"", "0"])
                );
            }
            3 => {
                out += "[env]\n";
                for _ in 0..u.int_in_range(0..=3u8).unwrap_or(0) {
                    out += &format!("{} = {}\n", pick(u, ENV_KEYS), pick(u, ENV_VALUES));
                }
            }
            4 => {
                out += "[syscalls]\n";
                for key in ["allow", "deny"] {
                    let n = u.int_in_range(0..=3usize).unwrap_or(0);
                    let items: Vec<&str> = (0..n).map(|_| pick(u, SYSCALL_NAMES)).collect();
                    out += &format!("{key} = [{}]\n", items.join(", "));
                }
            }
            5 => {
                out += "[wasm]\n";
                for _ in 0..u.int_in_range(0..=3u8).unwrap_or(0) {
                    let key = pick(
                        u,
                        &[
                            "max_module_size",
                            "max_instances",
                            "max_memories",
                            "max_tables",
                            "max_table_elements",
                            "max_stack",
                            "max_host_calls",
                            "fuel",
                        ],
                    );
                    let value = match key {
                        "max_module_size" | "max_stack" => pick(u, SIZES),
                        _ => pick(u, COUNTS),
                    };
                    out += &format!("{key} = {value}\n");
                }
            }
            _ => {
                // Raw trouble: a duplicate or unknown table, a stray key, broken syntax.
                out += pick(
                    u,
                    &[
                        "[limits]\n",
                        "[bogus]\n",
                        "stray = 1\n",
                        "[[limits]]\n",
                        "= \n",
                        "[",
                        "\"\n",
                        "limits.memory = \"1M\"\n",
                        "[limits.deep]\nx = 1\n",
                    ],
                );
            }
        }
    }
    out
}

const SYSCALL_LIST: &[&str] = &[
    "read", "write", "getpid", "ptrace", "keyctl", "bpf", "mount", "socket",
];

/// A `Policy` value built from `u`: values inside and just outside the validated ranges.
pub fn policy_value(u: &mut Unstructured) -> Policy {
    let mut p = Policy::default();
    let ms = |u: &mut Unstructured| {
        Duration::from_millis(u.int_in_range(0..=100_000_000u64).unwrap_or(0))
    };
    p.limits.wall_time = Dur(ms(u));
    p.limits.cpu_time = Dur(ms(u));
    p.limits.memory = Size(u.int_in_range(0..=(1u64 << 41)).unwrap_or(0));
    p.limits.pids = u.int_in_range(0..=(1u32 << 23)).unwrap_or(0);
    p.limits.open_files = u.int_in_range(0..=4096u32).unwrap_or(0);
    p.limits.output = Size(u.arbitrary().unwrap_or(0));
    p.limits.stack = Size(u.int_in_range(0..=(1u64 << 31)).unwrap_or(0));
    p.fs.tmp_size = Size(u.int_in_range(0..=(1u64 << 41)).unwrap_or(0));
    p.fs.system_libs = u.arbitrary().unwrap_or(true);
    for _ in 0..u.int_in_range(0..=2u8).unwrap_or(0) {
        let s: String = u.arbitrary().unwrap_or_default();
        p.fs.ro.push(PathBuf::from(format!("/{s}")));
    }
    if u.arbitrary().unwrap_or(false) {
        p.net.mode = NetMode::Loopback;
    }
    for _ in 0..u.int_in_range(0..=2u8).unwrap_or(0) {
        let k: String = u.arbitrary().unwrap_or_default();
        let v: String = u.arbitrary().unwrap_or_default();
        p.env.insert(k, v);
    }
    for _ in 0..u.int_in_range(0..=2u8).unwrap_or(0) {
        let name = pick(u, SYSCALL_LIST).to_string();
        if u.arbitrary().unwrap_or(false) {
            p.syscalls.allow.push(name);
        } else {
            p.syscalls.deny.push(name);
        }
    }
    p.wasm.max_instances = u.int_in_range(0..=10_001u32).unwrap_or(0);
    p.wasm.max_host_calls = u.arbitrary().unwrap_or(0);
    p
}
