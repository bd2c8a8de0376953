//! Honeypot listeners on the host: per case TCP 127.0.0.1, TCP [::1], UDP 127.0.0.1, UDP DNS
//! 127.0.0.1, a unix path socket and an abstract unix socket; per suite a DNS listener on 127.0.0.1:53
//! when it can be bound (datagrams attributed to a case by its nonce). Any connection or datagram is an
//! escape.
//!
//! For `net.mode = "allow"` attacks, each case also has an *allowed* server, `{allowed_port}` on
//! 127.0.0.1 and [::1] (connections there are not escapes: it is the destination the policy lists; it
//! greets with `GAUNTLET-ALLOWED` and keeps what it gets for the canary oracle), and a honeypot on
//! 127.0.0.2 at the same port (an escape: the allowed port on an address the policy does not list,
//! which is what DNS rebinding or a sloppy allowlist would reach). One thread per case serves the listeners with `poll`; `stop` wakes it, it drains what is left
//! and exits.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{Evidence, Finished, Oracle, OracleKind};

/// Bytes kept from all payloads of one case.
const PAYLOAD_CAP: usize = 1 << 20;
const MAX_CONNS: usize = 64;

/// One connection or datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub listener: &'static str,
    pub what: &'static str,
}

/// What the honeypots of a case received.
#[derive(Clone, Debug, Default)]
pub struct HoneyLog {
    pub hits: Vec<Hit>,
    pub payload: Vec<u8>,
    /// Connections to the allowed server (not escapes).
    pub allowed: usize,
}

impl HoneyLog {
    fn keep(&mut self, bytes: &[u8]) {
        let room = PAYLOAD_CAP.saturating_sub(self.payload.len());
        self.payload
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

pub type SharedLog = Arc<Mutex<HoneyLog>>;

pub fn lock(log: &SharedLog) -> std::sync::MutexGuard<'_, HoneyLog> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// Ports and names of a case's honeypots (the placeholders).
#[derive(Clone, Debug)]
pub struct Addresses {
    pub tcp_port: u16,
    pub tcp6_port: u16,
    pub udp_port: u16,
    pub dns_port: u16,
    pub unix_path: PathBuf,
    pub abstract_name: String,
    /// The allowed server's port on 127.0.0.1 and [::1]; 127.0.0.2 on this port is a honeypot.
    pub allowed_port: u16,
}

enum Listener {
    Tcp(&'static str, TcpListener),
    /// The allowed server: its connections are counted, not hits.
    Allowed(TcpListener),
    Udp(&'static str, UdpSocket),
    Unix(&'static str, UnixListener),
}

impl Listener {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(_, l) | Listener::Allowed(l) => l.as_fd(),
            Listener::Udp(_, l) => l.as_fd(),
            Listener::Unix(_, l) => l.as_fd(),
        }
    }
}

enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Conn::Tcp(s) => s.as_fd(),
            Conn::Unix(s) => s.as_fd(),
        }
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

/// The running honeypots of one case.
pub struct Honeypots {
    pub addresses: Addresses,
    log: SharedLog,
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
}

impl Honeypots {
    /// Binds every listener and starts the serving thread. `dir` holds the unix path socket.
    pub fn start(dir: &Path, nonce: &str) -> std::io::Result<Honeypots> {
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let tcp6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0))?;
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let dns = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let unix_path = dir.join("honey.sock");
        let unix = UnixListener::bind(&unix_path)?;
        let abstract_name = format!("gauntlet-honey-{nonce}");
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes())?;
        let abs = UnixListener::bind_addr(&addr)?;
        let (allowed4, allowed6, rebind) = allowed_listeners()?;
        let addresses = Addresses {
            tcp_port: tcp.local_addr()?.port(),
            tcp6_port: tcp6.local_addr()?.port(),
            udp_port: udp.local_addr()?.port(),
            dns_port: dns.local_addr()?.port(),
            unix_path,
            abstract_name,
            allowed_port: allowed4.local_addr()?.port(),
        };
        let listeners = vec![
            Listener::Tcp("tcp 127.0.0.1", tcp),
            Listener::Tcp("tcp [::1]", tcp6),
            Listener::Udp("udp 127.0.0.1", udp),
            Listener::Udp("dns 127.0.0.1", dns),
            Listener::Unix("unix path", unix),
            Listener::Unix("unix abstract", abs),
            Listener::Tcp("tcp 127.0.0.2 (the allowed port)", rebind),
            Listener::Allowed(allowed4),
            Listener::Allowed(allowed6),
        ];
        for l in &listeners {
            set_nonblocking(l.fd())?;
        }
        let (wake, wake_rx) = UnixStream::pair()?;
        let log: SharedLog = Arc::default();
        let thread_log = log.clone();
        let thread = std::thread::Builder::new()
            .name("honeypot".into())
            .spawn(move || serve(listeners, wake_rx, thread_log))?;
        Ok(Honeypots {
            addresses,
            log,
            wake,
            thread: Some(thread),
        })
    }

    pub fn log(&self) -> SharedLog {
        self.log.clone()
    }

    /// Wakes the thread, which drains every socket once more and exits; then joins it.
    pub fn stop(&mut self) {
        use std::io::Write;
        let _ = (&self.wake).write_all(b"x");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Honeypots {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.addresses.unix_path);
    }
}

/// The allowed server on 127.0.0.1:P and [::1]:P, and the honeypot on 127.0.0.2:P, for one port P
/// free on all three.
fn allowed_listeners() -> std::io::Result<(TcpListener, TcpListener, TcpListener)> {
    let mut last = None;
    for _ in 0..64 {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = v4.local_addr()?.port();
        let pair = TcpListener::bind((Ipv6Addr::LOCALHOST, port))
            .and_then(|v6| Ok((v6, TcpListener::bind((Ipv4Addr::new(127, 0, 0, 2), port))?)));
        match pair {
            Ok((v6, rebind)) => return Ok((v4, v6, rebind)),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| std::io::Error::other("no port free on 127.0.0.1, ::1 and 127.0.0.2")))
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(std::io::Error::from)?;
    fcntl(
        fd,
        FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
    )
    .map_err(std::io::Error::from)?;
    Ok(())
}

fn serve(listeners: Vec<Listener>, wake: UnixStream, log: SharedLog) {
    let mut conns: Vec<(&'static str, Conn)> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds: Vec<libc::pollfd> = vec![pollfd(wake.as_fd())];
        fds.extend(listeners.iter().map(|l| pollfd(l.fd())));
        fds.extend(conns.iter().map(|(_, c)| pollfd(c.fd())));
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 && std::io::Error::last_os_error().kind() != ErrorKind::Interrupted {
            break;
        }
        let stopping = fds[0].revents != 0;
        service(&listeners, &mut conns, &log, &mut buf);
        if stopping {
            // One more pass for whatever arrived together with the stop.
            service(&listeners, &mut conns, &log, &mut buf);
            break;
        }
    }
}

fn pollfd(fd: BorrowedFd<'_>) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Accepts, receives and reads everything that is ready, without blocking.
fn service(
    listeners: &[Listener],
    conns: &mut Vec<(&'static str, Conn)>,
    log: &SharedLog,
    buf: &mut [u8],
) {
    for l in listeners {
        loop {
            let accepted = match l {
                Listener::Allowed(t) => match t.accept() {
                    Ok((s, _)) => {
                        use std::io::Write;
                        lock(log).allowed += 1;
                        if conns.len() < MAX_CONNS && set_nonblocking(s.as_fd()).is_ok() {
                            let _ = (&s).write(b"GAUNTLET-ALLOWED\n");
                            conns.push(("allowed", Conn::Tcp(s)));
                        }
                        continue;
                    }
                    Err(_) => break,
                },
                Listener::Tcp(name, t) => t.accept().map(|(s, _)| (*name, Conn::Tcp(s))),
                Listener::Unix(name, u) => u.accept().map(|(s, _)| (*name, Conn::Unix(s))),
                Listener::Udp(name, u) => match u.recv_from(buf) {
                    Ok((n, _)) => {
                        let mut g = lock(log);
                        g.hits.push(Hit {
                            listener: name,
                            what: "datagram",
                        });
                        g.keep(&buf[..n]);
                        continue;
                    }
                    Err(_) => break,
                },
            };
            match accepted {
                Ok((name, conn)) => {
                    lock(log).hits.push(Hit {
                        listener: name,
                        what: "connection",
                    });
                    if conns.len() < MAX_CONNS && set_nonblocking(conn.fd()).is_ok() {
                        conns.push((name, conn));
                    }
                }
                Err(_) => break,
            }
        }
    }
    conns.retain_mut(|(_, c)| loop {
        match c.read(buf) {
            Ok(0) => return false,
            Ok(n) => lock(log).keep(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return e.kind() == ErrorKind::WouldBlock,
        }
    });
}

/// The suite's DNS honeypot on 127.0.0.1:53 (when bindable): datagrams are kept whole and attributed
/// to cases by searching them for the case nonce.
pub struct SuiteDns {
    log: Arc<Mutex<Vec<Vec<u8>>>>,
    wake: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
    pub bound: Result<SocketAddr, String>,
}

impl SuiteDns {
    pub fn start() -> SuiteDns {
        let log: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let (wake, wake_rx) = match UnixStream::pair() {
            Ok(p) => p,
            Err(e) => return SuiteDns::unbound(log, e.to_string()),
        };
        let sock = match UdpSocket::bind((Ipv4Addr::LOCALHOST, 53)) {
            Ok(s) => s,
            Err(e) => return SuiteDns::unbound(log, format!("127.0.0.1:53: {e}")),
        };
        let bound = sock.local_addr().map_err(|e| e.to_string());
        let _ = set_nonblocking(sock.as_fd());
        let thread_log = log.clone();
        let thread = std::thread::Builder::new()
            .name("suite-dns".into())
            .spawn(move || {
                let mut buf = vec![0u8; 4096];
                loop {
                    let mut fds = [pollfd(wake_rx.as_fd()), pollfd(sock.as_fd())];
                    // SAFETY: valid pollfd array for the call.
                    unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
                    while let Ok((n, _)) = sock.recv_from(&mut buf) {
                        let mut g = thread_log.lock().unwrap_or_else(|p| p.into_inner());
                        if g.len() < 100_000 {
                            g.push(buf[..n].to_vec());
                        }
                    }
                    if fds[0].revents != 0 {
                        break;
                    }
                }
            })
            .ok();
        SuiteDns {
            log,
            wake: Some(wake),
            thread,
            bound,
        }
    }

    fn unbound(log: Arc<Mutex<Vec<Vec<u8>>>>, why: String) -> SuiteDns {
        SuiteDns {
            log,
            wake: None,
            thread: None,
            bound: Err(why),
        }
    }

    /// Datagrams that carry `nonce` (case-insensitive; DNS names are).
    pub fn datagrams_for(&self, nonce: &str) -> Vec<Vec<u8>> {
        let needle = nonce.to_ascii_lowercase().into_bytes();
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|d| super::contains(&d.to_ascii_lowercase(), &needle))
            .cloned()
            .collect()
    }

    pub fn stop(&mut self) {
        use std::io::Write;
        if let Some(w) = &self.wake {
            let _ = (&*w).write_all(b"x");
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SuiteDns {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `honeypot` oracle: any hit on the case's listeners, or a suite DNS datagram with its nonce.
pub struct HoneypotOracle {
    log: SharedLog,
    suite_dns: Option<Arc<SuiteDns>>,
    nonce: String,
}

impl HoneypotOracle {
    pub fn new(log: SharedLog, suite_dns: Option<Arc<SuiteDns>>, nonce: &str) -> Self {
        HoneypotOracle {
            log,
            suite_dns,
            nonce: nonce.to_string(),
        }
    }
}

impl Oracle for HoneypotOracle {
    fn kind(&self) -> OracleKind {
        OracleKind::Honeypot
    }

    fn judge(&mut self, _done: &Finished<'_>) -> Vec<Evidence> {
        let mut counts: BTreeMap<(&'static str, &'static str), usize> = BTreeMap::new();
        for h in &lock(&self.log).hits {
            *counts.entry((h.listener, h.what)).or_default() += 1;
        }
        let mut ev: Vec<Evidence> = counts
            .into_iter()
            .map(|((listener, what), n)| {
                Evidence::escape(
                    OracleKind::Honeypot,
                    format!("{listener} honeypot received {n} {what}(s)"),
                )
            })
            .collect();
        if let Some(dns) = &self.suite_dns {
            let n = dns.datagrams_for(&self.nonce).len();
            if n > 0 {
                ev.push(Evidence::escape(
                    OracleKind::Honeypot,
                    format!("suite dns 127.0.0.1:53 honeypot received {n} datagram(s) naming the case nonce"),
                ));
            }
        }
        ev
    }
}
