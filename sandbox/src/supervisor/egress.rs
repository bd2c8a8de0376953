//! The egress proxy of `net.mode = "allow"`: for the process backend, the plugin's only way out.
//!
//! The plugin keeps an empty network namespace (no interface up, no route) and finds this proxy's unix
//! socket bind-mounted at [`crate::process::EGRESS_SOCKET`]. The proxy speaks the two protocols real
//! clients speak to a proxy:
//!
//! - **HTTP CONNECT**: `CONNECT host:port HTTP/1.1`, headers, an empty line. Answers `200` (tunnel open),
//!   `400` (malformed), `403` (not on `net.allow`), `405` (not CONNECT), `431` (header over the cap),
//!   `502` (the destination refused or has no address), `504` (connect timed out).
//! - **SOCKS5** (RFC 1928) without authentication, command CONNECT, by IPv4, IPv6 or domain name. Reply
//!   codes: 0 success, 1 malformed, 2 not allowed by the ruleset, 4 no address, 5 refused, 6 timed out,
//!   7 command not supported, 8 address type not supported.
//!
//! One request per connection: whatever follows the request (a second `CONNECT` pipelined behind the
//! first, say) is tunnel payload for the destination, never parsed.
//!
//! Enforcement. Names in `net.allow` are resolved once, when the proxy starts, and pinned: a request by
//! name is allowed only for a listed name (ASCII case-insensitive, one trailing dot ignored) on a listed
//! port, and is connected to the pinned addresses only, never re-resolved (which defeats DNS rebinding).
//! A request by IP literal is allowed only when that exact `ip:port` is listed, or the ip is a pinned
//! address of a name listed with that port. Literals are parsed strictly: only canonical dotted-quad IPv4
//! (`127.1`, `0x7f.0.0.1`, `2130706433`, `0177.0.0.1`, `127.0.0.01` are refused, not interpreted),
//! bracketed IPv6 without a zone id (`::ffff:a.b.c.d` counts as the IPv4 address it maps), names of
//! letters, digits, `-` and `.` only (so NULs, `%`, `@`, `:`, `/`, spaces and control bytes are refused);
//! ports are 1-65535 without leading zeros. Destinations that are not unicast (`0.0.0.0`, `::`,
//! multicast, broadcast) are refused even when listed.
//!
//! Bounds: the request header is capped (`max_header`), a request must be complete within the timeout,
//! a connect gets `net.timeout`, a tunnel is closed after `net.timeout` without traffic (event `Limit`)
//! or once `net.max_bytes` have passed through it, both directions together (the cap is exact; event
//! `Limit`); at most `max_conns` connections at once (more are closed at once, event `Limit`).
//!
//! Every connection to the proxy is one [`Event`] (op `egress`, args `proto`, `dest`, `bytes_up`,
//! `bytes_down`, `duration_ms`, `reply`; `error` when the destination could not be reached, `closed`
//! when the run ended with the tunnel open) and one tracing line (target `gauntlet::egress`). Results:
//! `Ok` (a tunnel that ended normally, or an allowed destination that was down: not the plugin's fault),
//! `Denied` (not on the list), `Limit` (a cap or a timeout), `Error` (malformed or incomplete request).
//!
//! Shutdown: [`EgressProxy::stop`] (or drop) wakes every thread through one stop socket, joins the
//! acceptor, which joins every connection thread, and removes the socket and its directory. Every event
//! has been delivered when it returns.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self as sock, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
use serde_json::json;

use super::events::{Event, EventResult, EventSink};
use crate::policy::{AllowEntry, AllowHost, NetMode, Policy};
use crate::weaken::{Weaken, Weakening};

/// The socket's file name inside the proxy's per-run directory.
pub const SOCKET_NAME: &str = "egress.sock";
/// Connections served at once, by default.
pub const DEFAULT_MAX_CONNS: usize = 32;
/// Largest request header (HTTP) or request (SOCKS5), by default.
pub const DEFAULT_MAX_HEADER: usize = 8 << 10;
/// Bytes moved per read in a tunnel.
const CHUNK: usize = 16 << 10;
const WORKER_STACK: usize = 256 << 10;

/// What the proxy enforces.
#[derive(Clone, Debug)]
pub struct EgressConfig {
    /// The only destinations (`net.allow`, parsed).
    pub allow: Vec<AllowEntry>,
    /// Longest a connect to a destination may take (`net.timeout`).
    pub connect_timeout: Duration,
    /// Longest a request may take to arrive, and a tunnel may stay without traffic (`net.timeout`).
    pub idle_timeout: Duration,
    /// Bytes one tunnel may carry, both directions together (`net.max_bytes`).
    pub max_bytes: u64,
    /// Connections at once.
    pub max_conns: usize,
    /// Largest request header.
    pub max_header: usize,
    /// Where the per-run directory holding the socket is made. The plugin's run uid must be able to
    /// search it (the default, `/tmp`, is world-searchable).
    pub parent_dir: PathBuf,
    /// The `egress-open` weakening: no allowlist at all. Only set through a `Weakening`.
    open: bool,
}

impl EgressConfig {
    /// The defaults of an empty `[net]` section with this list.
    pub fn new(allow: Vec<AllowEntry>) -> EgressConfig {
        let net = crate::policy::Net::default();
        EgressConfig {
            allow,
            connect_timeout: net.timeout.0,
            idle_timeout: net.timeout.0,
            max_bytes: net.max_bytes.0,
            max_conns: DEFAULT_MAX_CONNS,
            max_header: DEFAULT_MAX_HEADER,
            parent_dir: PathBuf::from("/tmp"),
            open: false,
        }
    }

    /// The proxy of a policy with `net.mode = "allow"`. `weaken` may remove the allowlist
    /// (`egress-open`, for the mutants).
    pub fn from_policy(policy: &Policy, weaken: &Weakening) -> Result<EgressConfig, EgressError> {
        if policy.net.mode != NetMode::Allow {
            return Err(EgressError::new(
                "net.mode",
                EgressErrorKind::Invalid(format!(
                    "the egress proxy needs net.mode = \"allow\" (it is {:?})",
                    policy.net.mode
                )),
            ));
        }
        let allow = policy.net.allow_entries().map_err(|e| {
            EgressError::new(
                e.field.clone(),
                EgressErrorKind::Invalid(e.kind.to_string()),
            )
        })?;
        let mut c = EgressConfig::new(allow);
        c.connect_timeout = policy.net.timeout.0;
        c.idle_timeout = policy.net.timeout.0;
        c.max_bytes = policy.net.max_bytes.0;
        c.open = weaken.has(Weaken::EgressOpen);
        Ok(c)
    }
}

/// The proxy could not be started or stopped cleanly (never something a plugin did).
#[derive(Debug, thiserror::Error)]
#[error("egress proxy: {what}: {kind}")]
pub struct EgressError {
    pub what: String,
    pub kind: EgressErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum EgressErrorKind {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("a proxy thread panicked")]
    Panicked,
}

impl EgressError {
    fn new(what: impl Into<String>, kind: EgressErrorKind) -> EgressError {
        EgressError {
            what: what.into(),
            kind,
        }
    }

    fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> EgressError {
        let what = what.into();
        move |e| EgressError::new(what, EgressErrorKind::Io(e))
    }
}

/// A destination as asked for, parsed and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    /// Lowercase, without a trailing dot.
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub host: Host,
    pub port: u16,
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            Host::Ip(ip) => write!(f, "{ip}:{}", self.port),
            Host::Name(n) => write!(f, "{n}:{}", self.port),
        }
    }
}

/// `::ffff:a.b.c.d` is the IPv4 address it maps; everything else stays as it is.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

/// Parses a host: `[v6]`, a canonical dotted-quad IPv4 address, or a name. Everything ambiguous is
/// refused (the message says why; it never repeats the input).
pub fn parse_host(raw: &[u8]) -> Result<Host, String> {
    if let Some(inner) = raw.strip_prefix(b"[").and_then(|r| r.strip_suffix(b"]")) {
        if inner.contains(&b'%') {
            return Err("IPv6 zone ids are refused".into());
        }
        let ip: Ipv6Addr = std::str::from_utf8(inner)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("not an IPv6 address")?;
        return Ok(Host::Ip(normalise(IpAddr::V6(ip))));
    }
    if raw.is_empty() || raw.len() > 254 {
        return Err("a host is 1 to 253 bytes".into());
    }
    if !raw
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
    {
        return Err("a host name has only letters, digits, '-' and '.'".into());
    }
    let lower = String::from_utf8_lossy(raw).to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name.is_empty() || name.len() > 253 {
        return Err("a host is 1 to 253 bytes".into());
    }
    if name.split('.').any(str::is_empty) {
        return Err("empty label".into());
    }
    if let Ok(v4) = name.parse::<Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(v4)));
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        return Err(
            "not a canonical IPv4 address (short, octal, hex and integer forms are refused)".into(),
        );
    }
    for label in name.split('.') {
        if label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err("a label is 1 to 63 bytes and neither starts nor ends with '-'".into());
        }
    }
    Ok(Host::Name(name.to_string()))
}

/// A port: 1 to 5 decimal digits without a leading zero, 1..=65535.
fn parse_port(raw: &[u8]) -> Result<u16, String> {
    let ok =
        !raw.is_empty() && raw.len() <= 5 && raw[0] != b'0' && raw.iter().all(u8::is_ascii_digit);
    ok.then(|| std::str::from_utf8(raw).ok()?.parse::<u16>().ok())
        .flatten()
        .ok_or_else(|| "not a port (1..65535, no leading zeros)".into())
}

/// Parses the authority of a `CONNECT`: `host:port` or `[v6]:port`.
pub fn parse_authority(raw: &[u8]) -> Result<Dest, String> {
    let colon = raw
        .iter()
        .rposition(|b| *b == b':')
        .ok_or("host:port needs a port")?;
    let (host, port) = (&raw[..colon], &raw[colon + 1..]);
    if !host.starts_with(b"[") && host.contains(&b':') {
        return Err("an IPv6 address goes in brackets".into());
    }
    Ok(Dest {
        port: parse_port(port)?,
        host: parse_host(host)?,
    })
}

/// Why a request got no tunnel.
#[derive(Debug)]
enum Refusal {
    /// Not on `net.allow`.
    Denied(String),
    Malformed(String),
    NotConnect,
    /// SOCKS5 command other than CONNECT.
    Command(u8),
    /// SOCKS5 address type other than 1, 3, 4.
    AddressType(u8),
    NoAcceptableMethod,
    TooLarge(usize),
    /// No complete request within the timeout.
    Slow(Duration),
    /// The client went away before its request was complete.
    Gone,
    NoAddress(String),
    Refused(String),
    Timeout(String),
    /// The run ended.
    Stopped,
}

impl Refusal {
    fn http_status(&self) -> Option<u16> {
        Some(match self {
            Refusal::Denied(_) => 403,
            Refusal::Malformed(_) | Refusal::Command(_) | Refusal::AddressType(_) => 400,
            Refusal::NotConnect => 405,
            Refusal::TooLarge(_) => 431,
            Refusal::NoAddress(_) | Refusal::Refused(_) => 502,
            Refusal::Timeout(_) => 504,
            Refusal::NoAcceptableMethod | Refusal::Slow(_) | Refusal::Gone | Refusal::Stopped => {
                return None
            }
        })
    }

    fn socks_code(&self) -> Option<u8> {
        Some(match self {
            Refusal::Denied(_) => 0x02,
            Refusal::Malformed(_) | Refusal::TooLarge(_) | Refusal::NotConnect => 0x01,
            Refusal::Command(_) => 0x07,
            Refusal::AddressType(_) => 0x08,
            Refusal::NoAddress(_) => 0x04,
            Refusal::Refused(_) => 0x05,
            Refusal::Timeout(_) => 0x06,
            Refusal::NoAcceptableMethod | Refusal::Slow(_) | Refusal::Gone | Refusal::Stopped => {
                return None
            }
        })
    }

    /// The event result; destination failures are not the plugin's doing (`Ok`, with the error in
    /// the record).
    fn result(self, rec: &mut Record) -> EventResult {
        match self {
            Refusal::Denied(r) => EventResult::Denied(r),
            Refusal::Malformed(r) => EventResult::Error(r),
            Refusal::NotConnect => EventResult::Error("not a CONNECT request".into()),
            Refusal::Command(c) => {
                EventResult::Error(format!("SOCKS5 command {c} (only CONNECT is served)"))
            }
            Refusal::AddressType(t) => EventResult::Error(format!("SOCKS5 address type {t}")),
            Refusal::NoAcceptableMethod => {
                EventResult::Error("SOCKS5 without the no-authentication method".into())
            }
            Refusal::TooLarge(cap) => EventResult::Limit(format!("request over {cap} bytes")),
            Refusal::Slow(t) => EventResult::Limit(format!(
                "no complete request within {} ms (net.timeout)",
                t.as_millis()
            )),
            Refusal::Gone => EventResult::Error("closed before a complete request".into()),
            Refusal::NoAddress(e) | Refusal::Refused(e) | Refusal::Timeout(e) => {
                rec.error = Some(e);
                EventResult::Ok
            }
            Refusal::Stopped => {
                rec.error = Some("the run ended".into());
                EventResult::Ok
            }
        }
    }
}

/// What `net.allow` lets through: the one decision of both backends (this proxy for process plugins,
/// the socket address check of wasm components, `crate::wasm`). Names are resolved once, in
/// `Allowlist::build`, and pinned for the allowlist's life.
#[derive(Debug)]
pub struct Allowlist {
    literal: BTreeSet<(IpAddr, u16)>,
    names: BTreeMap<String, BTreeSet<u16>>,
    pinned: BTreeMap<String, Vec<IpAddr>>,
    open: bool,
}

impl Allowlist {
    /// The allowlist of a proxy configuration: its entries, with every listed name resolved now by
    /// `resolve` and pinned to the unicast addresses it had.
    pub fn of(
        config: &EgressConfig,
        resolve: &dyn Fn(&str) -> io::Result<Vec<IpAddr>>,
    ) -> Allowlist {
        Allowlist::build(&config.allow, config.open, resolve)
    }

    fn build(
        allow: &[AllowEntry],
        open: bool,
        resolve: &dyn Fn(&str) -> io::Result<Vec<IpAddr>>,
    ) -> Allowlist {
        let mut rules = Allowlist {
            literal: BTreeSet::new(),
            names: BTreeMap::new(),
            pinned: BTreeMap::new(),
            open,
        };
        for e in allow {
            match &e.host {
                AllowHost::Ip(ip) => {
                    rules.literal.insert((normalise(*ip), e.port));
                }
                AllowHost::Name(n) => {
                    let n = n.to_ascii_lowercase();
                    let n = n.strip_suffix('.').unwrap_or(&n).to_string();
                    rules.names.entry(n).or_default().insert(e.port);
                }
            }
        }
        for name in rules.names.keys() {
            let addrs = match resolve(name) {
                Ok(found) => {
                    let mut v: Vec<IpAddr> = Vec::new();
                    for ip in found
                        .into_iter()
                        .map(normalise)
                        .filter(|ip| is_unicast(*ip))
                    {
                        if !v.contains(&ip) {
                            v.push(ip);
                        }
                    }
                    v
                }
                Err(e) => {
                    tracing::warn!(target: "gauntlet::egress", name = %name, error = %e,
                        "an allowed name did not resolve when the proxy started; it stays unreachable");
                    Vec::new()
                }
            };
            rules.pinned.insert(name.clone(), addrs);
        }
        rules
    }

    /// Whether a connect to `addr` (an address a socket API was given: no name, no parsing) is
    /// allowed; `Err` says why not (never repeating more than the address). An IPv4-mapped IPv6
    /// address counts as the IPv4 address it maps; `0.0.0.0`, `::`, multicast and broadcast are
    /// refused even when listed.
    pub fn check_addr(&self, addr: SocketAddr) -> Result<(), String> {
        let dest = Dest {
            host: Host::Ip(normalise(addr.ip())),
            port: addr.port(),
        };
        match self.decide(&dest) {
            Ok(_) => Ok(()),
            Err(Refusal::Denied(r)) => Err(r),
            Err(other) => Err(format!("{dest}: {other:?}")),
        }
    }

    /// The names of `net.allow` and the addresses each was pinned to.
    pub fn pinned(&self) -> &BTreeMap<String, Vec<IpAddr>> {
        &self.pinned
    }

    /// The addresses to connect to for `dest`, or why not.
    fn decide(&self, dest: &Dest) -> Result<Vec<SocketAddr>, Refusal> {
        let port = dest.port;
        if self.open {
            return match &dest.host {
                Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
                Host::Name(n) => (n.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect)
                    .map_err(|e| Refusal::NoAddress(format!("{n}: {e}"))),
            };
        }
        match &dest.host {
            Host::Ip(ip) => {
                if !is_unicast(*ip) {
                    return Err(Refusal::Denied(format!("{dest} is not a unicast address")));
                }
                let listed = self.literal.contains(&(*ip, port))
                    || self.names.iter().any(|(n, ports)| {
                        ports.contains(&port) && self.pinned.get(n).is_some_and(|a| a.contains(ip))
                    });
                if listed {
                    Ok(vec![SocketAddr::new(*ip, port)])
                } else {
                    Err(Refusal::Denied(format!("{dest} is not on net.allow")))
                }
            }
            Host::Name(n) => {
                if !self.names.get(n).is_some_and(|p| p.contains(&port)) {
                    return Err(Refusal::Denied(format!("{dest} is not on net.allow")));
                }
                let addrs = self.pinned.get(n).map(Vec::as_slice).unwrap_or_default();
                if addrs.is_empty() {
                    return Err(Refusal::NoAddress(format!(
                        "{n} had no address when the proxy started"
                    )));
                }
                Ok(addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
            }
        }
    }
}

/// The system resolver (`getaddrinfo`), used once per allowed name at start.
pub fn system_resolver(name: &str) -> io::Result<Vec<IpAddr>> {
    Ok((name, 0).to_socket_addrs()?.map(|a| a.ip()).collect())
}

struct Shared {
    cfg: EgressConfig,
    rules: Allowlist,
    sink: Arc<dyn EventSink>,
    stop: UnixStream,
    active: AtomicUsize,
}

/// A running proxy (one per run).
pub struct EgressProxy {
    dir: PathBuf,
    socket: PathBuf,
    stop: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EgressProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EgressProxy")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

impl EgressProxy {
    /// Resolves and pins the allowed names, makes a fresh directory (mode 0711) under
    /// `config.parent_dir` with the socket (mode 0600) in it, and starts accepting.
    pub fn start(
        config: EgressConfig,
        sink: Arc<dyn EventSink>,
    ) -> Result<EgressProxy, EgressError> {
        EgressProxy::start_with_resolver(config, sink, &system_resolver)
    }

    /// `start` with another resolver (tests: a name whose answer changes after the first lookup).
    pub fn start_with_resolver(
        config: EgressConfig,
        sink: Arc<dyn EventSink>,
        resolve: &dyn Fn(&str) -> io::Result<Vec<IpAddr>>,
    ) -> Result<EgressProxy, EgressError> {
        if config.max_conns == 0 || config.max_header < 64 {
            return Err(EgressError::new(
                "config",
                EgressErrorKind::Invalid("max_conns must be ≥ 1 and max_header ≥ 64".into()),
            ));
        }
        let rules = Allowlist::of(&config, resolve);
        let dir = make_dir(&config.parent_dir)?;
        let socket = dir.join(SOCKET_NAME);
        let started = (|| {
            let listener = UnixListener::bind(&socket).map_err(EgressError::io("bind"))?;
            std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
                .map_err(EgressError::io("chmod the socket"))?;
            listener
                .set_nonblocking(true)
                .map_err(EgressError::io("set the listener non-blocking"))?;
            let (stop_tx, stop_rx) = UnixStream::pair().map_err(EgressError::io("socketpair"))?;
            let shared = Arc::new(Shared {
                cfg: config,
                rules,
                sink,
                stop: stop_rx,
                active: AtomicUsize::new(0),
            });
            let acceptor = shared.clone();
            let thread = std::thread::Builder::new()
                .name("gauntlet-egress".into())
                .spawn(move || accept_loop(listener, acceptor))
                .map_err(EgressError::io("spawn the acceptor"))?;
            Ok((stop_tx, thread, shared))
        })();
        match started {
            Ok((stop_tx, thread, shared)) => Ok(EgressProxy {
                dir,
                socket,
                stop: Some(stop_tx),
                thread: Some(thread),
                shared,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&socket);
                let _ = std::fs::remove_dir(&dir);
                Err(e)
            }
        }
    }

    /// The host path of the socket (for `RunExtras::egress`).
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The pinned addresses of each allowed name.
    pub fn pinned(&self) -> &BTreeMap<String, Vec<IpAddr>> {
        &self.shared.rules.pinned
    }

    /// Ends every connection, waits for every thread (so every event has been delivered), removes the
    /// socket and its directory. Idempotent.
    pub fn stop(&mut self) -> Result<(), EgressError> {
        self.stop.take();
        let joined = match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| EgressError::new("stop", EgressErrorKind::Panicked)),
            None => Ok(()),
        };
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir(&self.dir);
        joined
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A fresh directory `gauntlet-egress-<pid>-<n>-<random>` (mode 0711: searchable by the run uid, not
/// listable; the socket inside is 0600 and handed to the run uid by the process backend).
fn make_dir(parent: &Path) -> Result<PathBuf, EgressError> {
    use std::hash::{BuildHasher, Hasher};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..16 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        let dir = parent.join(format!(
            "gauntlet-egress-{}-{}-{:016x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            h.finish()
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711))
                    .map_err(EgressError::io(dir.display().to_string()))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(EgressError::io(parent.display().to_string())(e)),
        }
    }
    Err(EgressError::io(parent.display().to_string())(
        last.unwrap_or_else(|| io::Error::other("no free directory name")),
    ))
}

enum Ready {
    Io,
    Stop,
    Timeout,
}

/// Waits until `fd` has `flags`, the stop socket fires, or `deadline` passes.
fn wait(fd: BorrowedFd<'_>, flags: PollFlags, stop: &UnixStream, deadline: Instant) -> Ready {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ready::Timeout;
        }
        let ms = PollTimeout::try_from(left.as_millis() as u64 + 1).unwrap_or(PollTimeout::MAX);
        let mut fds = [
            PollFd::new(fd, flags),
            PollFd::new(stop.as_fd(), PollFlags::POLLIN),
        ];
        match nix::poll::poll(&mut fds, ms) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => return Ready::Stop,
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            return Ready::Stop;
        }
        if fds[0].revents().is_some_and(|r| !r.is_empty()) {
            return Ready::Io;
        }
    }
}

fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    loop {
        workers.retain(|w| !w.is_finished());
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(shared.stop.as_fd(), PollFlags::POLLIN),
        ];
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => break,
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            break;
        }
        loop {
            let client = match listener.accept() {
                Ok((c, _)) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let max = shared.cfg.max_conns;
            if shared.active.load(Ordering::SeqCst) >= max {
                // The refusal is reported before the client sees its connection close.
                emit(
                    &shared,
                    Record::default(),
                    EventResult::Limit(format!("{max} connections at once (the proxy's cap)")),
                    Duration::ZERO,
                );
                drop(client);
                continue;
            }
            shared.active.fetch_add(1, Ordering::SeqCst);
            let worker = shared.clone();
            let spawned = std::thread::Builder::new()
                .name("gauntlet-egress-conn".into())
                .stack_size(WORKER_STACK)
                .spawn(move || {
                    serve(client, &worker);
                    worker.active.fetch_sub(1, Ordering::SeqCst);
                });
            match spawned {
                Ok(w) => workers.push(w),
                Err(e) => {
                    shared.active.fetch_sub(1, Ordering::SeqCst);
                    emit(
                        &shared,
                        Record::default(),
                        EventResult::Limit(format!("no thread for the connection: {e}")),
                        Duration::ZERO,
                    );
                }
            }
        }
    }
    drop(listener);
    for w in workers {
        let _ = w.join();
    }
}

/// What one connection did, for its event.
#[derive(Debug, Default)]
struct Record {
    proto: Option<&'static str>,
    dest: Option<String>,
    up: u64,
    down: u64,
    reply: Option<u16>,
    /// Why an allowed destination was not reached.
    error: Option<String>,
    /// Why an open tunnel was closed by the proxy rather than by either end (`the run ended`).
    closed: Option<&'static str>,
}

fn emit(shared: &Shared, rec: Record, result: EventResult, took: Duration) {
    let ms = took.as_millis() as u64;
    let dest = rec.dest.as_deref().unwrap_or("-");
    let proto = rec.proto.unwrap_or("-");
    // One line per attempt (info: `GAUNTLET_LOG=gauntlet::egress=info` shows them; `gauntlet exec` also
    // lists them on the Outcome's stderr).
    tracing::info!(target: "gauntlet::egress", proto, dest, bytes_up = rec.up,
        bytes_down = rec.down, duration_ms = ms, error = rec.error.as_deref().unwrap_or(""),
        result = ?result, "egress attempt");
    let mut args = json!({
        "proto": rec.proto,
        "dest": rec.dest,
        "bytes_up": rec.up,
        "bytes_down": rec.down,
        "duration_ms": ms,
        "reply": rec.reply,
    });
    if let Some(e) = rec.error {
        args["error"] = json!(e);
    }
    if let Some(c) = rec.closed {
        args["closed"] = json!(c);
    }
    shared.sink.event(Event {
        op: "egress".into(),
        args,
        result,
    });
}

/// One connection, start to end, then its event.
fn serve(client: UnixStream, shared: &Shared) {
    let start = Instant::now();
    let mut rec = Record::default();
    let result = match client.set_nonblocking(true) {
        Ok(()) => handle(&client, shared, &mut rec),
        Err(e) => EventResult::Error(format!("set the connection non-blocking: {e}")),
    };
    drop(client);
    emit(shared, rec, result, start.elapsed());
}

/// The client side of a request: a buffer filled within a deadline, bounded by the header cap.
struct Wire<'a> {
    sock: &'a UnixStream,
    stop: &'a UnixStream,
    deadline: Instant,
    timeout: Duration,
    buf: Vec<u8>,
    cap: usize,
}

impl Wire<'_> {
    /// Reads at least one more byte.
    fn more(&mut self) -> Result<(), Refusal> {
        if self.buf.len() >= self.cap {
            return Err(Refusal::TooLarge(self.cap));
        }
        let mut chunk = [0u8; 2048];
        let room = (self.cap - self.buf.len()).min(chunk.len());
        loop {
            match (&*self.sock).read(&mut chunk[..room]) {
                Ok(0) => return Err(Refusal::Gone),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match wait(
                        self.sock.as_fd(),
                        PollFlags::POLLIN,
                        self.stop,
                        self.deadline,
                    ) {
                        Ready::Io => {}
                        Ready::Stop => return Err(Refusal::Stopped),
                        Ready::Timeout => return Err(Refusal::Slow(self.timeout)),
                    }
                }
                Err(_) => return Err(Refusal::Gone),
            }
        }
    }

    /// Has at least `n` bytes buffered.
    fn need(&mut self, n: usize) -> Result<(), Refusal> {
        while self.buf.len() < n {
            self.more()?;
        }
        Ok(())
    }

    /// Writes a short answer, within the timeout.
    fn send(&self, mut bytes: &[u8]) -> Result<(), Refusal> {
        let deadline = Instant::now() + self.timeout;
        while !bytes.is_empty() {
            match (&*self.sock).write(bytes) {
                Ok(0) => return Err(Refusal::Gone),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match wait(self.sock.as_fd(), PollFlags::POLLOUT, self.stop, deadline) {
                        Ready::Io => {}
                        Ready::Stop => return Err(Refusal::Stopped),
                        Ready::Timeout => return Err(Refusal::Slow(self.timeout)),
                    }
                }
                Err(_) => return Err(Refusal::Gone),
            }
        }
        Ok(())
    }
}

fn handle(client: &UnixStream, shared: &Shared, rec: &mut Record) -> EventResult {
    let timeout = shared.cfg.idle_timeout;
    let mut wire = Wire {
        sock: client,
        stop: &shared.stop,
        deadline: Instant::now() + timeout,
        timeout,
        buf: Vec::new(),
        cap: shared.cfg.max_header,
    };
    if let Err(r) = wire.more() {
        return r.result(rec);
    }
    match wire.buf[0] {
        5 => socks5(&mut wire, shared, rec),
        b if b.is_ascii_alphabetic() => http(&mut wire, shared, rec),
        _ => EventResult::Error("neither HTTP CONNECT nor SOCKS5".into()),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn http_reply(status: u16) -> Vec<u8> {
    let text = match status {
        200 => return b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec(),
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    format!("HTTP/1.1 {status} {text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

/// Parses an HTTP request head (everything up to and including the empty line) into its destination.
fn parse_http_head(head: &[u8]) -> Result<Dest, Refusal> {
    if head.iter().any(|b| *b == 0 || *b >= 0x80) {
        return Err(Refusal::Malformed(
            "NUL or non-ASCII bytes in the request".into(),
        ));
    }
    let mut rest = head
        .strip_suffix(b"\r\n\r\n")
        .ok_or_else(|| Refusal::Malformed("no empty line after the request".into()))?;
    let mut lines: Vec<&[u8]> = Vec::new();
    while let Some(i) = find(rest, b"\r\n") {
        lines.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    lines.push(rest);
    if lines
        .iter()
        .any(|l| l.contains(&b'\r') || l.contains(&b'\n'))
    {
        return Err(Refusal::Malformed("a bare CR or LF in the request".into()));
    }
    let parts: Vec<&[u8]> = lines[0].split(|b| *b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(Refusal::Malformed(
            "the request line is not METHOD TARGET VERSION".into(),
        ));
    };
    if method != b"CONNECT" {
        return Err(Refusal::NotConnect);
    }
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        return Err(Refusal::Malformed("not HTTP/1.0 or HTTP/1.1".into()));
    }
    let dest = parse_authority(target).map_err(Refusal::Malformed)?;
    for line in &lines[1..] {
        let name_ok = line.iter().position(|b| *b == b':').is_some_and(|colon| {
            colon > 0
                && line[..colon]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
        });
        if !name_ok {
            return Err(Refusal::Malformed(
                "a header line is not NAME: VALUE".into(),
            ));
        }
    }
    Ok(dest)
}

fn http(wire: &mut Wire<'_>, shared: &Shared, rec: &mut Record) -> EventResult {
    rec.proto = Some("http");
    let refuse = |wire: &Wire<'_>, r: Refusal, rec: &mut Record| {
        if let Some(status) = r.http_status() {
            rec.reply = Some(status);
            let _ = wire.send(&http_reply(status));
        }
        r.result(rec)
    };
    let end = loop {
        if let Some(i) = find(&wire.buf, b"\r\n\r\n") {
            break i + 4;
        }
        if let Err(r) = wire.more() {
            return refuse(wire, r, rec);
        }
    };
    let leftover = wire.buf.split_off(end);
    let dest = match parse_http_head(&wire.buf) {
        Ok(d) => d,
        Err(r) => return refuse(wire, r, rec),
    };
    rec.dest = Some(dest.to_string());
    let upstream = match shared
        .rules
        .decide(&dest)
        .and_then(|addrs| connect(&addrs, shared))
    {
        Ok(u) => u,
        Err(r) => return refuse(wire, r, rec),
    };
    rec.reply = Some(200);
    if let Err(r) = wire.send(&http_reply(200)) {
        return r.result(rec);
    }
    relay(wire.sock, &upstream, leftover, shared, rec)
}

fn socks_reply(code: u8) -> [u8; 10] {
    [5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

/// Parses a SOCKS5 request (after the greeting): `VER CMD RSV ATYP ADDR PORT`. `Ok(None)`: more bytes
/// are needed; `Ok(Some((dest, len)))`.
fn parse_socks_request(b: &[u8]) -> Result<Option<(Dest, usize)>, Refusal> {
    if b.len() < 5 {
        return Ok(None);
    }
    if b[0] != 5 {
        return Err(Refusal::Malformed("SOCKS version is not 5".into()));
    }
    if b[1] != 1 {
        return Err(Refusal::Command(b[1]));
    }
    if b[2] != 0 {
        return Err(Refusal::Malformed("SOCKS5 reserved byte is not 0".into()));
    }
    let (addr_len, at) = match b[3] {
        1 => (4, 4),
        4 => (16, 4),
        3 if b[4] == 0 => {
            return Err(Refusal::Malformed("empty SOCKS5 domain name".into()));
        }
        3 => (b[4] as usize, 5),
        t => return Err(Refusal::AddressType(t)),
    };
    let len = at + addr_len + 2;
    if b.len() < len {
        return Ok(None);
    }
    let addr = &b[at..at + addr_len];
    let port = u16::from_be_bytes([b[len - 2], b[len - 1]]);
    if port == 0 {
        return Err(Refusal::Malformed("port 0".into()));
    }
    let host = match b[3] {
        1 => Host::Ip(IpAddr::V4(Ipv4Addr::new(
            addr[0], addr[1], addr[2], addr[3],
        ))),
        4 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(addr);
            Host::Ip(normalise(IpAddr::V6(Ipv6Addr::from(o))))
        }
        _ => parse_host(addr).map_err(Refusal::Malformed)?,
    };
    Ok(Some((Dest { host, port }, len)))
}

fn socks5(wire: &mut Wire<'_>, shared: &Shared, rec: &mut Record) -> EventResult {
    rec.proto = Some("socks5");
    let refuse = |wire: &Wire<'_>, r: Refusal, rec: &mut Record| {
        if let Some(code) = r.socks_code() {
            rec.reply = r.http_status();
            let _ = wire.send(&socks_reply(code));
        }
        r.result(rec)
    };
    // Greeting: VER NMETHODS METHODS...
    if let Err(r) = wire.need(2) {
        return r.result(rec);
    }
    let n = wire.buf[1] as usize;
    if n == 0 {
        return Refusal::Malformed("SOCKS5 greeting with no methods".into()).result(rec);
    }
    if let Err(r) = wire.need(2 + n) {
        return r.result(rec);
    }
    if !wire.buf[2..2 + n].contains(&0) {
        let _ = wire.send(&[5, 0xff]);
        return Refusal::NoAcceptableMethod.result(rec);
    }
    wire.buf.drain(..2 + n);
    if let Err(r) = wire.send(&[5, 0]) {
        return r.result(rec);
    }
    let (dest, len) = loop {
        match parse_socks_request(&wire.buf) {
            Ok(Some(found)) => break found,
            Ok(None) => {
                if let Err(r) = wire.more() {
                    return r.result(rec);
                }
            }
            Err(r) => return refuse(wire, r, rec),
        }
    };
    let leftover = wire.buf.split_off(len);
    rec.dest = Some(dest.to_string());
    let upstream = match shared
        .rules
        .decide(&dest)
        .and_then(|addrs| connect(&addrs, shared))
    {
        Ok(u) => u,
        Err(r) => return refuse(wire, r, rec),
    };
    rec.reply = Some(200);
    if let Err(r) = wire.send(&socks_reply(0)) {
        return r.result(rec);
    }
    relay(wire.sock, &upstream, leftover, shared, rec)
}

/// Connects to the first address that answers, all within the connect timeout.
fn connect(addrs: &[SocketAddr], shared: &Shared) -> Result<TcpStream, Refusal> {
    let deadline = Instant::now() + shared.cfg.connect_timeout;
    let mut last = Refusal::NoAddress("no address".into());
    for addr in addrs {
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::Inet,
            SocketAddr::V6(_) => AddressFamily::Inet6,
        };
        let fd = sock::socket(
            family,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| Refusal::Refused(format!("socket: {e}")))?;
        match sock::connect(fd.as_raw_fd(), &SockaddrStorage::from(*addr)) {
            Ok(()) => return Ok(TcpStream::from(fd)),
            Err(Errno::EINPROGRESS) => {}
            Err(e) => {
                last = Refusal::Refused(format!("connect {addr}: {}", e.desc()));
                continue;
            }
        }
        match wait(fd.as_fd(), PollFlags::POLLOUT, &shared.stop, deadline) {
            Ready::Stop => return Err(Refusal::Stopped),
            Ready::Timeout => {
                return Err(Refusal::Timeout(format!(
                    "connect {addr}: no answer within {} ms (net.timeout)",
                    shared.cfg.connect_timeout.as_millis()
                )))
            }
            Ready::Io => match sock::getsockopt(&fd, sockopt::SocketError) {
                Ok(0) => return Ok(TcpStream::from(fd)),
                Ok(e) => {
                    last =
                        Refusal::Refused(format!("connect {addr}: {}", Errno::from_raw(e).desc()))
                }
                Err(e) => last = Refusal::Refused(format!("connect {addr}: {}", e.desc())),
            },
        }
    }
    Err(last)
}

/// One direction of a tunnel: bytes read and not yet written.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    at: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.at >= self.buf.len()
    }
    fn set(&mut self, bytes: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(bytes);
        self.at = 0;
    }
}

enum Io {
    Moved(usize),
    Eof,
    WouldBlock,
    Broken,
}

fn io_result(r: io::Result<usize>) -> Io {
    match r {
        Ok(0) => Io::Eof,
        Ok(n) => Io::Moved(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Io::WouldBlock
        }
        Err(_) => Io::Broken,
    }
}

/// Moves bytes both ways until both sides are done, the byte cap, the idle timeout or the stop.
fn relay(
    client: &UnixStream,
    upstream: &TcpStream,
    leftover: Vec<u8>,
    shared: &Shared,
    rec: &mut Record,
) -> EventResult {
    let cfg = &shared.cfg;
    let max = cfg.max_bytes;
    let mut total: u64 = 0;
    let mut capped = false;
    let mut up = Pending::default();
    let mut down = Pending::default();
    let keep = leftover.len().min(max as usize);
    up.set(&leftover[..keep]);
    total += keep as u64;
    rec.up += keep as u64;
    capped |= keep < leftover.len();
    let (mut client_eof, mut upstream_eof) = (false, false);
    let (mut upstream_shut, mut client_shut) = (false, false);
    let mut last_traffic = Instant::now();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        if up.is_empty() && client_eof && !upstream_shut {
            let _ = upstream.shutdown(Shutdown::Write);
            upstream_shut = true;
        }
        if down.is_empty() && upstream_eof && !client_shut {
            let _ = client.shutdown(Shutdown::Write);
            client_shut = true;
        }
        if up.is_empty() && down.is_empty() {
            if capped {
                return EventResult::Limit(format!(
                    "{max} bytes through one connection (net.max_bytes)"
                ));
            }
            if client_eof && upstream_eof {
                return EventResult::Ok;
            }
        }
        let read_client = !capped && !client_eof && up.is_empty();
        let read_upstream = !capped && !upstream_eof && down.is_empty();
        let flags = |read: bool, write: bool| {
            let mut f = PollFlags::empty();
            if read {
                f |= PollFlags::POLLIN;
            }
            if write {
                f |= PollFlags::POLLOUT;
            }
            f
        };
        let client_flags = flags(read_client, !down.is_empty());
        let upstream_flags = flags(read_upstream, !up.is_empty());
        let idle_deadline = last_traffic + cfg.idle_timeout;
        let left = idle_deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return EventResult::Limit(format!(
                "idle for {} ms (net.timeout)",
                cfg.idle_timeout.as_millis()
            ));
        }
        // Only descriptors with something to wait for: a hung-up one would wake poll forever.
        let mut fds = vec![PollFd::new(shared.stop.as_fd(), PollFlags::POLLIN)];
        let client_at = (!client_flags.is_empty()).then(|| {
            fds.push(PollFd::new(client.as_fd(), client_flags));
            fds.len() - 1
        });
        let upstream_at = (!upstream_flags.is_empty()).then(|| {
            fds.push(PollFd::new(upstream.as_fd(), upstream_flags));
            fds.len() - 1
        });
        let ms = PollTimeout::try_from(left.as_millis() as u64 + 1).unwrap_or(PollTimeout::MAX);
        match nix::poll::poll(&mut fds, ms) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return EventResult::Error(format!("poll: {e}")),
        }
        let ev = |at: Option<usize>| {
            at.and_then(|i| fds[i].revents())
                .unwrap_or(PollFlags::empty())
        };
        let (stop_ev, client_ev, upstream_ev) = (ev(Some(0)), ev(client_at), ev(upstream_at));
        if !stop_ev.is_empty() {
            rec.closed = Some("the run ended");
            return EventResult::Ok;
        }
        let readable = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
        let writable = PollFlags::POLLOUT | PollFlags::POLLHUP | PollFlags::POLLERR;
        // Reads, each bounded by what the cap leaves.
        if read_client && client_ev.intersects(readable) {
            match io_result((&*client).read(&mut chunk)) {
                Io::Moved(n) => {
                    let room = (max - total).min(n as u64) as usize;
                    up.set(&chunk[..room]);
                    total += room as u64;
                    rec.up += room as u64;
                    capped |= room < n;
                    last_traffic = Instant::now();
                }
                Io::Eof | Io::Broken => client_eof = true,
                Io::WouldBlock => {}
            }
        }
        if read_upstream && upstream_ev.intersects(readable) {
            match io_result((&*upstream).read(&mut chunk)) {
                Io::Moved(n) => {
                    let room = (max - total).min(n as u64) as usize;
                    down.set(&chunk[..room]);
                    total += room as u64;
                    rec.down += room as u64;
                    capped |= room < n;
                    last_traffic = Instant::now();
                }
                Io::Eof | Io::Broken => upstream_eof = true,
                Io::WouldBlock => {}
            }
        }
        // Writes.
        if !up.is_empty() && upstream_ev.intersects(writable) {
            match io_result((&*upstream).write(&up.buf[up.at..])) {
                Io::Moved(n) => {
                    up.at += n;
                    last_traffic = Instant::now();
                }
                Io::WouldBlock => {}
                // The destination is gone: nothing more can be delivered.
                Io::Eof | Io::Broken => return EventResult::Ok,
            }
        }
        if !down.is_empty() && client_ev.intersects(writable) {
            match io_result((&*client).write(&down.buf[down.at..])) {
                Io::Moved(n) => {
                    down.at += n;
                    last_traffic = Instant::now();
                }
                Io::WouldBlock => {}
                Io::Eof | Io::Broken => return EventResult::Ok,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn canonical_hosts_parse() {
        assert_eq!(parse_host(b"127.0.0.1"), Ok(ip("127.0.0.1")));
        assert_eq!(parse_host(b"127.0.0.1."), Ok(ip("127.0.0.1")));
        assert_eq!(parse_host(b"[::1]"), Ok(ip("::1")));
        assert_eq!(parse_host(b"[0:0:0:0:0:0:0:1]"), Ok(ip("::1")));
        assert_eq!(parse_host(b"[::ffff:127.0.0.1]"), Ok(ip("127.0.0.1")));
        assert_eq!(parse_host(b"[::ffff:7f00:1]"), Ok(ip("127.0.0.1")));
        assert_eq!(
            parse_host(b"Example.COM."),
            Ok(Host::Name("example.com".into()))
        );
        assert_eq!(parse_host(b"1e100.net"), Ok(Host::Name("1e100.net".into())));
    }

    #[test]
    fn tricky_literals_are_refused() {
        for bad in [
            &b"127.1"[..],
            b"0x7f.0.0.1",
            b"0x7f000001",
            b"2130706433",
            b"017700000001",
            b"0177.0.0.1",
            b"127.0.0.01",
            b"127.000.000.001",
            b"127.0.0.1..",
            b"localhost..",
            b".localhost",
            b"[::1%lo]",
            b"[fe80::1%251]",
            b"::1",
            b"localhost\0.evil",
            b"local host",
            b"user@127.0.0.1",
            b"127.0.0.1/x",
            b"",
            b"[]",
            b"-a.b",
            b"a_b.c",
            b"caf\xc3\xa9.example",
        ] {
            assert!(
                parse_host(bad).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_host(&[b'a'; 300]).is_err());
    }

    #[test]
    fn authorities_need_a_strict_port() {
        assert_eq!(
            parse_authority(b"127.0.0.1:8080"),
            Ok(Dest {
                host: ip("127.0.0.1"),
                port: 8080
            })
        );
        assert_eq!(parse_authority(b"[::1]:443").map(|d| d.port), Ok(443));
        for bad in [
            &b"127.0.0.1"[..],
            b"127.0.0.1:",
            b"127.0.0.1:0",
            b"127.0.0.1:080",
            b"127.0.0.1:65536",
            b"127.0.0.1:+80",
            b"127.0.0.1: 80",
            b"127.0.0.1:80 ",
            b"::1:80",
            b"127.0.0.1:80@127.0.0.1:81",
            b"127.0.0.1:81#@127.0.0.1:80",
        ] {
            assert!(
                parse_authority(bad).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn http_heads_are_strict() {
        let ok = parse_http_head(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
        assert_eq!(ok.unwrap().to_string(), "a.example:443");
        for (bad, status) in [
            (&b"GET http://a.example/ HTTP/1.1\r\n\r\n"[..], 405),
            (b"connect a.example:443 HTTP/1.1\r\n\r\n", 405),
            (b"CONNECT  a.example:443 HTTP/1.1\r\n\r\n", 400),
            (b"CONNECT a.example:443 HTTP/2\r\n\r\n", 400),
            (b"CONNECT a.example:443 HTTP/1.1\nHost: x\r\n\r\n", 400),
            (b"CONNECT a.example:443 HTTP/1.1\r\n folded\r\n\r\n", 400),
            (b"CONNECT a.example:443\0 HTTP/1.1\r\n\r\n", 400),
        ] {
            let r = parse_http_head(bad).unwrap_err();
            assert_eq!(r.http_status(), Some(status), "{r:?}");
        }
    }

    #[test]
    fn socks_requests_parse_incrementally() {
        let req = [5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
        for cut in 0..req.len() {
            assert!(matches!(parse_socks_request(&req[..cut]), Ok(None)));
        }
        let (d, n) = parse_socks_request(&req).unwrap().unwrap();
        assert_eq!((d.to_string(), n), ("127.0.0.1:8080".into(), 10));
        let mut name = vec![5, 1, 0, 3, 10];
        name.extend_from_slice(b"LOCALHOST.");
        name.extend_from_slice(&[0, 80]);
        let (d, _) = parse_socks_request(&name).unwrap().unwrap();
        assert_eq!(d.host, Host::Name("localhost".into()));
        let mut nul = vec![5, 1, 0, 3, 11];
        nul.extend_from_slice(b"localhost\0x");
        nul.extend_from_slice(&[0, 80]);
        assert!(parse_socks_request(&nul).is_err());
        assert!(matches!(
            parse_socks_request(&[5, 2, 0, 1, 127, 0, 0, 1, 0, 80]),
            Err(Refusal::Command(2))
        ));
        assert!(matches!(
            parse_socks_request(&[5, 1, 0, 9, 0]),
            Err(Refusal::AddressType(9))
        ));
    }

    fn rules(allow: &[&str], resolve: &dyn Fn(&str) -> io::Result<Vec<IpAddr>>) -> Allowlist {
        let allow: Vec<AllowEntry> = allow.iter().map(|s| s.parse().unwrap()).collect();
        Allowlist::build(&allow, false, resolve)
    }

    #[test]
    fn names_are_pinned_and_literals_match_exactly() {
        let r = rules(
            &["svc.example:443", "127.0.0.1:8080", "[::1]:9"],
            &|n: &str| {
                assert_eq!(n, "svc.example");
                Ok(vec![
                    "10.1.2.3".parse().unwrap(),
                    "::ffff:10.1.2.4".parse().unwrap(),
                ])
            },
        );
        let d = |h: &str, port| Dest {
            host: parse_host(h.as_bytes()).unwrap(),
            port,
        };
        let addrs = r.decide(&d("SVC.example.", 443)).unwrap();
        assert_eq!(
            addrs,
            vec![
                "10.1.2.3:443".parse::<SocketAddr>().unwrap(),
                "10.1.2.4:443".parse().unwrap()
            ]
        );
        assert!(r.decide(&d("10.1.2.4", 443)).is_ok());
        assert!(matches!(
            r.decide(&d("10.1.2.4", 80)),
            Err(Refusal::Denied(_))
        ));
        assert!(matches!(
            r.decide(&d("svc.example", 80)),
            Err(Refusal::Denied(_))
        ));
        assert!(r.decide(&d("127.0.0.1", 8080)).is_ok());
        assert!(r.decide(&d("[::ffff:127.0.0.1]", 8080)).is_ok());
        assert!(matches!(
            r.decide(&d("127.0.0.2", 8080)),
            Err(Refusal::Denied(_))
        ));
        assert!(matches!(
            r.decide(&d("127.0.0.1", 8081)),
            Err(Refusal::Denied(_))
        ));
        assert!(r.decide(&d("[::1]", 9)).is_ok());
        assert!(matches!(
            r.decide(&d("other.example", 443)),
            Err(Refusal::Denied(_))
        ));
    }

    #[test]
    fn socket_addresses_are_checked_like_literals() {
        let r = rules(
            &["svc.example:443", "127.0.0.1:8080", "0.0.0.0:80"],
            &|_| Ok(vec!["10.1.2.3".parse().unwrap()]),
        );
        let ok = |s: &str| r.check_addr(s.parse().unwrap());
        assert!(ok("127.0.0.1:8080").is_ok());
        assert!(ok("[::ffff:127.0.0.1]:8080").is_ok());
        assert!(ok("10.1.2.3:443").is_ok());
        for denied in [
            "127.0.0.1:8081",
            "127.0.0.2:8080",
            "10.1.2.3:80",
            "0.0.0.0:80",
            "[::]:8080",
            "224.0.0.1:8080",
            "127.0.0.1:0",
        ] {
            assert!(ok(denied).unwrap_err().contains(denied), "{denied}");
        }
    }

    #[test]
    fn non_unicast_destinations_are_refused_even_when_listed() {
        let r = rules(&["0.0.0.0:80", "svc.example:80"], &|_| {
            Ok(vec![
                "0.0.0.0".parse().unwrap(),
                "224.0.0.1".parse().unwrap(),
            ])
        });
        let d = |h: &str| Dest {
            host: parse_host(h.as_bytes()).unwrap(),
            port: 80,
        };
        assert!(matches!(r.decide(&d("0.0.0.0")), Err(Refusal::Denied(_))));
        assert!(matches!(
            r.decide(&d("svc.example")),
            Err(Refusal::NoAddress(_))
        ));
    }
}
