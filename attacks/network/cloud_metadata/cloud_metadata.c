/* net.cloud.metadata — catalog N11. Cloud instance metadata (AWS IMDSv1/v2, GCP, Azure, Alibaba) hands out
 * credentials to anything that can send HTTP to a link-local address. DEFANGED: real metadata addresses
 * (169.254.169.254, 100.100.100.200, metadata.google.internal) are NEVER contacted: they are not the
 * harness's. Reaching them takes the same path out of the sandbox as any other host-side address, so the
 * requests an attacker would send (with the exact Host headers and paths) go to the harness's TCP honeypot on
 * 127.0.0.1:{tcp_port} instead, from a plugin granted `net = loopback`: if the honeypot sees them, a metadata
 * service on the host side would have too. Plain connect and TCP Fast Open.
 * Args: tcp_port nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int port = atoi(argv[1]);
    const char *nonce = argv[2];
    const char *reqs[] = {
        "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\nX-Gauntlet: %s\r\n\r\n",
        "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nX-Gauntlet: %s\r\n\r\n",
        "GET /computeMetadata/v1/instance/service-accounts/default/token HTTP/1.1\r\nHost: metadata.google.internal\r\nMetadata-Flavor: Google\r\nX-Gauntlet: %s\r\n\r\n",
        "GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/ HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nX-Gauntlet: %s\r\n\r\n",
        "GET /latest/meta-data/ram/security-credentials/ HTTP/1.1\r\nHost: 100.100.100.200\r\nX-Gauntlet: %s\r\n\r\n",
        "GET /opc/v2/instance/ HTTP/1.1\r\nHost: 169.254.169.254\r\nAuthorization: Bearer Oracle\r\nX-Gauntlet: %s\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char r[1024];
        int n = snprintf(r, sizeof r, reqs[i], nonce);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = {0, 300000};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            printf("request %zu: CONNECTED, sent %zd\n", i, send(s, r, (size_t)n, MSG_NOSIGNAL));
            char b[512];
            ssize_t got = recv(s, b, sizeof b - 1, 0);
            if (got > 0) { b[got] = 0; printf("  answer: %.200s\n", b); }
        } else {
            printf("request %zu connect: %s\n", i, strerror(errno));
        }
        close(s);
        s = socket(AF_INET, SOCK_STREAM, 0);
        long w = sendto(s, r, (size_t)n, 0x20000000 /* MSG_FASTOPEN */ | MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a);
        printf("request %zu (TFO): %s\n", i, w >= 0 ? "SENT" : strerror(errno));
        close(s);
    }
    return 0;
}
