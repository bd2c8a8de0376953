/* Helpers shared by the channel attacks: included by each as "../chan.h". The message channel is
 * descriptor 3 (`gauntlet exec --channel`, manifests with `channel = true`); the protocol is in
 * sandbox/src/supervisor/channel.rs and README "Message channel":
 *   request  = len:u32 | op:u8 | id:u32 | fields      response = len:u32 | id:u32 | status:i32 | payload
 *   log 1: msg_len:u32 msg   kv_get 2: key_len:u16 key val_cap:u32   kv_put 3: key_len:u16 key val_len:u32 val
 * Every helper is bounded: sends and reads give up after a timeout (poll) or on an error, and never
 * raise SIGPIPE (MSG_NOSIGNAL). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define CHAN 3
#define OP_LOG 1
#define OP_KV_GET 2
#define OP_KV_PUT 3
#define E_NOT_FOUND (-1)
#define E_TOO_LARGE (-2)
#define E_FULL (-3)
#define E_BUFFER_TOO_SMALL (-4)
#define E_MALFORMED (-5)
#define E_UNKNOWN_OP (-6)
#define E_LIMIT (-7)
#define MAX_KEY 256
#define MAX_VALUE 65536
#define MAX_ENTRIES 1024
#define MAX_LOG_LINE 4096

static const char *NONCE = "nononce";
static int n_escaped = 0, n_denied = 0;

static __attribute__((unused)) void args(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
}

/* One self-report line per probe (evidence only where the manifest lists the `self` oracle). */
static __attribute__((unused)) void report(int escaped, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    printf("GAUNTLET-REPORT %s %s %s\n", NONCE, escaped ? "escaped" : "denied", what);
    if (escaped) n_escaped++; else n_denied++;
}

static __attribute__((unused)) void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static __attribute__((unused)) void put32(uint8_t *p, uint32_t v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static __attribute__((unused)) uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Sends all of buf, waiting at most timeout_ms for room each time; 0, or -errno (EPIPE once the
 * supervisor closed its end, ETIMEDOUT when it stopped reading). */
static __attribute__((unused)) int send_all_t(const void *buf, size_t n, int timeout_ms)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = send(CHAN, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) { p += w; n -= (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = { CHAN, POLLOUT, 0 };
            int r = poll(&pf, 1, timeout_ms);
            if (r == 0) return -ETIMEDOUT;
            if (r < 0 && errno != EINTR) return -errno;
            continue;
        }
        return w < 0 ? -errno : -EIO;
    }
    return 0;
}
static __attribute__((unused)) int send_all(const void *buf, size_t n) { return send_all_t(buf, n, 2000); }

/* One frame: the length prefix `len` (which may lie) and `n` bytes of body. */
static __attribute__((unused)) int send_raw_frame(uint32_t len, const void *body, size_t n)
{
    uint8_t h[4];
    put32(h, len);
    int r = send_all(h, 4);
    return r ? r : send_all(body, n);
}

static uint8_t fbuf[4 + 5 + 2 + MAX_KEY + 4 + MAX_VALUE + 64];

static __attribute__((unused)) int req_log(uint32_t id, const void *msg, uint32_t n)
{
    if (n > MAX_VALUE) n = MAX_VALUE;
    uint8_t *b = fbuf + 4;
    b[0] = OP_LOG; put32(b + 1, id); put32(b + 5, n); memcpy(b + 9, msg, n);
    put32(fbuf, 9 + n);
    return send_all(fbuf, 4 + 9 + n);
}

static __attribute__((unused)) int req_get(uint32_t id, const void *key, uint16_t klen, uint32_t cap)
{
    if (klen > MAX_KEY + 16) klen = MAX_KEY + 16;
    uint8_t *b = fbuf + 4;
    b[0] = OP_KV_GET; put32(b + 1, id); put16(b + 5, klen); memcpy(b + 7, key, klen);
    put32(b + 7 + klen, cap);
    put32(fbuf, 11 + klen);
    return send_all(fbuf, 4 + 11 + klen);
}

static __attribute__((unused)) int req_put(uint32_t id, const void *key, uint16_t klen, const void *val,
                                           uint32_t vlen)
{
    if (klen > MAX_KEY + 16) klen = MAX_KEY + 16;
    if (vlen > MAX_VALUE) vlen = MAX_VALUE;
    uint8_t *b = fbuf + 4;
    b[0] = OP_KV_PUT; put32(b + 1, id); put16(b + 5, klen); memcpy(b + 7, key, klen);
    put32(b + 7 + klen, vlen); memcpy(b + 11 + klen, val, vlen);
    put32(fbuf, 11 + klen + vlen);
    return send_all(fbuf, 4 + 11 + klen + vlen);
}

/* Reads exactly n bytes within timeout_ms per wait: 1 done, 0 EOF, -1 timeout or error. */
static int read_exact(void *buf, size_t n, int timeout_ms)
{
    uint8_t *p = buf;
    while (n > 0) {
        struct pollfd pf = { CHAN, POLLIN, 0 };
        int r = poll(&pf, 1, timeout_ms);
        if (r == 0) return -1;
        if (r < 0) { if (errno == EINTR) continue; return -1; }
        ssize_t got = recv(CHAN, p, n, MSG_DONTWAIT);
        if (got == 0) return 0;
        if (got < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
        p += got; n -= (size_t)got;
    }
    return 1;
}

struct resp { uint32_t id; int32_t status; uint32_t len; };
static uint8_t rbuf[MAX_VALUE + 64];

/* Reads one response (payload into rbuf, cut at its size): 1 got one, 0 EOF, -1 timeout/garbage. */
static __attribute__((unused)) int read_resp(struct resp *r, int timeout_ms)
{
    uint8_t h[12];
    int k = read_exact(h, 4, timeout_ms);
    if (k <= 0) return k;
    uint32_t len = get32(h);
    if (len < 8 || len > 8 + MAX_VALUE) return -1;
    k = read_exact(h + 4, 8, timeout_ms);
    if (k <= 0) return k < 0 ? -1 : 0;
    r->id = get32(h + 4);
    r->status = (int32_t)get32(h + 8);
    r->len = len - 8;
    if (r->len > 0 && read_exact(rbuf, r->len, timeout_ms) <= 0) return -1;
    return 1;
}

/* Sends a frame and expects `want` as its status; reports a wrong or missing answer. */
static __attribute__((unused)) int expect_status(const char *what, uint32_t want_id, int32_t want)
{
    struct resp r;
    int k = read_resp(&r, 2000);
    if (k != 1) {
        printf("%s: no response (%d)\n", what, k);
        return -1;
    }
    if (r.status != want || r.id != want_id) {
        printf("%s: got id %u status %d, expected id %u status %d\n", what, r.id, r.status, want_id, want);
        return -1;
    }
    return 0;
}

/* Whether descriptor 3 is there at all (no channel: the attack has nothing to do). */
static __attribute__((unused)) int have_channel(void)
{
    struct stat st;
    if (fstat(CHAN, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        printf("no channel at fd 3\n");
        return 0;
    }
    return 1;
}
