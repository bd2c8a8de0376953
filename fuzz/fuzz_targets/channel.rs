//! cargo-fuzz target `channel`: libFuzzer's bytes through the same generator and oracle as
//! `gauntlet fuzz --target channel` (see `gauntlet::fuzzing`).
#![no_main]

use gauntlet::fuzzing::{run_target, FuzzEnv, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = run_target(Target::Channel, data, &FuzzEnv::default()) {
        panic!("fuzz setup failed: {e}");
    }
});
