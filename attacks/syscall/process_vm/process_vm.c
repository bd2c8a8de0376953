/* S03: process_vm_readv/process_vm_writev and /proc/<pid>/mem against the parent, pid 1, a child and host pids. */
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
#include <sys/uio.h>

static volatile char secret[64] = "child-secret-gauntlet";

static void probe(const char *who, pid_t pid, void *addr)
{
    char buf[64] = {0};
    struct iovec local = {buf, sizeof buf - 1}, remote = {addr, sizeof buf - 1};
    long r = rs(SYS_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
    if (r > 0) report(1, "process_vm_readv-%s-pid-%d read %ld bytes", who, pid, r);
    else report(0, "process_vm_readv-%s-pid-%d %s", who, pid, en(r));
    char marker[64];
    snprintf(marker, sizeof marker, "gauntlet-%s", NONCE);
    struct iovec l2 = {marker, strlen(marker) + 1}, r2 = {addr, strlen(marker) + 1};
    /* writes only ever target our own child's buffer (never a process outside the sandbox) */
    if (!strcmp(who, "child")) {
        r = rs(SYS_process_vm_writev, pid, (long)&l2, 1, (long)&r2, 1, 0);
        if (r > 0) report(1, "process_vm_writev-%s-pid-%d wrote %ld bytes", who, pid, r);
        else report(0, "process_vm_writev-%s-pid-%d %s", who, pid, en(r));
    }
}

int main(int argc, char **argv)
{
    args(argc, argv);
    /* Addresses: for a child the buffer sits at the same address; for other pids any mapped address
     * works as a probe because the permission check comes before the copy (probe the stack and the
     * executable's base, which ASLR moves, and a fixed low address). */
    pid_t child = fork();
    if (child == 0) {
        alarm(3);
        pause();
        _exit(0);
    }
    usleep(20000);
    probe("child", child, (void *)secret);
    probe("parent", getppid(), (void *)0x400000);
    probe("init", 1, (void *)0x400000);
    if (SUPV_PID > 0) probe("supervisor", SUPV_PID, (void *)0x400000);
    if (RUNNER_PID > 0 && RUNNER_PID != SUPV_PID) probe("runner", RUNNER_PID, (void *)0x400000);
    /* /proc/<pid>/mem and /proc/<pid>/environ on the parent and pid 1 (a non-dumpable init) */
    pid_t targets[] = {getppid(), 1, SUPV_PID};
    for (int i = 0; i < 3; i++) {
        if (targets[i] <= 0) continue;
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/mem", targets[i]);
        int fd = open(p, O_RDONLY);
        if (fd >= 0) {
            report(1, "open-%s", p);
            close(fd);
        } else report(0, "open-%s %s", p, strerror(errno));
        snprintf(p, sizeof p, "/proc/%d/environ", targets[i]);
        try_read_path(p);
    }
    /* other processes: process_madvise / pidfd_getfd / kcmp need the same access */
    long pfd = rs(SYS_pidfd_open, getppid(), 0, 0, 0, 0, 0);
    printf("pidfd_open(parent) = %s\n", en(pfd));
    if (pfd >= 0) {
        for (int fd = 0; fd < 8; fd++) {
            long r = rs(438 /*pidfd_getfd*/, pfd, fd, 0, 0, 0, 0);
            if (r >= 0) {
                report(1, "pidfd_getfd-parent-fd-%d", fd);
                dump_fd("stolen fd", (int)r);
                close((int)r);
            } else if (fd == 0) report(0, "pidfd_getfd-parent %s", en(r));
        }
        struct iovec iov = {(void *)0x400000, 4096};
        long r = rs(440 /*process_madvise*/, pfd, (long)&iov, 1, 8 /*MADV_COLD*/, 0, 0);
        report(r >= 0, "process_madvise-parent %s", en(r));
        close((int)pfd);
    }
    long r = rs(SYS_kcmp, getpid(), getppid(), 0 /*KCMP_FILE*/, 0, 0, 0);
    report(r >= 0, "kcmp-parent %s", en(r));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    linger();
    return 0;
}
