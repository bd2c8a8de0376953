//! The `health` oracle (always on): `gauntlet exec` exited 0, printed a valid Outcome, and finished
//! within wall + 5 s; otherwise the case is an `error`.

use gauntlet_sandbox::Status;

use super::{Evidence, Finished, Oracle, OracleKind};

pub struct HealthOracle;

impl Oracle for HealthOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Health
    }

    fn judge(&mut self, done: &Finished<'_>) -> Vec<Evidence> {
        let err = |d: String| vec![Evidence::error(OracleKind::Health, d)];
        if done.timed_out {
            return err(format!(
                "gauntlet exec hung: killed after {} ms",
                done.elapsed.as_millis()
            ));
        }
        match done.wait_status {
            None => return err("gauntlet exec could not be waited for".into()),
            Some(st) if libc::WIFSIGNALED(st) => {
                return err(format!(
                    "gauntlet exec crashed (signal {})",
                    libc::WTERMSIG(st)
                ))
            }
            Some(st) if libc::WEXITSTATUS(st) != 0 => {
                let line = String::from_utf8_lossy(done.exec_stderr)
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>();
                return err(format!(
                    "gauntlet exec exited {}: {line}",
                    libc::WEXITSTATUS(st)
                ));
            }
            Some(_) => {}
        }
        match (done.outcome, done.outcome_error) {
            (None, e) => err(format!(
                "gauntlet exec printed no valid Outcome: {}",
                e.unwrap_or("no output")
            )),
            (Some(o), _) if o.status == Status::Error => err(format!(
                "the sandbox failed: {}",
                o.reason.as_deref().unwrap_or("no reason given")
            )),
            _ => Vec::new(),
        }
    }
}
