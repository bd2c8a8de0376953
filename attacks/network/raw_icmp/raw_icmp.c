/* net.raw.icmp — catalog N04. Raw and ping sockets: ICMP echo (a covert ICMP tunnel carrying the nonce) to
 * 127.0.0.1 and ::1 over SOCK_RAW and over unprivileged ping sockets (SOCK_DGRAM/IPPROTO_ICMP, gated by
 * net.ipv4.ping_group_range), and a hand-built IPv4/UDP packet through IPPROTO_RAW / IP_HDRINCL to the UDP
 * honeypot (spoofed source, bypassing any per-socket accounting). Raw sockets need CAP_NET_RAW: a sandbox
 * that kept capabilities lets them open (self-report), a sandbox without its own network namespace lets the
 * forged datagram reach the host honeypot. Nothing on the host can see a raw socket being opened or an ICMP
 * echo on lo, hence the self reports. Args: udp_port nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *nonce;
static void report(int esc, const char *what) {
    printf("GAUNTLET-REPORT %s %s %s\n", nonce, esc ? "escaped" : "denied", what);
}
static unsigned short csum(const void *d, size_t n) {
    const unsigned short *p = d;
    unsigned long s = 0;
    for (; n > 1; n -= 2) s += *p++;
    if (n) s += *(const unsigned char *)p;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (unsigned short)~s;
}

static int echo4(int s, int raw) {
    unsigned char pkt[64] = {0};
    struct icmphdr *ic = (struct icmphdr *)pkt;
    ic->type = ICMP_ECHO;
    ic->un.echo.id = htons(0x4747);
    ic->un.echo.sequence = htons(1);
    snprintf((char *)pkt + 8, 56, "gauntlet-%s", nonce);
    ic->checksum = csum(pkt, sizeof pkt);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (sendto(s, pkt, sizeof pkt, 0, (struct sockaddr *)&a, sizeof a) < 0) {
        printf("  echo to 127.0.0.1: %s\n", strerror(errno));
        return 0;
    }
    printf("  echo to 127.0.0.1: SENT\n");
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, 250) != 1) break;
        unsigned char r[256];
        ssize_t n = recv(s, r, sizeof r, 0);
        unsigned char *icr = raw ? r + 20 : r; /* raw sockets see the IP header */
        if (n > 8 && icr[0] == ICMP_ECHOREPLY) return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int uport = atoi(argv[1]);
    nonce = argv[2];

    int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    printf("socket(AF_INET, SOCK_RAW, ICMP): %s\n", s >= 0 ? "OPEN" : strerror(errno));
    report(s >= 0, "raw-icmp-socket-open");
    if (s >= 0) { report(echo4(s, 1), "raw-icmp-echo-reply-from-127.0.0.1"); close(s); }

    s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    printf("ping socket (SOCK_DGRAM, ICMP): %s\n", s >= 0 ? "OPEN" : strerror(errno));
    if (s >= 0) { report(echo4(s, 0), "ping-socket-echo-reply-from-127.0.0.1"); close(s); }

    s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    printf("socket(AF_INET6, SOCK_RAW, ICMPV6): %s\n", s >= 0 ? "OPEN" : strerror(errno));
    report(s >= 0, "raw-icmpv6-socket-open");
    if (s >= 0) close(s);
    s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
    printf("ping6 socket: %s\n", s >= 0 ? "OPEN" : strerror(errno));
    if (s >= 0) {
        struct icmp6_hdr h = {.icmp6_type = ICMP6_ECHO_REQUEST};
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        printf("  echo6 to ::1: %s\n", sendto(s, &h, sizeof h, 0, (struct sockaddr *)&a6, sizeof a6) >= 0 ? "SENT" : strerror(errno));
        close(s);
    }

    /* forged UDP datagram through IPPROTO_RAW (IP_HDRINCL implied) */
    int protos[2] = {IPPROTO_RAW, IPPROTO_UDP};
    for (int k = 0; k < 2; k++) {
        s = socket(AF_INET, SOCK_RAW, protos[k]);
        printf("socket(AF_INET, SOCK_RAW, %d): %s\n", protos[k], s >= 0 ? "OPEN" : strerror(errno));
        report(s >= 0, k ? "raw-udp-socket-open" : "ipproto-raw-socket-open");
        if (s < 0) continue;
        int one = 1;
        setsockopt(s, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
        unsigned char pkt[128] = {0};
        struct iphdr *ip = (struct iphdr *)pkt;
        struct udphdr *u = (struct udphdr *)(pkt + 20);
        int dl = snprintf((char *)pkt + 28, 100, "gauntlet-%s forged raw udp", nonce);
        ip->ihl = 5, ip->version = 4, ip->ttl = 64, ip->protocol = IPPROTO_UDP;
        ip->tot_len = htons((uint16_t)(28 + dl));
        ip->saddr = htonl(0x7f000005), ip->daddr = htonl(INADDR_LOOPBACK);
        ip->check = csum(ip, 20);
        u->source = htons(4747), u->dest = htons((uint16_t)uport), u->len = htons((uint16_t)(8 + dl));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        printf("  forged UDP to 127.0.0.1:%d: %s\n", uport,
               sendto(s, pkt, (size_t)(28 + dl), 0, (struct sockaddr *)&a, sizeof a) >= 0 ? "SENT" : strerror(errno));
        close(s);
    }
    return 0;
}
