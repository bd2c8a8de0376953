//! Every malformed policy gets a one-line error naming the file and the field; one snapshot per input
//! (`cargo insta review` to accept changes).

use std::path::Path;

use gauntlet_sandbox::policy::Policy;

fn error_for(text: &str) -> String {
    let e = Policy::from_toml_str(text, Some(Path::new("policy.toml")))
        .expect_err("the policy is malformed");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "error is not one line: {msg}");
    assert!(
        msg.starts_with("policy.toml: "),
        "error does not name the file: {msg}"
    );
    msg
}

macro_rules! malformed {
    ($($name:ident: $text:expr;)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(error_for($text));
        }
    )*};
}

malformed! {
    size_with_unknown_unit: "[limits]\nmemory = \"12XB\"\n";
    negative_size: "[limits]\nmemory = -5\n";
    duration_without_unit: "[limits]\nwall_time = \"5\"\n";
    duration_as_number: "[limits]\ncpu_time = 5\n";
    memory_too_small: "[limits]\nmemory = \"100K\"\n";
    zero_pids: "[limits]\npids = 0\n";
    pids_not_a_number: "[limits]\npids = \"many\"\n";
    unknown_top_level_section: "[limit]\nmemory = \"1G\"\n";
    unknown_limit: "[limits]\nswap = \"1G\"\n";
    relative_ro_path: "[fs]\nro = [\"usr/lib\"]\n";
    dotdot_rw_path: "[fs]\nrw = [\"/tmp/../etc\"]\n";
    root_as_ro_path: "[fs]\nro = [\"/\"]\n";
    unknown_net_mode: "[net]\nmode = \"internet\"\n";
    env_value_not_a_string: "[env]\nPATH = 3\n";
    allow_always_denied_syscall: "[syscalls]\nallow = [\"ptrace\"]\n";
    unknown_syscall: "[syscalls]\ndeny = [\"frobnicate\"]\n";
    toml_syntax_error: "[limits\nmemory = 1\n";
    wasm_stack_too_large: "[wasm]\nmax_stack = \"1G\"\n";
}

#[test]
fn missing_policy_file_names_the_file() {
    let e = Policy::from_toml_file(Path::new("/nonexistent/policy.toml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/policy.toml: <file>: cannot read: entity not found"
    );
}
