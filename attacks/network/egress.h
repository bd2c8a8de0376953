/* Shared by the net.egress.* attacks: a client of the egress proxy the sandbox gives a plugin with
 * net.mode = "allow" (a unix socket at /run/gauntlet/egress.sock speaking HTTP CONNECT and SOCKS5).
 * Every attempt is bounded (send/receive timeouts of 700 ms, a fixed list of attempts) and only ever
 * names addresses the harness passed in. When a tunnel opens, the attack sends the nonce and whatever it
 * could read of the canary, reads the destination's first line, and says which one answered: the
 * harness's allowed server greets with GAUNTLET-ALLOWED; anything else reached a honeypot. */
#ifndef GAUNTLET_EGRESS_H
#define GAUNTLET_EGRESS_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define EGRESS_SOCKET "/run/gauntlet/egress.sock"
#define EG_FN static __attribute__((unused))

static char eg_payload[2048];
static size_t eg_payload_len;
EG_FN int eg_tunnels;

/* The payload every opened tunnel carries: the nonce and whatever the canary gave. */
EG_FN void eg_init(const char *nonce, const char *canary_file, int canary_fd) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    eg_payload_len = (size_t)snprintf(eg_payload, sizeof eg_payload, "gauntlet-%s egress:", nonce);
    int fd = open(canary_file, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, eg_payload + eg_payload_len, 512);
        if (n > 0) eg_payload_len += (size_t)n;
        close(fd);
    }
    char b[512];
    ssize_t n = pread(canary_fd, b, sizeof b, 0);
    if (n > 0 && eg_payload_len + (size_t)n < sizeof eg_payload) {
        memcpy(eg_payload + eg_payload_len, b, (size_t)n);
        eg_payload_len += (size_t)n;
    }
}

EG_FN void eg_timeouts(int s) {
    struct timeval tv = {.tv_sec = 0, .tv_usec = 700000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects to a unix socket path (or, with abstract, the abstract name); -1 with errno. */
EG_FN int eg_unix(const char *path, int abstract) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    eg_timeouts(s);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n > sizeof a.sun_path - 2) n = sizeof a.sun_path - 2;
    memcpy(a.sun_path + (abstract ? 1 : 0), path, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n); /* the NUL: leading (abstract) or final */
    if (connect(s, (struct sockaddr *)&a, len) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

EG_FN int eg_proxy(void) { return eg_unix(EGRESS_SOCKET, 0); }

EG_FN void eg_send(int s, const void *b, size_t n) {
    const char *p = b;
    while (n > 0) {
        ssize_t w = send(s, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* A tunnel is open on s: send the payload, read the destination's greeting, say who answered. */
EG_FN void eg_tunnel(int s, const char *label) {
    eg_tunnels++;
    eg_send(s, eg_payload, eg_payload_len);
    char line[128] = {0};
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(s, line + n, 1);
        if (r <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = 0;
    if (strncmp(line, "GAUNTLET-ALLOWED", 16) == 0)
        printf("%-44s TUNNEL to the allowed server\n", label);
    else
        printf("%-44s TUNNEL OPEN to something else (%s)\n", label, n ? "answered" : "silent");
}

/* Reads an HTTP answer head; returns the status or -1. */
EG_FN int eg_http_status(int s) {
    char head[512];
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

/* Sends a raw request (any bytes) to the proxy; returns the HTTP status (and tunnels on 200). */
EG_FN int eg_http_raw(const char *label, const char *req, size_t len) {
    int s = eg_proxy();
    if (s < 0) {
        printf("%-44s proxy: %s\n", label, strerror(errno));
        return -1;
    }
    eg_send(s, req, len);
    int st = eg_http_status(s);
    if (st == 200)
        eg_tunnel(s, label);
    else
        printf("%-44s http %d\n", label, st);
    close(s);
    return st;
}

/* CONNECT auth HTTP/1.1 (auth may hold any bytes up to alen). */
EG_FN int eg_http(const char *label, const char *auth, size_t alen) {
    char req[1024];
    int n = snprintf(req, sizeof req, "CONNECT ");
    if (alen > 900) alen = 900;
    memcpy(req + n, auth, alen);
    n += (int)alen;
    n += snprintf(req + n, sizeof req - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    return eg_http_raw(label, req, (size_t)n);
}

EG_FN int eg_http_str(const char *label, const char *auth) { return eg_http(label, auth, strlen(auth)); }

/* SOCKS5 CONNECT with address type atyp (1 IPv4, 3 name, 4 IPv6) and raw address bytes; greeting and
 * request in one write. Returns the reply code (and tunnels on 0). */
EG_FN int eg_socks(const char *label, int atyp, const void *addr, size_t alen, int port) {
    int s = eg_proxy();
    if (s < 0) {
        printf("%-44s proxy: %s\n", label, strerror(errno));
        return -1;
    }
    unsigned char req[300] = {5, 1, 0, 5, 1, 0, (unsigned char)atyp};
    size_t n = 7;
    if (atyp == 3) req[n++] = (unsigned char)alen;
    if (alen > 255) alen = 255;
    memcpy(req + n, addr, alen);
    n += alen;
    req[n++] = (unsigned char)(port >> 8);
    req[n++] = (unsigned char)port;
    eg_send(s, req, n);
    unsigned char ans[12];
    int code = -1;
    if (read(s, ans, 2) == 2 && ans[1] == 0 && read(s, ans, 10) == 10) code = ans[1];
    if (code == 0)
        eg_tunnel(s, label);
    else
        printf("%-44s socks5 reply %d\n", label, code);
    close(s);
    return code;
}

EG_FN int eg_socks_v4(const char *label, const char *ip, int port) {
    unsigned char a[4];
    if (inet_pton(AF_INET, ip, a) != 1) return -1;
    return eg_socks(label, 1, a, 4, port);
}

EG_FN int eg_socks_v6(const char *label, const char *ip, int port) {
    unsigned char a[16];
    if (inet_pton(AF_INET6, ip, a) != 1) return -1;
    return eg_socks(label, 4, a, 16, port);
}

EG_FN int eg_socks_name(const char *label, const char *name, size_t len, int port) {
    return eg_socks(label, 3, name, len, port);
}

#endif
