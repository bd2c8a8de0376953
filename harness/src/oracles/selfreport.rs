//! The `self` oracle: `GAUNTLET-REPORT <nonce> escaped <what>` lines on the plugin's stdout, with the
//! case's own nonce. Evidence of kind `self-report`; lines with another nonce, and `denied` lines, are
//! ignored.

use super::{Evidence, EvidenceKind, Finding, Finished, Oracle, OracleKind};

pub struct SelfReportOracle {
    nonce: String,
}

impl SelfReportOracle {
    pub fn new(nonce: &str) -> Self {
        SelfReportOracle {
            nonce: nonce.to_string(),
        }
    }

    /// The `<what>` of every `escaped` line carrying this nonce.
    pub fn escapes(&self, stdout: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(stdout)
            .lines()
            .filter_map(|line| {
                let mut it = line.trim_end().splitn(4, ' ');
                match (it.next(), it.next(), it.next(), it.next()) {
                    (Some("GAUNTLET-REPORT"), Some(n), Some("escaped"), what)
                        if n == self.nonce =>
                    {
                        Some(what.unwrap_or("").chars().take(200).collect())
                    }
                    _ => None,
                }
            })
            .collect()
    }
}

impl Oracle for SelfReportOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::SelfReport
    }

    fn judge(&mut self, done: &Finished<'_>) -> Vec<Evidence> {
        let Some(o) = done.outcome else {
            return Vec::new();
        };
        self.escapes(&o.stdout)
            .into_iter()
            .take(5)
            .map(|what| Evidence {
                oracle: OracleKind::SelfReport,
                kind: EvidenceKind::SelfReport,
                finding: Finding::Escape,
                detail: format!("attack reports: escaped {what}"),
            })
            .collect()
    }
}
