//! The host API's logic, shared by both backends: the wasm host API `gauntlet_host_v1`
//! (`wasm/host.rs`, called through imports) and the process message channel (`supervisor/channel.rs`,
//! called through length-prefixed messages on descriptor 3).
//!
//! Both expose the same three operations with the same caps and the same status codes:
//!
//! | operation | does | result |
//! |---|---|---|
//! | `log(bytes)` | one line on the run's stderr, `[plugin log] <bytes>\n` ([`log_line`]) | 0 |
//! | `kv_get(key, cap)` | looks `key` up in the run's store ([`KvStore`]) | the value's length (and the value), or an error |
//! | `kv_put(key, value)` | stores `value` under `key` | 0, or an error |
//!
//! Caps: keys up to [`MAX_KEY`] bytes, values up to [`MAX_VALUE`], log lines up to [`MAX_LOG_LINE`]
//! (without prefix and newline), at most [`MAX_ENTRIES`] keys per run: a store holds at most
//! `MAX_ENTRIES * (MAX_KEY + MAX_VALUE)` bytes ([`MAX_STORE_BYTES`], about 64 MiB). The store lives for one
//! run.
//!
//! Status codes ([`ApiError::code`]): -1 not found, -2 too large, -3 store full, -4 buffer too small
//! (the wasm ABI's codes); the channel adds -5 malformed message, -6 unknown operation, -7 limit reached
//! (request cap, log budget). The wasm ABI never returns -5..-7: its malformed calls trap instead.
//!
//! Every call can be reported as an [`Event`] to an optional [`EventSink`] through [`Events`]: the
//! operation, the shape of its arguments (sizes, never bytes) and how it was answered. Normal answers
//! (including "not found" and "buffer too small") are `Ok`; caps are `Limit`; malformed input is `Error`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::supervisor::events::{Event, EventResult, EventSink};

/// Largest key, in bytes.
pub const MAX_KEY: u32 = 256;
/// Largest value, in bytes.
pub const MAX_VALUE: u32 = 64 << 10;
/// Most keys in one run's store.
pub const MAX_ENTRIES: usize = 1024;
/// Largest log line, in bytes (without the prefix and the newline).
pub const MAX_LOG_LINE: u32 = 4 << 10;
/// Most bytes of keys and values one store can hold.
pub const MAX_STORE_BYTES: u64 = MAX_ENTRIES as u64 * (MAX_KEY as u64 + MAX_VALUE as u64);
/// Prefix of log lines on the run's stderr.
pub const LOG_PREFIX: &[u8] = b"[plugin log] ";

pub const E_NOT_FOUND: i32 = -1;
pub const E_TOO_LARGE: i32 = -2;
pub const E_FULL: i32 = -3;
pub const E_BUFFER_TOO_SMALL: i32 = -4;
/// Channel only: a message that does not parse (short, lengths that disagree, a reserved request id).
pub const E_MALFORMED: i32 = -5;
/// Channel only: an operation code that is not `log`, `kv_get` or `kv_put`.
pub const E_UNKNOWN_OP: i32 = -6;
/// Channel only: a per-run cap was reached (requests, log bytes).
pub const E_LIMIT: i32 = -7;

/// A negative answer of the host API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ApiError {
    #[error("no such key")]
    NotFound,
    #[error("too large")]
    TooLarge,
    #[error("the store is full")]
    Full,
    #[error("the buffer is too small for the value")]
    BufferTooSmall,
    #[error("malformed message")]
    Malformed,
    #[error("unknown operation")]
    UnknownOp,
    #[error("limit reached")]
    Limit,
}

impl ApiError {
    pub const ALL: [ApiError; 7] = [
        ApiError::NotFound,
        ApiError::TooLarge,
        ApiError::Full,
        ApiError::BufferTooSmall,
        ApiError::Malformed,
        ApiError::UnknownOp,
        ApiError::Limit,
    ];

    /// The status code on the wire (negative).
    pub const fn code(self) -> i32 {
        match self {
            ApiError::NotFound => E_NOT_FOUND,
            ApiError::TooLarge => E_TOO_LARGE,
            ApiError::Full => E_FULL,
            ApiError::BufferTooSmall => E_BUFFER_TOO_SMALL,
            ApiError::Malformed => E_MALFORMED,
            ApiError::UnknownOp => E_UNKNOWN_OP,
            ApiError::Limit => E_LIMIT,
        }
    }

    /// The error with status code `code`, if any.
    pub fn from_code(code: i32) -> Option<ApiError> {
        ApiError::ALL.into_iter().find(|e| e.code() == code)
    }

    /// How this answer is reported: normal answers are `Ok`, caps `Limit`, bad input `Error`.
    pub fn event_result(self, detail: impl Into<String>) -> EventResult {
        match self {
            ApiError::NotFound | ApiError::BufferTooSmall => EventResult::Ok,
            ApiError::TooLarge | ApiError::Full | ApiError::Limit => {
                EventResult::Limit(detail.into())
            }
            ApiError::Malformed | ApiError::UnknownOp => EventResult::Error(detail.into()),
        }
    }
}

/// `Err(TooLarge)` for a key longer than [`MAX_KEY`].
pub fn check_key(len: u64) -> Result<(), ApiError> {
    if len > u64::from(MAX_KEY) {
        return Err(ApiError::TooLarge);
    }
    Ok(())
}

/// `Err(TooLarge)` for a value longer than [`MAX_VALUE`].
pub fn check_value(len: u64) -> Result<(), ApiError> {
    if len > u64::from(MAX_VALUE) {
        return Err(ApiError::TooLarge);
    }
    Ok(())
}

/// `Err(TooLarge)` for a log line longer than [`MAX_LOG_LINE`].
pub fn check_log(len: u64) -> Result<(), ApiError> {
    if len > u64::from(MAX_LOG_LINE) {
        return Err(ApiError::TooLarge);
    }
    Ok(())
}

/// A log line as it appears on stderr: `[plugin log] <line>\n`.
pub fn log_line(line: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(log_line_len(line.len()));
    bytes.extend_from_slice(LOG_PREFIX);
    bytes.extend_from_slice(line);
    bytes.push(b'\n');
    bytes
}

/// Bytes of a log line of `len` bytes on stderr (prefix and newline included); what counts toward
/// `limits.output`.
pub const fn log_line_len(len: usize) -> usize {
    LOG_PREFIX.len() + len + 1
}

/// One run's key-value store: at most [`MAX_ENTRIES`] keys of at most [`MAX_KEY`] bytes, values of at
/// most [`MAX_VALUE`].
#[derive(Clone, Debug, Default)]
pub struct KvStore {
    map: HashMap<Vec<u8>, Vec<u8>>,
}

impl KvStore {
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// The value under `key`: `TooLarge` for an oversized key, `NotFound` when absent.
    pub fn get(&self, key: &[u8]) -> Result<&[u8], ApiError> {
        check_key(key.len() as u64)?;
        self.map
            .get(key)
            .map(Vec::as_slice)
            .ok_or(ApiError::NotFound)
    }

    /// The value under `key` if it fits `cap` bytes: `BufferTooSmall` when it does not.
    pub fn get_within(&self, key: &[u8], cap: u64) -> Result<&[u8], ApiError> {
        let value = self.get(key)?;
        if value.len() as u64 > cap {
            return Err(ApiError::BufferTooSmall);
        }
        Ok(value)
    }

    /// Stores `value` under `key`: `TooLarge` for an oversized key or value, `Full` for a new key
    /// when the store holds [`MAX_ENTRIES`] keys (replacing an existing key always works).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), ApiError> {
        check_key(key.len() as u64)?;
        check_value(value.len() as u64)?;
        if let Some(v) = self.map.get_mut(key) {
            v.clear();
            v.extend_from_slice(value);
            return Ok(());
        }
        if self.map.len() >= MAX_ENTRIES {
            return Err(ApiError::Full);
        }
        self.map.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    /// Keys stored.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Bytes of keys and values stored (at most [`MAX_STORE_BYTES`]).
    pub fn bytes(&self) -> u64 {
        self.map
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum()
    }
}

/// Where host API calls are reported: nowhere (the default, free) or an [`EventSink`].
#[derive(Clone, Default)]
pub struct Events(Option<Arc<dyn EventSink>>);

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Events(sink)"
        } else {
            "Events(none)"
        })
    }
}

impl Events {
    /// Reports to `sink`.
    pub fn to(sink: Arc<dyn EventSink>) -> Events {
        Events(Some(sink))
    }

    /// Whether events go anywhere.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Reports one call; `args` (the shape of the arguments) is only built when a sink listens.
    pub fn emit(&self, op: &str, args: impl FnOnce() -> serde_json::Value, result: EventResult) {
        if let Some(sink) = &self.0 {
            sink.event(Event {
                op: op.to_string(),
                args: args(),
                result,
            });
        }
    }

    /// Reports one call answered with status `status` (>= 0 success, else an [`ApiError`] code).
    pub fn emit_status(&self, op: &str, args: impl FnOnce() -> serde_json::Value, status: i32) {
        if !self.is_on() {
            return;
        }
        let result = match ApiError::from_code(status) {
            Some(e) => e.event_result(format!("{op}: {e}")),
            None => EventResult::Ok,
        };
        self.emit(
            op,
            || {
                let mut a = args();
                if let Some(m) = a.as_object_mut() {
                    m.insert("status".into(), status.into());
                }
                a
            },
            result,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::events::Recorded;

    #[test]
    fn codes_round_trip_and_match_the_wasm_abi() {
        for e in ApiError::ALL {
            assert_eq!(ApiError::from_code(e.code()), Some(e));
        }
        assert_eq!(ApiError::from_code(0), None);
        assert_eq!(
            [E_NOT_FOUND, E_TOO_LARGE, E_FULL, E_BUFFER_TOO_SMALL],
            [-1, -2, -3, -4]
        );
    }

    #[test]
    fn store_caps() {
        let mut kv = KvStore::new();
        assert_eq!(kv.get(b"k"), Err(ApiError::NotFound));
        assert_eq!(kv.get(&[0; MAX_KEY as usize + 1]), Err(ApiError::TooLarge));
        assert_eq!(
            kv.put(b"k", &vec![0; MAX_VALUE as usize + 1]),
            Err(ApiError::TooLarge)
        );
        kv.put(b"k", b"value").unwrap();
        assert_eq!(kv.get_within(b"k", 4), Err(ApiError::BufferTooSmall));
        assert_eq!(kv.get_within(b"k", 5), Ok(&b"value"[..]));
        for i in 1..MAX_ENTRIES {
            kv.put(format!("{i}").as_bytes(), b"").unwrap();
        }
        assert_eq!(kv.len(), MAX_ENTRIES);
        assert_eq!(kv.put(b"new", b""), Err(ApiError::Full));
        // Replacing an existing key still works when full.
        kv.put(b"k", b"v2").unwrap();
        assert_eq!(kv.get(b"k"), Ok(&b"v2"[..]));
        assert_eq!(
            kv.bytes(),
            1 + 2
                + (1..MAX_ENTRIES)
                    .map(|i| format!("{i}").len() as u64)
                    .sum::<u64>()
        );
    }

    #[test]
    fn log_lines_and_events() {
        assert_eq!(log_line(b"hi"), b"[plugin log] hi\n");
        assert_eq!(log_line_len(2), log_line(b"hi").len());
        assert_eq!(check_log(u64::from(MAX_LOG_LINE)), Ok(()));
        assert_eq!(
            check_log(u64::from(MAX_LOG_LINE) + 1),
            Err(ApiError::TooLarge)
        );
        let rec = Arc::new(Recorded::default());
        let ev = Events::to(rec.clone());
        ev.emit_status("kv_get", || serde_json::json!({"key": 3}), E_NOT_FOUND);
        ev.emit_status("kv_put", || serde_json::json!({"key": 3}), E_FULL);
        ev.emit_status("log", || serde_json::json!({"bytes": 2}), 0);
        let got = rec.take();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].result, EventResult::Ok);
        assert_eq!(got[0].args["status"], -1);
        assert!(matches!(got[1].result, EventResult::Limit(_)));
        assert_eq!(got[2].result, EventResult::Ok);
        // No sink: nothing is built.
        Events::default().emit("log", || unreachable!(), EventResult::Ok);
    }
}
