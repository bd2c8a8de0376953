//! The channel target: byte streams from a hostile plugin through a real channel server
//! (`gauntlet_sandbox::supervisor::channel`) on a real socket pair.
//!
//! The generator ([`channel_case`]) draws up to 48 pieces - well-formed requests of every op with
//! sizes biased to the caps, forged frames (any op byte, id 0, inner lengths that lie), raw bytes, and
//! length prefixes over the cap - cuts the stream into writes at random points, and picks how the
//! client ends: closing its end, shutting down its write side, or keeping the end open until the
//! supervisor finishes the channel. Small caps (requests, log bytes) make the limits reachable.
//!
//! The oracle ([`check_channel`]): the server thread never panics and ends within its deadline; every
//! answer is a well-formed response with a known status, at most one per request frame; the caps hold
//! (requests, log bytes, keys, buffered bytes); and a stream of well-formed requests within the caps,
//! read by the client, is answered exactly once per request, in order, with its id and no error.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use gauntlet_sandbox::hostapi::{ApiError, MAX_ENTRIES, MAX_KEY, MAX_LOG_LINE, MAX_VALUE};
use gauntlet_sandbox::supervisor::channel::{
    decode_response, encode_request, ChannelLimits, ChannelServer, Request, MAX_BUFFERED,
    MAX_FRAME, SEND_BUFFER,
};
use gauntlet_sandbox::supervisor::NoEvents;

use super::{biased_u32, FuzzEnv, FuzzError};

/// The server's deadline in this target; a case must end well within it.
pub const CASE_DEADLINE: Duration = Duration::from_secs(5);
/// Bytes of answers the client keeps (more would mean the server answered far more than asked).
const READ_CAP: usize = 16 << 20;

/// How the client ends its side of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEnd {
    /// Shuts its end down both ways after the last write (as if the plugin closed it and exited).
    Close,
    /// Shuts down its write side and keeps reading.
    ShutdownWrite,
    /// Keeps its end open: the supervisor finishes the channel (the run is over).
    KeepOpen,
}

/// A generated stream.
#[derive(Clone, Debug)]
pub struct ChannelCase {
    pub max_requests: u64,
    pub max_log_bytes: u64,
    /// The writes, in order.
    pub writes: Vec<Vec<u8>>,
    pub end: ClientEnd,
    /// `Some(ids)` when the stream is only well-formed requests (their ids, in order).
    pub well_formed: Option<Vec<u32>>,
    /// Most answer bytes the requests can cause (for the in-order prediction).
    pub answer_bytes: usize,
}

fn bytes(u: &mut Unstructured, n: usize) -> Vec<u8> {
    let n = n.min(u.len());
    u.bytes(n).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Draws a stream from `u`.
pub fn channel_case(u: &mut Unstructured) -> ChannelCase {
    let max_requests = u.int_in_range(1..=40u64).unwrap_or(8);
    let max_log_bytes = u.int_in_range(0..=8192u64).unwrap_or(1024);
    let mut stream = Vec::new();
    let mut ids = Vec::new();
    let mut well_formed = true;
    let mut answer_bytes = 0usize;
    let sizes = [
        0,
        1,
        16,
        MAX_KEY,
        MAX_KEY + 1,
        MAX_LOG_LINE,
        MAX_LOG_LINE + 1,
    ];
    let pieces = u.int_in_range(0..=48u32).unwrap_or(0);
    for _ in 0..pieces {
        let kind: u8 = u.int_in_range(0..=9).unwrap_or(0);
        let id = u.int_in_range(1..=u32::MAX).unwrap_or(1);
        match kind {
            0..=5 => {
                let key_len = biased_u32(u, &sizes[..5]).min(MAX_KEY + 1) as usize;
                let mut key = vec![b'k'; key_len];
                for (k, b) in key.iter_mut().zip(bytes(u, 8)) {
                    *k = b;
                }
                let req_len = biased_u32(u, &[0, 1, 100, MAX_LOG_LINE, MAX_LOG_LINE + 1, MAX_VALUE])
                    .min(MAX_VALUE) as usize;
                let data = vec![b'x'; req_len];
                let req = match kind % 3 {
                    0 => Request::Log {
                        msg: &data[..req_len.min(MAX_LOG_LINE as usize + 1)],
                    },
                    1 => {
                        let cap = req_len as u32;
                        answer_bytes += cap as usize;
                        Request::KvGet { key: &key, cap }
                    }
                    _ => Request::KvPut {
                        key: &key,
                        value: &data,
                    },
                };
                let at = stream.len();
                encode_request(&mut stream, id, &req);
                // An honest request can still be over the frame cap (a 257-byte key with a 64 KiB
                // value): that is an oversized frame, and the channel closes.
                if stream.len() - at - 4 > MAX_FRAME as usize {
                    well_formed = false;
                }
                ids.push(id);
                answer_bytes += 12;
            }
            6 => {
                // A forged frame: any op, possibly id 0, fields of any length, a prefix that may lie.
                well_formed = false;
                let op: u8 = u.arbitrary().unwrap_or(0);
                let id = if u.arbitrary().unwrap_or(false) {
                    0
                } else {
                    id
                };
                let n = u.int_in_range(0..=64usize).unwrap_or(0);
                let mut body = vec![op];
                body.extend_from_slice(&id.to_le_bytes());
                body.extend(bytes(u, n));
                let len = if u.arbitrary().unwrap_or(false) {
                    body.len() as u32
                } else {
                    biased_u32(u, &[0, 1, 4, 5, 9, body.len() as u32 + 1]).min(MAX_FRAME)
                };
                stream.extend_from_slice(&len.to_le_bytes());
                stream.extend_from_slice(&body);
            }
            7 | 8 => {
                well_formed = false;
                let n = u.int_in_range(0..=32usize).unwrap_or(0);
                stream.extend(bytes(u, n));
            }
            _ => {
                well_formed = false;
                let len = biased_u32(u, &[MAX_FRAME + 1, u32::MAX, 0x8000_0000]).max(MAX_FRAME + 1);
                stream.extend_from_slice(&len.to_le_bytes());
            }
        }
    }
    // Cut into writes.
    let mut writes = Vec::new();
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let n = if u.arbitrary().unwrap_or(false) {
            rest.len()
        } else {
            u.int_in_range(1..=rest.len().min(4096))
                .unwrap_or(rest.len())
        };
        writes.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let end = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => ClientEnd::Close,
        1 => ClientEnd::ShutdownWrite,
        _ => ClientEnd::KeepOpen,
    };
    ChannelCase {
        max_requests,
        max_log_bytes,
        writes,
        end,
        well_formed: well_formed.then_some(ids),
        answer_bytes,
    }
}

/// Runs one input: generator, a real server, a client on its other end, the oracle.
pub fn channel_oracle(data: &[u8], _env: &FuzzEnv) -> Result<(), FuzzError> {
    let case = channel_case(&mut Unstructured::new(data));
    let started = Instant::now();
    let limits = ChannelLimits {
        max_requests: case.max_requests,
        max_log_bytes: case.max_log_bytes,
        deadline: Some(started + CASE_DEADLINE),
    };
    let (server, end) = ChannelServer::start(limits, Arc::new(NoEvents))
        .map_err(|e| FuzzError::Setup(e.to_string()))?;
    let sock = UnixStream::from(end);
    let mut reader = sock
        .try_clone()
        .map_err(|e| FuzzError::Setup(format!("clone the client socket: {e}")))?;
    let _ = reader.set_read_timeout(Some(CASE_DEADLINE + Duration::from_secs(1)));
    let answers = std::thread::Builder::new()
        .name("fuzz-channel-reader".into())
        .spawn(move || {
            let mut got = Vec::new();
            let mut buf = vec![0u8; 64 << 10];
            while got.len() < READ_CAP {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            got
        })
        .map_err(|e| FuzzError::Setup(format!("spawn the reader: {e}")))?;
    let mut writer = sock;
    let _ = writer.set_write_timeout(Some(Duration::from_secs(2)));
    for w in &case.writes {
        // The server may close (a cap, an oversized prefix): later writes fail, which is fine.
        if writer.write_all(w).is_err() {
            break;
        }
    }
    match case.end {
        ClientEnd::Close => {
            let _ = writer.shutdown(Shutdown::Both);
        }
        ClientEnd::ShutdownWrite => {
            let _ = writer.shutdown(Shutdown::Write);
            assert!(
                server.wait_closed(CASE_DEADLINE + Duration::from_secs(1)),
                "the server outlived its deadline after the client shut down its write side"
            );
            drop(writer);
        }
        ClientEnd::KeepOpen => {}
    }
    let report = server.finish().expect("the channel server thread panicked");
    let answers = answers.join().expect("reader");
    assert!(
        started.elapsed() < CASE_DEADLINE + Duration::from_secs(2),
        "the channel took {:?}",
        started.elapsed()
    );
    check_channel(&case, &report.stats, &answers);
    Ok(())
}

/// The oracle proper: panics when the server broke a promise.
pub fn check_channel(
    case: &ChannelCase,
    stats: &gauntlet_sandbox::supervisor::ChannelStats,
    answers: &[u8],
) {
    let mut rest = answers;
    let mut got = Vec::new();
    loop {
        match decode_response(rest) {
            Ok(Some((r, n))) => {
                assert!(
                    r.status >= 0 && r.status <= MAX_VALUE as i32
                        || ApiError::from_code(r.status).is_some(),
                    "unknown status {}",
                    r.status
                );
                if r.status > 0 {
                    assert_eq!(r.payload.len(), r.status as usize, "payload != status");
                } else {
                    assert!(r.payload.is_empty(), "an answer without data has a payload");
                }
                got.push(r);
                rest = &rest[n..];
            }
            Ok(None) => break,
            Err(e) => panic!("malformed answer: {e}"),
        }
    }
    assert!(
        got.len() as u64 <= stats.requests,
        "{} answers to {} requests",
        got.len(),
        stats.requests
    );
    assert!(
        stats.requests <= case.max_requests + 1,
        "{} requests served past a cap of {}",
        stats.requests,
        case.max_requests
    );
    assert!(stats.log_bytes <= case.max_log_bytes, "log budget broken");
    assert!(stats.kv_entries <= MAX_ENTRIES as u64, "entry cap broken");
    assert!(
        stats.max_buffered <= MAX_BUFFERED as u64,
        "buffered {} bytes",
        stats.max_buffered
    );
    assert!(
        stats.ok + stats.errors + stats.limited >= stats.requests,
        "a request was neither answered, refused nor capped: {stats:?}"
    );
    if let Some(ids) = &case.well_formed {
        let read_all = case.end != ClientEnd::Close;
        if read_all && ids.len() as u64 <= case.max_requests && case.answer_bytes <= SEND_BUFFER / 2
        {
            assert_eq!(stats.errors, 0, "well-formed requests answered as errors");
            assert_eq!(got.len(), ids.len(), "not one answer per request");
            for (r, id) in got.iter().zip(ids) {
                assert_eq!(r.id, *id, "answers out of order");
                assert!(
                    !matches!(
                        ApiError::from_code(r.status),
                        Some(ApiError::Malformed | ApiError::UnknownOp)
                    ),
                    "a well-formed request answered {}",
                    r.status
                );
            }
        }
    }
}
