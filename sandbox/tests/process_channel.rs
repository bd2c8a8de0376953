//! The process message channel against real sandboxed processes (tests/programs/chan_client.c at
//! descriptor 3) and against a client in this process: the host API round-trips, each malformed class
//! gets its error answer, floods hit the caps, truncated or abandoned streams end the server without
//! hanging, and a run without a channel has no descriptor 3.

mod common;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use gauntlet_sandbox::hostapi::{
    E_BUFFER_TOO_SMALL, E_MALFORMED, E_NOT_FOUND, E_TOO_LARGE, E_UNKNOWN_OP,
};
use gauntlet_sandbox::policy::{Dur, Policy};
use gauntlet_sandbox::process::{ProcessOptions, ProcessSandbox, RunExtras};
use gauntlet_sandbox::supervisor::channel::{
    decode_response, encode_request, ChannelLimits, ChannelReport, ChannelServer, Closed, Request,
    SEND_BUFFER,
};
use gauntlet_sandbox::supervisor::{EventResult, Recorded};
use gauntlet_sandbox::{Outcome, Status};

/// The client binary, compiled once per test process.
fn client() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/chan_client.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chan_client");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(format!("chan_client-{}", std::process::id()));
        let status = std::process::Command::new("cc")
            .args(["-O1", "-Wall", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("cc runs");
        assert!(status.success(), "chan_client.c failed to build");
        out
    })
}

fn limits(policy: &Policy) -> ChannelLimits {
    ChannelLimits::from_policy(policy, Instant::now())
}

/// Runs the client in `mode` with a channel; returns the Outcome, the channel's report and its events.
fn run_client(
    policy: &Policy,
    args: &[&str],
) -> (
    Outcome,
    ChannelReport,
    Vec<gauntlet_sandbox::supervisor::Event>,
) {
    let rec = Arc::new(Recorded::default());
    let (server, plugin_end) = ChannelServer::start(limits(policy), rec.clone()).unwrap();
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let extras = RunExtras {
        channel: Some(plugin_end.as_fd()),
        ..RunExtras::default()
    };
    let outcome = ProcessSandbox::new(ProcessOptions::default())
        .run_with(policy, client(), &args, extras)
        .expect("the sandbox runs");
    drop(plugin_end);
    let report = server.finish().expect("the server finishes");
    (outcome, report, rec.take())
}

fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_client_round_trips_log_and_the_key_value_store() {
    let (o, report, events) = run_client(&common::policy(), &["roundtrip"]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(
        stdout(&o),
        format!("1 0\n2 {E_NOT_FOUND}\n3 0\n4 5 value\n5 {E_BUFFER_TOO_SMALL}\n")
    );
    assert_eq!(report.log, b"[plugin log] hello\n");
    let s = &report.stats;
    assert_eq!((s.requests, s.ok, s.errors, s.limited), (5, 5, 0, 0));
    assert_eq!((s.kv_entries, s.log_lines), (1, 1));
    let ops: Vec<&str> = events.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops, ["log", "kv_get", "kv_put", "kv_get", "kv_get"]);
    assert!(events.iter().all(|e| e.result == EventResult::Ok));
    // Shapes only: the logged bytes never appear in an event, their size does.
    assert!(!format!("{events:?}").contains("hello"));
    assert_eq!(events[0].args["bytes"], 5);
    // Merged into the Outcome as gauntlet exec does.
    let mut merged = o.clone();
    report.apply(&mut merged, common::policy().limits.output.0);
    assert_eq!(merged.usage.host_calls, 5);
    assert!(String::from_utf8_lossy(&merged.stderr).ends_with("[plugin log] hello\n"));
}

#[test]
fn each_malformed_class_gets_its_error_and_an_oversized_frame_closes() {
    let (o, report, events) = run_client(&common::policy(), &["malformed"]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(
        stdout(&o),
        format!(
            "10 {E_UNKNOWN_OP}\n0 {E_MALFORMED}\n12 {E_MALFORMED}\n0 {E_MALFORMED}\n13 0\n0 {E_TOO_LARGE}\neof\n"
        )
    );
    let s = &report.stats;
    assert_eq!((s.errors, s.ok), (5, 1), "{s:?}");
    assert_eq!(s.closed, Closed::OversizedFrame);
    let errors = events
        .iter()
        .filter(|e| e.op == "channel" && matches!(e.result, EventResult::Error(_)))
        .count();
    assert_eq!(errors, 5, "{events:?}");
}

#[test]
fn a_flood_hits_the_request_cap() {
    let mut policy = common::policy();
    policy.wasm.max_host_calls = 50;
    let (o, report, events) = run_client(&policy, &["flood", "80"]);
    assert_eq!(stdout(&o), "ok 50 limit 1 other 0\n", "{o:?}");
    assert_eq!(report.stats.requests, 51);
    assert_eq!(report.stats.closed, Closed::RequestCap);
    assert!(matches!(
        events.last().map(|e| &e.result),
        Some(EventResult::Limit(_))
    ));
}

#[test]
fn a_truncated_frame_at_the_end_of_the_stream_does_not_hang() {
    let started = Instant::now();
    let (o, report, _) = run_client(&common::policy(), &["halfheader"]);
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(report.stats.errors, 1, "{:?}", report.stats);
    assert_eq!(report.stats.requests, 1);
    // Well within the 10 s wall: nothing waited for the rest of the frame.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_server_ends_when_the_plugin_dies() {
    let mut policy = common::policy();
    policy.limits.wall_time = Dur(Duration::from_millis(800));
    let rec = Arc::new(Recorded::default());
    // No deadline of its own: only the end of the stream can end it.
    let limits = ChannelLimits {
        deadline: None,
        ..limits(&policy)
    };
    let (server, plugin_end) = ChannelServer::start(limits, rec).unwrap();
    let extras = RunExtras {
        channel: Some(plugin_end.as_fd()),
        ..RunExtras::default()
    };
    let o = ProcessSandbox::new(ProcessOptions::default())
        .run_with(&policy, client(), &[OsString::from("hang")], extras)
        .unwrap();
    assert_eq!(o.limit, Some(gauntlet_sandbox::Limit::WallTime), "{o:?}");
    assert!(
        !server.wait_closed(Duration::ZERO),
        "ended before the plugin"
    );
    drop(plugin_end);
    assert!(
        server.wait_closed(Duration::from_secs(20)),
        "the server outlived the plugin"
    );
    let report = server.finish().unwrap();
    assert_eq!(report.stats.closed, Closed::Eof);
    assert_eq!(report.log, b"[plugin log] about to hang\n");
}

#[test]
fn without_a_channel_there_is_no_descriptor_3() {
    let o = ProcessSandbox::new(ProcessOptions::default())
        .run(&common::policy(), client(), &[OsString::from("nofd")])
        .unwrap();
    assert_eq!(stdout(&o), "no fd 3\n", "{o:?}");
    // And with one, there is.
    let (o, _, _) = run_client(&common::policy(), &["nofd"]);
    assert_eq!(stdout(&o), "fd 3 is open\n", "{o:?}");
}

/// A client in this process, on the plugin's end.
fn local_server(limits: ChannelLimits) -> (ChannelServer, UnixStream, Arc<Recorded>) {
    let rec = Arc::new(Recorded::default());
    let (server, end): (ChannelServer, OwnedFd) =
        ChannelServer::start(limits, rec.clone()).unwrap();
    (server, UnixStream::from(end), rec)
}

fn unlimited() -> ChannelLimits {
    ChannelLimits {
        max_requests: 1_000_000,
        max_log_bytes: 1 << 20,
        deadline: None,
    }
}

#[test]
fn a_plugin_that_never_reads_is_cut_off_at_the_send_buffer() {
    let (server, mut sock, _) = local_server(unlimited());
    let value = vec![b'v'; 65536];
    let mut put = Vec::new();
    encode_request(
        &mut put,
        1,
        &Request::KvPut {
            key: b"big",
            value: &value,
        },
    );
    sock.write_all(&put).unwrap();
    let mut ack = [0u8; 12];
    sock.read_exact(&mut ack).unwrap();
    // 64 KiB per answer, never read: the server stops at its send buffer and closes.
    let mut gets = Vec::new();
    for id in 2..50_000 {
        encode_request(
            &mut gets,
            id,
            &Request::KvGet {
                key: b"big",
                cap: 65536,
            },
        );
    }
    sock.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let sent = sock.write_all(&gets);
    assert!(
        sent.is_err(),
        "the server took 50 000 unread 64 KiB answers"
    );
    assert!(server.wait_closed(Duration::from_secs(10)));
    let report = server.finish().unwrap();
    assert_eq!(report.stats.closed, Closed::SendBufferFull);
    assert!(
        report.stats.max_buffered as usize <= gauntlet_sandbox::supervisor::channel::MAX_BUFFERED
    );
    assert!(report.stats.max_buffered as usize > SEND_BUFFER / 2);
    assert_eq!(report.stats.limited, 1);
}

#[test]
fn the_deadline_ends_a_silent_channel() {
    let (server, _sock, _) = local_server(ChannelLimits {
        deadline: Some(Instant::now() + Duration::from_millis(200)),
        ..unlimited()
    });
    assert!(server.wait_closed(Duration::from_secs(10)));
    assert_eq!(server.finish().unwrap().stats.closed, Closed::Deadline);
}

#[test]
fn finish_serves_what_arrived_and_answers_a_torn_frame() {
    let (server, mut sock, rec) = local_server(unlimited());
    let mut bytes = Vec::new();
    encode_request(&mut bytes, 1, &Request::Log { msg: b"last words" });
    bytes.extend_from_slice(&[50, 0, 0, 0, 1, 9, 0, 0, 0]);
    sock.write_all(&bytes).unwrap();
    // The plugin's end stays open (the run is over but someone holds a copy): finish must not wait.
    let report = server.finish().unwrap();
    assert_eq!(report.log, b"[plugin log] last words\n");
    assert_eq!(report.stats.errors, 1, "{:?}", report.stats);
    assert_eq!(report.stats.closed, Closed::Stopped);
    // The torn frame was answered with its id.
    let mut buf = vec![0u8; 64];
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    while got.len() < 24 {
        let n = sock.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let (first, n) = decode_response(&got).unwrap().unwrap();
    assert_eq!((first.id, first.status), (1, 0));
    let (second, _) = decode_response(&got[n..]).unwrap().unwrap();
    assert_eq!((second.id, second.status), (9, E_MALFORMED));
    assert_eq!(rec.take().len(), 2);
}

#[test]
fn descriptors_passed_by_the_plugin_are_never_installed() {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let (server, sock, rec) = local_server(unlimited());
    // A pipe no one else has: its inode tells whether any copy of it is left in this process.
    let (r, w) = nix::unistd::pipe().unwrap();
    let ino = std::fs::metadata(format!("/proc/self/fd/{}", r.as_raw_fd()))
        .unwrap()
        .ino();
    let raw = vec![r.as_raw_fd(); 50];
    let mut frame = Vec::new();
    encode_request(&mut frame, 1, &Request::Log { msg: b"with fds" });
    let iov = [std::io::IoSlice::new(&frame)];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&raw)],
        MsgFlags::empty(),
        None,
    )
    .unwrap();
    drop((r, w));
    let mut ack = [0u8; 12];
    (&sock).read_exact(&mut ack).unwrap();
    let (resp, _) = decode_response(&ack).unwrap().unwrap();
    assert_eq!((resp.id, resp.status), (1, 0));
    drop(sock);
    let report = server.finish().unwrap();
    assert_eq!(report.stats.ancillary_refused, 1);
    assert_eq!(report.stats.errors, 1);
    let copies: Vec<_> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|l| l.to_string_lossy() == format!("pipe:[{ino}]"))
        })
        .collect();
    assert!(
        copies.is_empty(),
        "passed descriptors installed: {copies:?}"
    );
    assert!(rec
        .take()
        .iter()
        .any(|e| matches!(&e.result, EventResult::Error(m) if m.contains("ancillary"))));
}
