/* A client of the process message channel (descriptor 3) for sandbox/tests/process_channel.rs: one mode
 * per behaviour. It prints one line per answer, `<id> <status>` (plus the payload for kv_get), so the
 * test can compare. Every mode is bounded: counts, bytes, and poll timeouts on every read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHAN 3

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int send_all(const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = send(CHAN, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int frame(const uint8_t *body, uint32_t n)
{
    uint8_t h[4];
    put32(h, n);
    return send_all(h, 4) || send_all(body, n) ? -1 : 0;
}

static uint8_t b[70000];

static int req_log(uint32_t id, const char *msg, uint32_t n)
{
    b[0] = 1; put32(b + 1, id); put32(b + 5, n); memcpy(b + 9, msg, n);
    return frame(b, 9 + n);
}
static int req_get(uint32_t id, const char *key, uint32_t cap)
{
    uint16_t k = (uint16_t)strlen(key);
    b[0] = 2; put32(b + 1, id); put16(b + 5, k); memcpy(b + 7, key, k); put32(b + 7 + k, cap);
    return frame(b, 11 + k);
}
static int req_put(uint32_t id, const char *key, const char *val)
{
    uint16_t k = (uint16_t)strlen(key);
    uint32_t v = (uint32_t)strlen(val);
    b[0] = 3; put32(b + 1, id); put16(b + 5, k); memcpy(b + 7, key, k); put32(b + 7 + k, v);
    memcpy(b + 11 + k, val, v);
    return frame(b, 11 + k + v);
}

static int read_exact(uint8_t *p, size_t n)
{
    while (n > 0) {
        struct pollfd pf = { CHAN, POLLIN, 0 };
        if (poll(&pf, 1, 5000) <= 0) return -1;
        ssize_t r = recv(CHAN, p, n, 0);
        if (r == 0) return 0;
        if (r < 0) return errno == EINTR ? 1 : -1;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

/* Reads and prints one answer: 1, or 0 at EOF, -1 on timeout/error. */
static int answer(void)
{
    static uint8_t r[70000];
    int k = read_exact(r, 4);
    if (k <= 0) { printf(k == 0 ? "eof\n" : "no answer\n"); return k; }
    uint32_t len = get32(r);
    if (len < 8 || len > sizeof r) { printf("bad length %u\n", len); return -1; }
    if (read_exact(r, len) <= 0) { printf("short answer\n"); return -1; }
    int32_t status = (int32_t)get32(r + 4);
    printf("%u %d", get32(r), status);
    if (len > 8) printf(" %.*s", (int)(len - 8), (const char *)r + 8);
    printf("\n");
    return 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argc > 1 ? argv[1] : "roundtrip";
    if (strcmp(mode, "nofd") == 0) {
        int r = fcntl(CHAN, F_GETFD);
        printf(r < 0 && errno == EBADF ? "no fd 3\n" : "fd 3 is open\n");
        return 0;
    }
    if (strcmp(mode, "roundtrip") == 0) {
        req_log(1, "hello", 5); answer();
        req_get(2, "k", 16); answer();
        req_put(3, "k", "value"); answer();
        req_get(4, "k", 16); answer();
        req_get(5, "k", 2); answer();
        return 0;
    }
    if (strcmp(mode, "malformed") == 0) {
        uint8_t x[32];
        x[0] = 0x7f; put32(x + 1, 10); frame(x, 5); answer();          /* unknown op */
        x[0] = 1; x[1] = 11; frame(x, 2); answer();                      /* short frame */
        x[0] = 1; put32(x + 1, 12); put32(x + 5, 100); memcpy(x + 9, "abc", 3);
        frame(x, 12); answer();                                          /* length inside lies */
        x[0] = 1; put32(x + 1, 0); put32(x + 5, 1); x[9] = 'a';
        frame(x, 10); answer();                                          /* reserved id 0 */
        req_log(13, "in step", 7); answer();                             /* still in step */
        put32(x, 0xffffffffu); send_all(x, 4); answer();                 /* 4 GiB frame: closes */
        answer();                                                        /* then EOF */
        return 0;
    }
    if (strcmp(mode, "flood") == 0) {
        int n = argc > 2 ? atoi(argv[2]) : 10, ok = 0, limit = 0, other = 0;
        for (int i = 0; i < n && i < 100000; i++) {
            if (req_log((uint32_t)i + 1, "x", 1)) break;
            static uint8_t r[64];
            if (read_exact(r, 4) <= 0 || read_exact(r + 4, 8) <= 0) break;
            int32_t status = (int32_t)get32(r + 8);
            if (status == 0) ok++; else if (status == -7) limit++; else other++;
        }
        printf("ok %d limit %d other %d\n", ok, limit, other);
        return 0;
    }
    if (strcmp(mode, "halfheader") == 0) {
        uint8_t h[2] = {7, 0};
        send_all(h, 2);
        return 0; /* no shutdown, no close: the exit ends the stream */
    }
    if (strcmp(mode, "hang") == 0) {
        req_log(1, "about to hang", 13);
        answer();
        sleep(30); /* the wall limit ends this */
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
