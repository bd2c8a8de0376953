/* S33: copy our own binary into every writable place (/tmp, /dev/shm, scratch), chmod +x, and exec it directly, through a hard link, a symlink, a /proc/self/fd path and a shell-less "#!" script whose interpreter is the copy; noexec mounts and Landlock's execute right must stop all of them. */
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
static char img[4 << 20];
static ssize_t len;

static void try_exec(const char *how, const char *path, char **argv0)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *av[] = {argv0[0], (char *)NONCE, (char *)SCRATCH, (char *)CANARY, "0", "0", "0", "0", "payload", (char *)how, NULL};
        execv(path, av);
        printf("  %s (%s): %s\n", how, path, strerror(errno));
        _exit(3);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3) report(0, "exec-%s %s", how, path);
}

static int copy_to(const char *dst)
{
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0) { printf("create %s: %s\n", dst, strerror(errno)); return -1; }
    ssize_t w = write(fd, img, len);
    close(fd);
    chmod(dst, 0755);
    return w == len ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 9 && !strcmp(argv[8], "payload")) {
        args(argc, argv);
        char exe[512] = {0};
        if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "?");
        report(1, "exec-%s ran a written binary (exe %s)", argv[9], exe);
        /* only the first payload lingers for the host sampler (keeps the run inside its wall time) */
        char mk[700];
        snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
        int first = open(mk, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (first >= 0) { close(first); usleep(400000); }
        return 0;
    }
    args(argc, argv);
    int me = open("/proc/self/exe", O_RDONLY);
    len = me >= 0 ? read(me, img, sizeof img) : -1;
    if (me >= 0) close(me);
    const char *dirs[] = {"/tmp", "/dev/shm", SCRATCH, "/dev"};
    for (int i = 0; i < 4; i++) {
        char p[700], l[700], s[700], sh[700], how[64];
        snprintf(p, sizeof p, "%s/copy-%s", dirs[i], NONCE);
        if (copy_to(p) != 0) continue;
        snprintf(how, sizeof how, "copy-in-%s", dirs[i]);
        for (char *q = how; *q; q++) if (*q == '/') *q = '_';
        try_exec(how, p, argv);
        snprintf(l, sizeof l, "%s/link-%s", dirs[i], NONCE);
        if (link(p, l) == 0) { try_exec("hardlink", l, argv); unlink(l); }
        snprintf(s, sizeof s, "%s/sym-%s", dirs[i], NONCE);
        if (symlink(p, s) == 0) { try_exec("symlink", s, argv); unlink(s); }
        int fd = open(p, O_RDONLY);
        if (fd >= 0) {
            char fp[64];
            snprintf(fp, sizeof fp, "/proc/self/fd/%d", fd);
            try_exec("proc-fd", fp, argv);
            close(fd);
        }
        /* a script whose interpreter is the copy (binfmt_script opens the interpreter itself) */
        snprintf(sh, sizeof sh, "%s/script-%s", dirs[i], NONCE);
        fd = open(sh, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd >= 0) {
            char line[800];
            int n = snprintf(line, sizeof line, "#!%s\n", p);
            if (write(fd, line, n) < 0) {}
            close(fd);
            try_exec("shebang-interpreter", sh, argv);
            unlink(sh);
        }
        if (strcmp(dirs[i], "/dev")) unlink(p);   /* a copy in /dev stays until after the linger */
    }
    /* a script in a writable place whose interpreter is the (executable) original binary */
    char sh[700];
    snprintf(sh, sizeof sh, "%s/script2-%s", SCRATCH, NONCE);
    int fd = open(sh, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd >= 0) {
        char exe[512] = {0}, line[600];
        if (readlink("/proc/self/exe", exe, sizeof exe - 1) > 0) {
            int n = snprintf(line, sizeof line, "#!%s\n", exe);
            if (write(fd, line, n) < 0) {}
        }
        close(fd);
        try_exec("script-in-scratch", sh, argv);
        unlink(sh);
    }
    char mk[700];
    snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
    unlink(mk);
    linger();
    snprintf(mk, sizeof mk, "/dev/copy-%s", NONCE);
    unlink(mk);
    return 0;
}
