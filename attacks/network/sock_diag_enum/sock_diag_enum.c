/* net.netlink.sock_diag_enum — catalog N10/I05. Socket enumeration to find targets: NETLINK_SOCK_DIAG
 * inet_diag dumps of TCP and UDP sockets (v4 and v6, all states) and unix_diag of unix sockets, plus
 * /proc/net/{tcp,tcp6,udp,unix}. If the sandbox shares the host's network namespace, the host's listening
 * honeypots ({tcp_port}, {udp_port}, @{abstract_name}) show up: that is the map an attacker uses to pick
 * loopback services. Nothing on the host can see a dump being read, so it self-reports whether any of the
 * honeypots were visible. Args: tcp_port udp_port abstract_name nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *nonce;
static void report(int esc, const char *what) {
    printf("GAUNTLET-REPORT %s %s %s\n", nonce, esc ? "escaped" : "denied", what);
}

static int inet_dump(int fam, int proto, int want_port) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (s < 0) { printf("sock_diag socket: %s\n", strerror(errno)); return 0; }
    struct { struct nlmsghdr h; struct inet_diag_req_v2 r; } q = {0};
    q.h.nlmsg_len = sizeof q;
    q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.r.sdiag_family = (unsigned char)fam;
    q.r.sdiag_protocol = (unsigned char)proto;
    q.r.idiag_states = ~0u;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int count = 0, seen = 0;
    if (sendto(s, &q, sizeof q, 0, (struct sockaddr *)&k, sizeof k) < 0) {
        printf("inet_diag fam %d proto %d: %s\n", fam, proto, strerror(errno));
        close(s);
        return 0;
    }
    for (int rounds = 0; rounds < 256; rounds++) {
        char buf[16384];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n <= 0) break;
        int done = 0;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
            struct inet_diag_msg *m = NLMSG_DATA(h);
            count++;
            if (ntohs(m->id.idiag_sport) == want_port) seen = 1;
        }
        if (done) break;
    }
    close(s);
    printf("inet_diag fam %d proto %d: %d sockets, honeypot port %d %s\n", fam, proto, count, want_port, seen ? "VISIBLE" : "not visible");
    return seen;
}

static int unix_dump(const char *abstract) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (s < 0) return 0;
    struct { struct nlmsghdr h; struct unix_diag_req r; } q = {0};
    q.h.nlmsg_len = sizeof q;
    q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.r.sdiag_family = AF_UNIX;
    q.r.udiag_states = ~0u;
    q.r.udiag_show = UDIAG_SHOW_NAME;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int count = 0, seen = 0;
    if (sendto(s, &q, sizeof q, 0, (struct sockaddr *)&k, sizeof k) >= 0) {
        for (int rounds = 0; rounds < 256; rounds++) {
            char buf[16384];
            ssize_t n = recv(s, buf, sizeof buf, 0);
            if (n <= 0) break;
            int done = 0;
            for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
                if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
                count++;
                struct unix_diag_msg *m = NLMSG_DATA(h);
                int al = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
                for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, al); a = RTA_NEXT(a, al))
                    if (a->rta_type == UNIX_DIAG_NAME) {
                        const char *nm = RTA_DATA(a);
                        size_t l = RTA_PAYLOAD(a);
                        if (l > 1 && nm[0] == 0 && l - 1 == strlen(abstract) && !memcmp(nm + 1, abstract, l - 1)) seen = 1;
                    }
            }
            if (done) break;
        }
    }
    close(s);
    printf("unix_diag: %d sockets, @%s %s\n", count, abstract, seen ? "VISIBLE" : "not visible");
    return seen;
}

static int proc_net(const char *file, const char *needle) {
    FILE *f = fopen(file, "r");
    if (!f) { printf("%s: %s\n", file, strerror(errno)); return 0; }
    char line[512];
    int lines = 0, seen = 0;
    while (fgets(line, sizeof line, f) && lines < 100000) {
        lines++;
        if (strstr(line, needle)) seen = 1;
    }
    fclose(f);
    printf("%s: %d lines, %s %s\n", file, lines, needle, seen ? "VISIBLE" : "not visible");
    return seen;
}

int main(int argc, char **argv) {
    if (argc < 5) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int tport = atoi(argv[1]), uport = atoi(argv[2]);
    nonce = argv[4];
    int tcp = inet_dump(AF_INET, IPPROTO_TCP, tport) | inet_dump(AF_INET6, IPPROTO_TCP, tport);
    int udp = inet_dump(AF_INET, IPPROTO_UDP, uport);
    int ab = unix_dump(argv[3]);
    char hex[16];
    snprintf(hex, sizeof hex, ":%04X", tport);
    tcp |= proc_net("/proc/net/tcp", hex);
    snprintf(hex, sizeof hex, ":%04X", uport);
    udp |= proc_net("/proc/net/udp", hex);
    char at[200];
    snprintf(at, sizeof at, "@%s", argv[3]);
    ab |= proc_net("/proc/net/unix", at);
    report(tcp, "host-tcp-honeypot-visible");
    report(udp, "host-udp-honeypot-visible");
    report(ab, "host-abstract-honeypot-visible");
    return 0;
}
