//! Teardown off the Outcome's path.
//!
//! A run's Outcome is complete once every plugin process is dead and reaped: the namespace's init (B)
//! kills and reaps them all, then says so on the status pipe (`D`). What is left then runs none of the
//! plugin's code: B and the setup process (A) exiting, the kernel freeing their namespaces, and the run
//! cgroup's removal. That work (about 0.4 ms per run) is queued here and done by one background thread,
//! in order, so `run` returns as soon as the Outcome is known. The same thread makes the spare run
//! cgroup (`cgroup::Spare`).
//!
//! [`drain`] waits until everything queued so far is done; `process::settle` and `process::shutdown`
//! are the public face of it, and `shutdown` also runs when the process exits (`atexit`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// A job is running right now.
    busy: bool,
    started: bool,
}

#[derive(Default)]
struct Reaper {
    queue: Mutex<Queue>,
    changed: Condvar,
}

fn reaper() -> &'static Reaper {
    static REAPER: OnceLock<Reaper> = OnceLock::new();
    REAPER.get_or_init(Reaper::default)
}

impl Reaper {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, q: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        self.changed.wait(q).unwrap_or_else(|e| e.into_inner())
    }

    fn work(&self) {
        loop {
            let job = {
                let mut q = self.lock();
                q.busy = false;
                self.changed.notify_all();
                while q.jobs.is_empty() {
                    q = self.wait(q);
                }
                q.busy = true;
                q.jobs.pop_front()
            };
            if let Some(job) = job {
                // A job that panics must not stop the teardown of later runs.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        }
    }
}

/// Queues `job` for the background thread (started on first use). Where no thread can be started,
/// the job runs here and now.
pub(crate) fn defer(job: Job) {
    let r = reaper();
    let mut q = r.lock();
    if !q.started {
        let spawned = std::thread::Builder::new()
            .name("gauntlet-reaper".into())
            .spawn(|| reaper().work());
        if spawned.is_err() {
            drop(q);
            job();
            return;
        }
        q.started = true;
        // Whatever is queued when the process exits is still done, and the spare cgroup removed:
        // a program (a test binary too) that never calls `process::shutdown` leaves nothing behind.
        OWNER.store(std::process::id(), Ordering::SeqCst);
        let _ = super::sys::at_exit(at_exit);
    }
    q.jobs.push_back(job);
    r.changed.notify_all();
}

/// The process that started the reaper thread: a forked child that calls `exit` has no such thread
/// and must not wait for it.
static OWNER: AtomicU32 = AtomicU32::new(0);

extern "C" fn at_exit() {
    if OWNER.load(Ordering::SeqCst) == std::process::id() {
        super::shutdown();
    }
}

/// Waits until every job queued so far is done.
pub(crate) fn drain() {
    let r = reaper();
    let mut q = r.lock();
    while !q.jobs.is_empty() || q.busy {
        q = r.wait(q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn settle_waits_for_every_queued_job_and_survives_a_panicking_one() {
        let done = Arc::new(AtomicUsize::new(0));
        defer(Box::new(|| panic!("a teardown that fails")));
        for _ in 0..20 {
            let d = Arc::clone(&done);
            defer(Box::new(move || {
                std::thread::yield_now();
                d.fetch_add(1, Ordering::SeqCst);
            }));
        }
        drain();
        assert_eq!(done.load(Ordering::SeqCst), 20);
    }
}
