/* S32: time-of-check/time-of-use against any user-space or argument check: a sibling thread flips the path buffer (scratch file <-> canary) and the sockaddr (a unix socket in scratch <-> 127.0.0.1:{tcp_port}) while the main thread calls open/openat2/execve/connect in a bounded loop. */
#include "../syscall_prelude.h"
}
#include <pthread.h>
#include <sys/un.h>
#include <linux/openat2.h>

static char pathbuf[1024];
static char okpath[600], badpath[600];
static union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_un un; char raw[128]; } addr;
static struct sockaddr_un okaddr;
static struct sockaddr_in badaddr;
static volatile int stop;

static void *flipper(void *a)
{
    (void)a;
    for (long i = 0; i < 4000000 && !stop; i++) {
        if (i & 1) { memcpy(pathbuf, badpath, sizeof badpath); memcpy(&addr, &badaddr, sizeof badaddr); }
        else { memcpy(pathbuf, okpath, sizeof okpath); memcpy(&addr, &okaddr, sizeof okaddr); }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    snprintf(okpath, sizeof okpath, "%s/ok-%s", SCRATCH, NONCE);
    snprintf(badpath, sizeof badpath, "%s", CANARY);
    int fd = open(okpath, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) { if (write(fd, "harmless\n", 9) < 0) {} close(fd); }
    okaddr.sun_family = AF_UNIX;
    snprintf(okaddr.sun_path, sizeof okaddr.sun_path, "%s/s-%s", SCRATCH, NONCE);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls >= 0 && bind(ls, (struct sockaddr *)&okaddr, sizeof okaddr) == 0) listen(ls, 64);
    badaddr.sin_family = AF_INET;
    badaddr.sin_port = htons((unsigned short)TCP_PORT);
    badaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memcpy(pathbuf, okpath, sizeof okpath);
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    int opened_bad = 0, conn_bad = 0, opens = 0;
    for (int i = 0; i < 3000; i++) {
        int f = open(pathbuf, O_RDONLY);
        if (f >= 0) {
            opens++;
            char b[256] = {0};
            ssize_t n = read(f, b, sizeof b - 1);
            if (n > 0 && strncmp(b, "harmless", 8)) { opened_bad++; printf("TOCTOU open read: %s\n", b); }
            close(f);
        }
        struct open_how how = {.flags = O_RDONLY};
        long f2 = rs(SYS_openat2, AT_FDCWD, (long)pathbuf, (long)&how, sizeof how, 0, 0);
        if (f2 >= 0) {
            char b[256] = {0};
            ssize_t n = read((int)f2, b, sizeof b - 1);
            if (n > 0 && strncmp(b, "harmless", 8)) { opened_bad++; printf("TOCTOU openat2 read: %s\n", b); }
            close((int)f2);
        }
    }
    for (int i = 0; i < 1500; i++) {
        /* the family decides the socket; the flipping address is what a checker would inspect */
        int s = socket(i & 1 ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s < 0) continue;
        int r = connect(s, &addr.sa, (i & 1) ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_un));
        if ((r == 0 || errno == EINPROGRESS) && (i & 1)) {
            conn_bad++;
            char m[64];
            int n = snprintf(m, sizeof m, "gauntlet-%s toctou\n", NONCE);
            if (write(s, m, n) < 0) {}
        }
        close(s);
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("%d opens, %d reached the canary; %d TCP connects to the honeypot went out\n", opens, opened_bad, conn_bad);
    report(opened_bad > 0, "toctou-open-canary (%d)", opened_bad);
    report(conn_bad > 0, "toctou-connect-honeypot (%d)", conn_bad);
    unlink(okpath);
    unlink(okaddr.sun_path);
    linger();
    return 0;
}
