//! The `resources` oracle: the Outcome's peaks against the policy's limits (memory > limit + 10 %,
//! pids > limit), the run ended within wall + 1 s, and `[expect.outcome]`.

use gauntlet_sandbox::outcome::status_str;
use gauntlet_sandbox::policy::Limits;

use super::{Evidence, Finished, Oracle, OracleKind};
use crate::library::manifest::LimitExpect;
use crate::library::OutcomeExpect;

pub struct ResourcesOracle {
    pub limits: Limits,
    pub expect: Option<OutcomeExpect>,
}

impl Oracle for ResourcesOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Resources
    }

    fn judge(&mut self, done: &Finished<'_>) -> Vec<Evidence> {
        let Some(o) = done.outcome else {
            return Vec::new();
        };
        let mut ev = Vec::new();
        let mut esc = |d: String| ev.push(Evidence::escape(OracleKind::Resources, d));
        let u = &o.usage;
        let mem_limit = self.limits.memory.0;
        if u.peak_memory_bytes > mem_limit + mem_limit / 10 {
            esc(format!(
                "peak memory {} bytes is above the limit {} + 10 %",
                u.peak_memory_bytes, mem_limit
            ));
        }
        if u.peak_pids > self.limits.pids as u64 {
            esc(format!(
                "peak pids {} is above the limit {}",
                u.peak_pids, self.limits.pids
            ));
        }
        let wall_ms = self.limits.wall_time.0.as_millis() as u64;
        if u.wall_ms > wall_ms + 1000 {
            esc(format!(
                "the run took {} ms, beyond wall {} ms + 1 s",
                u.wall_ms, wall_ms
            ));
        }
        let Some(x) = &self.expect else {
            return ev;
        };
        if let Some(s) = x.status {
            if s != o.status {
                esc(format!(
                    "status is {}, expected {}",
                    status_str(o.status),
                    status_str(s)
                ));
            }
        }
        let limit_name = o.limit.map(|l| l.as_str()).unwrap_or("none");
        match x.limit {
            Some(LimitExpect::Any) if o.limit.is_none() => {
                esc("no limit stopped the run, expected one".into())
            }
            Some(LimitExpect::None) if o.limit.is_some() => {
                esc(format!("limit {limit_name} stopped the run, expected none"))
            }
            Some(LimitExpect::Is(l)) if o.limit != Some(l) => {
                esc(format!("limit is {limit_name}, expected {}", l.as_str()))
            }
            _ => {}
        }
        for l in &x.limits_hit {
            if !u.limits_hit.contains(l) {
                esc(format!("limit {} was not hit", l.as_str()));
            }
        }
        if let Some(t) = &x.trap {
            if o.trap.as_deref() != Some(t.as_str()) {
                esc(format!(
                    "trap is {}, expected {t}",
                    o.trap.as_deref().unwrap_or("none")
                ));
            }
        }
        ev
    }
}
