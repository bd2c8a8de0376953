//! Gauntlet's sandbox runtime: run an untrusted plugin under a [`Policy`] in a Linux process sandbox
//! ([`process::ProcessSandbox`]) or a WebAssembly sandbox ([`wasm::WasmSandbox`]), and get one [`Outcome`].
//!
//! ```no_run
//! use gauntlet_sandbox::{policy::Policy, process::{ProcessSandbox, ProcessOptions}};
//! let policy = Policy::default();
//! let outcome = ProcessSandbox::new(ProcessOptions::default())
//!     .run(&policy, std::path::Path::new("/usr/bin/true"), &[])
//!     .unwrap();
//! println!("{}", outcome.summary());
//! ```

pub mod error;
pub mod hostapi;
pub mod outcome;
pub mod policy;
pub mod process;
pub mod supervisor;
pub mod wasm;
pub mod weaken;

pub use error::{SandboxError, SandboxErrorKind};
pub use outcome::{Limit, MissingLayer, Outcome, Status, Usage};
pub use policy::Policy;
pub use weaken::{Weaken, Weakening};
