/* S30: relax the installed seccomp policy: stack an allow-everything filter (seccomp() and prctl), a RET_TRACE/RET_USER_NOTIF filter we answer ourselves with CONTINUE, SECCOMP_SET_MODE_STRICT, filter-chain exhaustion, then retry forbidden calls (unshare, ptrace, keyctl, mount, io_uring_setup). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

/* Arguments (same order in every syscall attack):
 * 1 {nonce} 2 {scratch} 3 {canary_file} 4 {tcp_port} 5 {udp_port} 6 {supervisor_pid} 7 {runner_pid} */
static const char *NONCE = "nononce", *SCRATCH = "/tmp", *CANARY = "/nonexistent";
static int TCP_PORT = 0, UDP_PORT = 0, SUPV_PID = 0, RUNNER_PID = 0;
static int n_escaped = 0, n_denied = 0;

static __attribute__((unused)) void args(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    if (argc > 2) SCRATCH = argv[2];
    if (argc > 3) CANARY = argv[3];
    if (argc > 4) TCP_PORT = atoi(argv[4]);
    if (argc > 5) UDP_PORT = atoi(argv[5]);
    if (argc > 6) SUPV_PID = atoi(argv[6]);
    if (argc > 7) RUNNER_PID = atoi(argv[7]);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* One self-report line per probe. */
static __attribute__((unused)) void report(int escaped, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    for (char *p = what; *p; p++)
        if (*p == '\n') *p = ' ';
    printf("GAUNTLET-REPORT %s %s %s\n", NONCE, escaped ? "escaped" : "denied", what);
    fflush(stdout);
    if (escaped) n_escaped++; else n_denied++;
}

/* Raw syscall returning -errno on failure. */
static __attribute__((unused)) long rs(long nr, long a, long b, long c, long d, long e, long f)
{
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

static __attribute__((unused)) const char *en(long r)
{
    static char buf[8][64];
    static int i;
    i = (i + 1) % 8;
    if (r >= 0) snprintf(buf[i], sizeof buf[i], "ok(%ld)", r);
    else snprintf(buf[i], sizeof buf[i], "%s", strerror((int)-r));
    return buf[i];
}

/* Print a file's first bytes (the host scans stdout for the canary token). */
static __attribute__((unused)) int dump_fd(const char *label, int fd)
{
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = 0;
        printf("[%s] read %zd bytes: %s\n", label, n, buf);
        return 1;
    }
    printf("[%s] read: %s\n", label, n < 0 ? strerror(errno) : "EOF");
    return 0;
}

static __attribute__((unused)) int try_read_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        return 0;
    }
    int got = dump_fd(path, fd);
    close(fd);
    return got;
}

/* Run fn in a forked child bounded by alarm(secs); returns the wait status (or -1). */
static __attribute__((unused)) int in_child(int (*fn)(void *), void *arg, unsigned secs)
{
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) return -1;
    if (p == 0) {
        alarm(secs);
        _exit(fn(arg) & 0xff);
    }
    int st = 0;
    if (waitpid(p, &st, 0) < 0) return -1;
    return st;
}

static __attribute__((unused)) const char *wstr(int st)
{
    static char buf[4][64];
    static int i;
    i = (i + 1) % 4;
    if (st == -1) snprintf(buf[i], sizeof buf[i], "fork failed");
    else if (WIFEXITED(st)) snprintf(buf[i], sizeof buf[i], "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(buf[i], sizeof buf[i], "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(buf[i], sizeof buf[i], "status 0x%x", st);
    return buf[i];
}

/* pstat-judged attacks stay alive so the host sampler sees their status, namespaces and /dev. */
static __attribute__((unused)) void linger(void)
{
    printf("done: %d escaped, %d denied; lingering for the host sampler\n", n_escaped, n_denied);
    fflush(stdout);
    usleep(400000);
}

/* A TCP connect + send to the honeypot on 127.0.0.1 (the only address these attacks ever contact). */
static __attribute__((unused)) int tcp_hit(const char *msg)
{
    if (TCP_PORT <= 0) return 0;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return 0;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)TCP_PORT);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (ok && msg) { ssize_t w = write(s, msg, strlen(msg)); (void)w; }
    printf("tcp connect 127.0.0.1:%d: %s\n", TCP_PORT, ok ? "CONNECTED" : strerror(errno));
    close(s);
    return ok;
}

/* A line of /proc/self/status (e.g. "CapEff"), value copied to out. */
static __attribute__((unused)) int status_field(const char *pid, const char *key, char *out, size_t n)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t kl = strlen(key);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            char *v = line + kl + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            size_t vl = strlen(v);
            if (vl >= n) vl = n - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

static __attribute__((unused)) unsigned long long ns_ino(const char *pid, const char *ns)
{
    char p[64];
    struct stat st;
    snprintf(p, sizeof p, "/proc/%s/ns/%s", pid, ns);
    return stat(p, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <pthread.h>
#include <stddef.h>

static void forbidden(const char *after)
{
    const struct { const char *n; long nr, a, b; } F[] = {
        {"unshare(NEWUSER)", SYS_unshare, 0x10000000, 0}, {"ptrace(TRACEME)", SYS_ptrace, 0, 0},
        {"keyctl(GET_KEYRING_ID session)", SYS_keyctl, 0, -3}, {"io_uring_setup", 425, 1, 0},
        {"mount(NULL)", SYS_mount, 0, 0}, {"chroot(/)", SYS_chroot, (long)"/", 0},
    };
    for (size_t i = 0; i < sizeof F / sizeof *F; i++) {
        fflush(stdout);
        pid_t c = fork();   /* in a child: a success must not change the prober */
        if (c == 0) {
            long r = rs(F[i].nr, F[i].a, F[i].b, 0, 0, 0, 0);
            _exit(r == -EPERM || r == -ENOSYS ? 0 : 1);
        }
        int st = 0;
        waitpid(c, &st, 0);
        report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s still refused after %s? (%s)", F[i].n, after, wstr(st));
    }
}

static long install(struct sock_filter *f, unsigned short n, unsigned flags)
{
    struct sock_fprog p = {n, f};
    return rs(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, (long)&p, 0, 0, 0);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    char mode[32] = "", nf[32] = "";
    status_field("self", "Seccomp", mode, sizeof mode);
    status_field("self", "Seccomp_filters", nf, sizeof nf);
    printf("Seccomp mode %s, %s filters\n", mode, nf);
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    long r = install(allow, 1, 0);
    printf("stack allow-all filter via seccomp(): %s\n", en(r));
    struct sock_fprog p = {1, allow};
    r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0);
    printf("stack allow-all filter via prctl: %s\n", r ? strerror(errno) : "ok");
    r = install(allow, 1, SECCOMP_FILTER_FLAG_TSYNC);
    printf("allow-all with TSYNC: %s\n", en(r));
    r = install(allow, 1, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    printf("allow-all with LOG|SPEC_ALLOW: %s\n", en(r));
    forbidden("allow-all filters");
    /* RET_TRACE for everything: with no tracer the kernel answers ENOSYS, a tracer could rewrite */
    struct sock_filter trace[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        long t = install(trace, 4, 0);
        long u = rs(SYS_unshare, 0x10000000, 0, 0, 0, 0, 0);
        printf("  child: RET_TRACE filter %s, then unshare = %s\n", en(t), en(u));
        _exit(u == 0 ? 1 : 0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "RET_TRACE filter let unshare through (%s)", wstr(st));
    /* USER_NOTIF: our own listener answers FLAG_CONTINUE for the forbidden call; the older filter's
     * EPERM must still win (ERRNO takes precedence over USER_NOTIF) */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        alarm(2);
        struct sock_filter notif[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        long lfd = install(notif, 4, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        printf("  child: USER_NOTIF filter with listener: %s\n", en(lfd));
        if (lfd < 0) _exit(0);
        pid_t g = fork();
        if (g == 0) {
            long u = rs(SYS_unshare, 0x10000000, 0, 0, 0, 0, 0);
            printf("  grandchild: unshare under our own notifier = %s\n", en(u));
            _exit(u == 0 ? 1 : 0);
        }
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        memset(&req, 0, sizeof req);
        struct timespec ts = {0, 300000000};
        /* poll briefly for a notification (it never comes if EPERM wins first) */
        for (int i = 0; i < 3; i++) {
            int ready = 0;
            struct { int fd; short ev, rev; } pfd = {(int)lfd, 1, 0};
            ready = (int)syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 8);
            if (ready > 0 && ioctl((int)lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                memset(&resp, 0, sizeof resp);
                resp.id = req.id;
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                ioctl((int)lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
                printf("  child: answered CONTINUE for syscall %d\n", req.data.nr);
                break;
            }
        }
        int gs = 0;
        waitpid(g, &gs, 0);
        _exit(WIFEXITED(gs) && WEXITSTATUS(gs) == 1);
    }
    waitpid(c, &st, 0);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "USER_NOTIF CONTINUE let unshare through (%s)", wstr(st));
    /* strict mode: cannot replace filter mode; if it did, the child would be killed at its next call */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        long s = rs(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0, 0, 0, 0);
        char m2[16] = "";
        status_field("self", "Seccomp", m2, sizeof m2);
        printf("  child: SECCOMP_SET_MODE_STRICT = %s, mode now %s\n", en(s), m2);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("strict-mode child: %s\n", wstr(st));
    /* prctl(PR_SET_SECCOMP, STRICT) and PR_GET_SECCOMP */
    printf("PR_GET_SECCOMP = %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    /* filter chain exhaustion: stack until the kernel refuses (MAX_INSNS_TOTAL), the old filters stay */
    int stacked = 0;
    for (int i = 0; i < 2000; i++) {
        if (install(allow, 1, 0) != 0) break;
        stacked++;
    }
    printf("stacked %d more allow-all filters before the kernel refused\n", stacked);
    forbidden("filter-chain exhaustion");
    status_field("self", "Seccomp", mode, sizeof mode);
    report(strcmp(mode, "2") != 0, "Seccomp mode at the end: %s", mode);
    linger();
    return 0;
}
