/* S18: setuid/setresuid/setreuid/setfsuid/setgid/setgroups to 0 and to other ids; escaped only if the process ends up with a real gain: a capability, a host-root identity, or another uid's identity. */
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
#include <grp.h>

static void state(const char *when, char *cap, size_t n)
{
    char uid[128] = "", gid[128] = "", groups[128] = "";
    status_field("self", "Uid", uid, sizeof uid);
    status_field("self", "Gid", gid, sizeof gid);
    status_field("self", "Groups", groups, sizeof groups);
    status_field("self", "CapEff", cap, n);
    printf("[%s] Uid: %s | Gid: %s | Groups: %s | CapEff: %s\n", when, uid, gid, groups, cap);
}

static int capful(const char *cap) { return strspn(cap, "0") != strlen(cap); }

int main(int argc, char **argv)
{
    args(argc, argv);
    char cap[64] = "";
    state("start", cap, sizeof cap);
    report(capful(cap), "capabilities at start: CapEff %s", cap);
    /* the uid map shows whether "uid 0" here is root on the host */
    try_read_path("/proc/self/uid_map");
    try_read_path("/proc/self/gid_map");
    try_read_path("/proc/self/setgroups");
    const struct { const char *n; long nr, a, b, c; } C[] = {
        {"setuid(0)", SYS_setuid, 0, 0, 0},
        {"setresuid(0,0,0)", SYS_setresuid, 0, 0, 0},
        {"setreuid(0,0)", SYS_setreuid, 0, 0, 0},
        {"setfsuid(0)", SYS_setfsuid, 0, 0, 0},
        {"setgid(0)", SYS_setgid, 0, 0, 0},
        {"setresgid(0,0,0)", SYS_setresgid, 0, 0, 0},
        {"setuid(1) (daemon)", SYS_setuid, 1, 0, 0},
        {"setuid(65534) (nobody)", SYS_setuid, 65534, 0, 0},
        {"setresuid(-1,1000,-1)", SYS_setresuid, -1, 1000, -1},
        {"setgid(65534)", SYS_setgid, 65534, 0, 0},
    };
    for (size_t i = 0; i < sizeof C / sizeof *C; i++) {
        long r = rs(C[i].nr, C[i].a, C[i].b, C[i].c, 0, 0, 0);
        char c2[64] = "", uid[128] = "";
        status_field("self", "CapEff", c2, sizeof c2);
        status_field("self", "Uid", uid, sizeof uid);
        /* uid 0 inside the user namespace is expected (mapped to an unprivileged host uid); a gain is a
         * capability appearing, or moving to an identity the map did not grant */
        int gain = capful(c2) || (r >= 0 && C[i].a != 0 && C[i].a != -1 && C[i].nr != SYS_setfsuid);
        report(gain, "%s returned %s, Uid %s CapEff %s", C[i].n, en(r), uid, c2);
    }
    gid_t g[2] = {0, 65534};
    long r = rs(SYS_setgroups, 2, (long)g, 0, 0, 0, 0);
    report(r == 0, "setgroups({0,65534}) %s", en(r));
    r = rs(SYS_setgroups, 0, 0, 0, 0, 0, 0);
    printf("setgroups(0, NULL) (dropping only) = %s\n", en(r));
    /* rewrite our own id maps (only possible from outside; tried anyway) */
    int fd = open("/proc/self/uid_map", O_WRONLY);
    if (fd >= 0) {
        ssize_t w = write(fd, "0 0 4294967295", 14);
        report(w > 0, "write /proc/self/uid_map full range %s", w > 0 ? "ok" : strerror(errno));
        close(fd);
    } else report(0, "open /proc/self/uid_map for writing %s", strerror(errno));
    state("end", cap, sizeof cap);
    linger();
    return 0;
}
