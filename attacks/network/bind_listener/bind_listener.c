/* net.listen.bind_shell — catalog N12. A bind shell: listen on 0.0.0.0 and [::] (TCP) and 0.0.0.0 (UDP) on
 * a port derived from the nonce (20000 + hash % 12000, below the kernel's ephemeral range), accept for ~600 ms and see who connects. No
 * shell is ever spawned: a connection is only counted. With net = none the policy allows no listener at all
 * (Landlock denies TCP bind); a listener in the host's namespace would be reachable from the host and the
 * network. The host's pstat oracle lists the TCP sockets of the plugin's namespace: a port outside the
 * ephemeral range there is an explicit bind that net = none forbids. The attack also self-reports: whether TCP
 * bind+listen worked, whether the listener is in the host's namespace (the host honeypots {tcp_port} /
 * {udp_port} are visible in /proc/net), and whether anyone other than its own probe connected.
 * Args: tcp_port udp_port nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *nonce;
static void report(int esc, const char *what) {
    printf("GAUNTLET-REPORT %s %s %s\n", nonce, esc ? "escaped" : "denied", what);
}
static int visible(const char *file, int port) {
    FILE *f = fopen(file, "r");
    if (!f) return 0;
    char line[512], hex[16];
    snprintf(hex, sizeof hex, ":%04X ", port);
    int seen = 0, n = 0;
    while (fgets(line, sizeof line, f) && n++ < 100000)
        if (strstr(line, hex)) seen = 1;
    fclose(f);
    return seen;
}

int main(int argc, char **argv) {
    if (argc < 4) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int tport = atoi(argv[1]), uport = atoi(argv[2]);
    nonce = argv[3];
    unsigned h = 0;
    for (const char *p = nonce; *p; p++) h = h * 31 + (unsigned char)*p;
    int port = 20000 + (int)(h % 12000);
    printf("listen port %d\n", port);
    int host_ns = visible("/proc/net/tcp", tport) || visible("/proc/net/udp", uport) || visible("/proc/net/tcp6", tport);
    printf("host honeypots visible in /proc/net: %s\n", host_ns ? "yes" : "no");

    int one = 1;
    int s4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(s4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    int ok4 = bind(s4, (struct sockaddr *)&a, sizeof a) == 0;
    printf("bind tcp 0.0.0.0:%d: %s\n", port, ok4 ? "OK" : strerror(errno));
    if (ok4) { ok4 = listen(s4, 16) == 0; printf("listen: %s\n", ok4 ? "OK" : strerror(errno)); }

    int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_ANY_INIT};
    int ok6 = bind(s6, (struct sockaddr *)&a6, sizeof a6) == 0;
    printf("bind tcp [::]:%d: %s\n", port, ok6 ? "OK" : strerror(errno));
    if (ok6) ok6 = listen(s6, 16) == 0;

    int su = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int oku = bind(su, (struct sockaddr *)&a, sizeof a) == 0;
    printf("bind udp 0.0.0.0:%d: %s\n", port, oku ? "OK" : strerror(errno));

    report(ok4 || ok6, "tcp-bind-listen-under-net-none");
    report((ok4 || ok6 || oku) && host_ns, "listener-in-host-namespace");

    /* our own probe: a child connects to 127.0.0.1:port */
    pid_t c = -1;
    if (ok4) {
        c = fork();
        if (c == 0) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            int r = connect(s, (struct sockaddr *)&l, sizeof l);
            if (r == 0 && write(s, "self", 4) < 0) {}
            _exit(r == 0 ? 0 : 1);
        }
    }
    int accepted = 0, foreign = 0;
    for (int i = 0; i < 12 && (ok4 || ok6 || oku); i++) {
        struct pollfd p[3] = {{.fd = ok4 ? s4 : -1, .events = POLLIN}, {.fd = ok6 ? s6 : -1, .events = POLLIN}, {.fd = oku ? su : -1, .events = POLLIN}};
        if (poll(p, 3, 50) <= 0) continue;
        for (int k = 0; k < 2; k++)
            if (p[k].revents & POLLIN) {
                int x = accept(p[k].fd, NULL, NULL);
                if (x >= 0) {
                    char b[8] = {0};
                    usleep(20000);
                    ssize_t n = read(x, b, 4);
                    accepted++;
                    if (!(n == 4 && !memcmp(b, "self", 4))) foreign++;
                    close(x);
                }
            }
        if (p[2].revents & POLLIN) {
            char b[64];
            if (recv(su, b, sizeof b, 0) >= 0) foreign++;
        }
    }
    if (c > 0) {
        int st;
        waitpid(c, &st, 0);
        printf("own probe connect to 127.0.0.1:%d: %s\n", port, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "OK" : "failed");
    }
    printf("accepted %d connections, %d not from our own probe\n", accepted, foreign);
    report(foreign > 0, "inbound-connection-from-outside");
    return 0;
}
