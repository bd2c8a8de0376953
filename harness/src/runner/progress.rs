//! Progress: an indicatif bar when stderr is a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::result::CaseResult;

pub struct Progress {
    bar: Option<ProgressBar>,
    done: AtomicUsize,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
            {
                b.set_style(style);
            }
            b
        });
        Progress {
            bar,
            done: AtomicUsize::new(0),
        }
    }

    pub fn case_done(&self, r: &CaseResult, total: usize) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let line = format!("{} {} {}", r.id, r.backend.as_str(), r.verdict);
        match &self.bar {
            Some(b) => {
                b.set_length(total as u64);
                b.set_position(n as u64);
                if r.verdict.word != crate::library::VerdictWord::Contained {
                    b.println(&line);
                }
                b.set_message(line);
            }
            None => eprintln!("[{n}/{total}] {line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}
