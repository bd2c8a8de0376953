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
/// read (`pthread_getattr_np`) and the frame lies within them; `None` otherwise (for example on a stack
/// that some library switched to).
///
/// The bounds are read once per thread and kept in a thread-local: a thread's stack never moves, and
/// for the main thread glibc finds them by parsing `/proc/self/maps`, which costs tens of microseconds
/// (more than a whole pooled run) in a process with many mappings.
pub(crate) fn stack_remaining() -> Option<usize> {
    use std::cell::Cell;
    // (low end, high end) of this thread's stack; (0, 0) until read (and read again after a failure).
    thread_local!(static BOUNDS: Cell<(usize, usize)> = const { Cell::new((0, 0)) });
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    let (low, high) = BOUNDS.with(|b| {
        if b.get() == (0, 0) {
            b.set(stack_bounds().unwrap_or((0, 0)));
        }
        b.get()
    });
    (low..high).contains(&sp).then(|| sp - low)
}

/// `(low, high)` addresses of the current thread's stack, from `pthread_getattr_np`.
fn stack_bounds() -> Option<(usize, usize)> {
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
        let low = addr as usize;
        Some((low, low.checked_add(size)?))
    }
}
