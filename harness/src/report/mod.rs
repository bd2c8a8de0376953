//! Reports of a run: `containment.md` (the matrix), `results.json`, `junit.xml`, `summary.md`; and the
//! comparison with a baseline `results.json`.

pub mod junit;
pub mod matrix;
pub mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::library::VerdictWord;
use crate::runner::CaseResult;

/// `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub cases: Vec<CaseResult>,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", .path.display())]
pub struct ReportError {
    pub path: PathBuf,
    pub kind: ReportErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportErrorKind {
    #[error("cannot write: {0}")]
    Write(std::io::Error),
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("not a results.json: {0}")]
    Parse(String),
}

/// Writes the four reports into `dir`.
pub fn write_all(
    dir: &Path,
    results: &[CaseResult],
    regressions: &[String],
) -> Result<(), ReportError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |e| ReportError {
            path,
            kind: ReportErrorKind::Write(e),
        }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    let json = serde_json::to_string_pretty(&Results {
        cases: results.to_vec(),
    })
    .unwrap_or_default();
    for (name, text) in [
        ("containment.md", matrix::render(results)),
        ("results.json", json + "\n"),
        ("junit.xml", junit::render(results)),
        ("summary.md", summary::render(results, regressions)),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(err(&p))?;
    }
    Ok(())
}

/// Reads a baseline `results.json`.
pub fn load_baseline(path: &Path) -> Result<Results, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError {
        path: path.to_path_buf(),
        kind: ReportErrorKind::Read(e),
    })?;
    serde_json::from_str(&text).map_err(|e| ReportError {
        path: path.to_path_buf(),
        kind: ReportErrorKind::Parse(e.to_string()),
    })
}

/// Cases contained in the baseline and now escaped or in error (skips are reported, not counted).
pub fn regressions(baseline: &Results, now: &[CaseResult]) -> Vec<String> {
    let before: BTreeMap<(&str, &str), VerdictWord> = baseline
        .cases
        .iter()
        .map(|c| ((c.id.as_str(), c.backend.as_str()), c.verdict.word))
        .collect();
    now.iter()
        .filter(|c| {
            before.get(&(c.id.as_str(), c.backend.as_str())) == Some(&VerdictWord::Contained)
                && matches!(c.verdict.word, VerdictWord::Escaped | VerdictWord::Error)
        })
        .map(|c| {
            format!(
                "`{}` ({}): contained in the baseline, now {}",
                c.id,
                c.backend.as_str(),
                c.verdict
            )
        })
        .collect()
}
