//! WASI 0.2 command components (`wasi:cli/command`), run with `wasmtime_wasi::p2` under the same
//! [`Policy`] as core modules, and the wasm side of the network allowlist.
//!
//! # Design
//!
//! * **Dispatch by the binary's header**: a program whose preamble is a component's ([`is_component`],
//!   the check of `wasmparser::Parser::is_component`) is prepared here; core modules never reach this
//!   file, so the pooled core-module path pays nothing for it.
//! * **Its own engine** (`engine::component_engine`): the core-module settings (fuel, epochs, stack
//!   limit, no threads or GC) on the on-demand allocator, plus the component model and async support.
//!   A run is one future: instantiation and `wasi:cli/run` race a watcher of the wall deadline and the
//!   stop flag, so a guest blocked in a host call (a connect, a read from an idle peer) still ends at its
//!   deadline. Compute is bounded as for modules: fuel (CPU) and the epoch callback (wall, stop, output,
//!   host-call cap).
//! * **The same capabilities**: the store limiter over all memories and tables of all core instances,
//!   captured output with its cap, preopens only for `fs.ro`/`fs.rw`, exactly `policy.env`, the given
//!   arguments, empty stdin, the run's own monotonic clock.
//! * **Network** ([`NetPlan`]): `net.mode = "none"` or `"loopback"`: TCP, UDP and name lookup are off
//!   (no host socket is ever created). `"allow"`: TCP and UDP on, name lookup off (names of `net.allow`
//!   were resolved and pinned when the program was prepared; a guest lookup fails), and every address a
//!   guest socket is about to use goes through [`decide`]: connects (`TcpConnect`) and datagrams
//!   (`UdpSend`) pass only when [`Allowlist::check_addr`] allows them, the one decision of both backends
//!   (the process backend's egress proxy makes the same call); binds pass only for the wildcard address
//!   with port 0 (the implicit bind of a connect or send: an ephemeral port, nothing listening);
//!   `listen` is always refused; datagrams are received only from addresses the list allows.
//! * **Events**: every connect, send, refused bind and refused listen is one `egress` event (`proto`,
//!   `dest`, `use`, `backend = "wasm"`), `Ok` or `Denied`, through the sandbox's event sink, and counts as
//!   a host call toward `wasm.max_host_calls` (so a datagram flood ends the run instead of the event
//!   buffer growing without bound). A refused name lookup never reaches the host's check and has no
//!   event.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::engine::{self, one_line};
use super::limits::StoreLimiter;
use super::output::Output;
use super::{End, PreparedInner, Stop, FUEL_PER_MS, SAFETY_WALL};
use crate::hostapi::Events;
use crate::outcome::{Limit, Outcome, Status, Usage};
use crate::policy::{NetMode, Policy};
use crate::supervisor::egress::{system_resolver, Allowlist, EgressConfig};
use crate::supervisor::events::EventResult;
use crate::weaken::{Weaken, Weakening};

/// Compiled components kept per process before the cache is emptied.
const CACHE_ENTRIES: usize = 32;

/// Whether `bytes` start with a component's preamble (`\0asm`, version 0x0d, layer 1), not a core
/// module's (version 1, layer 0); the same test as `wasmparser::Parser::is_component`.
pub(crate) fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [0x0d, 0x00, 0x01, 0x00]
}

/// What a component's sockets may do.
#[derive(Debug)]
pub(crate) enum NetPlan {
    /// No TCP, no UDP, no name lookup.
    Closed,
    /// `net.mode = "allow"`: connects and datagrams by [`Allowlist::check_addr`].
    Allow(Arc<Allowlist>),
    /// The `wasm-allow-sockets` weakening: everything the host can reach.
    Open,
}

/// A component compiled and linked for repeated runs.
pub(crate) struct Program {
    engine: Engine,
    pre: CommandPre<State>,
    compile: Duration,
    net: NetPlan,
    layers: Vec<String>,
}

/// Compiles (or takes from the cache) and links a component; `Err` is the `rejected` (or `error`)
/// outcome.
pub(crate) fn prepare(
    policy: &Policy,
    weaken: &Weakening,
    binary: &[u8],
    mut layers: Vec<String>,
) -> Result<Program, Box<Outcome>> {
    let not_started =
        |status, reason: String| Box::new(Outcome::not_started("wasm", status, reason));
    let engine = engine::component_engine(policy.wasm.max_stack.0 as usize)
        .map_err(|e| not_started(Status::Error, e))?;
    let (component, compile) = compile(&engine, binary, policy.wasm.max_stack.0 as usize)
        .map_err(|e| not_started(Status::Rejected, format!("invalid component: {e}")))?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| not_started(Status::Error, one_line(&e)))?;
    let pre = linker
        .instantiate_pre(&component)
        .and_then(CommandPre::new)
        .map_err(|e| {
            not_started(
                Status::Rejected,
                format!("not a wasi:cli/command component: {}", one_line(&e)),
            )
        })?;
    let net = if weaken.has(Weaken::WasmAllowSockets) {
        NetPlan::Open
    } else if policy.net.mode == NetMode::Allow {
        let config = EgressConfig::from_policy(policy, weaken)
            .map_err(|e| not_started(Status::Error, e.to_string()))?;
        NetPlan::Allow(Arc::new(Allowlist::of(&config, &system_resolver)))
    } else {
        NetPlan::Closed
    };
    layers.push("component_model".into());
    for (w, layer) in [
        (Weaken::WasmNoMemoryLimiter, "store_limiter"),
        (Weaken::WasmNoTableLimit, "table_limit"),
    ] {
        if !weaken.has(w) {
            layers.push(layer.into());
        }
    }
    layers.push("instance_limits".into());
    layers.push("stack_limit".into());
    for (w, layer) in [
        (Weaken::WasmNoFuel, "fuel"),
        (Weaken::WasmNoEpoch, "epoch_deadline"),
        (Weaken::WasmNoOutputCap, "output_cap"),
        (Weaken::WasmPreopenRoot, "wasi_preopens_only"),
        (Weaken::WasmInheritEnv, "clean_env"),
    ] {
        if !weaken.has(w) {
            layers.push(layer.into());
        }
    }
    match net {
        NetPlan::Closed => layers.push("no_sockets".into()),
        NetPlan::Allow(_) => layers.push("net_allowlist".into()),
        NetPlan::Open => {}
    }
    layers.push("host_call_cap".into());
    Ok(Program {
        engine,
        pre,
        compile,
        net,
        layers,
    })
}

/// The compiled component for `binary`, from the per-process cache or compiled now, and the time a
/// compile took (zero from the cache).
fn compile(engine: &Engine, binary: &[u8], key: usize) -> Result<(Component, Duration), String> {
    type Cache = Mutex<HashMap<(usize, [u8; 32]), Component>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let started = Instant::now();
    let digest: [u8; 32] = Sha256::digest(binary).into();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(key, digest))
    {
        return Ok((c.clone(), Duration::ZERO));
    }
    let c = Component::from_binary(engine, binary).map_err(|e| one_line(&e))?;
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= CACHE_ENTRIES {
        map.clear();
    }
    map.insert((key, digest), c.clone());
    Ok((c, started.elapsed()))
}

/// The data of one component store.
pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: StoreLimiter,
    output: Output,
    stop: Option<Arc<AtomicBool>>,
    deadline: Instant,
    /// Egress checks that had an event (shared with the socket address check).
    calls: Arc<AtomicU64>,
    max_calls: u64,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl State {
    /// The checks of every epoch tick, as for core modules.
    fn check(&self) -> wasmtime::Result<()> {
        if stopped(&self.stop) {
            return Err(wasmtime::Error::new(Stop::Stopped));
        }
        if Instant::now() >= self.deadline {
            return Err(wasmtime::Error::new(Stop::WallTime));
        }
        if self.calls.load(Ordering::Relaxed) > self.max_calls {
            return Err(wasmtime::Error::new(Stop::HostCalls));
        }
        if self.output.exceeded() {
            return Err(wasmtime::Error::new(Stop::Output));
        }
        Ok(())
    }
}

fn stopped(stop: &Option<Arc<AtomicBool>>) -> bool {
    stop.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// What the socket address check answers for one use of one address, and the event it reports
/// (`None`: no event, for the implicit ephemeral bind of a connect and for received datagrams, which
/// are not the guest's attempts).
pub(crate) fn decide(
    rules: &Allowlist,
    addr: SocketAddr,
    use_: SocketAddrUse,
) -> (bool, Option<EventResult>) {
    let ephemeral = addr.ip().is_unspecified() && addr.port() == 0;
    match use_ {
        SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend => match rules.check_addr(addr) {
            Ok(()) => (true, Some(EventResult::Ok)),
            Err(why) => (false, Some(EventResult::Denied(why))),
        },
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind if ephemeral => (true, None),
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => (
            false,
            Some(EventResult::Denied(format!(
                "binding {addr} is not allowed (net.allow permits outgoing connections only)"
            ))),
        ),
        SocketAddrUse::TcpListen => (
            false,
            Some(EventResult::Denied(
                "listening is not allowed (net.allow permits outgoing connections only)".into(),
            )),
        ),
        SocketAddrUse::UdpReceive => (rules.check_addr(addr).is_ok(), None),
        // Only a listening socket accepts, and listening is refused; should one ever exist, refuse.
        SocketAddrUse::TcpAccept => (false, None),
    }
}

fn use_name(use_: SocketAddrUse) -> (&'static str, &'static str) {
    match use_ {
        SocketAddrUse::TcpBind => ("tcp", "bind"),
        SocketAddrUse::TcpListen => ("tcp", "listen"),
        SocketAddrUse::TcpAccept => ("tcp", "accept"),
        SocketAddrUse::TcpConnect => ("tcp", "connect"),
        SocketAddrUse::UdpBind => ("udp", "bind"),
        SocketAddrUse::UdpSend => ("udp", "send"),
        SocketAddrUse::UdpReceive => ("udp", "receive"),
    }
}

/// The socket address check of one run under `net.mode = "allow"`: [`decide`], one event per
/// attempt, and the host-call cap (past it, everything is refused and the next epoch tick ends the run).
fn allow_check(
    rules: Arc<Allowlist>,
    events: Events,
    calls: Arc<AtomicU64>,
    max_calls: u64,
) -> impl Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync + 'static {
    move |addr, use_| {
        let (allowed, result) = decide(&rules, addr, use_);
        let Some(result) = result else {
            return allowed;
        };
        if calls.fetch_add(1, Ordering::Relaxed) >= max_calls {
            return false;
        }
        let (proto, what) = use_name(use_);
        tracing::info!(target: "gauntlet::egress", backend = "wasm", proto, dest = %addr,
            r#use = what, result = ?result, "egress attempt");
        events.emit(
            "egress",
            || json!({"backend": "wasm", "proto": proto, "dest": addr.to_string(), "use": what}),
            result,
        );
        allowed
    }
}

impl Program {
    /// One run of the component with `argv` (argv[0] included).
    pub(crate) fn run(&self, p: &PreparedInner, argv: &[String]) -> Outcome {
        let policy = &p.policy;
        let weaken = &p.weaken;
        let started = Instant::now();
        let wall = if weaken.has(Weaken::WasmNoEpoch) {
            SAFETY_WALL
        } else {
            policy.limits.wall_time.0
        };
        let deadline = started + wall;
        let output =
            Output::new((!weaken.has(Weaken::WasmNoOutputCap)).then_some(policy.limits.output.0));
        let calls = Arc::new(AtomicU64::new(0));
        let max_calls = policy.wasm.max_host_calls;
        let mut b = match super::wasi_builder(policy, weaken, argv, &output, started) {
            Ok(b) => b,
            Err(e) => return Outcome::not_started("wasm", Status::Error, e),
        };
        self.sockets(&mut b, p.events.clone(), calls.clone(), max_calls);
        let w = &policy.wasm;
        let no_tables = weaken.has(Weaken::WasmNoTableLimit);
        let limiter = StoreLimiter::new(
            (!weaken.has(Weaken::WasmNoMemoryLimiter)).then_some(policy.limits.memory.0),
            (!no_tables).then_some(u64::from(w.max_table_elements)),
            w.max_instances as usize,
            w.max_memories as usize,
            if no_tables {
                usize::MAX
            } else {
                w.max_tables as usize
            },
        );
        let state = State {
            wasi: b.build(),
            table: ResourceTable::new(),
            limiter,
            output,
            stop: p.stop.clone(),
            deadline,
            calls: calls.clone(),
            max_calls,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let fuel = if weaken.has(Weaken::WasmNoFuel) {
            u64::MAX >> 2
        } else {
            (policy.limits.cpu_time.0.as_millis() as u64).saturating_mul(FUEL_PER_MS)
        };
        if let Err(e) = store.set_fuel(fuel) {
            return Outcome::not_started("wasm", Status::Error, one_line(&e));
        }
        let fuel = store.get_fuel().unwrap_or(fuel);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            ctx.data().check().map(|()| UpdateDeadline::Continue(1))
        });

        let stop = p.stop.clone();
        let ran = wasmtime_wasi::runtime::in_tokio(async {
            let mut run = pin!(async {
                let cmd = self
                    .pre
                    .instantiate_async(&mut store)
                    .await
                    .map_err(|e| (true, e))?;
                cmd.wasi_cli_run()
                    .call_run(&mut store)
                    .await
                    .map_err(|e| (false, e))
            });
            let mut watch = pin!(watch(stop, deadline));
            std::future::poll_fn(|cx| {
                if let Poll::Ready(r) = run.as_mut().poll(cx) {
                    return Poll::Ready(r);
                }
                match watch.as_mut().poll(cx) {
                    Poll::Ready(stop) => Poll::Ready(Err((false, wasmtime::Error::new(stop)))),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await
        });
        let mut rejected = None;
        let end = match ran {
            Ok(Ok(())) => End::Exit(0),
            Ok(Err(())) => End::Exit(1),
            Err((instantiating, e)) => match End::of(&e) {
                End::Other(_) if instantiating => {
                    rejected = Some(match &store.data().limiter.refused {
                        Some(r) => r.to_string(),
                        None => format!("cannot instantiate: {}", one_line(&e)),
                    });
                    End::Other(String::new())
                }
                end => end,
            },
        };
        let wall_ms = started.elapsed().as_millis() as u64;
        let fuel_consumed = fuel.saturating_sub(store.get_fuel().unwrap_or(fuel));
        let state = store.into_data();
        outcome(
            self,
            p,
            state,
            end,
            rejected,
            Usage {
                wall_ms,
                cpu_ms: fuel_consumed / FUEL_PER_MS,
                peak_memory_bytes: 0,
                peak_pids: 1,
                host_calls: calls
                    .load(Ordering::Relaxed)
                    .min(max_calls.saturating_add(1)),
                fuel_consumed: Some(fuel_consumed),
                compile_ms: Some(self.compile.as_millis() as u64),
                limits_hit: Vec::new(),
            },
        )
    }

    /// The guest's sockets, by [`NetPlan`].
    fn sockets(&self, b: &mut WasiCtxBuilder, events: Events, calls: Arc<AtomicU64>, max: u64) {
        match &self.net {
            NetPlan::Closed => {
                b.allow_tcp(false)
                    .allow_udp(false)
                    .allow_ip_name_lookup(false)
                    .socket_addr_check(|_, _| Box::pin(std::future::ready(false)));
            }
            NetPlan::Allow(rules) => {
                let check = allow_check(rules.clone(), events, calls, max);
                b.allow_tcp(true)
                    .allow_udp(true)
                    .allow_ip_name_lookup(false)
                    .socket_addr_check(move |addr, use_| {
                        Box::pin(std::future::ready(check(addr, use_)))
                    });
            }
            NetPlan::Open => {
                b.allow_tcp(true)
                    .allow_udp(true)
                    .allow_ip_name_lookup(true)
                    .inherit_network();
            }
        }
    }
}

/// Resolves when the caller stops the run or its wall deadline passes, whatever the guest is doing
/// (running wasm is also stopped by the epoch callback; this covers a guest blocked in a host call).
async fn watch(stop: Option<Arc<AtomicBool>>, deadline: Instant) -> Stop {
    loop {
        if stopped(&stop) {
            return Stop::Stopped;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Stop::WallTime;
        }
        tokio::time::sleep(left.min(Duration::from_millis(20))).await;
    }
}

/// The `Outcome` of a finished component run (the same mapping as a core module's).
fn outcome(
    program: &Program,
    p: &PreparedInner,
    state: State,
    end: End,
    rejected: Option<String>,
    mut usage: Usage,
) -> Outcome {
    let (stdout, stderr, truncated) = state.output.take();
    usage.peak_memory_bytes = state.limiter.peak;
    if state.limiter.refused.is_some() {
        usage.limits_hit.push(Limit::Memory);
    }
    let mut o = Outcome::not_started("wasm", Status::Exited, "");
    o.reason = None;
    o.usage = usage;
    o.stdout = stdout;
    o.stderr = stderr;
    o.output_truncated = truncated;
    o.layers = program.layers.clone();
    o.layers_missing = p.plan.missing.clone();
    if let Some(reason) = rejected {
        o.status = Status::Rejected;
        o.reason = Some(reason);
        return o;
    }
    end.apply(&mut o, truncated);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AllowEntry;

    fn rules(allow: &[&str]) -> Allowlist {
        let entries: Vec<AllowEntry> = allow.iter().map(|e| e.parse().unwrap()).collect();
        Allowlist::of(&EgressConfig::new(entries), &|_| Ok(Vec::new()))
    }

    #[test]
    fn components_are_told_from_modules_by_their_preamble() {
        assert!(is_component(b"\0asm\x0d\x00\x01\x00"));
        assert!(!is_component(b"\0asm\x01\x00\x00\x00"));
        assert!(!is_component(b"\0asm"));
        assert!(!is_component(b"(module)"));
    }

    #[test]
    fn connects_and_sends_follow_the_allowlist() {
        let r = rules(&["127.0.0.1:8080"]);
        let ok: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let other: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:8080".parse().unwrap();
        for u in [SocketAddrUse::TcpConnect, SocketAddrUse::UdpSend] {
            assert_eq!(decide(&r, ok, u), (true, Some(EventResult::Ok)));
            assert_eq!(decide(&r, mapped, u), (true, Some(EventResult::Ok)));
            assert!(matches!(
                decide(&r, other, u),
                (false, Some(EventResult::Denied(_)))
            ));
        }
        assert_eq!(decide(&r, ok, SocketAddrUse::UdpReceive), (true, None));
        assert_eq!(decide(&r, other, SocketAddrUse::UdpReceive), (false, None));
    }

    #[test]
    fn only_ephemeral_wildcard_binds_pass_and_listening_never() {
        let r = rules(&["127.0.0.1:8080"]);
        for u in [SocketAddrUse::TcpBind, SocketAddrUse::UdpBind] {
            assert_eq!(decide(&r, "0.0.0.0:0".parse().unwrap(), u), (true, None));
            assert_eq!(decide(&r, "[::]:0".parse().unwrap(), u), (true, None));
            for a in ["127.0.0.1:0", "0.0.0.0:8080", "127.0.0.1:8080"] {
                assert!(matches!(
                    decide(&r, a.parse().unwrap(), u),
                    (false, Some(EventResult::Denied(_)))
                ));
            }
        }
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(matches!(
            decide(&r, any, SocketAddrUse::TcpListen),
            (false, Some(EventResult::Denied(_)))
        ));
        assert_eq!(decide(&r, any, SocketAddrUse::TcpAccept), (false, None));
    }
}
