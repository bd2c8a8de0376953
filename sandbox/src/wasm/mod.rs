//! The WebAssembly backend on wasmtime (being written; see issue 3).

use std::ffi::OsString;
use std::path::Path;

use crate::error::SandboxError;
use crate::outcome::{Outcome, Status};
use crate::policy::Policy;
use crate::weaken::Weakening;

/// Settings of the wasm backend that are not policy.
#[derive(Clone, Debug, Default)]
pub struct WasmOptions {
    pub weaken: Weakening,
}

/// The wasm sandbox.
pub struct WasmSandbox {
    _opts: WasmOptions,
}

impl WasmSandbox {
    pub fn new(opts: WasmOptions) -> Result<Self, SandboxError> {
        Ok(WasmSandbox { _opts: opts })
    }

    pub fn run(
        &self,
        _policy: &Policy,
        _module: &Path,
        _args: &[OsString],
    ) -> Result<Outcome, SandboxError> {
        Ok(Outcome::not_started(
            "wasm",
            Status::Error,
            "wasm backend not built yet",
        ))
    }
}
