/* S34: Landlock bypass variants: cross-rule rename/link (refer) from read-only or executable areas into scratch and back, /proc/self/fd reopen with wider modes, O_PATH upgrades, leaked directory fds, a stacked permissive ruleset, and truncate/chmod/utime on read-only files; ends with a read of the canary through every path form. */
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
#include <dirent.h>
#include <poll.h>
#include <linux/landlock.h>
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

int main(int argc, char **argv)
{
    args(argc, argv);
    char exe[512] = {0}, p[1200], q[1200];
    if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "/proc/self/exe");
    long abi = rs(__NR_landlock_create_ruleset, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0, 0, 0);
    printf("landlock ABI %s\n", en(abi));
    /* 1: refer: link/rename our read-only+exec binary into scratch (would carry the exec right along) */
    snprintf(p, sizeof p, "%s/ll-link-%s", SCRATCH, NONCE);
    int r = link(exe, p);
    report(r == 0, "link(program -> scratch) %s", r ? strerror(errno) : "ok");
    if (r == 0) unlink(p);
    r = rename(exe, p);
    report(r == 0, "rename(program -> scratch) %s", r ? strerror(errno) : "ok");
    if (r == 0 && rename(p, exe)) printf("could not move the program back: %s\n", strerror(errno)); /* defanged */
    /* rename a scratch file onto a read-only location */
    snprintf(q, sizeof q, "%s/ll-file-%s", SCRATCH, NONCE);
    int fd = open(q, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);
    const char *ro_targets[] = {"/ll-gauntlet", "/proc/ll-gauntlet", "/dev/ll-gauntlet"};
    for (int i = 0; i < 3; i++) {
        r = rename(q, ro_targets[i]);
        report(r == 0, "rename(scratch -> %s) %s", ro_targets[i], r ? strerror(errno) : "ok");
        if (r == 0) { if (rename(ro_targets[i], q)) {} }
        r = link(q, ro_targets[i]);
        report(r == 0, "link(scratch -> %s) %s", ro_targets[i], r ? strerror(errno) : "ok");
        if (r == 0) unlink(ro_targets[i]);
    }
    /* 2: /proc/self/fd reopen: O_PATH or read-only handles reopened for writing */
    const char *ro_files[] = {exe, "/proc/self/exe", "/etc/passwd", "/proc/sys/kernel/hostname"};
    for (int i = 0; i < 4; i++) {
        int o = open(ro_files[i], O_PATH);
        if (o < 0) { printf("O_PATH %s: %s\n", ro_files[i], strerror(errno)); continue; }
        char fp[64];
        snprintf(fp, sizeof fp, "/proc/self/fd/%d", o);
        int w = open(fp, O_WRONLY);
        report(w >= 0, "reopen %s (O_PATH) for writing via %s %s", ro_files[i], fp, w >= 0 ? "ok" : strerror(errno));
        if (w >= 0) close(w);
        close(o);
    }
    /* 3: truncate/chmod/utime on the read-only program, defanged: each sets the value it already has, so
     * only the permission check decides and nothing changes even if it passes */
    struct stat es;
    if (stat(exe, &es) == 0) {
        r = truncate(exe, es.st_size);
        report(r == 0, "truncate(program, its own size) %s", r ? strerror(errno) : "ok");
        r = chmod(exe, es.st_mode & 07777);
        report(r == 0, "chmod(program, its own mode) %s", r ? strerror(errno) : "ok");
        struct timespec tt[2] = {es.st_atim, es.st_mtim};
        r = utimensat(AT_FDCWD, exe, tt, 0);
        report(r == 0, "utimensat(program, its own times) %s", r ? strerror(errno) : "ok");
    }
    /* 4: leaked directory descriptors (anything beyond stdio) used as anchors for relative paths */
    for (int f = 3; f < 1024; f++) {
        struct stat st;
        if (fstat(f, &st) != 0) continue;
        char lp[64], tgt[512] = {0};
        snprintf(lp, sizeof lp, "/proc/self/fd/%d", f);
        if (readlink(lp, tgt, sizeof tgt - 1) < 0) {}
        printf("leaked fd %d -> %s\n", f, tgt);
        int c = S_ISDIR(st.st_mode) ? openat(f, CANARY[0] == '/' ? CANARY + 1 : CANARY, O_RDONLY) : -1;
        if (c >= 0) { dump_fd("canary via leaked dirfd", c); close(c); }
        /* read only what is ready now (a leaked pipe must not block us) */
        struct pollfd pf = {f, POLLIN, 0};
        if (!S_ISDIR(st.st_mode) && (S_ISREG(st.st_mode) || (poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN))))
            dump_fd("leaked fd content", f);
    }
    /* 5: a second, permissive ruleset stacked on top (Landlock domains only ever intersect) */
    struct landlock_ruleset_attr ra = {.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE};
    long rsfd = rs(__NR_landlock_create_ruleset, (long)&ra, sizeof ra, 0, 0, 0, 0);
    if (rsfd >= 0) {
        int root = open("/", O_PATH);
        struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE, .parent_fd = root};
        long a = rs(__NR_landlock_add_rule, rsfd, LANDLOCK_RULE_PATH_BENEATH, (long)&pb, 0, 0, 0);
        long b = rs(__NR_landlock_restrict_self, rsfd, 0, 0, 0, 0, 0);
        printf("stacked permissive ruleset: add_rule %s restrict_self %s\n", en(a), en(b));
    }
    /* 6: the canary through every path form */
    const char *pre[] = {"", "/proc/self/root", "/proc/1/root", "/proc/self/cwd/../../../../../../..", "/proc/thread-self/root",
                         "/../../..", "/./"};
    int got = 0;
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
        snprintf(p, sizeof p, "%s%s", pre[i], CANARY);
        got |= try_read_path(p);
    }
    snprintf(p, sizeof p, "%s/ll-sym-%s", SCRATCH, NONCE);
    if (symlink(CANARY, p) == 0) { got |= try_read_path(p); unlink(p); }
    report(got, "canary read through a path form");
    unlink(q);
    /* 7: /dev is a tmpfs only Landlock keeps read-only: an entry there is visible to the host sampler */
    char dv[128];
    snprintf(dv, sizeof dv, "/dev/gauntlet-ll-%s", NONCE);
    fd = open(dv, O_WRONLY | O_CREAT | O_EXCL, 0644);
    report(fd >= 0, "create %s %s", dv, fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    linger();
    if (fd >= 0) unlink(dv);
    return 0;
}
