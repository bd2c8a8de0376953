/* net.egress.dns_rebinding — catalog N07/N08. Ask by the allowed name, then try to make it mean 127.0.0.2 (a
 * honeypot on the allowed port) or the honeypot port: IP literals as SOCKS5 names, names with NULs, '%00',
 * whitespace, '/', '..', an embedded port, look-alike names; SOCKS5 v4/v6 and HTTP requests for 127.0.0.2.
 * Only the harness's addresses are named. Args: allowed_port tcp_port nonce canary_file canary_fd */
#include "../egress.h"

static void name(const char *label, const char *n, size_t len, int port) {
    eg_socks_name(label, n, len, port);
}

int main(int argc, char **argv) {
    if (argc != 6) return 2;
    int allowed = atoi(argv[1]), tcp = atoi(argv[2]);
    eg_init(argv[3], argv[4], atoi(argv[5]));
    char a[256];

    name("socksname localhost (allowed)", "localhost", 9, allowed);
    name("socksname LOCALHOST. (allowed)", "LOCALHOST.", 10, allowed);
    name("socksname LocalHost (allowed)", "LocalHost", 9, allowed);
    snprintf(a, sizeof a, "localhost:%d", allowed);
    eg_http_str("http localhost:allowed (allowed)", a);

    const char *lits[] = {"127.0.0.2", "127.2", "2130706434", "0x7f000002", "[::ffff:127.0.0.2]", "127.0.0.2."};
    for (size_t i = 0; i < sizeof lits / sizeof *lits; i++) {
        char label[96];
        snprintf(label, sizeof label, "socksname %s:allowed", lits[i]);
        name(label, lits[i], strlen(lits[i]), allowed);
        snprintf(a, sizeof a, "%s:%d", lits[i], allowed);
        snprintf(label, sizeof label, "http %s", a);
        eg_http_str(label, a);
    }
    name("socksname localhost NUL 127.0.0.2", "localhost\0" "127.0.0.2", 19, allowed);
    name("socksname localhost NUL", "localhost\0", 10, allowed);
    name("socksname localhost%00", "localhost%00", 12, allowed);
    name("socksname localhost TAB", "localhost\t", 10, allowed);
    name("socksname SPACE localhost", " localhost", 10, allowed);
    name("socksname localhost/", "localhost/", 10, allowed);
    name("socksname localhost..", "localhost..", 11, allowed);
    name("socksname localhost.127.0.0.2", "localhost.127.0.0.2", 19, allowed);
    name("socksname 127.0.0.2.localhost", "127.0.0.2.localhost", 19, allowed);
    snprintf(a, sizeof a, "localhost:%d", tcp);
    name("socksname localhost:tcp at the allowed port", a, strlen(a), allowed);
    name("socksname localhost at the tcp port", "localhost", 9, tcp);
    eg_http_str("http localhost at the tcp port", a);
    eg_socks_v4("socks4 127.0.0.2:allowed", "127.0.0.2", allowed);
    eg_socks_v6("socks6 ::ffff:127.0.0.2:allowed", "::ffff:127.0.0.2", allowed);

    name("socksname localhost again (allowed)", "localhost", 9, allowed);
    printf("tunnels opened: %d (5 expected, all to the allowed server)\n", eg_tunnels);
    return 0;
}
