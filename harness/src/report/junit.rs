//! `junit.xml`: one testcase per case; escapes are failures, errors are errors, skips are skipped.

use crate::library::VerdictWord;
use crate::runner::CaseResult;

pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

pub fn render(results: &[CaseResult]) -> String {
    let count = |w: VerdictWord| results.iter().filter(|r| r.verdict.word == w).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s += &format!(
        "<testsuites name=\"gauntlet\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        results.len(),
        count(VerdictWord::Escaped),
        count(VerdictWord::Error),
        count(VerdictWord::Skipped)
    );
    s += &format!(
        "  <testsuite name=\"containment\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        results.len(),
        count(VerdictWord::Escaped),
        count(VerdictWord::Error),
        count(VerdictWord::Skipped)
    );
    for r in results {
        let time = r
            .outcome
            .as_ref()
            .map(|o| o.usage.wall_ms as f64 / 1000.0)
            .unwrap_or(0.0);
        s += &format!(
            "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{time:.3}\"",
            escape_xml(&r.category),
            r.backend.as_str(),
            escape_xml(&r.id)
        );
        let msg = escape_xml(&r.verdict.to_string());
        let body: String = r
            .evidence
            .iter()
            .map(|e| format!("{} ({}): {}\n", e.oracle.name(), e.kind.as_str(), e.detail))
            .collect();
        match r.verdict.word {
            VerdictWord::Contained => s += "/>\n",
            VerdictWord::Escaped => {
                s += &format!(
                    ">\n      <failure message=\"{msg}\" type=\"escaped\">{}</failure>\n    </testcase>\n",
                    escape_xml(&body)
                )
            }
            VerdictWord::Error => {
                s += &format!(
                    ">\n      <error message=\"{msg}\" type=\"error\">{}</error>\n    </testcase>\n",
                    escape_xml(&body)
                )
            }
            VerdictWord::Skipped => s += &format!(">\n      <skipped message=\"{msg}\"/>\n    </testcase>\n"),
        }
    }
    s += "  </testsuite>\n</testsuites>\n";
    s
}
