//! What one case produced: the verdict, the evidence, and the Outcome's status, limit and usage.

use gauntlet_sandbox::{Limit, Outcome, Status, Usage};
use serde::{Deserialize, Serialize};

use crate::library::{Backend, VerdictWord};
use crate::oracles::Evidence;
use crate::verdict::Verdict;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeSummary {
    pub status: Status,
    pub limit: Option<Limit>,
    pub usage: Usage,
}

impl From<&Outcome> for OutcomeSummary {
    fn from(o: &Outcome) -> Self {
        OutcomeSummary {
            status: o.status,
            limit: o.limit,
            usage: o.usage.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub category: String,
    pub title: String,
    pub backend: Backend,
    pub verdict: Verdict,
    pub expected: VerdictWord,
    pub evidence: Vec<Evidence>,
    pub outcome: Option<OutcomeSummary>,
}

impl CaseResult {
    /// The verdict differs from `[expect]` (skips never count as a difference).
    pub fn unexpected(&self) -> bool {
        self.verdict.word != VerdictWord::Skipped && self.verdict.word != self.expected
    }
}
