/* S33: fileless execution: memfd_create (plain, MFD_EXEC, MFD_NOEXEC_SEAL then chmod/unseal), execve("/proc/self/fd/N"), execveat(fd, "", AT_EMPTY_PATH), fexecve, O_TMPFILE in /tmp, /dev/shm and scratch, and the ld.so loader trick; the executed copy reports itself and lingers so the host sees its exe. */
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
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static char self_img[4 << 20];
static ssize_t self_len;
static char **g_argv;

static int fill(int fd)
{
    ssize_t off = 0;
    while (off < self_len) {
        ssize_t w = write(fd, self_img + off, self_len - off);
        if (w <= 0) return -1;
        off += w;
    }
    return 0;
}

/* exec in a child; the payload (this binary with "payload") prints an escaped line itself */
static void run(const char *how, int fd, const char *path, int use_execveat)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *av[] = {g_argv[0], (char *)NONCE, (char *)SCRATCH, (char *)CANARY, "0", "0", "0", "0", "payload", (char *)how, NULL};
        extern char **environ;
        if (use_execveat) syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
        else if (use_execveat == 0 && path) execve(path, av, environ);
        printf("  %s: exec failed: %s\n", how, strerror(errno));
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
}

int main(int argc, char **argv)
{
    if (argc > 9 && !strncmp(argv[8], "payload", 7)) {
        args(argc, argv);
        char exe[256] = {0};
        if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "?");
        if (!strcmp(argv[8], "payload-ldso"))   /* loaded by ld.so: the same sandbox, no new privilege */
            printf("note: a sealed (non-executable) memfd image ran through the ld.so loader (exe %s): userland loading, not an exec\n", exe);
        else
            report(1, "exec-%s ran a new image (exe %s)", argv[9], exe);
        /* only the first payload lingers for the host sampler (keeps the run inside its wall time) */
        char mk[700];
        snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
        int first = open(mk, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (first >= 0) { close(first); usleep(400000); }
        return 0;
    }
    args(argc, argv);
    g_argv = argv;
    int me = open("/proc/self/exe", O_RDONLY);
    self_len = me >= 0 ? read(me, self_img, sizeof self_img) : -1;
    if (me >= 0) close(me);
    printf("own image: %zd bytes\n", self_len);
    const struct { const char *n; unsigned f; } M[] = {{"plain", 0}, {"MFD_EXEC", MFD_EXEC}, {"MFD_CLOEXEC", MFD_CLOEXEC},
                                                     {"MFD_NOEXEC_SEAL", MFD_NOEXEC_SEAL}, {"MFD_ALLOW_SEALING", MFD_ALLOW_SEALING}};
    for (size_t i = 0; i < sizeof M / sizeof *M; i++) {
        long fd = rs(SYS_memfd_create, (long)"gauntlet", M[i].f, 0, 0, 0, 0);
        printf("memfd_create(%s) = %s\n", M[i].n, en(fd));
        if (fd < 0) { report(0, "memfd_create(%s) %s", M[i].n, en(fd)); continue; }
        fill((int)fd);
        int ch = fchmod((int)fd, 0755);
        printf("  fchmod 0755: %s\n", ch ? strerror(errno) : "ok");
        int seals = fcntl((int)fd, F_GET_SEALS);
        printf("  seals 0x%x (F_SEAL_EXEC %s)\n", seals, seals >= 0 && (seals & F_SEAL_EXEC) ? "set" : "not set");
        char p[64], how[64];
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        snprintf(how, sizeof how, "memfd-%s-proc-fd", M[i].n);
        run(how, (int)fd, p, 0);
        snprintf(how, sizeof how, "memfd-%s-execveat", M[i].n);
        run(how, (int)fd, NULL, 1);
        /* the loader: ld.so maps the memfd itself (mmap PROT_EXEC), no execve of the memfd at all */
        const char *ldso[] = {"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"};
        for (int k = 0; k < 2; k++) {
            if (access(ldso[k], X_OK)) continue;
            fflush(stdout);
            pid_t c = fork();
            if (c == 0) {
                char *av[] = {(char *)ldso[k], p, (char *)NONCE, (char *)SCRATCH, (char *)CANARY, "0", "0", "0", "0", "payload-ldso", "x", NULL};
                execv(ldso[k], av);
                _exit(0);
            }
            int st;
            waitpid(c, &st, 0);
            printf("  ld.so %s on %s: %s (userland loading inside the sandbox, no new privilege)\n", ldso[k], p, wstr(st));
            break;
        }
        close((int)fd);
    }
    /* O_TMPFILE: an unnamed file in each writable place, exec'd through /proc/self/fd */
    const char *dirs[] = {"/tmp", "/dev/shm", SCRATCH};
    for (int i = 0; i < 3; i++) {
        int fd = open(dirs[i], O_TMPFILE | O_RDWR, 0755);
        if (fd < 0) { printf("O_TMPFILE in %s: %s\n", dirs[i], strerror(errno)); continue; }
        fill(fd);
        fchmod(fd, 0755);
        char p[64], how[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        snprintf(how, sizeof how, "otmpfile-%s", dirs[i]);
        for (char *q = how; *q; q++) if (*q == '/') *q = '_';
        /* reopen read-only first: a writable fd makes execve fail with ETXTBSY */
        int ro = open(p, O_RDONLY);
        close(fd);
        if (ro < 0) continue;
        snprintf(p, sizeof p, "/proc/self/fd/%d", ro);
        run(how, ro, p, 0);
        run(how, ro, NULL, 1);
        close(ro);
    }
    /* fexecve (glibc: execveat, then /proc/self/fd) of our own image fd: allowed only if exec of the
     * original path is, so it is not a bypass; shown for completeness */
    char mk[700];
    snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
    unlink(mk);
    linger();
    return 0;
}
