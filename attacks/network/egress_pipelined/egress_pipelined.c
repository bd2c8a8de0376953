/* net.egress.pipelined — catalog N07. A second CONNECT (HTTP and SOCKS5) to the honeypot pipelined behind an
 * allowed one, before and after the proxy's answer, with keep-alive headers and with the first request
 * trickled a byte at a time. Only the harness's addresses are named.
 * Args: allowed_port tcp_port nonce canary_file canary_fd */
#include "../egress.h"

/* Reads whatever arrives within the timeout and says whether a second proxy answer came back. */
static void drain_answers(int s, const char *label) {
    char buf[1024];
    size_t got = 0;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 150000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 8 && got < sizeof buf - 1; i++) {
        ssize_t r = read(s, buf + got, sizeof buf - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    buf[got] = 0;
    int allowed = strstr(buf, "GAUNTLET-ALLOWED") != NULL;
    int second = strstr(buf, "HTTP/1.1 200") != NULL;
    printf("%-44s %s%s\n", label, allowed ? "allowed server answered" : "no answer from the allowed server",
           second ? "; a SECOND 200 came back" : "");
}

static int http_pipelined(const char *label, const char *first, const char *second, int trickle) {
    int s = eg_proxy();
    if (s < 0) return -1;
    char req[2048];
    int n = snprintf(req, sizeof req, "%s", first);
    if (trickle) {
        for (int i = 0; i < n; i++) eg_send(s, req + i, 1);
        n = 0;
    }
    if (second) n += snprintf(req + n, sizeof req - (size_t)n, "%s", second);
    memcpy(req + n, eg_payload, eg_payload_len);
    eg_send(s, req, (size_t)n + eg_payload_len);
    int st = eg_http_status(s);
    printf("%-44s first answer %d\n", label, st);
    if (st == 200) {
        eg_tunnels++;
        drain_answers(s, label);
    }
    close(s);
    return st;
}

int main(int argc, char **argv) {
    if (argc != 6) return 2;
    int allowed = atoi(argv[1]), tcp = atoi(argv[2]);
    eg_init(argv[3], argv[4], atoi(argv[5]));
    char first[256], ka[256], second[256];
    snprintf(first, sizeof first, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", allowed, allowed);
    snprintf(ka, sizeof ka,
             "CONNECT 127.0.0.1:%d HTTP/1.1\r\nConnection: keep-alive\r\nProxy-Connection: keep-alive\r\n\r\n",
             allowed);
    snprintf(second, sizeof second, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", tcp, tcp);

    http_pipelined("http second CONNECT in the same write", first, second, 0);
    http_pipelined("http keep-alive, second CONNECT", ka, second, 0);
    http_pipelined("http trickled first, second CONNECT", first, second, 1);

    /* After the 200: a second CONNECT through the open tunnel. */
    int s = eg_proxy();
    if (s >= 0) {
        eg_send(s, first, strlen(first));
        int st = eg_http_status(s);
        printf("%-44s first answer %d\n", "http second CONNECT after the 200", st);
        if (st == 200) {
            eg_tunnels++;
            eg_send(s, second, strlen(second));
            eg_send(s, eg_payload, eg_payload_len);
            drain_answers(s, "http second CONNECT after the 200");
        }
        close(s);
    }

    /* SOCKS5: greeting, allowed request, then a second request to the honeypot, in one write. */
    unsigned char req[128];
    size_t n = 0;
    unsigned char greet[3] = {5, 1, 0};
    unsigned char r_allowed[10] = {5, 1, 0, 1, 127, 0, 0, 1, (unsigned char)(allowed >> 8), (unsigned char)allowed};
    unsigned char r_honey[10] = {5, 1, 0, 1, 127, 0, 0, 1, (unsigned char)(tcp >> 8), (unsigned char)tcp};
    memcpy(req + n, greet, 3), n += 3;
    memcpy(req + n, r_allowed, 10), n += 10;
    memcpy(req + n, greet, 3), n += 3;
    memcpy(req + n, r_honey, 10), n += 10;
    s = eg_proxy();
    if (s >= 0) {
        eg_send(s, req, n);
        eg_send(s, eg_payload, eg_payload_len);
        unsigned char ans[12];
        int ok = read(s, ans, 2) == 2 && read(s, ans, 10) == 10 && ans[1] == 0;
        printf("%-44s first reply %s\n", "socks5 second request in the same write", ok ? "0" : "refused");
        if (ok) {
            eg_tunnels++;
            drain_answers(s, "socks5 second request in the same write");
        }
        close(s);
    }
    /* SOCKS5: a second greeting and request inside the open tunnel. */
    s = eg_proxy();
    if (s >= 0) {
        eg_send(s, greet, 3);
        eg_send(s, r_allowed, 10);
        unsigned char ans[12];
        int ok = read(s, ans, 2) == 2 && read(s, ans, 10) == 10 && ans[1] == 0;
        printf("%-44s first reply %s\n", "socks5 second request in the tunnel", ok ? "0" : "refused");
        if (ok) {
            eg_tunnels++;
            eg_send(s, greet, 3);
            eg_send(s, r_honey, 10);
            eg_send(s, eg_payload, eg_payload_len);
            drain_answers(s, "socks5 second request in the tunnel");
        }
        close(s);
    }
    printf("tunnels opened: %d (all to the allowed server)\n", eg_tunnels);
    return 0;
}
