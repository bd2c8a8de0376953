/* S29: the other syscall ABIs: int $0x80 (i386 table: getpid, then forbidden calls like ptrace, mount, unshare, open of the canary), sysenter, syscall with the x32 bit, and the legacy vsyscall page; each in its own child, since a correct filter kills on a foreign architecture. */
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
#include <sys/mman.h>

static int nr32, a1, a2, a3;
static char path32[1024];
static char *lowbuf;

/* int $0x80 with 32-bit arguments; our stack and data live above 4 GiB, so string arguments are copied
 * to a MAP_32BIT page first */
static long int80(int nr, int b, int c, int d)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d) : "memory");
    return r;
}

static int do_int80(void *arg)
{
    (void)arg;
    long r = int80(nr32, a1, a2, a3);
    printf("  int $0x80 nr %d returned %ld\n", nr32, r);
    if (nr32 == 5 && r >= 0) {   /* open: read what we opened */
        long n = lowbuf ? int80(3 /*read*/, (int)r, (int)(long)(lowbuf + 4096), 200) : -1;
        if (n > 0) lowbuf[4096 + n] = 0;
        printf("  read via int 0x80: %ld bytes: %s\n", n, n > 0 ? lowbuf + 4096 : "");
    }
    return r >= 0 ? 1 : (r > -4096 ? 2 : 0);
}

static int do_sysenter(void *arg)
{
    (void)arg;
    long r;
    /* getpid through sysenter (i386 20); on 64-bit Intel this is #UD from long mode, AMD refuses too */
    __asm__ volatile("push %%rbp\n\tmov %%rsp, %%rbp\n\tsysenter\n\tpop %%rbp" : "=a"(r) : "a"(20) : "rcx", "rdx", "memory");
    printf("  sysenter returned %ld\n", r);
    return 1;
}

static int do_vsyscall(void *arg)
{
    (void)arg;
    /* vsyscall gettimeofday at its fixed address (emulated, and filtered, or absent) */
    long (*vgtod)(void *, void *) = (long (*)(void *, void *))0xffffffffff600000UL;
    char tv[16];
    long r = vgtod(tv, 0);
    printf("  vsyscall gettimeofday returned %ld\n", r);
    return 0;
}

static void i386(const char *what, int nr, int b, int c, int d, int forbidden)
{
    nr32 = nr; a1 = b; a2 = c; a3 = d;
    int st = in_child(do_int80, NULL, 2);
    int survived = WIFEXITED(st);
    int worked = survived && WEXITSTATUS(st) == 1;
    printf("int $0x80 %s: %s\n", what, wstr(st));
    /* a correct filter kills on AUDIT_ARCH_I386 (SIGSYS); surviving means the i386 table is reachable */
    report(forbidden ? worked : survived && !(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) && WEXITSTATUS(st) != 0,
           "int0x80-%s (%s)", what, wstr(st));
}

int main(int argc, char **argv)
{
    args(argc, argv);
    char *low = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) { printf("MAP_32BIT: %s\n", strerror(errno)); low = NULL; }
    int lo = (int)(long)low;
    lowbuf = low;
    if (low) {
        snprintf(low, 1024, "%s", CANARY);
        snprintf(low + 1024, 64, "/tmp");
        snprintf(low + 2048, 64, "tmpfs");
    }
    i386("getpid(20)", 20, 0, 0, 0, 0);
    i386("ptrace-traceme(26)", 26, 0, 0, 0, 1);
    if (low) i386("mount-tmpfs(21)", 21, lo + 2048, lo + 1024, lo + 2048, 1);
    i386("unshare-newuser(310)", 310, 0x10000000, 0, 0, 1);
    i386("keyctl-get-session(288)", 288, 0, -3, 0, 1);
    i386("io_uring_setup(425)", 425, 1, lo + 6144, 0, 1);
    i386("setns(346)", 346, 0, 0, 0, 0);
    if (low) {
        snprintf(path32, sizeof path32, "%s", CANARY);
        i386("open-canary(5)", 5, lo, 0, 0, 1);
    }
    int st = in_child(do_sysenter, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "sysenter-getpid (%s)", wstr(st));
    st = in_child(do_vsyscall, NULL, 2);
    printf("vsyscall page: %s\n", wstr(st));
    /* syscall instruction with the x32 bit on calls the native filter would refuse */
    const struct { const char *n; long nr, a; } X[] = {{"ptrace", 101, 0}, {"unshare", 272, 0x10000000}, {"getpid", 39, 0}, {"io_uring_setup", 425, 1}};
    for (int i = 0; i < 4; i++) {
        long r = rs(X[i].nr | 0x40000000, X[i].a, 0, 0, 0, 0, 0);
        report(r >= 0 || (r != -EPERM && r != -ENOSYS), "x32-%s %s", X[i].n, en(r));
    }
    linger();
    return 0;
}
