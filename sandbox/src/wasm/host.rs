//! The host API `gauntlet_host_v1`, and the three WASI functions the backend shadows.
//!
//! # The `gauntlet_host_v1` ABI
//!
//! Import module `gauntlet_host_v1`; the guest must export its linear memory as `memory`. Pointers and
//! lengths are `i32` read as unsigned 32-bit offsets into that memory. Every call counts toward
//! `wasm.max_host_calls` (more traps the guest) and toward `usage.host_calls`.
//!
//! | function | signature | result |
//! |---|---|---|
//! | `log(ptr, len)` | `(i32, i32) -> i32` | 0; the bytes go to stderr as one line `[plugin log] <bytes>\n` |
//! | `kv_get(key_ptr, key_len, val_ptr, val_cap)` | `(i32, i32, i32, i32) -> i32` | value length (value written at `val_ptr`), or an error code |
//! | `kv_put(key_ptr, key_len, val_ptr, val_len)` | `(i32, i32, i32, i32) -> i32` | 0, or an error code |
//!
//! Error codes (negative results): [`E_NOT_FOUND`] (-1, no such key), [`E_TOO_LARGE`] (-2, key over
//! [`MAX_KEY`] bytes, value over [`MAX_VALUE`], log line over [`MAX_LOG_LINE`]), [`E_FULL`] (-3, the store
//! already holds [`MAX_ENTRIES`] keys), [`E_BUFFER_TOO_SMALL`] (-4, `val_cap` is shorter than the value;
//! nothing written).
//!
//! A range (`ptr`, `len`) that is not entirely inside linear memory (checked with 64-bit arithmetic, so
//! `ptr + len` cannot wrap) is a guest error: the call traps with a message naming the function and
//! the range, and the run ends `killed` with `trap = "host_api_misuse"`. Size caps are checked before
//! ranges, so a huge length is `E_TOO_LARGE`, not a trap. The key-value store lives for one run only.
//! Log bytes (prefix and newline included) count toward `limits.output`.
//!
//! With the `WasmHostApiNoBounds` weakening, ranges are *clamped* to linear memory instead of checked
//! (`start = min(ptr, size)`, `end = min(start + len, size)`): `log` near the end of memory logs the
//! in-bounds part instead of trapping, and `kv_get` writes the part of the value that fits. The host still
//! only ever touches the guest's own memory through safe slices; the weakening is observable, never UB.
//!
//! # `poll_oneoff` is replaced
//!
//! WASI's own `poll_oneoff` sleeps in the host, where no epoch can interrupt it: a one-hour clock
//! subscription would outlive any wall limit. This backend implements it itself. Descriptors here never
//! block (preopened files, the empty stdin and the captured output are always ready), so a call with any
//! descriptor subscription reports those ready at once (`nbytes` 0). A call with only clocks sleeps until
//! the earliest one - or, when that is past the wall deadline, until the deadline, and then ends the run
//! with `limit = wall_time`. It counts as a host call.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wasmtime::{Caller, Extern, Linker, Memory};

use super::{GuestError, RunState, Stop};
use crate::hostapi::{self, ApiError};
use crate::supervisor::events::EventResult;

pub const MODULE: &str = "gauntlet_host_v1";
// The caps and codes are the host API's, shared with the process message channel (`crate::hostapi`).
pub use crate::hostapi::{
    E_BUFFER_TOO_SMALL, E_FULL, E_NOT_FOUND, E_TOO_LARGE, MAX_ENTRIES, MAX_KEY, MAX_LOG_LINE,
    MAX_VALUE,
};

/// WASI errnos.
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
/// Size of a WASIp1 `event`: userdata at 0, errno (u16) at 8, type (u8) at 10, fd_readwrite at 16.
const EVENT_SIZE: u64 = 32;

const WASI: &str = "wasi_snapshot_preview1";

/// Adds WASI (with `poll_oneoff` replaced) and `gauntlet_host_v1` to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    add_wasi(linker)?;
    linker.allow_shadowing(true);
    linker.func_wrap(WASI, "poll_oneoff", poll_oneoff)?;
    linker.allow_shadowing(false);
    linker.func_wrap(MODULE, "log", log)?;
    linker.func_wrap(MODULE, "kv_get", kv_get)?;
    linker.func_wrap(MODULE, "kv_put", kv_put)?;
    Ok(())
}

/// Adds plain WASIp1. Every WASI call fetches the context through this closure, which is where WASI calls
/// are counted; the cap on them is enforced at the next epoch tick (see `RunState::check`).
pub(crate) fn add_wasi(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |s: &mut RunState| {
        s.host_calls = s.host_calls.saturating_add(1);
        &mut s.wasi
    })
}

/// Counts one `gauntlet_host_v1` call and traps past the cap.
fn count(caller: &mut Caller<'_, RunState>) -> wasmtime::Result<()> {
    let s = caller.data_mut();
    s.host_calls = s.host_calls.saturating_add(1);
    if s.host_calls > s.max_host_calls {
        return Err(wasmtime::Error::new(Stop::HostCalls));
    }
    Ok(())
}

/// Reports one `gauntlet_host_v1` call to the run's event sink (nothing is built without one): the
/// status it returned, or the trap that ended the guest.
fn report(
    caller: &Caller<'_, RunState>,
    op: &str,
    args: impl FnOnce() -> serde_json::Value,
    r: &wasmtime::Result<i32>,
) {
    let events = &caller.data().events;
    match r {
        Ok(status) => events.emit_status(op, args, *status),
        Err(e) => {
            let result = match e.downcast_ref::<Stop>() {
                Some(stop) => EventResult::Limit(stop.to_string()),
                None => EventResult::Error(e.to_string()),
            };
            events.emit(op, args, result);
        }
    }
}

fn memory(caller: &mut Caller<'_, RunState>, func: &str) -> wasmtime::Result<Memory> {
    caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| {
            wasmtime::Error::new(GuestError(format!(
                "{MODULE}.{func}: the module exports no memory named \"memory\""
            )))
        })
}

/// The byte range `ptr..ptr+len` of a memory of `size` bytes: checked (trap when outside), or clamped
/// under `WasmHostApiNoBounds`.
fn range(
    bounds_checked: bool,
    size: usize,
    ptr: i32,
    len: u32,
    func: &str,
    what: &str,
) -> wasmtime::Result<std::ops::Range<usize>> {
    let start = u64::from(ptr as u32);
    let end = start + u64::from(len); // both < 2^32: no overflow in u64
    let size = size as u64;
    if bounds_checked {
        if end > size {
            return Err(wasmtime::Error::new(GuestError(format!(
                "{MODULE}.{func}: {what} range {start:#x}+{len:#x} is outside linear memory ({size} bytes)"
            ))));
        }
        Ok(start as usize..end as usize)
    } else {
        let start = start.min(size);
        Ok(start as usize..end.min(size) as usize)
    }
}

fn log(mut caller: Caller<'_, RunState>, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    let r = log_call(&mut caller, ptr, len);
    report(&caller, "log", || json!({ "bytes": len as u32 }), &r);
    r
}

fn log_call(caller: &mut Caller<'_, RunState>, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    count(caller)?;
    let len = len as u32;
    if let Err(e) = hostapi::check_log(u64::from(len)) {
        return Ok(e.code());
    }
    let mem = memory(caller, "log")?;
    let (data, state) = mem.data_and_store_mut(caller);
    let r = range(state.bounds_checked, data.len(), ptr, len, "log", "message")?;
    state
        .output
        .log_line(&data[r])
        .map_err(wasmtime::Error::new)?;
    Ok(0)
}

fn kv_get(
    mut caller: Caller<'_, RunState>,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_cap: i32,
) -> wasmtime::Result<i32> {
    let r = kv_get_call(&mut caller, key_ptr, key_len, val_ptr, val_cap);
    let args = || json!({ "key": key_len as u32, "cap": val_cap as u32 });
    report(&caller, "kv_get", args, &r);
    r
}

fn kv_get_call(
    caller: &mut Caller<'_, RunState>,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_cap: i32,
) -> wasmtime::Result<i32> {
    count(caller)?;
    let (key_len, val_cap) = (key_len as u32, val_cap as u32);
    if let Err(e) = hostapi::check_key(u64::from(key_len)) {
        return Ok(e.code());
    }
    let mem = memory(caller, "kv_get")?;
    let (data, state) = mem.data_and_store_mut(caller);
    let checked = state.bounds_checked;
    let key = range(checked, data.len(), key_ptr, key_len, "kv_get", "key")?;
    let out = range(checked, data.len(), val_ptr, val_cap, "kv_get", "value")?;
    let value = match state.kv.get(&data[key]) {
        Ok(v) => v,
        Err(e) => return Ok(e.code()),
    };
    if checked && value.len() > out.len() {
        return Ok(ApiError::BufferTooSmall.code());
    }
    let n = value.len().min(out.len());
    data[out.start..out.start + n].copy_from_slice(&value[..n]);
    // A value is at most MAX_VALUE (64 KiB), so its length fits an i32.
    Ok(value.len() as i32)
}

fn kv_put(
    mut caller: Caller<'_, RunState>,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> wasmtime::Result<i32> {
    let r = kv_put_call(&mut caller, key_ptr, key_len, val_ptr, val_len);
    let args = || json!({ "key": key_len as u32, "value": val_len as u32 });
    report(&caller, "kv_put", args, &r);
    r
}

fn kv_put_call(
    caller: &mut Caller<'_, RunState>,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> wasmtime::Result<i32> {
    count(caller)?;
    let (key_len, val_len) = (key_len as u32, val_len as u32);
    if let Err(e) =
        hostapi::check_key(u64::from(key_len)).and(hostapi::check_value(u64::from(val_len)))
    {
        return Ok(e.code());
    }
    let mem = memory(caller, "kv_put")?;
    let (data, state) = mem.data_and_store_mut(caller);
    let checked = state.bounds_checked;
    let key = range(checked, data.len(), key_ptr, key_len, "kv_put", "key")?;
    let value = range(checked, data.len(), val_ptr, val_len, "kv_put", "value")?;
    match state.kv.put(&data[key], &data[value]) {
        Ok(()) => Ok(0),
        Err(e) => Ok(e.code()),
    }
}

/// Reads `N` bytes at `at` of `data`, or `None` when outside.
fn read<const N: usize>(data: &[u8], at: u64) -> Option<[u8; N]> {
    let start = usize::try_from(at).ok()?;
    data.get(start..start.checked_add(N)?)?.try_into().ok()
}

/// Writes `bytes` at `at` of `data`, or `None` when outside.
fn write(data: &mut [u8], at: u64, bytes: &[u8]) -> Option<()> {
    let start = usize::try_from(at).ok()?;
    data.get_mut(start..start.checked_add(bytes.len())?)?
        .copy_from_slice(bytes);
    Some(())
}

/// Subscription layout of WASIp1 `poll_oneoff`: 48 bytes each; tag at 8 (0 = clock); clock id at 16,
/// timeout at 24, flags at 40 (bit 0 = absolute time).
const SUBSCRIPTION_SIZE: u64 = 48;

fn poll_oneoff(
    mut caller: Caller<'_, RunState>,
    subs: i32,
    events: i32,
    nsubs: i32,
    nevents: i32,
) -> wasmtime::Result<i32> {
    count(&mut caller)?;
    let mem = memory(&mut caller, "poll_oneoff")?;
    let (data, state) = mem.data_and_store_mut(&mut caller);
    let (subs, events, n) = (subs as u32, u64::from(events as u32), nsubs as u32);
    if n == 0 {
        return Ok(ERRNO_INVAL);
    }
    let sub_at = |i: u32| u64::from(subs) + u64::from(i) * SUBSCRIPTION_SIZE;
    let (Some(_), Some(_)) = (
        read::<1>(data, sub_at(n) - 1),
        read::<1>(data, events + u64::from(n) * EVENT_SIZE - 1),
    ) else {
        return Ok(ERRNO_FAULT);
    };
    // Per subscription: its tag, and for clocks how long until it is due.
    let mut waits = Vec::with_capacity(n as usize);
    for i in 0..n {
        let tag = read::<1>(data, sub_at(i) + 8).map_or(0xff, |t| t[0]);
        let wait = if tag == 0 {
            shortest_clock_wait(data, sub_at(i) as u32, 1, state.started)
        } else {
            None
        };
        waits.push((tag, wait));
    }
    let any_fd = waits.iter().any(|&(tag, _)| tag != 0);
    let shortest = if any_fd {
        Duration::ZERO
    } else {
        waits
            .iter()
            .filter_map(|&(_, w)| w)
            .min()
            .unwrap_or_default()
    };
    let left = state.deadline.saturating_duration_since(Instant::now());
    if shortest > left {
        state.sleep(left)?;
        return Err(wasmtime::Error::new(Stop::WallTime));
    }
    if !shortest.is_zero() {
        state.sleep(shortest)?;
    }
    // Report every descriptor subscription, or (when there are none) every clock that is now due.
    let mut out = 0u64;
    for (i, &(tag, wait)) in waits.iter().enumerate() {
        let due = if any_fd {
            tag != 0
        } else {
            wait.is_some_and(|w| w <= shortest)
        };
        if !due {
            continue;
        }
        let userdata: [u8; 8] = read(data, sub_at(i as u32)).unwrap_or_default();
        let mut event = [0u8; EVENT_SIZE as usize];
        event[..8].copy_from_slice(&userdata);
        if tag > 2 {
            event[8..10].copy_from_slice(&(ERRNO_INVAL as u16).to_le_bytes());
        } else {
            event[10] = tag;
        }
        write(data, events + out * EVENT_SIZE, &event);
        out += 1;
    }
    if write(data, u64::from(nevents as u32), &(out as u32).to_le_bytes()).is_none() {
        return Ok(ERRNO_FAULT);
    }
    Ok(0)
}

/// How long a `poll_oneoff` call would block: the shortest clock timeout, when *every* subscription is a
/// clock (descriptor subscriptions of this backend - files and captured stdio - are always ready, so a
/// call with one returns at once). `None` when it would not block, or the array is malformed (WASI then
/// reports the error itself).
fn shortest_clock_wait(data: &[u8], subs: u32, n: u32, started: Instant) -> Option<Duration> {
    let mut shortest: Option<Duration> = None;
    for i in 0..u64::from(n) {
        let at = u64::from(subs) + i * SUBSCRIPTION_SIZE;
        if read::<1>(data, at + 8)? != [0] {
            return None;
        }
        let id = u32::from_le_bytes(read(data, at + 16)?);
        let timeout = u64::from_le_bytes(read(data, at + 24)?);
        let absolute = u16::from_le_bytes(read(data, at + 40)?) & 1 == 1;
        let ns = match (absolute, id) {
            (false, _) => timeout,
            // Realtime: nanoseconds since the Unix epoch.
            (true, 0) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
                timeout.saturating_sub(u64::try_from(now.as_nanos()).ok()?)
            }
            // Monotonic: the run's own clock, which starts at 0 (see `RunClock`).
            (true, _) => {
                let now = u64::try_from(started.elapsed().as_nanos()).ok()?;
                timeout.saturating_sub(now)
            }
        };
        let wait = Duration::from_nanos(ns);
        shortest = Some(shortest.map_or(wait, |s| s.min(wait)));
    }
    shortest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_without_wrapping() {
        assert_eq!(range(true, 100, 90, 10, "f", "x").unwrap(), 90..100);
        assert!(range(true, 100, 90, 11, "f", "x").is_err());
        assert!(range(true, 100, -1, 2, "f", "x").is_err());
        assert!(range(true, 1 << 20, i32::MAX, u32::MAX, "f", "x").is_err());
        assert_eq!(range(false, 100, 90, 50, "f", "x").unwrap(), 90..100);
        assert_eq!(range(false, 100, -1, 50, "f", "x").unwrap(), 100..100);
    }

    #[test]
    fn clock_waits_are_found() {
        let mut mem = vec![0u8; 2 * 48];
        mem[24..32].copy_from_slice(&5_000_000_000u64.to_le_bytes());
        mem[48 + 24..48 + 32].copy_from_slice(&7u64.to_le_bytes());
        let w = shortest_clock_wait(&mem, 0, 2, Instant::now());
        assert_eq!(w, Some(Duration::from_nanos(7)));
        mem[48 + 8] = 1; // an fd_read subscription: returns at once
        assert_eq!(shortest_clock_wait(&mem, 0, 2, Instant::now()), None);
        assert_eq!(shortest_clock_wait(&mem, 90, 1, Instant::now()), None);
    }
}
