//! The host-API target: arbitrary sequences of `gauntlet_host_v1` calls with arbitrary pointers and
//! lengths, against a real instance.
//!
//! The generator ([`hostapi_case`]) draws up to 32 calls (`log`, `kv_get`, `kv_put`) with arguments
//! biased to the edges (0, the last bytes of memory, one past it, the size caps and one above them,
//! `u32::MAX`) and bakes them as constants into the `_start` of a small `.wat` module with a one- or
//! two-page memory exported as `memory`.
//!
//! The oracle ([`check_hostapi_outcome`]): the host never panics and the run ends `exited` (code 0) or
//! `killed` with `trap = "host_api_misuse"`, nothing else. Two predictions sharpen it: a sequence whose
//! every range is inside memory exits; and when the first out-of-memory range belongs to a `log` or
//! `kv_put` whose lengths are within the size caps (so the range is checked, see `host.rs`), the run
//! traps with `host_api_misuse`.

use std::time::Duration;

use arbitrary::Unstructured;
use gauntlet_sandbox::outcome::{Outcome, Status};
use gauntlet_sandbox::policy::{Dur, Size};
use gauntlet_sandbox::wasm::{HOST_MODULE, MAX_KEY, MAX_LOG_LINE, MAX_VALUE};
use gauntlet_sandbox::Policy;

use super::wasm::{run_module, temp_module};
use super::{biased_u32, FuzzEnv, FuzzError, WALL_GRACE};

/// Wasm page size.
const PAGE: u32 = 65536;

/// One host API call, as baked into the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostCall {
    Log {
        ptr: u32,
        len: u32,
    },
    KvGet {
        key_ptr: u32,
        key_len: u32,
        val_ptr: u32,
        val_cap: u32,
    },
    KvPut {
        key_ptr: u32,
        key_len: u32,
        val_ptr: u32,
        val_len: u32,
    },
}

/// A generated host API program.
#[derive(Clone, Debug)]
pub struct HostApiCase {
    /// Pages of the guest's memory (1 or 2).
    pub pages: u32,
    pub calls: Vec<HostCall>,
}

/// What the oracle can predict of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every range is inside memory: the run exits.
    Exit,
    /// The first out-of-memory range is one the host must check: `host_api_misuse`.
    Misuse,
    /// Either (a size cap may answer before the range is looked at).
    Either,
}

/// Draws a host API program from `u`.
pub fn hostapi_case(u: &mut Unstructured) -> HostApiCase {
    let pages = u.int_in_range(1..=2u32).unwrap_or(1);
    let mem = pages * PAGE;
    let ptrs = [
        0,
        1,
        16,
        mem - 1,
        mem - 16,
        mem,
        mem + 1,
        u32::MAX,
        u32::MAX - 15,
        1 << 31,
    ];
    let lens = [
        0,
        1,
        8,
        MAX_KEY,
        MAX_KEY + 1,
        MAX_LOG_LINE,
        MAX_LOG_LINE + 1,
        MAX_VALUE,
        MAX_VALUE + 1,
        mem,
        u32::MAX,
    ];
    let n = u.int_in_range(0..=32usize).unwrap_or(0);
    let mut calls = Vec::with_capacity(n);
    for _ in 0..n {
        let mut p = || biased_u32(u, &ptrs);
        let (a, c) = (p(), p());
        let mut l = || biased_u32(u, &lens);
        let (b, d) = (l(), l());
        let which: u8 = u.arbitrary().unwrap_or(0);
        calls.push(match which % 3 {
            0 => HostCall::Log { ptr: a, len: b },
            1 => HostCall::KvGet {
                key_ptr: a,
                key_len: b,
                val_ptr: c,
                val_cap: d,
            },
            _ => HostCall::KvPut {
                key_ptr: a,
                key_len: b,
                val_ptr: c,
                val_len: d,
            },
        });
    }
    HostApiCase { pages, calls }
}

impl HostApiCase {
    /// The module: imports the three calls, exports `memory` and a `_start` that makes the calls in
    /// order and drops their results.
    pub fn to_wat(&self) -> String {
        let mut body = String::new();
        for call in &self.calls {
            let (name, args): (&str, Vec<u32>) = match *call {
                HostCall::Log { ptr, len } => ("log", vec![ptr, len]),
                HostCall::KvGet {
                    key_ptr,
                    key_len,
                    val_ptr,
                    val_cap,
                } => ("kv_get", vec![key_ptr, key_len, val_ptr, val_cap]),
                HostCall::KvPut {
                    key_ptr,
                    key_len,
                    val_ptr,
                    val_len,
                } => ("kv_put", vec![key_ptr, key_len, val_ptr, val_len]),
            };
            for a in args {
                body += &format!("    i32.const {}\n", a as i32);
            }
            body += &format!("    call ${name}\n    drop\n");
        }
        format!(
            "(module\n  (import \"{HOST_MODULE}\" \"log\" (func $log (param i32 i32) (result i32)))\n  \
             (import \"{HOST_MODULE}\" \"kv_get\" (func $kv_get (param i32 i32 i32 i32) (result i32)))\n  \
             (import \"{HOST_MODULE}\" \"kv_put\" (func $kv_put (param i32 i32 i32 i32) (result i32)))\n  \
             (memory (export \"memory\") {pages})\n  \
             (data (i32.const 0) \"key-0123456789abcdef\")\n  \
             (func (export \"_start\")\n{body}  ))\n",
            pages = self.pages
        )
    }

    /// What the oracle can promise for this sequence (see [`Expect`]).
    pub fn expect(&self) -> Expect {
        let mem = u64::from(self.pages * PAGE);
        let inside = |ptr: u32, len: u32| u64::from(ptr) + u64::from(len) <= mem;
        for call in &self.calls {
            match *call {
                HostCall::Log { ptr, len } => {
                    if !inside(ptr, len) {
                        return if len <= MAX_LOG_LINE {
                            Expect::Misuse
                        } else {
                            Expect::Either
                        };
                    }
                }
                HostCall::KvPut {
                    key_ptr,
                    key_len,
                    val_ptr,
                    val_len,
                } => {
                    if !inside(key_ptr, key_len) || !inside(val_ptr, val_len) {
                        return if key_len <= MAX_KEY && val_len <= MAX_VALUE {
                            Expect::Misuse
                        } else {
                            Expect::Either
                        };
                    }
                }
                HostCall::KvGet {
                    key_ptr,
                    key_len,
                    val_ptr,
                    val_cap,
                } => {
                    if !inside(key_ptr, key_len) || !inside(val_ptr, val_cap) {
                        return Expect::Either;
                    }
                }
            }
        }
        Expect::Exit
    }
}

/// The policy host API cases run under: enough output for 32 maximal log lines, a short wall.
pub fn hostapi_policy() -> Policy {
    let mut p = Policy::default();
    p.limits.wall_time = Dur(Duration::from_millis(2000));
    p.limits.cpu_time = Dur(Duration::from_millis(500));
    p.limits.memory = Size(16 << 20);
    p.limits.output = Size(1 << 20);
    p
}

/// The host-API target's whole check for one input.
pub fn hostapi_oracle(data: &[u8], env: &FuzzEnv) -> Result<(), FuzzError> {
    let case = hostapi_case(&mut Unstructured::new(data));
    let file = temp_module(case.to_wat().as_bytes(), ".wat")?;
    let policy = hostapi_policy();
    for (outcome, elapsed) in run_module(env, &policy, file.path(), 1) {
        assert!(
            elapsed <= policy.limits.wall_time.0 + WALL_GRACE,
            "oracle: the host API run took {elapsed:?}"
        );
        check_hostapi_outcome(&case, &outcome);
    }
    Ok(())
}

/// Panics unless `outcome` is one the host API allows for `case` (see the module docs).
pub fn check_hostapi_outcome(case: &HostApiCase, outcome: &Outcome) {
    let exited = outcome.status == Status::Exited && outcome.exit_code.unwrap_or(0) == 0;
    let misuse =
        outcome.status == Status::Killed && outcome.trap.as_deref() == Some("host_api_misuse");
    let what = || {
        format!(
            "{} (trap {:?}, reason {:?}) for calls {:?}",
            outcome.summary(),
            outcome.trap,
            outcome.reason,
            case.calls
        )
    };
    assert!(
        exited || misuse,
        "oracle: a host API sequence ended neither exited nor host_api_misuse: {}",
        what()
    );
    match case.expect() {
        Expect::Exit => assert!(
            exited,
            "oracle: in-bounds host calls did not exit cleanly: {}",
            what()
        ),
        Expect::Misuse => assert!(
            misuse,
            "oracle: an out-of-memory range the host must check was not reported as misuse: {}",
            what()
        ),
        Expect::Either => {}
    }
}
