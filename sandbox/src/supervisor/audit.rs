//! The audit trail: one JSON line per thing the supervisor saw (runs, host-API calls, denials, limit hits,
//! quarantine, restarts, reloads), chained by hashes so that a removed, edited or reordered line is found.
//!
//! # Format
//!
//! ```text
//! {"seq":7,"time":"2026-11-22T07:52:39.123Z","plugin":"hog","policy":"<sha256 of the policy>","run":3,
//!  "op":"run","args":{...},"result":{...},"prev":"<hash of record 6>","hash":"<sha256>","mac":"<hmac>"}
//! ```
//!
//! - `seq` counts from 0; record 0 is `op = "audit_open"` with the trail's random id in `args.trail`.
//! - `prev` is the `hash` of the record before (64 zeros for record 0).
//! - `hash` is SHA-256 of the record's *body*: the line's exact bytes up to `,"hash"`, closed with `}`.
//! - `mac` is HMAC-SHA256 of the same body under the key in the supervisor's state directory
//!   (`STATE/audit.key`, 0600, never inside a sandbox).
//! - `args` are shapes (sizes, counts, names of variables), never payload bytes; every string is
//!   redacted (each secret value named in a policy's `supervisor.secrets` becomes `[redacted:NAME]`) and
//!   capped at [`MAX_STRING`] bytes.
//!
//! After each flush the supervisor stores an *anchor* for the trail in `STATE/audit-anchors.json`: the
//! last `seq` and `hash` written.
//!
//! # What verification proves
//!
//! [`verify`] without the state directory checks the chain: a deleted, edited, inserted or reordered
//! line breaks it at that line, and a last record cut short has no newline. Someone who can rewrite the
//! whole file can recompute every hash, though, and can drop records from the end without a trace. With the
//! state directory (`gauntlet audit verify FILE --state DIR`) every MAC is checked — forging or editing a
//! record takes the key — and the anchor must be in the file: removing records from the end, or replacing
//! the file with another trail, is found. What remains possible to an attacker who can rewrite the file but
//! not read the key: destroy the file (detected: the anchor has no trail to match), or roll back to an
//! older copy of both file and anchors. An attacker who can read the key can forge anything; keep the state
//! directory out of every sandbox and readable by the supervisor only.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{SupervisorError, SupervisorErrorKind};
use super::state::{hex, random_bytes, StateDir, ANCHORS_FILE};
use crate::policy::Policy;

/// `prev` of record 0.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Version of the record format, in record 0's `args.format`.
pub const FORMAT: u32 = 1;
/// Longest string kept in a record (longer ones are cut, with their size noted).
pub const MAX_STRING: usize = 512;
/// Buffered records are written at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// ... or when this many bytes are waiting.
const FLUSH_BYTES: usize = 64 << 10;

type HmacSha256 = Hmac<Sha256>;

/// One record to write; the trail adds `seq`, `time`, `prev`, `hash` and `mac`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The plugin, or `None` for the supervisor's own records.
    pub plugin: Option<String>,
    /// SHA-256 of the plugin's policy (see [`policy_hash`]).
    pub policy: Option<String>,
    /// The supervisor's run number this record belongs to.
    pub run: Option<u64>,
    pub op: String,
    /// Shapes only.
    pub args: Value,
    pub result: Value,
}

impl Entry {
    /// A supervisor record (no plugin).
    pub fn supervisor(op: &str, args: Value) -> Entry {
        Entry {
            plugin: None,
            policy: None,
            run: None,
            op: op.into(),
            args,
            result: json!({"kind": "ok"}),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    seq: u64,
    time: &'a str,
    plugin: Option<&'a str>,
    policy: Option<&'a str>,
    run: Option<u64>,
    op: &'a str,
    args: &'a Value,
    result: &'a Value,
    prev: &'a str,
}

/// The last record a supervisor wrote to a trail, kept in the state directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Where the trail was written (informational; trails are found by id).
    pub path: PathBuf,
    pub seq: u64,
    pub hash: String,
}

/// Anchors of every trail written with one state directory, by trail id.
pub type Anchors = BTreeMap<String, Anchor>;

/// SHA-256 (hex) of a policy's canonical TOML: the `policy` field of records.
pub fn policy_hash(policy: &Policy) -> String {
    hex(&Sha256::digest(policy.to_toml().as_bytes()))
}

/// Replaces secret values in every string of a record, and caps string lengths.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// (value, variable name), longest value first.
    secrets: Vec<(String, String)>,
}

impl Redactor {
    /// Adds one secret. Empty values are ignored (there is nothing to hide).
    pub fn add(&mut self, name: &str, value: &str) {
        if value.is_empty() || self.secrets.iter().any(|(v, _)| v == value) {
            return;
        }
        self.secrets.push((value.to_string(), name.to_string()));
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    }

    /// Adds the values of the variables a policy names in `supervisor.secrets`.
    pub fn add_policy(&mut self, policy: &Policy) {
        for name in &policy.supervisor.secrets {
            if let Some(v) = policy.env.get(name) {
                self.add(name, v);
            }
        }
    }

    /// The string with every secret replaced and cut at [`MAX_STRING`] bytes.
    pub fn redact_str(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (value, name) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("[redacted:{name}]"));
            }
        }
        if out.len() > MAX_STRING {
            let mut cut = MAX_STRING;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            let total = out.len();
            out.truncate(cut);
            out.push_str(&format!("...[{total} bytes]"));
        }
        out
    }

    /// Redacts every string (and object key) in `v`.
    pub fn redact(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.redact_str(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact(x)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    self.redact(&mut x);
                    m.insert(self.redact_str(&k), x);
                }
            }
            _ => {}
        }
    }
}

/// An audit trail open for appending. One writer per file: the file is `flock`ed while it is open.
pub struct AuditTrail {
    path: PathBuf,
    file: Flock<File>,
    state: StateDir,
    key: [u8; 32],
    trail: String,
    next_seq: u64,
    prev: String,
    pending: Vec<u8>,
    pending_since: Option<Instant>,
    redactor: Redactor,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail")
            .field("path", &self.path)
            .field("trail", &self.trail)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// Opens (or starts) the trail at `path`. An existing file is verified first, MACs and anchor
    /// included: the supervisor never appends to a trail that does not verify.
    pub fn open(path: &Path, state: &StateDir) -> Result<AuditTrail, SupervisorError> {
        let f = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| SupervisorError::io(path, e))?;
        let file = Flock::lock(f, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
            if e == nix::errno::Errno::EWOULDBLOCK {
                SupervisorError::new(path.display().to_string(), SupervisorErrorKind::AuditBusy)
            } else {
                SupervisorError::io(path, e.into())
            }
        })?;
        let path = path
            .canonicalize()
            .map_err(|e| SupervisorError::io(path, e))?;
        let key = state.audit_key()?;
        let anchors: Anchors = state.read_json(ANCHORS_FILE)?;
        let len = file
            .metadata()
            .map_err(|e| SupervisorError::io(&path, e))?
            .len();
        let broken = |line: u64, reason: String| {
            SupervisorError::new(
                path.display().to_string(),
                SupervisorErrorKind::AuditBroken { line, reason },
            )
        };
        let mut trail = AuditTrail {
            path: path.clone(),
            file,
            state: state.clone(),
            key,
            trail: String::new(),
            next_seq: 0,
            prev: GENESIS.to_string(),
            pending: Vec::new(),
            pending_since: None,
            redactor: Redactor::default(),
        };
        if len == 0 {
            if let Some((id, a)) = anchors.iter().find(|(_, a)| a.path == path) {
                return Err(broken(
                    1,
                    format!(
                        "the file is empty, but the supervisor's anchor says trail {id} reached seq {} \
                         here: the trail was truncated or replaced",
                        a.seq
                    ),
                ));
            }
            trail.trail = hex(&random_bytes::<16>().map_err(|e| SupervisorError::io(&path, e))?);
            let args = json!({"trail": trail.trail, "format": FORMAT});
            trail.append(Entry::supervisor("audit_open", args))?;
        } else {
            match verify(&path, Some(&key), Some(&anchors))? {
                Verdict::Broken(b) => return Err(broken(b.line, b.reason)),
                Verdict::Intact(v) => {
                    trail.trail = v.trail;
                    trail.next_seq = v.last_seq + 1;
                    trail.prev = v.last_hash;
                }
            }
        }
        Ok(trail)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The trail's id (record 0's `args.trail`).
    pub fn trail(&self) -> &str {
        &self.trail
    }

    /// The `seq` the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The redactor every record goes through.
    pub fn redactor_mut(&mut self) -> &mut Redactor {
        &mut self.redactor
    }

    /// Adds one record (buffered; written at the next [`flush`](Self::flush), at most a second later).
    pub fn append(&mut self, mut e: Entry) -> Result<(), SupervisorError> {
        self.redactor.redact(&mut e.args);
        self.redactor.redact(&mut e.result);
        let time = format_time(SystemTime::now());
        let plugin = e.plugin.as_deref().map(|p| self.redactor.redact_str(p));
        let body = Body {
            seq: self.next_seq,
            time: &time,
            plugin: plugin.as_deref(),
            policy: e.policy.as_deref(),
            run: e.run,
            op: &self.redactor.redact_str(&e.op),
            args: &e.args,
            result: &e.result,
            prev: &self.prev,
        };
        let body = serde_json::to_string(&body).expect("records serialize");
        let (hash, mac) = seal(&self.key, &body);
        let line = format!(
            "{},\"hash\":\"{hash}\",\"mac\":\"{mac}\"}}\n",
            &body[..body.len() - 1]
        );
        self.pending.extend_from_slice(line.as_bytes());
        self.pending_since.get_or_insert_with(Instant::now);
        self.next_seq += 1;
        self.prev = hash;
        let due = self.pending.len() >= FLUSH_BYTES
            || self
                .pending_since
                .is_some_and(|t| t.elapsed() >= FLUSH_EVERY);
        if due {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered records, then moves the trail's anchor to the last one.
    pub fn flush(&mut self) -> Result<(), SupervisorError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        (&*self.file)
            .write_all(&self.pending)
            .map_err(|e| SupervisorError::io(&self.path, e))?;
        self.pending.clear();
        self.pending_since = None;
        let _lock = self.state.lock()?;
        let mut anchors: Anchors = self.state.read_json(ANCHORS_FILE)?;
        anchors.insert(
            self.trail.clone(),
            Anchor {
                path: self.path.clone(),
                seq: self.next_seq - 1,
                hash: self.prev.clone(),
            },
        );
        self.state.write_json(ANCHORS_FILE, &anchors, false)
    }
}

impl Drop for AuditTrail {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::error!("audit trail {}: {e}", self.path.display());
        }
    }
}

/// `hash` and `mac` of a record body.
fn seal(key: &[u8; 32], body: &str) -> (String, String) {
    let hash = hex(&Sha256::digest(body.as_bytes()));
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    (hash, hex(&mac.finalize().into_bytes()))
}

/// The result of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Intact(Verified),
    Broken(Broken),
}

/// A trail that verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub records: u64,
    pub trail: String,
    pub last_seq: u64,
    pub last_hash: String,
    /// Every MAC was checked (a key was given).
    pub authenticated: bool,
    /// The anchor's seq, when an anchor was checked.
    pub anchored_at: Option<u64>,
}

/// The first line that does not verify (1-based), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Broken {
    pub line: u64,
    pub reason: String,
}

/// The fields of a line that verification reads.
#[derive(Deserialize)]
struct Fields {
    seq: u64,
    op: String,
    #[serde(default)]
    args: Value,
    prev: String,
}

/// Splits a line (without its newline) into its body and its `hash` and `mac`.
fn split_line(line: &str) -> Option<(String, &str, &str)> {
    const HEX: usize = 64;
    let tail_len = ",\"hash\":\"".len() + HEX + "\",\"mac\":\"".len() + HEX + "\"}".len();
    if line.len() < tail_len + 1 || !line.is_char_boundary(line.len() - tail_len) {
        return None;
    }
    let (head, tail) = line.split_at(line.len() - tail_len);
    let rest = tail.strip_prefix(",\"hash\":\"")?;
    let (hash, rest) = rest.split_at(HEX);
    let rest = rest.strip_prefix("\",\"mac\":\"")?;
    let (mac, rest) = rest.split_at(HEX);
    if rest != "\"}" || !is_hex(hash) || !is_hex(mac) {
        return None;
    }
    Some((format!("{head}}}"), hash, mac))
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Verifies the trail at `path`: the chain always; every MAC when `key` is given; the trail's anchor
/// when `anchors` is given (a trail without an anchor there is broken at line 1). `Err` only when the
/// file cannot be read.
pub fn verify(
    path: &Path,
    key: Option<&[u8; 32]>,
    anchors: Option<&Anchors>,
) -> Result<Verdict, SupervisorError> {
    let f = File::open(path).map_err(|e| SupervisorError::io(path, e))?;
    let mut r = BufReader::new(f);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut last: Option<(u64, String)> = None;
    let mut trail = String::new();
    let mut anchor: Option<&Anchor> = None;
    let broken = |line: u64, reason: String| Ok(Verdict::Broken(Broken { line, reason }));
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| SupervisorError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.last() != Some(&b'\n') {
            return broken(
                line_no,
                "truncated record: the last line has no newline (it was cut short)".into(),
            );
        }
        let Ok(line) = std::str::from_utf8(&buf[..buf.len() - 1]) else {
            return broken(line_no, "not an audit record: not UTF-8".into());
        };
        let Some((body, hash, mac)) = split_line(line) else {
            return broken(
                line_no,
                "not an audit record: it does not end with its hash and MAC".into(),
            );
        };
        let fields: Fields = match serde_json::from_str(&body) {
            Ok(f) => f,
            Err(e) => return broken(line_no, format!("not an audit record: {e}")),
        };
        let (want_hash, want_mac) = match key {
            Some(k) => seal(k, &body),
            None => (hex(&Sha256::digest(body.as_bytes())), String::new()),
        };
        if hash != want_hash {
            return broken(
                line_no,
                "the record's hash does not match its content: the line was edited".into(),
            );
        }
        if key.is_some() && mac != want_mac {
            return broken(
                line_no,
                "the record's MAC does not match: the line was edited or forged without the \
                 supervisor's key"
                    .into(),
            );
        }
        let (expected, prev) = match &last {
            None => (0, GENESIS),
            Some((seq, hash)) => (seq + 1, hash.as_str()),
        };
        if fields.seq != expected {
            let why = if fields.seq > expected {
                let n = fields.seq - expected;
                format!(
                    "{n} record{} before this line {} missing, or lines were reordered",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" }
                )
            } else {
                "lines were reordered or repeated".to_string()
            };
            return broken(
                line_no,
                format!("seq {} where {expected} was expected: {why}", fields.seq),
            );
        }
        if fields.prev != prev {
            return broken(
                line_no,
                "prev does not match the hash of the line before: a record was removed, inserted \
                 or reordered"
                    .into(),
            );
        }
        if fields.seq == 0 {
            match fields.args.get("trail").and_then(Value::as_str) {
                Some(t) if fields.op == "audit_open" => trail = t.to_string(),
                _ => {
                    return broken(
                        line_no,
                        "record 0 is not an audit_open record with the trail's id".into(),
                    )
                }
            }
            if let Some(anchors) = anchors {
                match anchors.get(&trail) {
                    Some(a) => anchor = Some(a),
                    None => {
                        return broken(
                            line_no,
                            format!(
                                "the state directory has no anchor for trail {trail}: this file \
                                 was not written with this state directory"
                            ),
                        )
                    }
                }
            }
        }
        if let Some(a) = anchor.filter(|a| a.seq == fields.seq) {
            if a.hash != hash {
                return broken(
                    line_no,
                    format!(
                        "seq {} does not match the supervisor's anchor for it: the trail was rewritten",
                        a.seq
                    ),
                );
            }
        }
        last = Some((fields.seq, hash.to_string()));
    }
    let Some((last_seq, last_hash)) = last else {
        return broken(1, "the file is empty: no audit_open record".into());
    };
    if let Some(a) = anchor {
        if a.seq > last_seq {
            return broken(
                line_no + 1,
                format!(
                    "the file ends at seq {last_seq}, but the supervisor's anchor says the trail \
                     reached seq {}: records were removed from the end",
                    a.seq
                ),
            );
        }
    }
    Ok(Verdict::Intact(Verified {
        records: line_no,
        trail,
        last_seq,
        last_hash,
        authenticated: key.is_some(),
        anchored_at: anchor.map(|a| a.seq),
    }))
}

/// [`verify`] with the key and anchors of a state directory (when given; without one only the chain is
/// checked).
pub fn verify_with_state(path: &Path, state: Option<&Path>) -> Result<Verdict, SupervisorError> {
    let Some(dir) = state else {
        return verify(path, None, None);
    };
    let state = StateDir::open(dir)?;
    let Some(key) = state.existing_audit_key()? else {
        return Err(SupervisorError::bad_state(
            state.path(),
            "has no audit key: no supervisor has written a trail with it",
        ));
    };
    let anchors: Anchors = state.read_json(ANCHORS_FILE)?;
    verify(path, Some(&key), Some(&anchors))
}

/// RFC 3339 UTC with milliseconds: `2026-11-22T07:52:39.123Z`.
pub fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format_unix_ms(d.as_millis() as u64)
}

/// [`format_time`] of milliseconds since the Unix epoch.
pub fn format_unix_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, sod) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_rfc3339() {
        assert_eq!(format_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_unix_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(
            format_unix_ms(1_798_761_599_999),
            "2026-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn redaction_covers_values_keys_and_long_strings() {
        let mut r = Redactor::default();
        r.add("TOKEN", "s3cr3t");
        r.add("EMPTY", "");
        let mut v = json!({"a": ["xs3cr3tx", 1], "s3cr3t": true, "long": "y".repeat(600)});
        r.redact(&mut v);
        let text = v.to_string();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("[redacted:TOKEN]"));
        assert!(v["long"].as_str().unwrap().ends_with("...[600 bytes]"));
    }

    #[test]
    fn lines_split_into_body_hash_and_mac() {
        let key = [7u8; 32];
        let body = r#"{"seq":0,"prev":"x"}"#;
        let (h, m) = seal(&key, body);
        let line = format!(r#"{{"seq":0,"prev":"x","hash":"{h}","mac":"{m}"}}"#);
        let (b, h2, m2) = split_line(&line).unwrap();
        assert_eq!((b.as_str(), h2, m2), (body, h.as_str(), m.as_str()));
        assert!(split_line("{}").is_none());
        assert!(split_line(&line.replace("\"mac\"", "\"max\"")).is_none());
    }
}
