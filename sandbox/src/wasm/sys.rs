//! The backend's only `unsafe` code.

use wasmtime::{Engine, Module};

/// Deserializes a module that this backend serialized into its disk cache.
///
/// The caller (`engine::load_cached`) passes only bytes whose sha256 matched the digest stored next to
/// them by `engine::store_cached`, in a directory created with mode 0700.
pub(crate) fn deserialize_module(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Module> {
    // SAFETY: `Module::deserialize` requires bytes produced by `Module::serialize` of a compatible engine;
    // the digest check proves these are byte-for-byte what `store_cached` wrote from `Module::serialize`,
    // the file name includes the engine's compatibility hash, and wasmtime itself rejects artifacts of
    // another version or configuration.
    unsafe { Module::deserialize(engine, artifact) }
}
