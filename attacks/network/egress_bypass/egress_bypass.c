/* net.egress.around_proxy — catalog N01/N02/N09. With net.mode = "allow", everything but the proxy: direct
 * TCP (and TCP Fast Open) and UDP to the host's honeypots, ICMP, lo up, the abstract and path unix honeypots,
 * and every other unix socket in the sandbox's root. Only the harness's addresses are named.
 * Args: tcp_port tcp6_port udp_port dns_port abstract_name unix_path nonce canary_file canary_fd */
#include "../egress.h"

#include <dirent.h>
#include <net/if.h>
#include <netinet/ip_icmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static void tcp(const char *label, int family, const char *ip, int port, int tfo) {
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((unsigned short)port);
        inet_pton(AF_INET, ip, &a->sin_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((unsigned short)port);
        inet_pton(AF_INET6, ip, &a->sin6_addr);
        len = sizeof *a;
    }
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        printf("%-40s socket: %s\n", label, strerror(errno));
        return;
    }
    eg_timeouts(s);
    if (tfo) {
        ssize_t r = sendto(s, eg_payload, eg_payload_len, MSG_FASTOPEN | MSG_NOSIGNAL, (struct sockaddr *)&ss, len);
        printf("%-40s %s\n", label, r >= 0 ? "SENT" : strerror(errno));
    } else if (connect(s, (struct sockaddr *)&ss, len) == 0) {
        eg_send(s, eg_payload, eg_payload_len);
        printf("%-40s CONNECTED\n", label);
    } else {
        printf("%-40s %s\n", label, strerror(errno));
    }
    close(s);
}

static void udp(const char *label, int port, const void *msg, size_t n) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ssize_t r = s < 0 ? -1 : sendto(s, msg, n, 0, (struct sockaddr *)&a, sizeof a);
    printf("%-40s %s\n", label, r >= 0 ? "SENT" : strerror(errno));
    if (s >= 0) close(s);
}

static void icmp(const char *label, int type) {
    int s = socket(AF_INET, type | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (s < 0) {
        printf("%-40s socket: %s\n", label, strerror(errno));
        return;
    }
    struct icmphdr h = {.type = ICMP_ECHO};
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ssize_t r = sendto(s, &h, sizeof h, 0, (struct sockaddr *)&a, sizeof a);
    printf("%-40s %s\n", label, r >= 0 ? "SENT" : strerror(errno));
    close(s);
}

static int found;

/* Connects to every unix socket under dir (bounded walk), except the proxy's. */
static void walk(const char *dir, int depth) {
    if (depth > 4 || found > 200) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && found <= 200) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(p, depth + 1);
        } else if (S_ISSOCK(st.st_mode)) {
            found++;
            if (!strcmp(p, EGRESS_SOCKET)) {
                printf("%-40s the proxy's socket (skipped)\n", p);
                continue;
            }
            int s = eg_unix(p, 0);
            if (s >= 0) {
                eg_send(s, eg_payload, eg_payload_len);
                close(s);
            }
            printf("%-40s %s\n", p, s >= 0 ? "CONNECTED" : strerror(errno));
        }
    }
    closedir(d);
}

int main(int argc, char **argv) {
    if (argc != 10) return 2;
    int tcp_port = atoi(argv[1]), tcp6_port = atoi(argv[2]), udp_port = atoi(argv[3]), dns_port = atoi(argv[4]);
    const char *abstract_name = argv[5], *unix_path = argv[6];
    eg_init(argv[7], argv[8], atoi(argv[9]));

    tcp("tcp 127.0.0.1:tcp", AF_INET, "127.0.0.1", tcp_port, 0);
    tcp("tcp 127.0.0.1:tcp fast open", AF_INET, "127.0.0.1", tcp_port, 1);
    tcp("tcp [::1]:tcp6", AF_INET6, "::1", tcp6_port, 0);
    tcp("tcp [::ffff:127.0.0.1]:tcp", AF_INET6, "::ffff:127.0.0.1", tcp_port, 0);
    udp("udp 127.0.0.1:udp", udp_port, eg_payload, eg_payload_len);
    /* A DNS query for <nonce>.gauntlet.test, with the payload after it. */
    unsigned char q[1200] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t qn = 12;
    const char *nonce = strchr(eg_payload, '-') + 1;
    size_t nl = strcspn(nonce, " ");
    q[qn++] = (unsigned char)nl;
    memcpy(q + qn, nonce, nl), qn += nl;
    q[qn++] = 8, memcpy(q + qn, "gauntlet", 8), qn += 8;
    q[qn++] = 4, memcpy(q + qn, "test", 4), qn += 4;
    q[qn++] = 0, q[qn++] = 0, q[qn++] = 1, q[qn++] = 0, q[qn++] = 1;
    udp("dns 127.0.0.1:dns", dns_port, q, qn);
    icmp("icmp ping socket 127.0.0.1", SOCK_DGRAM);
    icmp("icmp raw socket 127.0.0.1", SOCK_RAW);

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    int up = -1;
    if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        up = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    printf("%-40s %s\n", "bring lo up", up == 0 ? "UP" : strerror(errno));
    if (s >= 0) close(s);
    if (up == 0) {
        tcp("tcp 127.0.0.1:tcp after lo up", AF_INET, "127.0.0.1", tcp_port, 0);
        udp("udp 127.0.0.1:udp after lo up", udp_port, eg_payload, eg_payload_len);
    }

    int a = eg_unix(abstract_name, 1);
    if (a >= 0) eg_send(a, eg_payload, eg_payload_len), close(a);
    printf("%-40s %s\n", "abstract honeypot", a >= 0 ? "CONNECTED" : strerror(errno));
    int u = eg_unix(unix_path, 0);
    if (u >= 0) eg_send(u, eg_payload, eg_payload_len), close(u);
    printf("%-40s %s\n", "path honeypot", u >= 0 ? "CONNECTED" : strerror(errno));

    const char *roots[] = {"/run", "/tmp", "/dev", "/var", "/"};
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) walk(roots[i], i == 4 ? 3 : 0);
    FILE *f = fopen("/proc/net/unix", "r");
    int lines = 0;
    char line[512];
    while (f && fgets(line, sizeof line, f) && lines < 1000) lines++;
    if (f) fclose(f);
    printf("%-40s %d lines (sockets of this network namespace only)\n", "/proc/net/unix", lines);
    printf("unix sockets found in the root: %d\n", found);
    return 0;
}
