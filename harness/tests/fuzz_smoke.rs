//! Every fuzz oracle on a fixed set of seeds (wasmtime's `test_n_times` idea): what the campaign does,
//! small and reproducible, under `cargo test`.

use arbitrary::Unstructured;
use gauntlet::fuzzing::hostapi::{hostapi_case, Expect};
use gauntlet::fuzzing::process::{process_policy, run_program, syscall_program};
use gauntlet::fuzzing::wasm::{run_module, temp_module, wasm_case};
use gauntlet::fuzzing::{run_target, FuzzEnv, Target, XorShift};
use gauntlet_sandbox::outcome::Status;

/// The input of seed `seed`: the same bytes the campaign would make first with `--seed`.
fn input(seed: u64, len: usize) -> Vec<u8> {
    XorShift::new(seed).bytes(len)
}

fn test_n_times(target: Target, n: u64, len: usize) {
    let env = FuzzEnv::default();
    for seed in 1..=n {
        let data = input(seed, len);
        if let Err(e) = run_target(target, &data, &env) {
            panic!("{target} seed {seed}: fuzz setup failed: {e}");
        }
    }
}

#[test]
fn policy_oracle_holds_on_fixed_seeds() {
    test_n_times(Target::Policy, 300, 512);
}

#[test]
fn wasm_oracle_holds_on_fixed_seeds() {
    test_n_times(Target::Wasm, 20, 4096);
}

#[test]
fn hostapi_oracle_holds_on_fixed_seeds() {
    test_n_times(Target::HostApi, 20, 512);
}

#[test]
fn channel_oracle_holds_on_fixed_seeds() {
    test_n_times(Target::Channel, 60, 1024);
}

#[test]
fn process_oracle_holds_on_fixed_seeds() {
    test_n_times(Target::Process, 20, 512);
}

/// The wasm generator is only worth its time if generated code runs: most cases must get past
/// validation and instantiation rather than be rejected.
#[test]
fn generated_wasm_modules_really_run() {
    let env = FuzzEnv::default();
    let mut ran = 0;
    for seed in 1..=20 {
        let case = wasm_case(&mut Unstructured::new(&input(seed, 4096)));
        let file = temp_module(&case.module, ".wasm").expect("temp file");
        for (o, _) in run_module(&env, &case.policy, file.path(), 1) {
            if o.status != Status::Rejected {
                ran += 1;
            }
        }
    }
    assert!(ran >= 10, "only {ran} of 20 generated modules ran");
}

/// The host API generator makes both clean sequences and misuse (else one oracle branch is dead).
#[test]
fn hostapi_generator_covers_both_predictions() {
    let mut seen = (false, false);
    for seed in 1..=200 {
        match hostapi_case(&mut Unstructured::new(&input(seed, 512))).expect() {
            Expect::Exit => seen.0 = true,
            Expect::Misuse => seen.1 = true,
            Expect::Either => {}
        }
    }
    assert_eq!(seen, (true, true));
}

/// The interpreter really runs its calls inside the sandbox (its output lists each result).
#[test]
fn syscall_interpreter_runs_in_the_sandbox() {
    let data = input(7, 512);
    let program = syscall_program(&mut Unstructured::new(&data));
    let run = run_program(&FuzzEnv::default(), &process_policy(), &program, &data).expect("setup");
    let out = String::from_utf8_lossy(&run.outcome.stdout);
    assert!(
        out.matches(" -> ").count() >= program.len().min(1),
        "{}: {out:.200}",
        run.outcome.summary()
    );
}
