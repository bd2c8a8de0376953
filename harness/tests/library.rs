//! The attack library's own checks: the real library loads without a problem, and the checker itself
//! catches a manifest without a source, a source without a manifest, a repeated id, and bad fields, with
//! one-line errors naming the file and the field.

use std::path::{Path, PathBuf};

use gauntlet::library::{Library, LibraryErrorKind};

fn real_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../attacks")
}

#[test]
fn real_library_has_no_problems() {
    let lib = Library::load(&real_root()).expect("attacks/ is readable");
    let problems: Vec<String> = lib.problems().iter().map(|e| e.to_string()).collect();
    assert!(
        problems.is_empty(),
        "library problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn fixture_library_loads() {
    let lib =
        Library::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lib")).unwrap();
    assert!(lib.problems().is_empty(), "{:?}", lib.problems());
    assert_eq!(lib.attacks.len(), 3);
}

const GOOD: &str = r#"
id = "res.pids.fork_bomb"
category = "resource"
title = "Fork bomb"
technique = "forks"
backends = ["process"]
source = "fork_bomb.c"
oracles = ["census"]
"#;

struct Tmp(tempfile::TempDir);

impl Tmp {
    fn new() -> Tmp {
        Tmp(tempfile::Builder::new()
            .prefix("attacks")
            .tempdir()
            .unwrap())
    }
    fn root(&self) -> &Path {
        self.0.path()
    }
    fn attack(&self, rel: &str, manifest: Option<&str>, sources: &[&str]) {
        let dir = self.root().join(rel);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(m) = manifest {
            std::fs::write(dir.join("attack.toml"), m).unwrap();
        }
        for s in sources {
            std::fs::write(dir.join(s), "int main(void){return 0;}\n").unwrap();
        }
    }
    fn problems(&self) -> Vec<String> {
        let name = self
            .root()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        Library::load(self.root())
            .unwrap()
            .problems()
            .iter()
            .map(|e| e.to_string().replace(&name, "attacks"))
            .collect()
    }
}

#[test]
fn good_manifest_has_no_problem() {
    let t = Tmp::new();
    t.attack("resource/fork_bomb", Some(GOOD), &["fork_bomb.c"]);
    assert_eq!(t.problems(), Vec::<String>::new());
}

#[test]
fn manifest_without_source_is_reported() {
    let t = Tmp::new();
    t.attack("resource/fork_bomb", Some(GOOD), &[]);
    assert_eq!(
        t.problems(),
        vec!["attacks/resource/fork_bomb/attack.toml: source: \"fork_bomb.c\" does not exist in this folder"]
    );
}

#[test]
fn source_without_manifest_is_reported() {
    let t = Tmp::new();
    t.attack("resource/orphan", None, &["orphan.c"]);
    assert_eq!(
        t.problems(),
        vec!["attacks/resource/orphan: <folder>: has a source (orphan.c) but no attack.toml"]
    );
}

#[test]
fn repeated_id_is_reported() {
    let t = Tmp::new();
    t.attack("resource/fork_bomb", Some(GOOD), &["fork_bomb.c"]);
    t.attack("resource/fork_bomb2", Some(GOOD), &["fork_bomb.c"]);
    let lib = Library::load(t.root()).unwrap();
    assert_eq!(lib.attacks.len(), 1);
    assert!(matches!(
        lib.broken[0].error.kind,
        LibraryErrorKind::DuplicateId(_)
    ));
    assert_eq!(
        t.problems(),
        vec!["attacks/resource/fork_bomb2/attack.toml: id: repeats the id of attacks/resource/fork_bomb/attack.toml"]
    );
}

#[test]
fn two_sources_are_reported() {
    let t = Tmp::new();
    t.attack(
        "resource/fork_bomb",
        Some(GOOD),
        &["fork_bomb.c", "other.c"],
    );
    assert_eq!(
        t.problems(),
        vec!["attacks/resource/fork_bomb/attack.toml: source: the folder has 2 source files (fork_bomb.c, other.c); exactly one is allowed"]
    );
}

fn one_problem(extra: &str) -> String {
    let t = Tmp::new();
    t.attack(
        "resource/fork_bomb",
        Some(&format!("{GOOD}{extra}")),
        &["fork_bomb.c"],
    );
    let p = t.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(!p[0].contains('\n'));
    p[0].clone()
}

#[test]
fn validation_errors_are_one_line_with_path_and_field() {
    let pre = "attacks/resource/fork_bomb/attack.toml: ";
    let cases = [
        (
            "[expect]\nprocess = \"contaned\"\n",
            "expect.process: \"contaned\" is not a verdict (contained, escaped, error, skipped)",
        ),
        (
            "args = [\"{tcp_prot}\"]\n",
            "args[0]: {tcp_prot} is not a placeholder",
        ),
        (
            "needs = [\"pid_namespace\"]\n",
            "needs[0]: \"pid_namespace\" is not a layer",
        ),
        (
            "catches = [\"no-sandbox\"]\n",
            "catches[0]: \"no-sandbox\" is not a weakening (see gauntlet exec --unsafe-weaken)",
        ),
        (
            "flavour = 1\n",
            "flavour: unknown field `flavour`, expected one of",
        ),
        (
            "[policy]\nlimits = { memory = \"12XB\" }\n",
            "policy.limits.memory:",
        ),
        (
            "[expect.outcome]\nlimit = \"cpu\"\n",
            "expect.outcome.limit: \"cpu\" is not a limit, \"any\" or \"none\"",
        ),
        (
            "references = [\"R10\"]\n",
            "references[0]: \"R10\" is not catalog:<id>, CVE-<n> or a URL",
        ),
    ];
    for (extra, want) in cases {
        let got = one_problem(extra);
        assert!(
            got.starts_with(&format!("{pre}{want}")),
            "got: {got}\nwant: {pre}{want}"
        );
    }
}

#[test]
fn wrong_category_and_bad_id() {
    let t = Tmp::new();
    t.attack("network/fork_bomb", Some(GOOD), &["fork_bomb.c"]);
    assert_eq!(
        t.problems(),
        vec!["attacks/network/fork_bomb/attack.toml: category: \"resource\" does not match the folder \"network\""]
    );
    let bad_id = GOOD.replace("res.pids.fork_bomb", "ForkBomb");
    let t = Tmp::new();
    t.attack("resource/fork_bomb", Some(&bad_id), &["fork_bomb.c"]);
    assert_eq!(
        t.problems(),
        vec!["attacks/resource/fork_bomb/attack.toml: id: \"ForkBomb\" is not a dotted id (<area>.<group>.<name>, lowercase)"]
    );
}

#[test]
fn syntax_error_is_one_line() {
    let t = Tmp::new();
    t.attack("resource/fork_bomb", Some("id = \n"), &["fork_bomb.c"]);
    let p = t.problems();
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("attacks/resource/fork_bomb/attack.toml: <file>: not valid TOML"),
        "{}",
        p[0]
    );
}
