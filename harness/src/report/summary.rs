//! `summary.md`: counts per verdict and category, the escapes with their evidence, errors and skips
//! with their reasons, and cases whose verdict differs from `[expect]`.

use std::collections::BTreeMap;

use crate::library::VerdictWord;
use crate::runner::CaseResult;

const WORDS: [VerdictWord; 4] = [
    VerdictWord::Contained,
    VerdictWord::Escaped,
    VerdictWord::Error,
    VerdictWord::Skipped,
];

pub fn render(results: &[CaseResult], regressions: &[String]) -> String {
    let mut s = String::from("# Gauntlet summary\n\n");
    s += &format!(
        "{} cases.\n\n| verdict | cases |\n|---|---|\n",
        results.len()
    );
    for w in WORDS {
        let n = results.iter().filter(|r| r.verdict.word == w).count();
        s += &format!("| {} | {n} |\n", w.as_str());
    }
    let mut by_cat: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for r in results {
        let i = WORDS.iter().position(|w| *w == r.verdict.word).unwrap_or(0);
        by_cat.entry(r.category.as_str()).or_default()[i] += 1;
    }
    s += "\n| category | contained | escaped | error | skipped |\n|---|---|---|---|---|\n";
    for (cat, c) in &by_cat {
        s += &format!("| {cat} | {} | {} | {} | {} |\n", c[0], c[1], c[2], c[3]);
    }
    let section = |s: &mut String, title: &str, w: VerdictWord, with_evidence: bool| {
        let cases: Vec<&CaseResult> = results.iter().filter(|r| r.verdict.word == w).collect();
        if cases.is_empty() {
            return;
        }
        *s += &format!("\n## {title}\n\n");
        for r in cases {
            *s += &format!("- `{}` ({}): {}\n", r.id, r.backend.as_str(), r.verdict);
            if with_evidence {
                for e in &r.evidence {
                    *s += &format!(
                        "  - {} [{}] {}: {}\n",
                        e.oracle.name(),
                        e.kind.as_str(),
                        if e.finding == crate::oracles::Finding::Escape {
                            "escape"
                        } else {
                            "error"
                        },
                        e.detail
                    );
                }
            }
        }
    };
    section(&mut s, "Escapes", VerdictWord::Escaped, true);
    section(&mut s, "Errors", VerdictWord::Error, true);
    section(&mut s, "Skips", VerdictWord::Skipped, false);
    let unexpected: Vec<&CaseResult> = results.iter().filter(|r| r.unexpected()).collect();
    if !unexpected.is_empty() {
        s += "\n## Not as expected\n\n";
        for r in unexpected {
            s += &format!(
                "- `{}` ({}): expected {}, got {}\n",
                r.id,
                r.backend.as_str(),
                r.expected.as_str(),
                r.verdict.word.as_str()
            );
        }
    }
    if !regressions.is_empty() {
        s += "\n## Regressions against the baseline\n\n";
        for line in regressions {
            s += &format!("- {line}\n");
        }
    }
    s
}
