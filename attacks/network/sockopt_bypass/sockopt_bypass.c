/* net.sockopt.bypass — catalog N13. Socket options that route around filters or need CAP_NET_ADMIN /
 * CAP_NET_RAW: SO_BINDTODEVICE (lo, and an interface name of the host's), SO_MARK (policy routing / firewall
 * marks), IP_TRANSPARENT (spoofed bind), IP_FREEBIND + bind to a foreign address, SO_PRIORITY 7 (needs
 * CAP_NET_ADMIN), SO_DEBUG, IPV6_TRANSPARENT, plus wrong levels/options (the Chromium SIGSYS cases). After
 * each, a UDP datagram with the nonce goes to the UDP honeypot. Option success is invisible to the host, so
 * it is self-reported; a datagram that reaches the host is caught by the honeypot. Args: udp_port nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif

static const char *nonce;
static int uport;
static void report(int esc, const char *what) {
    printf("GAUNTLET-REPORT %s %s %s\n", nonce, esc ? "escaped" : "denied", what);
}
static void send_probe(int s, const char *label) {
    char p[128];
    int n = snprintf(p, sizeof p, "gauntlet-%s sockopt %s", nonce, label);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uport), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    printf("  datagram after %s: %s\n", label, sendto(s, p, (size_t)n, 0, (struct sockaddr *)&a, sizeof a) >= 0 ? "SENT" : strerror(errno));
}

int main(int argc, char **argv) {
    if (argc < 3) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    uport = atoi(argv[1]);
    nonce = argv[2];
    const char *devs[] = {"lo", "eth0", "ens3", "docker0"};
    for (int i = 0; i < 4; i++) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        int r = setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, devs[i], (socklen_t)strlen(devs[i]) + 1);
        printf("SO_BINDTODEVICE %s: %s\n", devs[i], r == 0 ? "OK" : strerror(errno));
        if (i > 0) report(r == 0, "so_bindtodevice-host-interface");
        char label[32];
        snprintf(label, sizeof label, "bindtodevice-%s", devs[i]);
        send_probe(s, label);
        close(s);
    }
    struct { int level, opt, val; const char *name; int needs_cap; } o[] = {
        {SOL_SOCKET, SO_MARK, 0x4747, "so_mark", 1},
        {IPPROTO_IP, IP_TRANSPARENT, 1, "ip_transparent", 1},
        {SOL_SOCKET, SO_PRIORITY, 7, "so_priority-7", 1},
        {SOL_SOCKET, SO_DEBUG, 1, "so_debug", 0},
        {IPPROTO_IP, IP_FREEBIND, 1, "ip_freebind", 0},
        {SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24, "so_rcvbufforce", 1},
        {SOL_SOCKET, SO_SNDBUFFORCE, 1 << 24, "so_sndbufforce", 1},
    };
    for (size_t i = 0; i < sizeof o / sizeof o[0]; i++) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        int r = setsockopt(s, o[i].level, o[i].opt, &o[i].val, sizeof o[i].val);
        printf("%s: %s\n", o[i].name, r == 0 ? "OK" : strerror(errno));
        if (o[i].needs_cap) report(r == 0, o[i].name);
        if (r == 0 && (o[i].opt == IP_TRANSPARENT || o[i].opt == IP_FREEBIND)) {
            /* bind to a foreign (documentation) address: only transparent/freebind sockets may */
            struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(4747)};
            inet_pton(AF_INET, "192.0.2.1", &b.sin_addr);
            printf("  bind 192.0.2.1: %s\n", bind(s, (struct sockaddr *)&b, sizeof b) == 0 ? "OK" : strerror(errno));
        }
        send_probe(s, o[i].name);
        close(s);
    }
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    int one = 1;
    int r = setsockopt(s6, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof one);
    printf("ipv6_transparent: %s\n", r == 0 ? "OK" : strerror(errno));
    report(r == 0, "ipv6_transparent");
    close(s6);
    /* odd levels and options */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int v = 1;
    printf("setsockopt(level 0xdead): %s\n", setsockopt(s, 0xdead, 1, &v, sizeof v) == 0 ? "OK" : strerror(errno));
    printf("setsockopt(SOL_SOCKET, 0x7777): %s\n", setsockopt(s, SOL_SOCKET, 0x7777, &v, sizeof v) == 0 ? "OK" : strerror(errno));
    socklen_t l = sizeof v;
    printf("getsockopt(SOL_SOCKET, SO_PEERCRED) unconnected: %s\n", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &v, &l) == 0 ? "OK" : strerror(errno));
    close(s);
    return 0;
}
