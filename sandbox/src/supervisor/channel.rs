//! The message channel of process plugins: the host API of the wasm backend (`log`, `kv_get`,
//! `kv_put`, see [`crate::hostapi`]) served over one end of a Unix stream socket pair, which the plugin
//! finds at descriptor 3 ([`crate::process::CHANNEL_FD`]).
//!
//! # Protocol
//!
//! Both directions are a stream of frames: a length `u32` (little-endian) counting the bytes that
//! follow, then that many bytes. All integers are little-endian.
//!
//! ```text
//! request:   len:u32 | op:u8 | id:u32 | fields
//!     op 1 log      msg_len:u32 | msg                     (msg_len <= 4096)
//!     op 2 kv_get   key_len:u16 | key | val_cap:u32         (key_len <= 256)
//!     op 3 kv_put   key_len:u16 | key | val_len:u32 | value (key_len <= 256, val_len <= 65536)
//! response:  len:u32 | id:u32 | status:i32 | payload
//! ```
//!
//! * `len` of a request is at most [`MAX_FRAME`] (65 803: the largest `kv_put`); of a response at
//!   most [`MAX_RESPONSE`].
//! * `id` is chosen by the plugin, non-zero, and echoed in the response; the server keeps no state
//!   per id. Responses come in request order, one per request frame.
//! * `status` is `>= 0` on success: 0 for `log` and `kv_put`, the value's length for `kv_get` (the
//!   value is the payload). Negative codes are the wasm API's ([`hostapi::E_NOT_FOUND`] -1,
//!   `E_TOO_LARGE` -2, `E_FULL` -3, `E_BUFFER_TOO_SMALL` -4 when the value is longer than
//!   `val_cap`) plus the channel's own: [`hostapi::E_MALFORMED`] -5, [`hostapi::E_UNKNOWN_OP`] -6,
//!   [`hostapi::E_LIMIT`] -7. Error responses have no payload.
//! * Lengths inside a frame must add up to the frame's `len` exactly: a frame shorter than 5 bytes,
//!   an id of 0 (reserved), or field lengths that disagree with `len` are answered `E_MALFORMED`; an
//!   op other than 1-3 `E_UNKNOWN_OP`. The frame is consumed whole, so the stream stays in step and
//!   the server goes on. A response to a frame whose id cannot be read carries id 0.
//! * Honest but oversized fields (a 300-byte key in a consistent frame) are `E_TOO_LARGE`, as in wasm,
//!   as long as the frame is within [`MAX_FRAME`] (a 257-byte key with a 64 KiB value is not: see the
//!   next point).
//! * A length prefix over [`MAX_FRAME`] cannot be skipped safely (a 4 GiB claim): the server answers
//!   id 0 `E_TOO_LARGE` and closes its end. So does a stream that ends inside a frame (`E_MALFORMED`
//!   for the truncated frame, then the server closes).
//! * Per run, at most `max_requests` frames are served (the policy's `wasm.max_host_calls`); the next
//!   one is answered `E_LIMIT` and the server closes. Log lines (prefix and newline included, as on
//!   stderr) share a budget of `max_log_bytes` (the policy's `limits.output`): a line over it is
//!   answered `E_LIMIT` and dropped.
//! * Descriptors or credentials sent as ancillary data are never installed in the supervisor (the
//!   server receives with no control buffer, so the kernel drops them) and each occurrence counts as
//!   an error.
//! * The server never buffers more than one request frame plus [`SEND_BUFFER`] bytes of responses
//!   ([`MAX_BUFFERED`]). A plugin that does not read its responses until they pass that is cut off:
//!   the server closes its end.
//!
//! # Lifetime
//!
//! [`ChannelServer::start`] makes the socket pair and a server thread; the caller hands the plugin end
//! to `ProcessSandbox::run_with` and drops its own copy once the run is over. The thread ends when the
//! plugin's end is closed everywhere (EOF), when it closes the channel for one of the reasons above, at
//! the limits' deadline, or at [`ChannelServer::finish`], which first serves what the plugin sent
//! before it ended (bounded) and returns the [`ChannelReport`]. Everything goes through `poll` with the
//! deadline: a plugin that neither reads nor writes cannot hold the server past it.
//!
//! Every frame is reported to the caller's [`EventSink`]: `log`/`kv_get`/`kv_put` with the sizes of
//! their fields and the status, or `channel` for a frame that did not parse, a cap, or ancillary data.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmsg, send, MsgFlags};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::events::{EventResult, EventSink};
use crate::hostapi::{self, ApiError, Events, KvStore, MAX_KEY, MAX_VALUE};
use crate::outcome::{Limit, Outcome};
use crate::policy::Policy;

/// Bytes of the length prefix.
pub const LEN_PREFIX: usize = 4;
/// Bytes of a request's op and id.
pub const REQUEST_HEADER: usize = 5;
/// Bytes of a response's id and status.
pub const RESPONSE_HEADER: usize = 8;
/// Largest request frame (the bytes after the length prefix): a `kv_put` of the largest key and value.
pub const MAX_FRAME: u32 = (REQUEST_HEADER + 2 + MAX_KEY as usize + 4 + MAX_VALUE as usize) as u32;
/// Largest response frame (after the length prefix): a `kv_get` of the largest value.
pub const MAX_RESPONSE: u32 = RESPONSE_HEADER as u32 + MAX_VALUE;
/// Response bytes the server holds for a plugin that does not read them, beyond the kernel's buffer.
pub const SEND_BUFFER: usize = 256 << 10;
/// Most bytes the server ever buffers: one request frame, and the pending responses (it stops taking
/// requests once they pass [`SEND_BUFFER`], so they exceed it by one response at most).
pub const MAX_BUFFERED: usize =
    LEN_PREFIX + MAX_FRAME as usize + SEND_BUFFER + LEN_PREFIX + MAX_RESPONSE as usize;
/// The server's deadline beyond the run's wall time, in [`ChannelLimits::from_policy`].
pub const DEADLINE_GRACE: Duration = Duration::from_secs(1);
/// Bytes read after [`ChannelServer::finish`] asked the server to stop (what the plugin sent before it
/// ended; a plugin still running cannot keep the server reading forever).
const DRAIN_BUDGET: usize = 8 << 20;
/// Reads per wake-up before the server looks at its stop signal and deadline again.
const READS_PER_WAKE: usize = 16;

pub const OP_LOG: u8 = 1;
pub const OP_KV_GET: u8 = 2;
pub const OP_KV_PUT: u8 = 3;

/// One parsed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Log { msg: &'a [u8] },
    KvGet { key: &'a [u8], cap: u32 },
    KvPut { key: &'a [u8], value: &'a [u8] },
}

impl Request<'_> {
    pub fn op(&self) -> &'static str {
        match self {
            Request::Log { .. } => "log",
            Request::KvGet { .. } => "kv_get",
            Request::KvPut { .. } => "kv_put",
        }
    }

    /// The shape of the arguments, for events.
    fn shape(&self) -> serde_json::Value {
        match self {
            Request::Log { msg } => json!({ "bytes": msg.len() }),
            Request::KvGet { key, cap } => json!({ "key": key.len(), "cap": cap }),
            Request::KvPut { key, value } => json!({ "key": key.len(), "value": value.len() }),
        }
    }
}

/// A frame that does not parse: what to answer and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The id to answer with (0 when the frame has none, or claims 0).
    pub id: u32,
    /// `Malformed` or `UnknownOp`.
    pub error: ApiError,
    pub reason: String,
}

/// Parses one request frame (the bytes after the length prefix).
pub fn parse_request(frame: &[u8]) -> Result<(u32, Request<'_>), Malformed> {
    let bad = |id: u32, reason: String| Malformed {
        id,
        error: ApiError::Malformed,
        reason,
    };
    if frame.len() < REQUEST_HEADER {
        return Err(bad(
            0,
            format!(
                "short frame: {} bytes, a request has at least {REQUEST_HEADER}",
                frame.len()
            ),
        ));
    }
    let op = frame[0];
    let id = u32::from_le_bytes([frame[1], frame[2], frame[3], frame[4]]);
    if id == 0 {
        return Err(bad(0, "request id 0 is reserved".into()));
    }
    let mut f = Fields {
        rest: &frame[REQUEST_HEADER..],
    };
    let lie = |what: &str, claimed: u64, rest: usize| {
        bad(
            id,
            format!("{what} length {claimed} disagrees with the frame ({rest} bytes left)"),
        )
    };
    let req = match op {
        OP_LOG => {
            let n = f
                .u32()
                .ok_or_else(|| lie("log: message", 0, f.rest.len()))?;
            let msg = f
                .exact(n as usize)
                .ok_or_else(|| lie("log: message", n.into(), f.rest.len()))?;
            Request::Log { msg }
        }
        OP_KV_GET => {
            let n = f.u16().ok_or_else(|| lie("kv_get: key", 0, f.rest.len()))?;
            let key = f
                .take(n as usize)
                .ok_or_else(|| lie("kv_get: key", n.into(), f.rest.len()))?;
            let cap = f
                .u32()
                .ok_or_else(|| lie("kv_get: val_cap", 4, f.rest.len()))?;
            if !f.rest.is_empty() {
                return Err(lie("kv_get: key", n.into(), f.rest.len() + n as usize + 4));
            }
            Request::KvGet { key, cap }
        }
        OP_KV_PUT => {
            let n = f.u16().ok_or_else(|| lie("kv_put: key", 0, f.rest.len()))?;
            let key = f
                .take(n as usize)
                .ok_or_else(|| lie("kv_put: key", n.into(), f.rest.len()))?;
            let v = f
                .u32()
                .ok_or_else(|| lie("kv_put: value", 0, f.rest.len()))?;
            let value = f
                .exact(v as usize)
                .ok_or_else(|| lie("kv_put: value", v.into(), f.rest.len()))?;
            Request::KvPut { key, value }
        }
        other => {
            return Err(Malformed {
                id,
                error: ApiError::UnknownOp,
                reason: format!("unknown op {other:#04x}"),
            })
        }
    };
    Ok((id, req))
}

/// A cursor over a frame's fields.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Some(a)
    }
    /// The rest, which must be exactly `n` bytes.
    fn exact(&mut self, n: usize) -> Option<&'a [u8]> {
        if n != self.rest.len() {
            return None;
        }
        self.take(n)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Appends one response frame to `out`.
pub fn encode_response(out: &mut Vec<u8>, id: u32, status: i32, payload: &[u8]) {
    let len = (RESPONSE_HEADER + payload.len()) as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&status.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Appends one request frame to `out` (clients and tests; lengths are taken from the slices).
pub fn encode_request(out: &mut Vec<u8>, id: u32, req: &Request<'_>) {
    let mut body = Vec::new();
    match req {
        Request::Log { msg } => {
            body.push(OP_LOG);
            body.extend_from_slice(&id.to_le_bytes());
            body.extend_from_slice(&(msg.len() as u32).to_le_bytes());
            body.extend_from_slice(msg);
        }
        Request::KvGet { key, cap } => {
            body.push(OP_KV_GET);
            body.extend_from_slice(&id.to_le_bytes());
            body.extend_from_slice(&(key.len() as u16).to_le_bytes());
            body.extend_from_slice(key);
            body.extend_from_slice(&cap.to_le_bytes());
        }
        Request::KvPut { key, value } => {
            body.push(OP_KV_PUT);
            body.extend_from_slice(&id.to_le_bytes());
            body.extend_from_slice(&(key.len() as u16).to_le_bytes());
            body.extend_from_slice(key);
            body.extend_from_slice(&(value.len() as u32).to_le_bytes());
            body.extend_from_slice(value);
        }
    }
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
}

/// One response as read back (clients and tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub id: u32,
    pub status: i32,
    pub payload: Vec<u8>,
}

/// Splits the first response off `buf`: `Ok(None)` when more bytes are needed, `Err` when the bytes
/// cannot be a response (shorter than the header, or longer than [`MAX_RESPONSE`]).
pub fn decode_response(buf: &[u8]) -> Result<Option<(Response, usize)>, String> {
    if buf.len() < LEN_PREFIX {
        return Ok(None);
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if len < RESPONSE_HEADER as u32 || len > MAX_RESPONSE {
        return Err(format!(
            "response length {len} is outside {RESPONSE_HEADER}..={MAX_RESPONSE}"
        ));
    }
    let end = LEN_PREFIX + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    let b = &buf[LEN_PREFIX..end];
    Ok(Some((
        Response {
            id: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            status: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            payload: b[RESPONSE_HEADER..].to_vec(),
        },
        end,
    )))
}

/// The caps of one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelLimits {
    /// Frames served per run; the next is answered `E_LIMIT` and the channel closes.
    pub max_requests: u64,
    /// Bytes of log lines (as on stderr: prefix and newline included) kept per run.
    pub max_log_bytes: u64,
    /// When the server stops on its own, whatever the plugin does.
    pub deadline: Option<Instant>,
}

impl ChannelLimits {
    /// The caps a run under `policy` starting at `start` gets: `wasm.max_host_calls` requests, log
    /// bytes within `limits.output`, and a deadline [`DEADLINE_GRACE`] after the wall time.
    pub fn from_policy(policy: &Policy, start: Instant) -> ChannelLimits {
        ChannelLimits {
            max_requests: policy.wasm.max_host_calls,
            max_log_bytes: policy.limits.output.0,
            deadline: Some(start + policy.limits.wall_time.0 + DEADLINE_GRACE),
        }
    }
}

/// Why the server stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Closed {
    /// Still running (only in a report taken before the end).
    #[default]
    Open,
    /// The plugin's end was closed everywhere (possibly inside a frame: see `errors`).
    Eof,
    /// [`ChannelServer::finish`] (the run is over).
    Stopped,
    /// The limits' deadline passed.
    Deadline,
    /// A length prefix over [`MAX_FRAME`].
    OversizedFrame,
    /// More than `max_requests` frames.
    RequestCap,
    /// The plugin did not read its responses and they passed [`SEND_BUFFER`].
    SendBufferFull,
    /// A socket error (see `io_error`).
    Io,
}

/// What one channel served.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelStats {
    /// Request frames received, well-formed or not (at most `max_requests + 1`).
    pub requests: u64,
    /// Answered normally (including "not found" and "buffer too small").
    pub ok: u64,
    /// Malformed input: frames that did not parse, an unknown op, a truncated or oversized frame,
    /// ancillary data.
    pub errors: u64,
    /// Caps reached: a key, value or log line too large, the store full, the log budget, the request
    /// cap, the send buffer.
    pub limited: u64,
    /// Log lines kept, and their bytes on stderr (prefix and newline included).
    pub log_lines: u64,
    pub log_bytes: u64,
    /// Log lines dropped because the budget was spent.
    pub log_refused: u64,
    /// Keys in the store at the end, and their bytes with the values'.
    pub kv_entries: u64,
    pub kv_bytes: u64,
    /// Bytes read from and written to the plugin.
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Times the plugin attached descriptors or credentials (dropped by the kernel, never installed).
    pub ancillary_refused: u64,
    /// Most bytes the server held at once (request buffer plus pending responses; <= [`MAX_BUFFERED`]).
    pub max_buffered: u64,
    pub closed: Closed,
    /// The socket error, when `closed` is `io`.
    pub io_error: Option<String>,
}

/// The end of a channel: its stats and the log lines kept (`[plugin log] ...\n` each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelReport {
    pub stats: ChannelStats,
    pub log: Vec<u8>,
}

impl ChannelReport {
    /// Adds the channel to a run's Outcome: its frames to `usage.host_calls`, its log lines to the end
    /// of `stderr` within `output_cap` (stdout, stderr and log together; what does not fit is cut and
    /// `output_truncated` set), and `output` to `limits_hit` when log bytes were cut or refused.
    pub fn apply(&self, outcome: &mut Outcome, output_cap: u64) {
        outcome.usage.host_calls = outcome.usage.host_calls.saturating_add(self.stats.requests);
        let used = (outcome.stdout.len() + outcome.stderr.len()) as u64;
        let room = output_cap.saturating_sub(used) as usize;
        let keep = self.log.len().min(room);
        outcome.stderr.extend_from_slice(&self.log[..keep]);
        if keep < self.log.len() || self.stats.log_refused > 0 {
            if keep < self.log.len() {
                outcome.output_truncated = true;
            }
            if !outcome.usage.limits_hit.contains(&Limit::Output) {
                outcome.usage.limits_hit.push(Limit::Output);
            }
        }
    }
}

/// The protocol without the socket: frames in, responses out, the store, the caps, the events.
pub struct Session {
    limits: ChannelLimits,
    kv: KvStore,
    events: Events,
    stats: ChannelStats,
    log: Vec<u8>,
    /// Set when the session must end after the responses written so far.
    close: Option<Closed>,
}

impl Session {
    pub fn new(limits: ChannelLimits, sink: Arc<dyn EventSink>) -> Session {
        Session {
            limits,
            kv: KvStore::new(),
            events: Events::to(sink),
            stats: ChannelStats::default(),
            log: Vec::new(),
            close: None,
        }
    }

    /// Why the session must end, once it must.
    pub fn closing(&self) -> Option<Closed> {
        self.close
    }

    pub fn stats(&self) -> &ChannelStats {
        &self.stats
    }

    fn channel_event(&mut self, args: serde_json::Value, result: EventResult) {
        match &result {
            EventResult::Error(_) => self.stats.errors += 1,
            EventResult::Limit(_) | EventResult::Denied(_) => self.stats.limited += 1,
            EventResult::Ok => self.stats.ok += 1,
        }
        self.events.emit("channel", || args, result);
    }

    /// Handles one complete request frame (the bytes after the length prefix), appending exactly one
    /// response to `out`.
    pub fn frame(&mut self, frame: &[u8], out: &mut Vec<u8>) {
        if self.close.is_some() {
            return;
        }
        self.stats.requests += 1;
        if self.stats.requests > self.limits.max_requests {
            let id = parse_request(frame).map_or_else(|m| m.id, |(id, _)| id);
            encode_response(out, id, hostapi::E_LIMIT, &[]);
            let max = self.limits.max_requests;
            self.channel_event(
                json!({ "frame": frame.len() }),
                EventResult::Limit(format!("more than {max} requests (wasm.max_host_calls)")),
            );
            self.close = Some(Closed::RequestCap);
            return;
        }
        let (id, req) = match parse_request(frame) {
            Ok(r) => r,
            Err(m) => {
                encode_response(out, m.id, m.error.code(), &[]);
                let op = frame.first().copied();
                self.channel_event(
                    json!({ "frame": frame.len(), "op": op }),
                    EventResult::Error(m.reason),
                );
                return;
            }
        };
        let status = match req {
            Request::Log { msg } => self.log(msg),
            Request::KvGet { key, cap } => match self.kv.get_within(key, u64::from(cap)) {
                Ok(value) => {
                    // A value is at most MAX_VALUE bytes: its length fits an i32.
                    encode_response(out, id, value.len() as i32, value);
                    self.stats.ok += 1;
                    self.events
                        .emit_status("kv_get", || req.shape(), value.len() as i32);
                    return;
                }
                Err(e) => Err(e),
            },
            Request::KvPut { key, value } => self.kv.put(key, value),
        };
        let code = match status {
            Ok(()) => 0,
            Err(e) => e.code(),
        };
        encode_response(out, id, code, &[]);
        match status.map_err(|e| e.event_result("")) {
            Ok(()) | Err(EventResult::Ok) => self.stats.ok += 1,
            Err(EventResult::Error(_)) => self.stats.errors += 1,
            Err(_) => self.stats.limited += 1,
        }
        self.events.emit_status(req.op(), || req.shape(), code);
    }

    fn log(&mut self, msg: &[u8]) -> Result<(), ApiError> {
        hostapi::check_log(msg.len() as u64)?;
        let n = hostapi::log_line_len(msg.len()) as u64;
        if self.stats.log_bytes + n > self.limits.max_log_bytes {
            self.stats.log_refused += 1;
            return Err(ApiError::Limit);
        }
        self.log.extend_from_slice(&hostapi::log_line(msg));
        self.stats.log_lines += 1;
        self.stats.log_bytes += n;
        Ok(())
    }

    /// A length prefix over [`MAX_FRAME`]: answered, and the session ends.
    pub fn oversized(&mut self, len: u32, out: &mut Vec<u8>) {
        if self.close.is_some() {
            return;
        }
        self.stats.requests += 1;
        encode_response(out, 0, hostapi::E_TOO_LARGE, &[]);
        self.channel_event(
            json!({ "frame": len }),
            EventResult::Error(format!(
                "frame of {len} bytes is over the cap of {MAX_FRAME}"
            )),
        );
        self.close = Some(Closed::OversizedFrame);
    }

    /// The stream ended (`why`: EOF, or the run is over) inside a frame, of which `partial` (prefix
    /// included) arrived: answered, and the session ends.
    pub fn truncated(&mut self, partial: &[u8], why: Closed, out: &mut Vec<u8>) {
        if self.close.is_some() || partial.is_empty() {
            return;
        }
        self.stats.requests += 1;
        let want = if partial.len() >= LEN_PREFIX {
            let l = u32::from_le_bytes([partial[0], partial[1], partial[2], partial[3]]);
            format!("{} bytes", LEN_PREFIX as u64 + u64::from(l))
        } else {
            "a length prefix".into()
        };
        let id = match partial.get(LEN_PREFIX + 1..LEN_PREFIX + REQUEST_HEADER) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        };
        encode_response(out, id, hostapi::E_MALFORMED, &[]);
        self.channel_event(
            json!({ "received": partial.len() }),
            EventResult::Error(format!(
                "truncated frame: the stream ended after {} of {want}",
                partial.len()
            )),
        );
        self.close = Some(why);
    }

    /// The plugin attached descriptors or credentials to its data.
    pub fn ancillary(&mut self) {
        self.stats.ancillary_refused += 1;
        self.channel_event(
            json!({}),
            EventResult::Error("ancillary data (descriptors or credentials) refused".into()),
        );
    }

    /// A cap of the connection itself (the send buffer): reported, and the session ends.
    fn cut_off(&mut self, why: Closed, detail: String) {
        self.channel_event(json!({}), EventResult::Limit(detail));
        self.close = Some(why);
    }

    /// The report, with the store's final size.
    pub fn into_report(mut self, closed: Closed) -> ChannelReport {
        self.stats.kv_entries = self.kv.len() as u64;
        self.stats.kv_bytes = self.kv.bytes();
        if self.stats.closed == Closed::Open {
            self.stats.closed = self.close.unwrap_or(closed);
        }
        ChannelReport {
            stats: self.stats,
            log: self.log,
        }
    }
}

/// Request bytes received but not yet handled: at most one frame.
struct Inbox {
    buf: Box<[u8]>,
    filled: usize,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox {
            buf: vec![0; LEN_PREFIX + MAX_FRAME as usize].into_boxed_slice(),
            filled: 0,
        }
    }

    /// The bytes of an incomplete frame, when that is all the buffer holds.
    fn partial(&self) -> Option<&[u8]> {
        let b = &self.buf[..self.filled];
        if b.is_empty() {
            return None;
        }
        if b.len() >= LEN_PREFIX {
            let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if len > MAX_FRAME || b.len() >= LEN_PREFIX + len as usize {
                return None;
            }
        }
        Some(b)
    }

    /// Handles the complete frames in the buffer while `out` holds at most `out_cap` bytes; stops at an
    /// oversized prefix or a closing session. Frames left wait for the responses to drain.
    fn handle(&mut self, session: &mut Session, out: &mut Vec<u8>, out_cap: usize) {
        let mut at = 0;
        while session.closing().is_none() && out.len() <= out_cap {
            let rest = &self.buf[at..self.filled];
            if rest.len() < LEN_PREFIX {
                break;
            }
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            if len > MAX_FRAME {
                session.oversized(len, out);
                break;
            }
            let end = LEN_PREFIX + len as usize;
            if rest.len() < end {
                break;
            }
            session.frame(&rest[LEN_PREFIX..end], out);
            at += end;
        }
        self.buf.copy_within(at..self.filled, 0);
        self.filled -= at;
    }
}

/// Errors of starting or finishing a channel (never of what the plugin sends).
#[derive(Debug, thiserror::Error)]
#[error("message channel: {what}: {kind}")]
pub struct ChannelError {
    pub what: &'static str,
    pub kind: ChannelErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelErrorKind {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the server thread panicked")]
    Panicked,
}

/// A running channel server (one per run).
pub struct ChannelServer {
    stop: Option<UnixStream>,
    thread: Option<JoinHandle<ChannelReport>>,
    done: Receiver<()>,
}

impl std::fmt::Debug for ChannelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelServer").finish_non_exhaustive()
    }
}

impl ChannelServer {
    /// Makes the socket pair and starts serving the server end on a thread of its own; returns the
    /// server and the plugin's end (for `RunExtras::channel`; drop it once the run is over).
    pub fn start(
        limits: ChannelLimits,
        sink: Arc<dyn EventSink>,
    ) -> Result<(ChannelServer, OwnedFd), ChannelError> {
        let err = |what| {
            move |e: std::io::Error| ChannelError {
                what,
                kind: e.into(),
            }
        };
        let (server, plugin) = UnixStream::pair().map_err(err("socketpair"))?;
        let (stop_tx, stop_rx) = UnixStream::pair().map_err(err("socketpair"))?;
        let (done_tx, done) = std::sync::mpsc::channel();
        let session = Session::new(limits.clone(), sink);
        let thread = std::thread::Builder::new()
            .name("gauntlet-channel".into())
            .spawn(move || serve(server, stop_rx, limits.deadline, session, done_tx))
            .map_err(err("spawn the server thread"))?;
        Ok((
            ChannelServer {
                stop: Some(stop_tx),
                thread: Some(thread),
                done,
            },
            OwnedFd::from(plugin),
        ))
    }

    /// Whether the server thread has ended, waiting up to `timeout` for it.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        !matches!(
            self.done.recv_timeout(timeout),
            Err(RecvTimeoutError::Timeout)
        )
    }

    /// Stops the server (after serving, within bounds, what the plugin sent before it ended) and
    /// returns what it served.
    pub fn finish(mut self) -> Result<ChannelReport, ChannelError> {
        self.stop.take();
        let thread = self.thread.take().expect("finish runs once");
        thread.join().map_err(|_| ChannelError {
            what: "finish",
            kind: ChannelErrorKind::Panicked,
        })
    }
}

impl Drop for ChannelServer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The server thread: poll, read, handle, write, until EOF, a close, the stop signal or the deadline.
fn serve(
    sock: UnixStream,
    stop: UnixStream,
    deadline: Option<Instant>,
    mut session: Session,
    _done: Sender<()>,
) -> ChannelReport {
    let mut inbox = Inbox::new();
    let mut out = Outbox::default();
    let mut eof = false;
    let end = loop {
        // Frames already received wait for the responses to drain below the send buffer.
        inbox.handle(&mut session, out.buf(), SEND_BUFFER);
        if eof {
            if let Some(partial) = inbox.partial() {
                session.truncated(partial, Closed::Eof, out.buf());
            }
        }
        if let Err(e) = out.flush(&sock, &inbox, &mut session) {
            break io_closed(&mut session, "send", e);
        }
        out.note(&mut session);
        if let Some(why) = session.closing() {
            // Answered and closing: flush what is pending, as far as the plugin reads it.
            if out.is_empty() || why == Closed::SendBufferFull {
                break why;
            }
        }
        if eof && out.is_empty() {
            break Closed::Eof;
        }
        let timeout = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break Closed::Deadline;
                }
                // Rounded up, so the deadline has passed when poll times out.
                PollTimeout::try_from(left.as_millis() as u64 + 1).unwrap_or(PollTimeout::MAX)
            }
            None => PollTimeout::NONE,
        };
        let reading = !eof && session.closing().is_none();
        let mut flags = PollFlags::empty();
        if reading && inbox.filled < inbox.buf.len() {
            flags |= PollFlags::POLLIN;
        }
        if !out.is_empty() {
            flags |= PollFlags::POLLOUT;
        }
        let mut fds = [
            PollFd::new(sock.as_fd(), flags),
            PollFd::new(stop.as_fd(), PollFlags::POLLIN),
        ];
        match nix::poll::poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => break io_closed(&mut session, "poll", e),
        }
        let sock_ev = fds[0].revents().unwrap_or(PollFlags::empty());
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            // The run is over: serve what already arrived (within a budget), answer what can be
            // answered, end. A frame still incomplete now will never be completed.
            let mut budget = DRAIN_BUDGET;
            while reading && !eof && session.closing().is_none() && budget > 0 {
                match receive(&sock, &mut inbox, &mut session) {
                    Ok(0) => eof = true,
                    Ok(n) => budget = budget.saturating_sub(n),
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
                inbox.handle(&mut session, out.buf(), SEND_BUFFER);
                if let Err(e) = out.flush(&sock, &inbox, &mut session) {
                    io_closed(&mut session, "send", e);
                    break;
                }
                out.note(&mut session);
            }
            let why = if eof { Closed::Eof } else { Closed::Stopped };
            if let Some(partial) = inbox.partial() {
                session.truncated(partial, why, out.buf());
            }
            let _ = out.flush(&sock, &inbox, &mut session);
            break why;
        }
        if reading
            && sock_ev.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
        {
            for _ in 0..READS_PER_WAKE {
                match receive(&sock, &mut inbox, &mut session) {
                    Ok(0) | Err(Errno::ECONNRESET) => eof = true,
                    Ok(_) => {}
                    Err(Errno::EAGAIN) => break,
                    Err(Errno::EINTR) => continue,
                    Err(e) => {
                        let why = io_closed(&mut session, "recvmsg", e);
                        return session.into_report(why);
                    }
                }
                inbox.handle(&mut session, out.buf(), SEND_BUFFER);
                if let Err(e) = out.flush(&sock, &inbox, &mut session) {
                    let why = io_closed(&mut session, "send", e);
                    return session.into_report(why);
                }
                out.note(&mut session);
                if eof || session.closing().is_some() {
                    break;
                }
            }
        }
        if let Err(e) = out.flush(&sock, &inbox, &mut session) {
            break io_closed(&mut session, "send", e);
        }
    };
    session.into_report(end)
}

fn io_closed(session: &mut Session, what: &str, e: Errno) -> Closed {
    session.stats.io_error = Some(format!("{what}: {}", e.desc()));
    Closed::Io
}

/// Reads once into the inbox's free space, without a control buffer: descriptors the plugin attaches
/// are dropped by the kernel (never installed here) and flagged with `MSG_CTRUNC`.
fn receive(sock: &UnixStream, inbox: &mut Inbox, session: &mut Session) -> Result<usize, Errno> {
    let spare = &mut inbox.buf[inbox.filled..];
    if spare.is_empty() {
        // Cannot happen: a full inbox holds a whole frame, handled before the next read.
        return Err(Errno::EAGAIN);
    }
    let mut iov = [IoSliceMut::new(spare)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        None,
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let (n, flags) = (msg.bytes, msg.flags);
    if flags.contains(MsgFlags::MSG_CTRUNC) {
        session.ancillary();
    }
    inbox.filled += n;
    session.stats.bytes_in += n as u64;
    Ok(n)
}

/// Responses not yet written.
#[derive(Default)]
struct Outbox {
    buf: Vec<u8>,
    sent: usize,
    /// The plugin's end no longer takes responses (closed or shut down for reading): they are
    /// dropped, and its requests are still served until EOF (its log lines and stores count).
    dead: bool,
}

impl Outbox {
    fn is_empty(&self) -> bool {
        self.sent == self.buf.len()
    }
    fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }
    /// The pending responses, to append to (what was sent is dropped first).
    fn buf(&mut self) -> &mut Vec<u8> {
        if self.dead {
            self.buf.clear();
        } else {
            self.buf.drain(..self.sent);
        }
        self.sent = 0;
        &mut self.buf
    }
    /// Cuts the plugin off when its unread responses pass the send buffer (after a flush).
    fn note(&mut self, session: &mut Session) {
        if self.pending() > SEND_BUFFER {
            self.buf.clear();
            self.sent = 0;
            session.cut_off(
                Closed::SendBufferFull,
                format!("the plugin left more than {SEND_BUFFER} bytes of responses unread"),
            );
        }
    }
    /// Writes what the socket takes now (after recording how much is held, with the inbox's bytes).
    fn flush(
        &mut self,
        sock: &UnixStream,
        inbox: &Inbox,
        session: &mut Session,
    ) -> Result<(), Errno> {
        let held = (inbox.filled + self.pending()) as u64;
        session.stats.max_buffered = session.stats.max_buffered.max(held);
        while !self.is_empty() {
            match send(
                sock.as_raw_fd(),
                &self.buf[self.sent..],
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
            ) {
                Ok(n) => {
                    self.sent += n;
                    session.stats.bytes_out += n as u64;
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(Errno::EPIPE) | Err(Errno::ECONNRESET) => {
                    self.dead = true;
                    self.buf.clear();
                    self.sent = 0;
                }
                Err(e) => return Err(e),
            }
        }
        if self.is_empty() {
            self.buf.clear();
            self.sent = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostapi::{
        E_BUFFER_TOO_SMALL, E_FULL, E_LIMIT, E_MALFORMED, E_NOT_FOUND, E_TOO_LARGE, E_UNKNOWN_OP,
    };
    use crate::supervisor::events::Recorded;

    fn limits() -> ChannelLimits {
        ChannelLimits {
            max_requests: 100,
            max_log_bytes: 1000,
            deadline: None,
        }
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = (body.len() as u32).to_le_bytes().to_vec();
        f.extend_from_slice(body);
        f
    }

    fn responses(mut buf: &[u8]) -> Vec<Response> {
        let mut v = Vec::new();
        while let Some((r, n)) = decode_response(buf).unwrap() {
            v.push(r);
            buf = &buf[n..];
        }
        assert!(buf.is_empty(), "trailing bytes {buf:?}");
        v
    }

    /// Feeds `bytes` through an inbox and a session, as the server does.
    fn run(session: &mut Session, bytes: &[u8]) -> Vec<Response> {
        let mut inbox = Inbox::new();
        let mut out = Vec::new();
        for chunk in bytes.chunks(7) {
            if session.closing().is_some() {
                break;
            }
            inbox.buf[inbox.filled..inbox.filled + chunk.len()].copy_from_slice(chunk);
            inbox.filled += chunk.len();
            inbox.handle(session, &mut out, usize::MAX);
        }
        responses(&out)
    }

    #[test]
    fn requests_round_trip() {
        let mut bytes = Vec::new();
        encode_request(&mut bytes, 1, &Request::Log { msg: b"hello" });
        encode_request(&mut bytes, 2, &Request::KvGet { key: b"k", cap: 10 });
        encode_request(
            &mut bytes,
            3,
            &Request::KvPut {
                key: b"k",
                value: b"value",
            },
        );
        encode_request(&mut bytes, 4, &Request::KvGet { key: b"k", cap: 10 });
        encode_request(&mut bytes, 5, &Request::KvGet { key: b"k", cap: 4 });
        let rec = Arc::new(Recorded::default());
        let mut s = Session::new(limits(), rec.clone());
        let r = run(&mut s, &bytes);
        let got: Vec<(u32, i32, &[u8])> =
            r.iter().map(|r| (r.id, r.status, &r.payload[..])).collect();
        assert_eq!(
            got,
            vec![
                (1, 0, &b""[..]),
                (2, E_NOT_FOUND, b""),
                (3, 0, b""),
                (4, 5, b"value"),
                (5, E_BUFFER_TOO_SMALL, b""),
            ]
        );
        let report = s.into_report(Closed::Eof);
        assert_eq!(report.log, b"[plugin log] hello\n");
        assert_eq!(report.stats.ok, 5);
        assert_eq!(report.stats.errors + report.stats.limited, 0);
        assert_eq!(report.stats.kv_entries, 1);
        let ops: Vec<String> = rec.take().into_iter().map(|e| e.op).collect();
        assert_eq!(ops, ["log", "kv_get", "kv_put", "kv_get", "kv_get"]);
    }

    #[test]
    fn malformed_frames_are_answered_and_the_stream_stays_in_step() {
        let mut log = vec![OP_LOG];
        log.extend_from_slice(&9u32.to_le_bytes());
        let cases: Vec<(Vec<u8>, u32, i32)> = vec![
            (vec![], 0, E_MALFORMED),                               // empty frame
            (vec![OP_LOG, 1, 0], 0, E_MALFORMED),                   // short frame
            (vec![OP_LOG, 0, 0, 0, 0, 0, 0, 0, 0], 0, E_MALFORMED), // id 0
            (vec![0x7f, 9, 0, 0, 0], 9, E_UNKNOWN_OP),              // unknown op
            (
                [log.clone(), 100u32.to_le_bytes().to_vec(), b"abc".to_vec()].concat(),
                9,
                E_MALFORMED,
            ), // msg_len lies (long)
            (
                [log.clone(), 1u32.to_le_bytes().to_vec(), b"abc".to_vec()].concat(),
                9,
                E_MALFORMED,
            ), // msg_len lies (short)
            (
                [log.clone(), u32::MAX.to_le_bytes().to_vec()].concat(),
                9,
                E_MALFORMED,
            ), // "negative" length
            (
                vec![OP_KV_GET, 9, 0, 0, 0, 0xff, 0xff, 1, 2],
                9,
                E_MALFORMED,
            ), // key_len lies
            (
                vec![OP_KV_GET, 9, 0, 0, 0, 1, 0, b'k', 1, 0, 0, 0, 0],
                9,
                E_MALFORMED,
            ), // trailing byte
            (
                vec![OP_KV_PUT, 9, 0, 0, 0, 1, 0, b'k', 5, 0, 0, 0, b'v'],
                9,
                E_MALFORMED,
            ), // val_len lies
        ];
        let mut bytes = Vec::new();
        for (body, _, _) in &cases {
            bytes.extend(frame(body));
        }
        encode_request(
            &mut bytes,
            77,
            &Request::Log {
                msg: b"still in step",
            },
        );
        let mut s = Session::new(limits(), Arc::new(Recorded::default()));
        let r = run(&mut s, &bytes);
        assert_eq!(r.len(), cases.len() + 1);
        for (i, (body, id, code)) in cases.iter().enumerate() {
            assert_eq!((r[i].id, r[i].status), (*id, *code), "case {i}: {body:?}");
        }
        assert_eq!((r[cases.len()].id, r[cases.len()].status), (77, 0));
        let st = s.into_report(Closed::Eof).stats;
        assert_eq!(st.errors, cases.len() as u64);
        assert_eq!(st.ok, 1);
    }

    #[test]
    fn honest_oversized_fields_are_too_large() {
        let key = vec![b'k'; MAX_KEY as usize + 1];
        let mut bytes = Vec::new();
        encode_request(
            &mut bytes,
            1,
            &Request::KvPut {
                key: &key,
                value: b"v",
            },
        );
        encode_request(&mut bytes, 2, &Request::KvGet { key: &key, cap: 1 });
        let msg = vec![b'x'; hostapi::MAX_LOG_LINE as usize + 1];
        encode_request(&mut bytes, 3, &Request::Log { msg: &msg });
        let mut s = Session::new(limits(), Arc::new(Recorded::default()));
        let r = run(&mut s, &bytes);
        assert!(r.iter().all(|r| r.status == E_TOO_LARGE), "{r:?}");
        assert_eq!(s.stats().limited, 3);
    }

    #[test]
    fn an_oversized_prefix_is_answered_and_closes() {
        let mut bytes = u32::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 100]);
        encode_request(&mut bytes, 1, &Request::Log { msg: b"never" });
        let mut s = Session::new(limits(), Arc::new(Recorded::default()));
        let r = run(&mut s, &bytes);
        assert_eq!(
            r,
            vec![Response {
                id: 0,
                status: E_TOO_LARGE,
                payload: vec![]
            }]
        );
        assert_eq!(s.closing(), Some(Closed::OversizedFrame));
        // MAX_FRAME itself is fine.
        let mut s = Session::new(limits(), Arc::new(Recorded::default()));
        let mut bytes = MAX_FRAME.to_le_bytes().to_vec();
        bytes.extend([0x7f, 1, 0, 0, 0]);
        bytes.extend(vec![0u8; MAX_FRAME as usize - REQUEST_HEADER]);
        let r = run(&mut s, &bytes);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, E_UNKNOWN_OP);
        assert_eq!(s.closing(), None);
    }

    #[test]
    fn caps_on_requests_log_bytes_and_entries() {
        let mut s = Session::new(
            ChannelLimits {
                max_requests: 3,
                max_log_bytes: hostapi::log_line_len(10) as u64,
                deadline: None,
            },
            Arc::new(Recorded::default()),
        );
        let mut bytes = Vec::new();
        for id in 1..=5 {
            encode_request(&mut bytes, id, &Request::Log { msg: b"0123456789" });
        }
        let r = run(&mut s, &bytes);
        let st: Vec<i32> = r.iter().map(|r| r.status).collect();
        // One line fits the log budget; two more are refused; the fourth frame passes the request cap.
        assert_eq!(st, [0, E_LIMIT, E_LIMIT, E_LIMIT]);
        assert_eq!(s.closing(), Some(Closed::RequestCap));
        let rep = s.into_report(Closed::Eof);
        assert_eq!(rep.stats.requests, 4);
        assert_eq!(rep.stats.log_lines, 1);
        assert_eq!(rep.stats.log_refused, 2);
        assert_eq!(rep.stats.closed, Closed::RequestCap);

        let mut s = Session::new(
            ChannelLimits {
                max_requests: 10_000,
                ..limits()
            },
            Arc::new(Recorded::default()),
        );
        let mut bytes = Vec::new();
        for i in 0..=hostapi::MAX_ENTRIES as u32 {
            encode_request(
                &mut bytes,
                i + 1,
                &Request::KvPut {
                    key: &i.to_le_bytes(),
                    value: b"",
                },
            );
        }
        let r = run(&mut s, &bytes);
        assert!(r[..hostapi::MAX_ENTRIES].iter().all(|r| r.status == 0));
        assert_eq!(r[hostapi::MAX_ENTRIES].status, E_FULL);
    }

    #[test]
    fn truncated_frames_are_answered() {
        let mut s = Session::new(limits(), Arc::new(Recorded::default()));
        let mut out = Vec::new();
        s.truncated(&[5, 0], Closed::Eof, &mut out);
        assert_eq!(
            responses(&out),
            vec![Response {
                id: 0,
                status: E_MALFORMED,
                payload: vec![]
            }]
        );
        let mut s = Session::new(limits(), Arc::new(Recorded::default()));
        let mut out = Vec::new();
        s.truncated(
            &[100, 0, 0, 0, OP_LOG, 42, 0, 0, 0, 1],
            Closed::Eof,
            &mut out,
        );
        assert_eq!(responses(&out)[0].id, 42);
        assert_eq!(s.into_report(Closed::Stopped).stats.closed, Closed::Eof);
    }

    #[test]
    fn apply_merges_into_the_outcome_within_the_cap() {
        let mut o = Outcome::not_started("process", crate::Status::Exited, "");
        o.stderr = b"err\n".to_vec();
        let rep = ChannelReport {
            stats: ChannelStats {
                requests: 7,
                ..Default::default()
            },
            log: b"[plugin log] a\n[plugin log] b\n".to_vec(),
        };
        let mut a = o.clone();
        rep.apply(&mut a, 1000);
        assert_eq!(a.stderr, b"err\n[plugin log] a\n[plugin log] b\n");
        assert_eq!(a.usage.host_calls, 7);
        assert!(!a.output_truncated && a.usage.limits_hit.is_empty());
        let mut b = o.clone();
        rep.apply(&mut b, 10);
        assert_eq!(b.stderr, b"err\n[plugi");
        assert!(b.output_truncated);
        assert_eq!(b.usage.limits_hit, vec![Limit::Output]);
    }

    /// Feeds `bytes` in chunks of `chunk` and ends the stream, as the server does at EOF.
    fn run_to_eof(session: &mut Session, bytes: &[u8], chunk: usize) -> Vec<u8> {
        let mut inbox = Inbox::new();
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() && session.closing().is_none() {
            let spare = inbox.buf.len() - inbox.filled;
            let n = rest.len().min(chunk).min(spare);
            inbox.buf[inbox.filled..inbox.filled + n].copy_from_slice(&rest[..n]);
            inbox.filled += n;
            rest = &rest[n..];
            inbox.handle(session, &mut out, usize::MAX);
        }
        if let Some(p) = inbox.partial() {
            session.truncated(p, Closed::Eof, &mut out);
        }
        out
    }

    fn small_limits() -> ChannelLimits {
        ChannelLimits {
            max_requests: 64,
            max_log_bytes: 512,
            deadline: None,
        }
    }

    fn known(status: i32) -> bool {
        (0..=MAX_VALUE as i32).contains(&status) || ApiError::from_code(status).is_some()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any byte stream: no panic, every answer is a well-formed response with a known status, at
        /// most one per frame, and the caps hold.
        #[test]
        fn random_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            chunk in 1usize..300,
        ) {
            let mut s = Session::new(small_limits(), Arc::new(crate::supervisor::NoEvents));
            let out = run_to_eof(&mut s, &bytes, chunk);
            let r = responses(&out);
            let st = s.into_report(Closed::Eof).stats;
            proptest::prop_assert!(r.iter().all(|r| known(r.status)), "{r:?}");
            proptest::prop_assert_eq!(r.len() as u64, st.requests);
            proptest::prop_assert!(st.requests <= small_limits().max_requests + 1);
            proptest::prop_assert!(st.log_bytes <= small_limits().max_log_bytes);
            proptest::prop_assert_eq!(st.ok + st.errors + st.limited, st.requests);
        }

        /// Well-framed bodies of any content: each frame is answered exactly once, in order, with its
        /// id when it has a readable non-zero one, and the stream never loses step.
        #[test]
        fn framed_bodies_are_answered_in_order(
            frames in proptest::collection::vec(
                (0u8..5, 1u32..u32::MAX, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)),
                0..40,
            ),
            chunk in 1usize..300,
        ) {
            let mut bytes = Vec::new();
            for (op, id, fields) in &frames {
                let mut body = vec![*op];
                body.extend_from_slice(&id.to_le_bytes());
                body.extend_from_slice(fields);
                bytes.extend(frame(&body));
            }
            let mut s = Session::new(small_limits(), Arc::new(crate::supervisor::NoEvents));
            let r = responses(&run_to_eof(&mut s, &bytes, chunk));
            proptest::prop_assert_eq!(r.len(), frames.len());
            for (resp, (op, id, _)) in r.iter().zip(&frames) {
                proptest::prop_assert_eq!(resp.id, *id);
                if !(1..=3).contains(op) {
                    proptest::prop_assert_eq!(resp.status, hostapi::E_UNKNOWN_OP);
                }
            }
        }
    }
}
