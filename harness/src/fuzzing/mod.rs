//! Fuzzing, in wasmtime's style: *generators* turn unstructured bytes into hostile inputs, *oracles* run
//! them through a real sandbox and **panic** when the sandbox breaks a promise. The same code serves three
//! drivers:
//!
//! * `gauntlet fuzz --target T --time DUR` ([`campaign`]): stable Rust, no libFuzzer; a seeded
//!   [`XorShift`] fills byte buffers, and a panicking oracle leaves its input in `corpora/regressions/`;
//! * the cargo-fuzz crate in `fuzz/` (one target per [`Target`], each a call to [`run_target`]);
//! * the tests (`harness/tests/fuzz_smoke.rs` runs fixed seeds, `fuzz_regressions.rs` replays every
//!   saved failure).
//!
//! Every target takes raw bytes, so any input a driver saved reproduces with any other driver.
//! Generators never fail: running out of bytes gives zeros ([`arbitrary::Unstructured`] semantics), so
//! every byte string is a valid input.

pub mod campaign;
pub mod channel;
pub mod hostapi;
pub mod policy;
pub mod process;
pub mod wasm;

use std::path::PathBuf;
use std::time::Duration;

use gauntlet_sandbox::Weakening;

pub use campaign::{campaign, CampaignConfig, CampaignReport, Finding};

/// Grace on top of a run's wall limit within which an Outcome must come back (setup, compile,
/// instantiation and teardown included, on a loaded 2-core machine).
pub const WALL_GRACE: Duration = Duration::from_secs(1);

/// What a fuzz target attacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// wasm-smith modules with a `_start`, under small random limits.
    Wasm,
    /// Policy text: arbitrary bytes and structured near-valid TOML.
    Policy,
    /// Sequences of `gauntlet_host_v1` calls with arbitrary pointers and lengths.
    HostApi,
    /// Sequences of raw system calls in the process sandbox.
    Process,
    /// Byte streams through the process message channel's server.
    Channel,
}

impl Target {
    /// Every target, in the order the CLI lists them.
    pub const ALL: &'static [Target] = &[
        Target::Wasm,
        Target::Policy,
        Target::HostApi,
        Target::Process,
        Target::Channel,
    ];

    /// The name used on the command line and in regression file names.
    pub fn name(self) -> &'static str {
        match self {
            Target::Wasm => "wasm",
            Target::Policy => "policy",
            Target::HostApi => "hostapi",
            Target::Process => "process",
            Target::Channel => "channel",
        }
    }

    /// The target named `name`, if any.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of the fuzzing machinery itself (never of the code under test: those are oracle panics).
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("{0:?} is not a fuzz target (wasm, policy, hostapi, process, channel)")]
    UnknownTarget(String),
    #[error("cannot build the syscall interpreter: {0}")]
    Build(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("fuzz setup: {0}")]
    Setup(String),
}

impl FuzzError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FuzzError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Settings shared by every input of a run: the (possibly weakened) sandboxes.
#[derive(Clone, Debug, Default)]
pub struct FuzzEnv {
    /// Protections removed on purpose, to prove the oracles notice (empty unless built through the
    /// unsafe constructor of [`Weakening`]).
    pub weaken: Weakening,
}

/// Runs one input through `target`'s generator and oracle. Panics when the oracle finds a bug; `Err` only
/// when the fuzzing setup itself fails (no C compiler for the process target, no temp dir).
pub fn run_target(target: Target, data: &[u8], env: &FuzzEnv) -> Result<(), FuzzError> {
    match target {
        Target::Wasm => wasm::wasm_oracle(data, env),
        Target::Policy => {
            policy::policy_oracle(data);
            Ok(())
        }
        Target::HostApi => hostapi::hostapi_oracle(data, env),
        Target::Process => process::process_oracle(data, env),
        Target::Channel => channel::channel_oracle(data, env),
    }
}

/// A tiny xorshift64* generator: seeded, reproducible, no dependency. Only the drivers use it to make
/// byte buffers; the generators read those through `Unstructured`.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// A buffer of `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.fill(&mut v);
        v
    }
}

/// The first 16 hex digits of the sha256 of `data`: names regression files.
pub fn short_hash(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(data);
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A pick biased towards `interesting` values (three times in four), else any `u32`.
pub(crate) fn biased_u32(u: &mut arbitrary::Unstructured, interesting: &[u32]) -> u32 {
    let roll: u8 = u.arbitrary().unwrap_or(0);
    if roll % 4 != 3 && !interesting.is_empty() {
        let i = u.choose_index(interesting.len()).unwrap_or(0);
        interesting[i]
    } else {
        u.arbitrary().unwrap_or(0)
    }
}
