//! `gauntlet mutants`: proves the attack suite can fail. For each protection, a weakened sandbox
//! (`Weaken`, one protection removed from the real backend) runs the attacks whose manifests say they
//! catch it, inside the suite's outer wall; the mutant is caught when at least one of them is judged
//! `escaped`. The score and, per mutant, the catching attacks and their evidence go to stdout and to
//! `mutants.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use gauntlet_sandbox::{Weaken, Weakening};

use crate::library::{Attack, Backend, Library, VerdictWord};
use crate::oracles::{EvidenceKind, OracleKind};
use crate::runner::{self, wall::WallSpec, RunConfig, RunError, Selection};

/// Mutants that change nothing a plugin of that backend can do, so no attack can tell them apart from
/// the real sandbox. Listed in the report, left out of the score.
pub const EQUIVALENT: &[(Weaken, &str)] = &[(
    Weaken::WasmAllowSockets,
    "WASI preview 1 has no call that creates a socket, so the socket grant changes nothing for the \
     modules the wasm backend runs",
)];

/// One catching case: the attack, the oracle that saw it, the kind of evidence, and what it saw.
#[derive(Clone, Debug)]
pub struct Catch {
    pub attack: String,
    pub oracle: Option<OracleKind>,
    pub kind: Option<EvidenceKind>,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub enum MutantStatus {
    Caught(Vec<Catch>),
    Missed { tried: Vec<String> },
    Equivalent(&'static str),
}

#[derive(Clone, Debug)]
pub struct MutantResult {
    pub weaken: Weaken,
    pub status: MutantStatus,
}

impl MutantResult {
    pub fn caught(&self) -> bool {
        matches!(self.status, MutantStatus::Caught(_))
    }

    /// Caught by an attack whose evidence came from the host (not only from a self-report).
    pub fn caught_on_host(&self) -> bool {
        matches!(&self.status, MutantStatus::Caught(c) if c.iter().any(|x| x.kind == Some(EvidenceKind::Host)))
    }
}

fn backend_of(w: Weaken) -> Backend {
    if w.backend() == "wasm" {
        Backend::Wasm
    } else {
        Backend::Process
    }
}

/// The attacks that claim to catch `w`, host-judged ones first; `fast` keeps two.
pub fn catching_attacks(lib: &Library, w: Weaken, fast: bool) -> Vec<String> {
    let backend = backend_of(w);
    let name = w.name();
    let mut found: Vec<&Attack> = lib
        .attacks
        .iter()
        .filter(|a| a.backends.contains(&backend) && a.catches.iter().any(|c| c == &name))
        .collect();
    // Attacks judged by a host oracle first, then by id, so the fast subset is deterministic and
    // prefers host evidence.
    let self_only = |a: &Attack| a.oracles.iter().all(|o| *o == OracleKind::SelfReport);
    found.sort_by(|a, b| (self_only(a), &a.id).cmp(&(self_only(b), &b.id)));
    let mut ids: Vec<String> = found.into_iter().map(|a| a.id.clone()).collect();
    if fast {
        ids.truncate(2);
    }
    ids
}

/// Runs every selected mutant. Call it inside the outer wall (`wall` is its spec).
pub fn run(
    lib: &Library,
    mutants: &[Weaken],
    fast: bool,
    jobs: usize,
    wall: Result<WallSpec, String>,
    on_mutant: &dyn Fn(&MutantResult),
) -> Result<Vec<MutantResult>, RunError> {
    let mut out = Vec::new();
    for &w in mutants {
        if let Some((_, why)) = EQUIVALENT.iter().find(|(e, _)| *e == w) {
            let r = MutantResult {
                weaken: w,
                status: MutantStatus::Equivalent(why),
            };
            on_mutant(&r);
            out.push(r);
            continue;
        }
        let ids = catching_attacks(lib, w, fast);
        let status = if ids.is_empty() {
            MutantStatus::Missed { tried: Vec::new() }
        } else {
            // SAFETY: not memory safety: the cases run inside the suite's outer wall, which holds
            // what the removed protection no longer does.
            let weakening = unsafe { Weakening::remove_protections([w]) };
            let cfg = RunConfig {
                library: lib.root.clone(),
                cache: crate::library::build::default_cache_dir(),
                jobs,
                weaken: weakening,
                wall: wall.clone(),
            };
            let sel = Selection {
                backends: vec![backend_of(w)],
                filter: None,
                category: None,
                ids: Some(ids.clone()),
            };
            let results = runner::run_suite(lib, &sel, &cfg, &|_, _| {})?;
            let mut catches: Vec<Catch> = results
                .iter()
                .filter(|r| r.verdict.word == VerdictWord::Escaped)
                .map(|r| Catch {
                    attack: r.id.clone(),
                    oracle: r.verdict.decided_by,
                    kind: r.verdict.evidence_kind,
                    detail: r.verdict.reason.clone(),
                })
                .collect();
            catches.sort_by_key(|c| (c.kind != Some(EvidenceKind::Host), c.attack.clone()));
            if catches.is_empty() {
                MutantStatus::Missed { tried: ids }
            } else {
                MutantStatus::Caught(catches)
            }
        };
        let r = MutantResult { weaken: w, status };
        on_mutant(&r);
        out.push(r);
    }
    Ok(out)
}

/// `caught / total` over the mutants that are not equivalent.
pub fn score(results: &[MutantResult]) -> (usize, usize) {
    let scored: Vec<&MutantResult> = results
        .iter()
        .filter(|r| !matches!(r.status, MutantStatus::Equivalent(_)))
        .collect();
    (scored.iter().filter(|r| r.caught()).count(), scored.len())
}

/// One line per mutant, for the terminal.
pub fn line(r: &MutantResult) -> String {
    let name = r.weaken.name();
    match &r.status {
        MutantStatus::Caught(c) => {
            let first = &c[0];
            format!(
                "{name:<24} caught by {} of its attacks: {} ({}: {}; kind {})",
                c.len(),
                first.attack,
                first.oracle.map(|o| o.name()).unwrap_or("?"),
                first.detail,
                first.kind.map(|k| k.as_str()).unwrap_or("?")
            )
        }
        MutantStatus::Missed { tried } if tried.is_empty() => {
            format!("{name:<24} MISSED (no attack claims to catch it)")
        }
        MutantStatus::Missed { tried } => format!("{name:<24} MISSED (tried {})", tried.join(", ")),
        MutantStatus::Equivalent(why) => format!("{name:<24} equivalent ({why})"),
    }
}

/// The Markdown report: score, then a table of mutants with every catching attack and its evidence.
pub fn markdown(results: &[MutantResult], fast: bool) -> String {
    let (caught, total) = score(results);
    let host = results.iter().filter(|r| r.caught_on_host()).count();
    let mut s = String::new();
    let _ = writeln!(s, "# Mutants: can the attack suite fail?\n");
    let _ = writeln!(
        s,
        "Each mutant is the real sandbox with exactly one protection removed (`gauntlet exec --unsafe-weaken NAME`). \
         It is caught when an attack that claims it (`catches` in its manifest) is judged `escaped`.\n"
    );
    let _ = writeln!(
        s,
        "Mutation score: **{caught}/{total}** caught ({host} with host-side evidence){}.\n",
        if fast {
            ", fast subset (two attacks per mutant)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "| mutant | backend | result | caught by (oracle, evidence kind: detail) |"
    );
    let _ = writeln!(s, "|---|---|---|---|");
    for r in results {
        let (word, detail) = match &r.status {
            MutantStatus::Caught(c) => (
                "caught",
                c.iter()
                    .map(|x| {
                        format!(
                            "`{}` ({}, {}: {})",
                            x.attack,
                            x.oracle.map(|o| o.name()).unwrap_or("?"),
                            x.kind.map(|k| k.as_str()).unwrap_or("?"),
                            x.detail.replace('|', "\\|")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>"),
            ),
            MutantStatus::Missed { tried } => {
                ("**MISSED**", format!("tried: {}", tried.join(", ")))
            }
            MutantStatus::Equivalent(why) => ("equivalent", why.to_string()),
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {word} | {detail} |",
            r.weaken.name(),
            r.weaken.backend()
        );
    }
    s
}

/// Writes `mutants.md` into `dir` (whole or not at all).
pub fn write_report(dir: &Path, results: &[MutantResult], fast: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".mutants.md.tmp");
    std::fs::write(&tmp, markdown(results, fast))?;
    std::fs::rename(tmp, dir.join("mutants.md"))
}

/// The mutants of the given backends, in `Weaken::ALL` order, optionally only the named ones.
pub fn select(backends: &[Backend], only: &[String]) -> Result<Vec<Weaken>, String> {
    for name in only {
        if Weaken::from_name(name).is_none() {
            return Err(format!("--only: {name:?} is not a mutant"));
        }
    }
    let mut by_backend: BTreeMap<&str, bool> = BTreeMap::new();
    for b in backends {
        by_backend.insert(b.as_str(), true);
    }
    Ok(Weaken::ALL
        .iter()
        .copied()
        .filter(|w| by_backend.contains_key(w.backend()))
        .filter(|w| only.is_empty() || only.iter().any(|o| *o == w.name()))
        .collect())
}
