//! The supervisor's sink wired to the producers of process plugins, with real processes: the message
//! channel (host-API calls over descriptor 3) and the egress proxy (`net.mode = "allow"`). Their events
//! reach the audit trail (by shape), the metrics and the quarantine.

mod supervisor_util;

use gauntlet_sandbox::policy::NetMode;
use gauntlet_sandbox::supervisor::{Program, Supervisor};
use gauntlet_sandbox::Status;
use supervisor_util::*;

/// Calls `log("hello")`, then `kv_put` with a 300-byte key (answered E_TOO_LARGE), over descriptor 3.
const CHANNEL_CLIENT: &str = r#"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static int call(const unsigned char *req, uint32_t n) {
    static unsigned char buf[4 + 4096];
    put32(buf, n);
    memcpy(buf + 4, req, n);
    if (write(3, buf, 4 + n) != (ssize_t)(4 + n)) return -100;
    unsigned char r[12];
    size_t got = 0;
    while (got < 12) { ssize_t k = read(3, r + got, 12 - got); if (k <= 0) return -101; got += k; }
    uint32_t len; int32_t st;
    memcpy(&len, r, 4); memcpy(&st, r + 8, 4);
    for (uint32_t rest = len - 8; rest > 0;) {
        unsigned char junk[256];
        ssize_t k = read(3, junk, rest > sizeof junk ? sizeof junk : rest);
        if (k <= 0) break;
        rest -= k;
    }
    return st;
}
int main(void) {
    unsigned char req[1024];
    req[0] = 1; put32(req + 1, 1); put32(req + 5, 5); memcpy(req + 9, "hello", 5);
    int a = call(req, 14);
    uint16_t kl = 300;
    req[0] = 3; put32(req + 1, 2); memcpy(req + 5, &kl, 2); memset(req + 7, 'k', 300);
    put32(req + 307, 1); req[311] = 'v';
    int b = call(req, 312);
    printf("%d %d\n", a, b);
    return 0;
}
"#;

/// Asks the egress proxy twice for a destination that is not on `net.allow`.
const EGRESS_CLIENT: &str = r#"
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void) {
    for (int i = 0; i < 2; i++) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, "/run/gauntlet/egress.sock");
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { printf("no proxy\n"); return 2; }
        const char *req = "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n";
        if (write(s, req, strlen(req)) < 0) return 3;
        char buf[64];
        ssize_t n = read(s, buf, 12);
        buf[n > 0 ? n : 0] = 0;
        printf("%s\n", buf);
        close(s);
    }
    return 0;
}
"#;

#[test]
fn message_channel_calls_are_audited_counted_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    let bin = cc(dir.path(), "chan", CHANNEL_CLIENT);
    let audit = dir.path().join("audit.jsonl");
    let sup = Supervisor::open(&dir.path().join("state"), Some(&audit)).unwrap();
    let mut s = spec("chan", Program::Process(bin), &[], policy());
    s.channel = true;
    let o = sup.run(&s).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0 -2", "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("[plugin log] hello"));
    assert_eq!(o.usage.host_calls, 2);
    let m = parse_metrics(&sup.metrics().encode());
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_events_total{plugin="chan",op="log",result="ok"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_events_total{plugin="chan",op="kv_put",result="limit"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"gauntlet_violations_total{plugin="chan",kind="event_limit"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, r#"gauntlet_host_calls_total{plugin="chan"}"#),
        Some(2.0)
    );
    drop(sup);
    let recs = records(&audit);
    let log = recs
        .iter()
        .find(|r| r["op"] == "log")
        .expect("a log record");
    assert_eq!(log["plugin"], "chan");
    assert_eq!(log["result"]["kind"], "ok");
    let run = recs.iter().find(|r| r["op"] == "run").unwrap();
    assert!(
        log["seq"].as_u64() < run["seq"].as_u64(),
        "events come before the run record"
    );
    assert!(!std::fs::read_to_string(&audit).unwrap().contains("hello"));
}

#[test]
fn denied_egress_counts_toward_the_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let bin = cc(dir.path(), "egress", EGRESS_CLIENT);
    let audit = dir.path().join("audit.jsonl");
    let sup = Supervisor::open(&dir.path().join("state"), Some(&audit)).unwrap();
    let mut p = policy();
    p.net.mode = NetMode::Allow;
    p.net.allow = vec!["127.0.0.1:1".into()];
    p.supervisor.quarantine_after = 2;
    let s = spec("egress", Program::Process(bin), &[], p);
    let o = sup.run(&s).unwrap();
    assert_eq!(o.status, Status::Exited, "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.matches("HTTP/1.1 403").count(), 2, "{out}");
    let q = sup
        .quarantine()
        .status("egress")
        .unwrap()
        .expect("quarantined");
    assert_eq!(q.violations, 2);
    assert!(
        q.reasons.iter().all(|r| r.starts_with("denied: egress")),
        "{q:?}"
    );
    let m = parse_metrics(&sup.metrics().encode());
    assert_eq!(
        sample(&m, r#"gauntlet_denials_total{plugin="egress",op="egress"}"#),
        Some(2.0)
    );
    assert_eq!(sup.run(&s).unwrap().status, Status::Rejected);
    drop(sup);
    let recs = records(&audit);
    let e = recs
        .iter()
        .find(|r| r["op"] == "egress")
        .expect("an egress record");
    assert_eq!(e["result"]["kind"], "denied");
    assert_eq!(e["args"]["dest"], "127.0.0.1:9");
}
