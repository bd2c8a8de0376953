//! Verdicts: `escaped` (any oracle; host evidence decides before self-reports) > `error` > `contained`;
//! `skipped` is decided before a case runs. Each verdict names the oracle and the kind of evidence
//! that decided it.

use serde::{Deserialize, Serialize};

use crate::library::VerdictWord;
use crate::oracles::{Evidence, EvidenceKind, Finding, OracleKind};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub word: VerdictWord,
    /// The deciding evidence's detail, or the error / skip reason; empty for `contained`.
    pub reason: String,
    pub decided_by: Option<OracleKind>,
    pub evidence_kind: Option<EvidenceKind>,
}

impl Verdict {
    pub fn skipped(reason: impl Into<String>) -> Verdict {
        Verdict {
            word: VerdictWord::Skipped,
            reason: reason.into(),
            decided_by: None,
            evidence_kind: None,
        }
    }

    pub fn error(reason: impl Into<String>) -> Verdict {
        Verdict {
            word: VerdictWord::Error,
            reason: reason.into(),
            decided_by: None,
            evidence_kind: None,
        }
    }

    /// Decides from all the evidence of a case.
    pub fn decide(evidence: &[Evidence]) -> Verdict {
        let pick = |finding: Finding, kind: EvidenceKind| {
            evidence
                .iter()
                .find(|e| e.finding == finding && e.kind == kind)
        };
        let chosen = pick(Finding::Escape, EvidenceKind::Host)
            .or_else(|| pick(Finding::Escape, EvidenceKind::SelfReport))
            .or_else(|| pick(Finding::Error, EvidenceKind::Host))
            .or_else(|| pick(Finding::Error, EvidenceKind::SelfReport));
        match chosen {
            None => Verdict {
                word: VerdictWord::Contained,
                reason: String::new(),
                decided_by: None,
                evidence_kind: None,
            },
            Some(e) => Verdict {
                word: match e.finding {
                    Finding::Escape => VerdictWord::Escaped,
                    Finding::Error => VerdictWord::Error,
                },
                reason: e.detail.clone(),
                decided_by: Some(e.oracle),
                evidence_kind: Some(e.kind),
            },
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.word, self.decided_by, self.evidence_kind) {
            (VerdictWord::Contained, ..) => write!(f, "contained"),
            (VerdictWord::Escaped, Some(o), Some(k)) => write!(
                f,
                "escaped ({}: {}; kind {})",
                o.name(),
                self.reason,
                k.as_str()
            ),
            (w, Some(o), _) => write!(f, "{} ({}: {})", w.as_str(), o.name(), self.reason),
            (w, None, _) => write!(f, "{} ({})", w.as_str(), self.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_escape_beats_self_report_and_error() {
        let ev = vec![
            Evidence::error(OracleKind::Health, "hung"),
            Evidence {
                oracle: OracleKind::SelfReport,
                kind: EvidenceKind::SelfReport,
                finding: Finding::Escape,
                detail: "x".into(),
            },
            Evidence::escape(OracleKind::Canary, "token in stdout"),
        ];
        let v = Verdict::decide(&ev);
        assert_eq!(v.word, VerdictWord::Escaped);
        assert_eq!(v.decided_by, Some(OracleKind::Canary));
        assert_eq!(v.evidence_kind, Some(EvidenceKind::Host));
        assert_eq!(
            Verdict::decide(&ev[..1]).to_string(),
            "error (health: hung)"
        );
        assert_eq!(Verdict::decide(&[]).to_string(), "contained");
    }
}
