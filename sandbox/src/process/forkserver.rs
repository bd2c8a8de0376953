//! The fork server: a small process that forks the setup processes (A) so the host never has to.
//!
//! A `fork` copies the caller's page tables and memory map, and afterwards both sides pay a
//! copy-on-write fault for each page they write. For a big host (a wasm engine with its code and pooled
//! memories, many threads) that copy is the largest single cost of a cold start, and it grows with the
//! host. So from a process's second run on, A is forked by the fork server instead: the host's own
//! binary started again through `/proc/self/exe` (taken over before `main` by `sys::FORK_SERVER_HOOK`),
//! which holds nothing but a socket. The host sends it the run's `Plan` and descriptors over a
//! `SOCK_SEQPACKET` socketpair; the server forks A with `CLONE_PARENT`, so A is still the host's child
//! (the host reaps it, A's parent-death signal follows the host) and runs exactly the code it runs after
//! a direct fork.
//!
//! The server also does what is the same for every run of a plan once: it lives in a mount namespace
//! of its own, shaped as B's is after its first pivot (`prepare_layout`), and keeps the read-only part
//! of each plan's view as a template (`Templates`), which B binds in one call before adding the run's
//! own `/tmp`, `/dev/shm` and `/proc` (`plan::Layout`).
//!
//! The first run of a process forks directly (a one-run program such as `gauntlet exec` never pays for
//! the server), and so does any run the server cannot take: a thread in other namespaces or with
//! other effective ids than the server's, a plan too big for one message, a run weakened to inherit
//! the host's descriptors or to keep its mount namespace, a server that could not start or has died
//! (a server that dies in the middle of a request fails that run instead: it may have forked A
//! already). The server is started by the
//! reaper's thread, which lives as long as the process, and ends when the host closes the socket
//! (`shutdown`, or the host's exit) or dies (parent-death signal).

use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use seccompiler::sock_filter;

use super::child::{self, ChildFds};
use super::fence::FenceSpec;
use super::plan::{
    per_run_path, ExecPlan, Layout, Namespaces, Plan, RootPlan, ViewEntry, NEW_ROOT, OLD_ROOT,
};
use super::{reaper, sys};

/// `argv[0]` of the fork server; with a second argument (the host's pid) and a seqpacket socket at
/// `sys::SERVER_FD`, it is what makes a program start as the server.
pub(crate) const ARG0: &CStr = c"gauntlet-fork-server";

/// Largest request (one message); a bigger plan is forked directly.
const MAX_REQUEST: usize = 64 * 1024;

/// Namespaces the server's setup processes start from, which must be the caller's.
const NAMESPACES: [&str; 4] = ["mnt", "pid_for_children", "user", "net"];

type NsIds = [(u64, u64); 4];

struct Server {
    sock: OwnedFd,
    pid: libc::pid_t,
    ns: NsIds,
    /// The host's effective uid and gid when the server started (the server keeps those): a host
    /// that has given up privileges since forks directly, so the server does not keep them for it.
    ids: (u32, u32),
}

/// How long a starting server may take to say it is ready.
const READY_TIMEOUT_MS: i32 = 5_000;

enum Phase {
    /// No server yet (or the last one was stopped).
    Idle,
    /// Queued on the reaper's thread.
    Starting,
    Ready(Server),
    /// Could not be started or failed too often: every run forks directly.
    Off,
}

struct State {
    phase: Phase,
    /// The process this state belongs to: a forked child of the host inherits a copy and must not
    /// use its parent's server (the setup processes would be its parent's children).
    owner: u32,
    /// Direct forks since this process started (the first run starts no server).
    direct: u64,
    failures: u32,
}

static STATE: Mutex<State> = Mutex::new(State {
    phase: Phase::Idle,
    owner: 0,
    direct: 0,
    failures: 0,
});

/// Runs whose setup process the server forked (for tests and diagnostics).
static SERVED: AtomicU64 = AtomicU64::new(0);

/// The host's end of the server's line, while there is one: a setup process forked directly from the
/// host closes it first of all, so no plugin can reach the server, not even one weakened to inherit
/// the host's descriptors (whose close-on-exec flags are cleared). Set after the socket is made and
/// cleared before it is closed, so a fork never sees a number that names something else.
static HOST_SOCKET: AtomicI32 = AtomicI32::new(-1);

/// See `HOST_SOCKET`.
pub(crate) fn host_socket() -> Option<RawFd> {
    Some(HOST_SOCKET.load(Ordering::SeqCst)).filter(|fd| *fd >= 0)
}

/// Direct forks hold this shared while they fork; the server's line is made, and its far end handed
/// to the server and closed, under it held exclusively. So a setup process forked directly never
/// holds an end of the line that it does not know about (`HOST_SOCKET`): one weakened to inherit
/// descriptors would hand it to the plugin, which could take the server's messages or ask it for
/// setup processes of its own.
static FORK_GATE: RwLock<()> = RwLock::new(());

/// Held around a direct fork of a setup process.
pub(crate) fn direct_fork_gate() -> RwLockReadGuard<'static, ()> {
    FORK_GATE.read().unwrap_or_else(|e| e.into_inner())
}

/// How many runs of this process had their setup process forked by the fork server.
pub fn fork_server_runs() -> u64 {
    SERVED.load(Ordering::Relaxed)
}

fn state() -> MutexGuard<'static, State> {
    let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let me = std::process::id();
    if s.owner != me {
        // Fresh, or inherited through a fork: the parent's server is not ours. Its socket is ours to
        // close, its process not ours to reap.
        let old = std::mem::replace(&mut s.phase, Phase::Idle);
        HOST_SOCKET.store(-1, Ordering::SeqCst);
        drop(old);
        s.owner = me;
        s.direct = 0;
        s.failures = 0;
    }
    s
}

fn ns_ids(dir: &str) -> Option<NsIds> {
    let mut out = [(0, 0); 4];
    for (slot, name) in out.iter_mut().zip(NAMESPACES) {
        let path = CString::new(format!("{dir}/ns/{name}")).ok()?;
        *slot = sys::file_id(&path).ok()?;
    }
    Some(out)
}

/// Forks the run's setup process through the server. `None`: no server can take this run, the caller
/// forks directly.
pub(crate) fn spawn_a(plan: &Plan, fds: &ChildFds) -> Option<std::io::Result<libc::pid_t>> {
    // A run weakened to inherit the host's descriptors, or to stay in the host's mount namespace,
    // must be a fork of the host: the server has none of those descriptors, and a mount namespace of
    // its own.
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || !plan.close_fds || !plan.ns.mount {
        return None;
    }
    let mut s = state();
    match s.phase {
        Phase::Ready(_) => {}
        Phase::Idle => {
            s.direct += 1;
            if s.direct > 1 {
                s.phase = Phase::Starting;
                reaper::defer(Box::new(start));
            }
            return None;
        }
        Phase::Starting | Phase::Off => return None,
    }
    let Phase::Ready(server) = &s.phase else {
        return None;
    };
    if (sys::geteuid(), sys::getegid()) != server.ids
        || ns_ids("/proc/thread-self") != Some(server.ns)
    {
        return None;
    }
    let (bytes, passed) = encode(plan, fds);
    if bytes.len() > MAX_REQUEST {
        return None;
    }
    let sock = server.sock.as_raw_fd();
    let (e, maybe_forked) = match sys::send_with_fds(sock, &bytes, &passed) {
        // Nothing was forked: this run can still fork directly.
        Err(e) => (e, false),
        Ok(()) => {
            let mut reply = [0u8; 4];
            match sys::recv_with_fds(sock, &mut reply) {
                Ok((4, _)) => match i32::from_le_bytes(reply) {
                    pid if pid > 0 => {
                        SERVED.fetch_add(1, Ordering::Relaxed);
                        return Some(Ok(pid));
                    }
                    // The server is fine; its fork failed (the limit on processes, memory), as a
                    // direct fork would have.
                    err => return Some(Err(std::io::Error::from_raw_os_error(-err))),
                },
                // The server may have forked A before it died: forking another for the same
                // descriptors could start the run twice, so this run fails instead.
                Ok(_) => (std::io::Error::other("no reply"), true),
                Err(e) => (e, true),
            }
        }
    };
    tracing::debug!("fork server failed ({e}); forking directly from now on");
    s.failures += 1;
    let next = if s.failures >= 3 {
        Phase::Off
    } else {
        Phase::Idle
    };
    if let Phase::Ready(server) = std::mem::replace(&mut s.phase, next) {
        retire(server);
    }
    maybe_forked.then(|| {
        Err(std::io::Error::other(format!(
            "the fork server failed during the request: {e}"
        )))
    })
}

/// Ends a server: closing the socket makes it exit; the kill covers a server that hangs. Reaped here
/// (it is a child of the reaper's thread, and any thread of the process may reap it).
fn retire(server: Server) {
    let gate = FORK_GATE.write().unwrap_or_else(|e| e.into_inner());
    let _ = HOST_SOCKET.compare_exchange(
        server.sock.as_raw_fd(),
        -1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    drop(server.sock);
    drop(gate);
    let _ = sys::kill(server.pid, libc::SIGKILL);
    let _ = sys::wait4(server.pid);
}

/// Runs on the reaper's thread: starts the server and waits for its word that it is ready.
fn start() {
    let started = launch();
    let mut s = state();
    if !matches!(s.phase, Phase::Starting) {
        // Stopped meanwhile (`stop`).
        if let Ok(server) = started {
            retire(server);
        }
        return;
    }
    s.phase = match started {
        Ok(server) => Phase::Ready(server),
        Err(e) => {
            tracing::debug!("fork server not started ({e}); forking directly");
            Phase::Off
        }
    };
}

fn launch() -> std::io::Result<Server> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // The hook is what turns the new process into the server: keep it linked in.
        std::hint::black_box(&sys::FORK_SERVER_HOOK);
    }
    let gate = FORK_GATE.write().unwrap_or_else(|e| e.into_inner());
    let (ours, theirs) = sys::seqpacket_pair()?;
    let pid = sys::exec_fork_server(ARG0, theirs.as_raw_fd());
    drop(theirs);
    let pid = pid?;
    HOST_SOCKET.store(ours.as_raw_fd(), Ordering::SeqCst);
    drop(gate);
    let server = Server {
        sock: ours,
        pid,
        ns: [(0, 0); 4],
        ids: (sys::geteuid(), sys::getegid()),
    };
    let mut word = [0u8; 1];
    // A program that does not answer (a host started through a loader, whose /proc/self/exe is the
    // loader) must not hold up the reaper's thread.
    let mut pfd = [libc::pollfd {
        fd: server.sock.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let ready = match sys::poll(&mut pfd, READY_TIMEOUT_MS) {
        Ok(1) => sys::recv_with_fds(server.sock.as_raw_fd(), &mut word),
        Ok(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut)),
        Err(e) => Err(e),
    };
    // The namespaces the server started in: this thread's (it makes a mount namespace of its own
    // afterwards, shaped from this one).
    let ns = ns_ids("/proc/thread-self");
    match (ready, ns) {
        (Ok((1, _)), Some(ns)) if word == *b"R" => Ok(Server { ns, ..server }),
        (ready, _) => {
            retire(server);
            Err(match ready {
                Err(e) => e,
                Ok(_) => std::io::Error::other("the fork server did not start"),
            })
        }
    }
}

/// Stops this process's fork server (the next runs start another when needed).
pub(crate) fn stop() {
    let mut s = state();
    let old = std::mem::replace(&mut s.phase, Phase::Idle);
    s.direct = 0;
    if let Phase::Ready(server) = old {
        retire(server);
    }
}

/// The server's life: entered from the pre-`main` hook, never returns.
pub(crate) fn serve(parent: libc::pid_t) -> ! {
    let sock = sys::SERVER_FD;
    // Only its line and /dev/null as stdio: descriptors the host had without close-on-exec stay out.
    if sys::close_from(sys::SERVER_FD as u32 + 1).is_err() {
        sys::exit_now(1);
    }
    // `ps` shows what it is (its setup processes carry the name until the plugin's execve).
    sys::set_name(c"gauntlet-fork");
    // Default dispositions and an empty mask for every setup process forked from here (the host's
    // ignored signals were inherited through execve).
    sys::reset_signals();
    // Dies with the host; and a host already gone before that was set is noticed here.
    if sys::set_pdeathsig(libc::SIGKILL).is_err()
        || sys::getppid() != parent
        || sys::set_cloexec(sock).is_err()
        || sys::send_with_fds(sock, b"R", &[]).is_err()
    {
        sys::exit_now(1);
    }
    let scratch = match prepare_layout() {
        Ok(scratch) => scratch,
        Err(_) => sys::exit_now(1),
    };
    let mut templates = Templates::default();
    let mut buf = vec![0u8; MAX_REQUEST];
    loop {
        let (n, fds) = match sys::recv_with_fds(sock, &mut buf) {
            Ok((0, _)) | Err(_) => sys::exit_now(0),
            Ok(got) => got,
        };
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let reply = match decode(&buf[..n], &raw) {
            Ok((mut plan, child_fds)) => {
                if let Some(root) = plan.root.as_mut() {
                    root.layout = match scratch {
                        true => templates.layout_for(root),
                        false => Layout::Host,
                    };
                }
                fork_a(&plan, child_fds)
            }
            Err(_) => -libc::EINVAL,
        };
        drop(fds);
        if sys::send_with_fds(sock, &reply.to_le_bytes(), &[]).is_err() {
            sys::exit_now(0);
        }
    }
}

/// Forks A for one request; returns its pid, or a negative errno.
fn fork_a(plan: &Plan, fds: ChildFds) -> i32 {
    match sys::fork_sibling() {
        Ok(sys::Forked::Child) => {
            sys::close(sys::SERVER_FD);
            child::run_a(plan, fds)
        }
        Ok(sys::Forked::Parent(pid)) => pid,
        Err(e) => -e.raw_os_error().unwrap_or(libc::EAGAIN),
    }
}

/// Where the server keeps its view templates (in its own mount namespace).
const VIEWS: &str = "/views";

/// Templates kept at most; the least recently used one goes first.
const MAX_TEMPLATES: usize = 16;

/// Gives the server a mount namespace of its own, shaped as B's is after its first pivot: a scratch
/// tmpfs root, the host's root at `OLD_ROOT` (a slave of the host's mounts, so later host mounts show),
/// an empty `NEW_ROOT`, `VIEWS` for templates, and `/proc` a symlink to the host's (A writes its id maps
/// there). `Ok(false)`: no mount namespace could be made (an unprivileged host); runs build as after a
/// direct fork.
fn prepare_layout() -> std::io::Result<bool> {
    if sys::unshare(libc::CLONE_NEWNS).is_err() {
        return Ok(false);
    }
    sys::mount(
        None,
        c"/",
        None,
        (libc::MS_REC | libc::MS_SLAVE) as libc::c_ulong,
        None,
    )?;
    sys::mount(
        Some(c"tmpfs"),
        c"/tmp",
        Some(c"tmpfs"),
        (libc::MS_NOSUID | libc::MS_NODEV) as libc::c_ulong,
        Some(c"size=64k,mode=0755"),
    )?;
    sys::chdir(c"/tmp")?;
    for dir in [NEW_ROOT, OLD_ROOT, VIEWS] {
        sys::mkdir(&CString::new(&dir[1..]).expect("no NUL"), 0o755)?;
    }
    sys::symlink(c"oldroot/proc", c"proc")?;
    sys::pivot_root(c".", &CString::new(&OLD_ROOT[1..]).expect("no NUL"))?;
    sys::chdir(c"/")?;
    Ok(true)
}

/// The view templates this server has built: the part of a view that is the same for every run of a
/// plan (`child::build_static`, read-only), keyed by that part's entries and the identity (device,
/// inode) of each bound source, so a source replaced on the host (a file renamed over, a directory
/// made anew) gets a new template instead of the old inode.
#[derive(Default)]
struct Templates {
    next: u32,
    /// Oldest first; `None` where building failed (those runs build their whole view).
    made: Vec<(Vec<u8>, Option<CString>)>,
}

impl Templates {
    fn layout_for(&mut self, root: &RootPlan) -> Layout {
        let Some(key) = template_key(root) else {
            return Layout::Scratch;
        };
        let made = match self.made.iter().position(|(k, _)| *k == key) {
            Some(i) => self.made.remove(i).1,
            None => {
                let path = CString::new(format!("{VIEWS}/{}", self.next)).expect("no NUL");
                self.next += 1;
                make_template(root, &path).ok().map(|()| path)
            }
        };
        if self.made.len() >= MAX_TEMPLATES {
            if let (_, Some(old)) = self.made.remove(0) {
                let _ = sys::umount_detach(&old);
                let _ = sys::rmdir(&old);
            }
        }
        self.made.push((key, made.clone()));
        made.map_or(Layout::Scratch, Layout::Template)
    }
}

fn template_key(root: &RootPlan) -> Option<Vec<u8>> {
    let mut e = Enc {
        out: Vec::new(),
        fds: Vec::new(),
    };
    for entry in root.entries.iter().filter(|e| !per_run_path(e.at())) {
        e.entry(entry);
        if let ViewEntry::Bind { src, .. } = entry {
            let (dev, ino) = sys::file_id(src).ok()?;
            e.u64(dev);
            e.u64(ino);
        }
    }
    Some(e.out)
}

/// Builds the read-only part of `root`'s view at `NEW_ROOT` and moves it to `path`.
fn make_template(root: &RootPlan, path: &CStr) -> std::io::Result<()> {
    let newroot = CString::new(NEW_ROOT).expect("no NUL");
    if let Err((stage, e)) = child::build_static(root) {
        let _ = sys::umount_detach(&newroot);
        return Err(std::io::Error::other(format!("{stage}: {e}")));
    }
    let moved = sys::mkdir(path, 0o755).and_then(|()| {
        sys::mount(
            Some(&newroot),
            path,
            None,
            libc::MS_MOVE as libc::c_ulong,
            None,
        )
    });
    if moved.is_err() {
        let _ = sys::umount_detach(&newroot);
    }
    moved
}

// The wire format: the plan's fields in declaration order; integers little-endian, byte strings with
// a u32 length, `Option`s and enums with a tag byte, descriptors as an index into the message's
// descriptor list. Both ends are the same binary, so there is no version to negotiate.

const NO_FD: u8 = u8::MAX;

struct Enc {
    out: Vec<u8>,
    fds: Vec<RawFd>,
}

impl Enc {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.out.extend_from_slice(v);
    }
    fn cstr(&mut self, v: &CStr) {
        self.bytes(v.to_bytes());
    }
    fn cstrs(&mut self, v: &[CString]) {
        self.u32(v.len() as u32);
        for s in v {
            self.cstr(s);
        }
    }
    fn paths(&mut self, v: &[PathBuf]) {
        self.u32(v.len() as u32);
        for p in v {
            self.bytes(p.as_os_str().as_bytes());
        }
    }
    fn entry(&mut self, entry: &ViewEntry) {
        match entry {
            ViewEntry::Bind {
                src,
                dst,
                dir,
                writable,
            } => {
                self.u8(0);
                self.cstr(src);
                self.cstr(dst);
                self.bool(*dir);
                self.bool(*writable);
            }
            ViewEntry::Symlink { target, at } => {
                self.u8(1);
                self.cstr(target);
                self.cstr(at);
            }
        }
    }
    fn fd(&mut self, fd: Option<RawFd>) {
        match fd.filter(|fd| *fd >= 0) {
            None => self.u8(NO_FD),
            Some(fd) => {
                let at = match self.fds.iter().position(|f| *f == fd) {
                    Some(at) => at,
                    None => {
                        self.fds.push(fd);
                        self.fds.len() - 1
                    }
                };
                self.u8(at as u8);
            }
        }
    }
}

/// The request for one run: the bytes, and the descriptors that go with them.
fn encode(plan: &Plan, fds: &ChildFds) -> (Vec<u8>, Vec<RawFd>) {
    let mut e = Enc {
        out: Vec::with_capacity(4096),
        fds: Vec::new(),
    };
    match plan.switch_to {
        Some((uid, gid)) => {
            e.bool(true);
            e.u32(uid);
            e.u32(gid);
        }
        None => e.bool(false),
    }
    e.u32(plan.map_to.0);
    e.u32(plan.map_to.1);
    let ns = plan.ns;
    for on in [ns.user, ns.pid, ns.mount, ns.net, ns.ipc, ns.uts, ns.cgroup] {
        e.bool(on);
    }
    e.fd(plan.join_netns);
    e.fd(plan.channel);
    match &plan.root {
        Some(root) => {
            e.bool(true);
            e.u32(root.entries.len() as u32);
            for entry in &root.entries {
                e.entry(entry);
            }
            e.u64(root.tmp_size);
            e.bool(root.proc_sys_writable);
            e.bool(root.fresh_proc);
        }
        None => e.bool(false),
    }
    e.bool(plan.loopback);
    e.cstr(&plan.exec.path);
    e.cstrs(&plan.exec.argv);
    e.cstrs(&plan.exec.envp);
    e.cstr(&plan.exec.cwd);
    e.u32(plan.rlimits.len() as u32);
    for &(resource, soft, hard) in &plan.rlimits {
        e.u32(resource);
        e.u64(soft);
        e.u64(hard);
    }
    match &plan.seccomp {
        Some(programs) => {
            e.bool(true);
            e.u32(programs.len() as u32);
            for prog in programs.iter() {
                e.u32(prog.len() as u32);
                for i in prog {
                    e.out.extend_from_slice(&i.code.to_le_bytes());
                    e.u8(i.jt);
                    e.u8(i.jf);
                    e.u32(i.k);
                }
            }
        }
        None => e.bool(false),
    }
    match &plan.fence {
        Some(f) => {
            e.bool(true);
            for list in [
                &f.read_exec,
                &f.read_write,
                &f.devices,
                &f.read_only,
                &f.files,
            ] {
                e.paths(list);
            }
            e.bool(f.deny_tcp);
        }
        None => e.bool(false),
    }
    for on in [
        plan.setsid,
        plan.close_fds,
        plan.no_new_privs,
        plan.drop_caps,
        plan.tree_kill,
    ] {
        e.bool(on);
    }
    for fd in [fds.stdin, fds.stdout, fds.stderr, fds.status, fds.go] {
        e.fd(Some(fd));
    }
    e.fd(fds.channel);
    for fd in fds.join {
        e.fd(Some(fd));
    }
    e.fd(fds.launch);
    (e.out, e.fds)
}

/// A request that does not parse (both ends are one binary, so only a bug or a stray writer).
#[derive(Debug)]
struct Malformed;

struct Dec<'a> {
    buf: &'a [u8],
    at: usize,
    fds: &'a [RawFd],
}

impl Dec<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Malformed> {
        let end = self.at.checked_add(n).ok_or(Malformed)?;
        let got = self.buf.get(self.at..end).ok_or(Malformed)?;
        self.at = end;
        Ok(got)
    }
    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, Malformed> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Malformed),
        }
    }
    fn u16(&mut self) -> Result<u16, Malformed> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().map_err(|_| Malformed)?,
        ))
    }
    fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| Malformed)?,
        ))
    }
    fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| Malformed)?,
        ))
    }
    fn len(&mut self) -> Result<usize, Malformed> {
        let n = self.u32()? as usize;
        // Every element takes at least one byte: a count beyond the rest is malformed.
        if n > self.buf.len() - self.at {
            return Err(Malformed);
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&[u8], Malformed> {
        let n = self.len()?;
        self.take(n)
    }
    fn cstr(&mut self) -> Result<CString, Malformed> {
        CString::new(self.bytes()?).map_err(|_| Malformed)
    }
    fn cstrs(&mut self) -> Result<Vec<CString>, Malformed> {
        (0..self.len()?).map(|_| self.cstr()).collect()
    }
    fn paths(&mut self) -> Result<Vec<PathBuf>, Malformed> {
        (0..self.len()?)
            .map(|_| Ok(PathBuf::from(OsStr::from_bytes(self.bytes()?))))
            .collect()
    }
    fn fd(&mut self) -> Result<Option<RawFd>, Malformed> {
        match self.u8()? {
            NO_FD => Ok(None),
            i => self.fds.get(i as usize).copied().map(Some).ok_or(Malformed),
        }
    }
    fn some_fd(&mut self) -> Result<RawFd, Malformed> {
        self.fd()?.ok_or(Malformed)
    }
}

fn decode(buf: &[u8], fds: &[RawFd]) -> Result<(Plan, ChildFds), Malformed> {
    let mut d = Dec { buf, at: 0, fds };
    let switch_to = match d.bool()? {
        true => Some((d.u32()?, d.u32()?)),
        false => None,
    };
    let map_to = (d.u32()?, d.u32()?);
    let ns = Namespaces {
        user: d.bool()?,
        pid: d.bool()?,
        mount: d.bool()?,
        net: d.bool()?,
        ipc: d.bool()?,
        uts: d.bool()?,
        cgroup: d.bool()?,
    };
    let join_netns = d.fd()?;
    let channel = d.fd()?;
    let root = match d.bool()? {
        true => {
            let entries = (0..d.len()?)
                .map(|_| match d.u8()? {
                    0 => Ok(ViewEntry::Bind {
                        src: d.cstr()?,
                        dst: d.cstr()?,
                        dir: d.bool()?,
                        writable: d.bool()?,
                    }),
                    1 => Ok(ViewEntry::Symlink {
                        target: d.cstr()?,
                        at: d.cstr()?,
                    }),
                    _ => Err(Malformed),
                })
                .collect::<Result<_, _>>()?;
            Some(RootPlan {
                entries,
                tmp_size: d.u64()?,
                proc_sys_writable: d.bool()?,
                fresh_proc: d.bool()?,
                layout: Layout::Host,
            })
        }
        false => None,
    };
    let loopback = d.bool()?;
    let exec = ExecPlan {
        path: d.cstr()?,
        argv: d.cstrs()?,
        envp: d.cstrs()?,
        cwd: d.cstr()?,
    };
    let rlimits = (0..d.len()?)
        .map(|_| Ok((d.u32()?, d.u64()?, d.u64()?)))
        .collect::<Result<_, _>>()?;
    let seccomp = match d.bool()? {
        true => {
            let programs = (0..d.len()?)
                .map(|_| {
                    (0..d.len()?)
                        .map(|_| {
                            Ok(sock_filter {
                                code: d.u16()?,
                                jt: d.u8()?,
                                jf: d.u8()?,
                                k: d.u32()?,
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(Arc::new(programs))
        }
        false => None,
    };
    let fence = match d.bool()? {
        true => Some(FenceSpec {
            read_exec: d.paths()?,
            read_write: d.paths()?,
            devices: d.paths()?,
            read_only: d.paths()?,
            files: d.paths()?,
            deny_tcp: d.bool()?,
        }),
        false => None,
    };
    let plan = Plan {
        switch_to,
        map_to,
        ns,
        join_netns,
        channel,
        root,
        loopback,
        exec,
        rlimits,
        seccomp,
        fence,
        setsid: d.bool()?,
        close_fds: d.bool()?,
        no_new_privs: d.bool()?,
        drop_caps: d.bool()?,
        tree_kill: d.bool()?,
        // `serve` reset them when the server started; nothing in A, B or C changes them.
        signals_default: true,
    };
    let fds = ChildFds {
        stdin: d.some_fd()?,
        stdout: d.some_fd()?,
        stderr: d.some_fd()?,
        status: d.some_fd()?,
        go: d.some_fd()?,
        channel: d.fd()?,
        join: [
            d.fd()?.unwrap_or(-1),
            d.fd()?.unwrap_or(-1),
            d.fd()?.unwrap_or(-1),
            d.fd()?.unwrap_or(-1),
        ],
        launch: d.fd()?,
    };
    if d.at != buf.len() {
        return Err(Malformed);
    }
    Ok((plan, fds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::weaken::{Weaken, Weakening};
    use std::ffi::OsString;
    use std::path::Path;

    fn plan_for(weaken: &Weakening) -> Plan {
        let dir = std::env::temp_dir();
        let mut policy = Policy::default();
        // A symlinked system path (where the host has one), a plain directory and a rw path.
        policy.fs.ro.push("/usr/bin".into());
        policy.fs.rw.push(dir);
        policy.env.insert("K".into(), "v".into());
        let mut plan = crate::process::plan::build(crate::process::plan::PlanInput {
            policy: &policy,
            program: Path::new("/bin/sh"),
            args: &[OsString::from("-c"), OsString::from("echo 'a b'")],
            weaken,
            userns_ok: true,
            landlock_ok: true,
            seq: 3,
        })
        .expect("a plan for the default policy");
        plan.join_netns = Some(7);
        plan.channel = Some(8);
        plan
    }

    fn fds() -> ChildFds {
        ChildFds {
            stdin: 0,
            stdout: 1,
            stderr: 2,
            status: 10,
            go: 11,
            channel: Some(8),
            join: [12, 13, -1, -1],
            launch: Some(14),
        }
    }

    fn round_trip(plan: &Plan) {
        let (bytes, passed) = encode(plan, &fds());
        // Each descriptor travels once, however many fields name it.
        assert_eq!(passed, vec![7, 8, 0, 1, 2, 10, 11, 12, 13, 14]);
        let (got, got_fds) = decode(&bytes, &passed).expect("a request decodes");
        let mut want = plan.clone();
        want.signals_default = true;
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
        assert_eq!(format!("{got_fds:?}"), format!("{:?}", fds()));
    }

    #[test]
    fn a_plan_crosses_the_line_unchanged_full_and_weakened() {
        let full = plan_for(&Weakening::default());
        assert!(full.root.is_some() && full.seccomp.is_some() && full.fence.is_some());
        round_trip(&full);
        // SAFETY: not memory safety; only a plan is built, nothing runs.
        let weak = unsafe {
            Weakening::remove_protections([
                Weaken::NoMountNs,
                Weaken::NoSeccomp,
                Weaken::NoLandlock,
            ])
        };
        let bare = plan_for(&weak);
        assert!(bare.root.is_none() && bare.seccomp.is_none() && bare.fence.is_none());
        round_trip(&bare);
    }

    #[test]
    fn a_cut_or_padded_or_foreign_request_is_refused() {
        let (bytes, passed) = encode(&plan_for(&Weakening::default()), &fds());
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n], &passed).is_err(), "cut at {n}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(decode(&padded, &passed).is_err());
        // Fewer descriptors than the request names.
        assert!(decode(&bytes, &passed[..3]).is_err());
    }
}
