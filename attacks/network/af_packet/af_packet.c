/* net.packet.af_packet — catalog N05. Link-layer access: AF_PACKET SOCK_RAW/SOCK_DGRAM (ETH_P_ALL and
 * ETH_P_IP), the legacy SOCK_PACKET on AF_INET, and PF_PACKET with protocol 0 then a later bind. With a
 * packet socket an attacker sniffs every frame on a shared L2 (ARP/DNS spoofing, KHV020/KHV030) and injects
 * frames that skip the IP stack's filters. If one opens, the attack binds it to lo (ifindex 1), tries
 * PACKET_MMAP ring setup, and injects an Ethernet frame carrying an IPv4/UDP datagram to the UDP honeypot.
 * The seccomp filter refuses the family; CAP_NET_RAW is also needed. Self reports for the opens (no host
 * oracle sees a socket being created); the honeypot catches an injected frame. Args: udp_port nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOCK_PACKET
#define SOCK_PACKET 10
#endif

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

static void inject(int s, int dgram, int uport) {
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = 1, .sll_halen = 6};
    if (bind(s, (struct sockaddr *)&ll, sizeof ll) < 0) printf("  bind to lo: %s\n", strerror(errno));
    int ver = TPACKET_V2;
    printf("  PACKET_VERSION: %s\n", setsockopt(s, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) == 0 ? "OK" : strerror(errno));
    unsigned char f[256] = {0};
    unsigned char *ipp = dgram ? f : f + 14;
    if (!dgram) { f[12] = 0x08; f[13] = 0x00; } /* zero MACs: lo accepts anything */
    struct iphdr *ip = (struct iphdr *)ipp;
    struct udphdr *u = (struct udphdr *)(ipp + 20);
    int dl = snprintf((char *)ipp + 28, 100, "gauntlet-%s af_packet frame", nonce);
    ip->ihl = 5, ip->version = 4, ip->ttl = 64, ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons((uint16_t)(28 + dl));
    ip->saddr = htonl(INADDR_LOOPBACK), ip->daddr = htonl(INADDR_LOOPBACK);
    ip->check = csum(ip, 20);
    u->source = htons(4747), u->dest = htons((uint16_t)uport), u->len = htons((uint16_t)(8 + dl));
    size_t len = (size_t)(28 + dl) + (dgram ? 0 : 14);
    printf("  inject frame to lo: %s\n", sendto(s, f, len, 0, (struct sockaddr *)&ll, sizeof ll) >= 0 ? "SENT" : strerror(errno));
    unsigned char r[2048];
    ssize_t n = recv(s, r, sizeof r, MSG_DONTWAIT);
    printf("  sniffed a frame: %s\n", n > 0 ? "yes" : "no");
}

int main(int argc, char **argv) {
    if (argc < 3) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int uport = atoi(argv[1]);
    nonce = argv[2];
    struct { int fam, type, proto; const char *label; } t[] = {
        {AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), "af-packet-raw-eth-all"},
        {AF_PACKET, SOCK_RAW, htons(ETH_P_IP), "af-packet-raw-eth-ip"},
        {AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP), "af-packet-dgram"},
        {AF_PACKET, SOCK_RAW, 0, "af-packet-raw-proto0"},
        {AF_INET, SOCK_PACKET, htons(ETH_P_ALL), "sock-packet-legacy"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int s = socket(t[i].fam, t[i].type, t[i].proto);
        printf("%s: %s\n", t[i].label, s >= 0 ? "OPEN" : strerror(errno));
        report(s >= 0, t[i].label);
        if (s >= 0) {
            if (t[i].fam == AF_PACKET) inject(s, t[i].type == SOCK_DGRAM, uport);
            close(s);
        }
    }
    return 0;
}
