/* net.egress.unlisted — catalog N01/N07. Through the egress proxy (HTTP CONNECT and SOCKS5 by IPv4, IPv6 and
 * name) to destinations that are not on net.allow: the TCP honeypots on 127.0.0.1 and ::1, localhost at the
 * honeypot ports, and 127.0.0.2 at the allowed port. A tunnel to the allowed server comes first, to show
 * the proxy works. Args: allowed_port tcp_port tcp6_port nonce canary_file canary_fd */
#include "../egress.h"

int main(int argc, char **argv) {
    if (argc != 7) return 2;
    int allowed = atoi(argv[1]), tcp = atoi(argv[2]), tcp6 = atoi(argv[3]);
    eg_init(argv[4], argv[5], atoi(argv[6]));
    char a[128];

    snprintf(a, sizeof a, "127.0.0.1:%d", allowed);
    eg_http_str("http allowed 127.0.0.1:allowed", a);
    eg_socks_v4("socks4 allowed 127.0.0.1:allowed", "127.0.0.1", allowed);

    snprintf(a, sizeof a, "127.0.0.1:%d", tcp);
    eg_http_str("http 127.0.0.1:tcp", a);
    snprintf(a, sizeof a, "[::1]:%d", tcp6);
    eg_http_str("http [::1]:tcp6", a);
    snprintf(a, sizeof a, "localhost:%d", tcp);
    eg_http_str("http localhost:tcp", a);
    snprintf(a, sizeof a, "127.0.0.2:%d", allowed);
    eg_http_str("http 127.0.0.2:allowed", a);
    snprintf(a, sizeof a, "[::ffff:127.0.0.1]:%d", tcp);
    eg_http_str("http [::ffff:127.0.0.1]:tcp", a);

    eg_socks_v4("socks4 127.0.0.1:tcp", "127.0.0.1", tcp);
    eg_socks_v4("socks4 127.0.0.2:allowed", "127.0.0.2", allowed);
    eg_socks_v6("socks6 ::1:tcp6", "::1", tcp6);
    eg_socks_v6("socks6 ::ffff:127.0.0.1:tcp", "::ffff:127.0.0.1", tcp);
    eg_socks_name("socksname localhost:tcp", "localhost", 9, tcp);
    eg_socks_name("socksname 127.0.0.1:tcp", "127.0.0.1", 9, tcp);

    printf("tunnels opened: %d (1 expected per allowed request)\n", eg_tunnels);
    return 0;
}
