/* S01: PTRACE_ATTACH / PTRACE_SEIZE / PTRACE_TRACEME against the parent, pid 1, siblings, host pids. */
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
#include <sys/ptrace.h>

static void try_pid(const char *who, pid_t pid)
{
    if (pid <= 0) return;
    long r = rs(SYS_ptrace, PTRACE_SEIZE, pid, 0, 0, 0, 0);
    if (r >= 0) {
        report(1, "ptrace-seize-%s-pid-%d", who, pid);
        rs(SYS_ptrace, PTRACE_DETACH, pid, 0, 0, 0, 0);
    } else report(0, "ptrace-seize-%s-pid-%d %s", who, pid, en(r));
    r = rs(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0, 0, 0);
    if (r >= 0) {
        report(1, "ptrace-attach-%s-pid-%d", who, pid);
        int st;
        waitpid(pid, &st, __WALL);
        /* peek one word of its memory to prove control, then let it go */
        errno = 0;
        long w = ptrace(PTRACE_PEEKUSER, pid, 0, 0);
        printf("peekuser(%d) = %lx (%s)\n", pid, w, strerror(errno));
        rs(SYS_ptrace, PTRACE_DETACH, pid, 0, 0, 0, 0);
    } else report(0, "ptrace-attach-%s-pid-%d %s", who, pid, en(r));
    /* the modern /proc route: /proc/<pid>/mem needs the same ptrace access */
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/mem", pid);
    int fd = open(p, O_RDWR);
    if (fd >= 0) {
        report(1, "open-%s-rdwr", p);
        close(fd);
    } else printf("open %s O_RDWR: %s\n", p, strerror(errno));
}

static int traceme(void *a)
{
    (void)a;
    long r = rs(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0);
    printf("child: PTRACE_TRACEME -> %s\n", en(r));
    return r >= 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    printf("pid %d ppid %d\n", getpid(), getppid());
    try_pid("parent", getppid());
    try_pid("init", 1);
    /* siblings: two children of ours; the first tries to attach to the second (same parent) */
    int pfd[2];
    if (pipe(pfd) == 0) {
        pid_t victim = fork();
        if (victim == 0) {
            close(pfd[0]);
            alarm(3);
            pause();
            _exit(0);
        }
        pid_t tracer = fork();
        if (tracer == 0) {
            close(pfd[0]);
            alarm(3);
            long r = rs(SYS_ptrace, PTRACE_SEIZE, victim, 0, 0, 0, 0);
            char c = r >= 0 ? 'E' : 'D';
            if (write(pfd[1], &c, 1) < 0) _exit(2);
            _exit(0);
        }
        close(pfd[1]);
        char c = 0;
        if (read(pfd[0], &c, 1) == 1)
            report(c == 'E', "ptrace-seize-sibling-pid-%d", victim);
        waitpid(tracer, NULL, 0);
        /* our own child (the parent-to-child direction) */
        long r = rs(SYS_ptrace, PTRACE_ATTACH, victim, 0, 0, 0, 0);
        if (r >= 0) {
            report(1, "ptrace-attach-own-child-pid-%d", victim);
            rs(SYS_ptrace, PTRACE_DETACH, victim, 0, 0, 0, 0);
        } else report(0, "ptrace-attach-own-child %s", en(r));
        kill(victim, SIGKILL);
        waitpid(victim, NULL, 0);
    }
    /* TRACEME: make our parent (pid 1 of the sandbox, or the supervisor without a pid ns) our tracer */
    int st = in_child(traceme, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "ptrace-traceme (%s)", wstr(st));
    /* host pids passed in: must not even be visible */
    try_pid("supervisor", SUPV_PID);
    try_pid("runner", RUNNER_PID);
    /* scan a range of low pids (host daemons when there is no pid namespace) with SEIZE only */
    int hits = 0;
    for (pid_t p = 2; p < 400; p++) {
        if (p == getpid()) continue;
        long r = rs(SYS_ptrace, PTRACE_SEIZE, p, 0, 0, 0, 0);
        if (r >= 0) {
            hits++;
            report(1, "ptrace-seize-scan-pid-%d", p);
            rs(SYS_ptrace, PTRACE_DETACH, p, 0, 0, 0, 0);
        }
    }
    if (!hits) report(0, "ptrace-seize-scan-2..399");
    linger();
    return 0;
}
