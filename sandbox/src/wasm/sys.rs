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

/// Bytes of stack left below the current frame on this thread, when the thread's stack bounds can be
/// read (`pthread_getattr_np`); `None` otherwise.
pub(crate) fn stack_remaining() -> Option<usize> {
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    // SAFETY: `attr` is initialised by pthread_getattr_np before use and destroyed after; the out
    // pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
        // The stack grows down from addr + size to addr (the low end, guard page above it).
        sp.checked_sub(addr as usize)
    }
}
