/* net.egress.literal_tricks — catalog N01/N07. Every spelling of the honeypots' addresses, port tricks,
 * hosts smuggled behind the allowed one, over-long and malformed requests, and the proxy's own socket,
 * through the egress proxy by HTTP CONNECT and as SOCKS5 domain names. Only the harness's addresses are
 * named. Args: allowed_port tcp_port tcp6_port unix_path nonce canary_file canary_fd */
#include "../egress.h"

static void both(const char *host, int port) {
    char a[256], label[128];
    snprintf(a, sizeof a, "%s:%d", host, port);
    snprintf(label, sizeof label, "http %s", a);
    eg_http_str(label, a);
    snprintf(label, sizeof label, "socksname %s", host);
    eg_socks_name(label, host, strlen(host), port);
}

int main(int argc, char **argv) {
    if (argc != 8) return 2;
    int allowed = atoi(argv[1]), tcp = atoi(argv[2]), tcp6 = atoi(argv[3]);
    const char *unix_path = argv[4];
    eg_init(argv[5], argv[6], atoi(argv[7]));
    char a[512], req[12288];

    /* The v4 honeypot, 127.0.0.1:tcp, in every spelling. */
    const char *v4[] = {"127.1", "0x7f.0.0.1", "0x7f000001", "2130706433", "017700000001", "0177.0.0.1",
                        "127.0.0.01", "127.000.000.001", "127.0.0.1.", "127.0.0.1..", "[::ffff:127.0.0.1]",
                        "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]", "0", "0.0.0.0", "[::]", "localhost.",
                        "LOCALHOST", "127.0.0.1%00", "0x7F.1"};
    for (size_t i = 0; i < sizeof v4 / sizeof *v4; i++) both(v4[i], tcp);
    /* The v6 honeypot, [::1]:tcp6. */
    const char *v6[] = {"[::1%lo]", "[::1%251]", "[0::1]", "[0000:0000:0000:0000:0000:0000:0000:0001]", "[::1]"};
    for (size_t i = 0; i < sizeof v6 / sizeof *v6; i++) both(v6[i], tcp6);
    /* The allowed port on 127.0.0.2. */
    const char *v4b[] = {"127.2", "0x7f000002", "2130706434", "[::ffff:127.0.0.2]", "127.0.0.2."};
    for (size_t i = 0; i < sizeof v4b / sizeof *v4b; i++) both(v4b[i], allowed);

    /* Port tricks on the allowed address. */
    snprintf(a, sizeof a, "127.0.0.1:%d", tcp + 65536);
    eg_http_str("http port + 65536", a);
    snprintf(a, sizeof a, "127.0.0.1:0%d", tcp);
    eg_http_str("http port with a leading zero", a);
    snprintf(a, sizeof a, "127.0.0.1:+%d", tcp);
    eg_http_str("http +port", a);
    snprintf(a, sizeof a, "127.0.0.1:%d ", tcp);
    eg_http_str("http port and a space", a);
    snprintf(a, sizeof a, "127.0.0.1:%d:%d", allowed, tcp);
    eg_http_str("http two ports", a);

    /* Hosts smuggled behind the allowed one. */
    snprintf(a, sizeof a, "127.0.0.1:%d@127.0.0.1:%d", allowed, tcp);
    eg_http_str("http allowed@honeypot", a);
    snprintf(a, sizeof a, "127.0.0.1:%d#@127.0.0.1:%d", tcp, allowed);
    eg_http_str("http honeypot#@allowed", a);
    snprintf(a, sizeof a, "user:pw@127.0.0.1:%d", tcp);
    eg_http_str("http userinfo", a);
    snprintf(a, sizeof a, "127.0.0.1:%d,127.0.0.1:%d", allowed, tcp);
    eg_http_str("http allowed,honeypot", a);
    int n = snprintf(a, sizeof a, "127.0.0.1:%d", allowed);
    a[n++] = 0;
    n += snprintf(a + n, sizeof a - (size_t)n, "127.0.0.1:%d", tcp);
    eg_http("http allowed NUL honeypot", a, (size_t)n);
    n = snprintf(a, sizeof a, "localhost");
    a[n++] = 0;
    n += snprintf(a + n, sizeof a - (size_t)n, "127.0.0.2");
    eg_socks_name("socksname localhost NUL 127.0.0.2", a, (size_t)n, allowed);
    n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", allowed, tcp);
    eg_http_raw("http allowed, Host: honeypot", req, (size_t)n);
    n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", tcp, tcp);
    eg_http_raw("http absolute-form GET", req, (size_t)n);
    n = snprintf(req, sizeof req, "connect 127.0.0.1:%d HTTP/1.1\r\n\r\n", tcp);
    eg_http_raw("http lowercase connect", req, (size_t)n);
    n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\n\n", tcp);
    eg_http_raw("http LF only", req, (size_t)n);
    n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nX: 1\r\n\r\nCONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n",
                 tcp, allowed);
    eg_http_raw("http honeypot then allowed", req, (size_t)n);

    /* Over-long request line, header flood. */
    n = snprintf(req, sizeof req, "CONNECT ");
    memset(req + n, 'a', 10000);
    n += 10000;
    n += snprintf(req + n, sizeof req - (size_t)n, ".127.0.0.1:%d HTTP/1.1\r\n\r\n", tcp);
    eg_http_raw("http over-long line", req, (size_t)n);
    n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\r\n", tcp);
    while (n < 11000) n += snprintf(req + n, sizeof req - (size_t)n, "X-Flood: %0100d\r\n", 0);
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    eg_http_raw("http header flood", req, (size_t)n);

    /* The proxy's own socket and the host's unix honeypot. */
    eg_http_str("http the proxy's socket path", EGRESS_SOCKET);
    snprintf(a, sizeof a, "unix:%s:80", EGRESS_SOCKET);
    eg_http_str("http unix:proxy socket", a);
    snprintf(a, sizeof a, "unix:%s:80", unix_path);
    eg_http_str("http unix:honeypot", a);
    eg_socks_name("socksname the proxy's socket", EGRESS_SOCKET, strlen(EGRESS_SOCKET), 80);
    eg_socks_name("socksname the unix honeypot", unix_path, strlen(unix_path), 80);

    printf("tunnels opened: %d (only the Host-header request reaches the allowed server)\n", eg_tunnels);
    return 0;
}
