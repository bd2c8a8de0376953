//! Captured stdout and stderr with one shared byte budget (`limits.output`).
//!
//! Each stream is a `wasmtime_wasi::p2::pipe::MemoryOutputPipe`, which can only cap itself. The policy
//! caps stdout plus stderr plus host-API log lines *together*, so every byte bound for descriptor 1 or 2
//! is charged here first: the backend shadows WASI `fd_write` (see `host.rs`), charges the whole write,
//! and only then lets WASI copy it into the pipe. A write that would cross the cap is dropped whole, the
//! output is marked truncated and the guest traps with [`Stop::Output`]: a flood ends at the limit
//! instead of spinning on a stream that refuses bytes. Each pipe's own capacity is the cap as well, so even
//! a path that escaped the charge could never hold more than the cap per stream.

use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::OutputStream;

use super::Stop;

/// Prefix of host-API log lines on stderr.
pub(crate) const LOG_PREFIX: &[u8] = b"[plugin log] ";

/// The output of one run.
#[derive(Debug)]
pub(crate) struct Output {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    /// Bytes allowed for stdout and stderr together; `None` means no cap (`WasmNoOutputCap`).
    cap: Option<u64>,
    used: u64,
    truncated: bool,
}

impl Output {
    pub(crate) fn new(cap: Option<u64>) -> Self {
        let per_pipe = cap.map_or(usize::MAX, |c| usize::try_from(c).unwrap_or(usize::MAX));
        Output {
            stdout: MemoryOutputPipe::new(per_pipe),
            stderr: MemoryOutputPipe::new(per_pipe),
            cap,
            used: 0,
            truncated: false,
        }
    }

    /// The pipes to hand to `WasiCtxBuilder::stdout` and `::stderr`.
    pub(crate) fn pipes(&self) -> (MemoryOutputPipe, MemoryOutputPipe) {
        (self.stdout.clone(), self.stderr.clone())
    }

    /// Reserves `n` bytes of the budget, or marks the output truncated and stops the run.
    pub(crate) fn charge(&mut self, n: u64) -> Result<(), Stop> {
        match self.cap {
            Some(cap) if self.used.saturating_add(n) > cap => {
                self.truncated = true;
                Err(Stop::Output)
            }
            _ => {
                self.used = self.used.saturating_add(n);
                Ok(())
            }
        }
    }

    /// Writes one host-API log line to stderr as `[plugin log] <line>\n`, charged to the budget.
    pub(crate) fn log_line(&mut self, line: &[u8]) -> Result<(), Stop> {
        let mut bytes = Vec::with_capacity(LOG_PREFIX.len() + line.len() + 1);
        bytes.extend_from_slice(LOG_PREFIX);
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        self.charge(bytes.len() as u64)?;
        let mut pipe = self.stderr.clone();
        // The pipe's capacity is the cap and the charge above kept the total under it, so this only fails
        // if the budget and the pipe disagree; then the line is lost, never more than the cap kept.
        if OutputStream::write(&mut pipe, bytes.into()).is_err() {
            self.truncated = true;
            return Err(Stop::Output);
        }
        Ok(())
    }

    /// Takes the captured bytes: `(stdout, stderr, truncated)`.
    pub(crate) fn take(&self) -> (Vec<u8>, Vec<u8>, bool) {
        (
            self.stdout.contents().to_vec(),
            self.stderr.contents().to_vec(),
            self.truncated,
        )
    }
}
