//! Captured stdout and stderr with one shared byte budget (`limits.output`).
//!
//! Each stream is a `wasmtime_wasi::p2::pipe::MemoryOutputPipe` of capacity `cap + 1`: a stream can
//! never hold more than that (further writes fail with `EIO` in the guest), so host memory stays bounded
//! by about twice the cap whatever the guest does. The policy caps stdout plus stderr plus host-API log
//! lines *together*; that total is checked at every epoch tick, at every host-API call and at the end
//! of the run. A total above the cap ends the run with `limit = output` (at most one tick after the
//! write that crossed it), and the kept bytes are cut to exactly the cap: stdout first, then stderr.
//! The `+ 1` is what tells "wrote exactly the cap" (fine) from "tried to write more" (killed).

use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::OutputStream;

use super::Stop;

/// The output of one run.
#[derive(Debug)]
pub(crate) struct Output {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    /// Bytes allowed for stdout and stderr together; `None` means no cap (`WasmNoOutputCap`).
    cap: Option<usize>,
    /// Capacity of each pipe.
    capacity: usize,
}

impl Output {
    pub(crate) fn new(cap: Option<u64>) -> Self {
        let cap = cap.map(|c| usize::try_from(c).unwrap_or(usize::MAX));
        let capacity = cap.map_or(usize::MAX, |c| c.saturating_add(1));
        Output {
            stdout: MemoryOutputPipe::new(capacity),
            stderr: MemoryOutputPipe::new(capacity),
            cap,
            capacity,
        }
    }

    /// The pipes to hand to `WasiCtxBuilder::stdout` and `::stderr`.
    pub(crate) fn pipes(&self) -> (MemoryOutputPipe, MemoryOutputPipe) {
        (self.stdout.clone(), self.stderr.clone())
    }

    /// Bytes held by one pipe, without copying them (capacity minus the room left).
    fn held(&self, pipe: &MemoryOutputPipe) -> usize {
        let mut pipe = pipe.clone();
        match OutputStream::check_write(&mut pipe) {
            Ok(room) => self.capacity.saturating_sub(room),
            Err(_) => self.capacity,
        }
    }

    /// Whether stdout plus stderr went past the cap.
    pub(crate) fn exceeded(&self) -> bool {
        self.cap.is_some_and(|cap| {
            self.held(&self.stdout)
                .saturating_add(self.held(&self.stderr))
                > cap
        })
    }

    /// Writes one host-API log line to stderr as `[plugin log] <line>\n`; `Err` when it does not fit.
    pub(crate) fn log_line(&mut self, line: &[u8]) -> Result<(), Stop> {
        let mut bytes = crate::hostapi::log_line(line);
        if let Some(cap) = self.cap {
            let room = cap.saturating_sub(self.held(&self.stdout) + self.held(&self.stderr));
            if bytes.len() > room {
                // Keep what fits, plus the one byte that marks the total as exceeded.
                bytes.truncate(room + 1);
            }
        }
        let mut pipe = self.stderr.clone();
        let written = OutputStream::write(&mut pipe, bytes.into());
        if written.is_err() || self.exceeded() {
            return Err(Stop::Output);
        }
        Ok(())
    }

    /// Takes the captured bytes, cut to the cap: `(stdout, stderr, truncated)`.
    pub(crate) fn take(&self) -> (Vec<u8>, Vec<u8>, bool) {
        let mut stdout = self.stdout.contents().to_vec();
        let mut stderr = self.stderr.contents().to_vec();
        let mut truncated = false;
        if let Some(cap) = self.cap {
            if stdout.len() + stderr.len() > cap {
                truncated = true;
                stdout.truncate(cap);
                stderr.truncate(cap - stdout.len());
            }
        }
        (stdout, stderr, truncated)
    }
}
