/* A small client of the egress proxy, run inside the process sandbox by tests/process_egress.rs.
 * Each command prints one or two lines on stdout; the test reads them.
 *
 *   http AUTHORITY PAYLOAD        CONNECT AUTHORITY; on 200 send PAYLOAD, half-close, print the reply
 *   socks 4|6|name HOST PORT PAYLOAD   the same through SOCKS5
 *   bulk AUTHORITY N              CONNECT, then send N bytes, half-close, print what came back
 *   idle AUTHORITY                CONNECT, send nothing, wait for the proxy to close the tunnel
 *   slow                          connect to the proxy, send nothing, wait for it to close
 *   direct IP PORT                TCP connect straight to IP:PORT (no proxy)
 *   udp IP PORT                   one datagram straight to IP:PORT
 *   unix PATH                     connect to a unix socket path
 *   abstract NAME                 connect to an abstract unix socket
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROXY "/run/gauntlet/egress.sock"

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int unix_connect(const char *path, int abstract) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    socklen_t len;
    if (abstract) {
        size_t n = strlen(path);
        if (n > sizeof a.sun_path - 1) n = sizeof a.sun_path - 1;
        memcpy(a.sun_path + 1, path, n);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    } else {
        strncpy(a.sun_path, path, sizeof a.sun_path - 1);
        len = sizeof a;
    }
    if (connect(s, (struct sockaddr *)&a, len) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

static void send_all(int s, const char *b, size_t n) {
    while (n > 0) {
        ssize_t w = send(s, b, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        b += w;
        n -= (size_t)w;
    }
}

/* Reads until EOF (at most cap-1 bytes kept); returns the byte count. */
static size_t read_all(int s, char *buf, size_t cap) {
    size_t got = 0;
    for (;;) {
        char tmp[4096];
        ssize_t r = read(s, tmp, sizeof tmp);
        if (r <= 0) break;
        size_t keep = (size_t)r;
        if (got + keep > cap - 1) keep = cap - 1 - got;
        memcpy(buf + got, tmp, keep);
        got += keep;
    }
    buf[got] = 0;
    return got;
}

/* Reads the proxy's HTTP answer up to the empty line; returns the status or -1. */
static int http_status(int s) {
    char head[1024];
    size_t n = 0;
    while (n < sizeof head - 1) {
        ssize_t r = read(s, head + n, 1);
        if (r <= 0) break;
        n++;
        if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) break;
    }
    head[n] = 0;
    int status = -1;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) return -1;
    return status;
}

static int http_connect(const char *auth) {
    int s = unix_connect(PROXY, 0);
    if (s < 0) {
        printf("proxy %s\n", strerror(errno));
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", auth, auth);
    send_all(s, req, (size_t)n);
    int st = http_status(s);
    printf("http %s -> %d\n", auth, st);
    if (st != 200) {
        close(s);
        return -1;
    }
    return s;
}

static void finish(int s, const char *payload) {
    send_all(s, payload, strlen(payload));
    shutdown(s, SHUT_WR);
    char buf[256];
    read_all(s, buf, sizeof buf);
    buf[strcspn(buf, "\n")] = 0;
    printf("got %s\n", buf);
    close(s);
}

static int socks_connect(const char *type, const char *host, int port) {
    int s = unix_connect(PROXY, 0);
    if (s < 0) {
        printf("proxy %s\n", strerror(errno));
        return -1;
    }
    unsigned char req[300] = {5, 1, 0};
    size_t n = 3;
    send_all(s, "\x05\x01\x00", 3);
    unsigned char ans[10];
    if (read(s, ans, 2) != 2 || ans[1] != 0) {
        printf("socks %s -> no method\n", host);
        close(s);
        return -1;
    }
    if (strcmp(type, "4") == 0) {
        req[n++] = 1;
        inet_pton(AF_INET, host, req + n);
        n += 4;
    } else if (strcmp(type, "6") == 0) {
        req[n++] = 4;
        inet_pton(AF_INET6, host, req + n);
        n += 16;
    } else {
        size_t len = strlen(host);
        req[n++] = 3;
        req[n++] = (unsigned char)len;
        memcpy(req + n, host, len);
        n += len;
    }
    req[n++] = (unsigned char)(port >> 8);
    req[n++] = (unsigned char)port;
    send_all(s, (char *)req, n);
    ssize_t r = read(s, ans, 10);
    int code = r == 10 ? ans[1] : -1;
    printf("socks %s %s -> %d\n", type, host, code);
    if (code != 0) {
        close(s);
        return -1;
    }
    return s;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) return 2;
    const char *cmd = argv[1];
    if (strcmp(cmd, "http") == 0 && argc == 4) {
        int s = http_connect(argv[2]);
        if (s >= 0) finish(s, argv[3]);
    } else if (strcmp(cmd, "socks") == 0 && argc == 6) {
        int s = socks_connect(argv[2], argv[3], atoi(argv[4]));
        if (s >= 0) finish(s, argv[5]);
    } else if (strcmp(cmd, "bulk") == 0 && argc == 4) {
        int s = http_connect(argv[2]);
        if (s < 0) return 0;
        long want = atol(argv[3]);
        static char block[8192];
        memset(block, 'x', sizeof block);
        for (long sent = 0; sent < want; sent += (long)sizeof block) {
            if (send(s, block, sizeof block, MSG_NOSIGNAL) < 0) break;
        }
        shutdown(s, SHUT_WR);
        char buf[256];
        size_t n = read_all(s, buf, sizeof buf);
        printf("bulk back %zu\n", n);
        close(s);
    } else if (strcmp(cmd, "idle") == 0 && argc == 3) {
        int s = http_connect(argv[2]);
        if (s < 0) return 0;
        long t0 = now_ms();
        char buf[64];
        read_all(s, buf, sizeof buf);
        printf("idle closed after %ld ms\n", now_ms() - t0);
        close(s);
    } else if (strcmp(cmd, "slow") == 0) {
        int s = unix_connect(PROXY, 0);
        if (s < 0) {
            printf("proxy %s\n", strerror(errno));
            return 0;
        }
        long t0 = now_ms();
        char buf[64];
        read_all(s, buf, sizeof buf);
        printf("slow closed after %ld ms\n", now_ms() - t0);
        close(s);
    } else if (strcmp(cmd, "direct") == 0 && argc == 4) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
        inet_pton(AF_INET, argv[2], &a.sin_addr);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r = s < 0 ? -1 : connect(s, (struct sockaddr *)&a, sizeof a);
        printf("direct %s:%s -> %s\n", argv[2], argv[3], r == 0 ? "CONNECTED" : strerror(errno));
    } else if (strcmp(cmd, "udp") == 0 && argc == 4) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
        inet_pton(AF_INET, argv[2], &a.sin_addr);
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ssize_t r = s < 0 ? -1 : sendto(s, "udp", 3, 0, (struct sockaddr *)&a, sizeof a);
        printf("udp %s:%s -> %s\n", argv[2], argv[3], r == 3 ? "SENT" : strerror(errno));
    } else if ((strcmp(cmd, "unix") == 0 || strcmp(cmd, "abstract") == 0) && argc == 3) {
        int s = unix_connect(argv[2], cmd[0] == 'a');
        printf("%s -> %s\n", cmd, s >= 0 ? "CONNECTED" : strerror(errno));
    } else {
        fprintf(stderr, "bad command\n");
        return 2;
    }
    return 0;
}
