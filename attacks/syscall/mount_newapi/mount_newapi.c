/* S04: the new mount API (fsopen/fsconfig/fsmount/move_mount, open_tree clone, fspick remount, mount_setattr clearing RDONLY) and statmount/listmount. */
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
#include <linux/mount.h>
#ifndef __NR_fsopen
#define __NR_open_tree 428
#define __NR_move_mount 429
#define __NR_fsopen 430
#define __NR_fsconfig 431
#define __NR_fsmount 432
#define __NR_fspick 433
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#define NR_statmount 457
#define NR_listmount 458
#define NR_open_tree_attr 467

struct my_mount_attr { unsigned long long attr_set, attr_clr, propagation, userns_fd; };

int main(int argc, char **argv)
{
    args(argc, argv);
    char tgt[600];
    snprintf(tgt, sizeof tgt, "%s/newmnt-%s", SCRATCH, NONCE);
    mkdir(tgt, 0755);
    const char *types[] = {"tmpfs", "proc", "sysfs", "cgroup2", "cgroup", "devpts", "mqueue", "bpf", "overlay"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        long fs = rs(__NR_fsopen, (long)types[i], FSOPEN_CLOEXEC, 0, 0, 0, 0);
        if (fs < 0) { report(0, "fsopen-%s %s", types[i], en(fs)); continue; }
        report(1, "fsopen-%s", types[i]);
        long r = rs(__NR_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0, 0);
        printf("fsconfig create %s: %s\n", types[i], en(r));
        long m = rs(__NR_fsmount, fs, FSMOUNT_CLOEXEC, 0, 0, 0, 0);
        if (m >= 0) {
            report(1, "fsmount-%s", types[i]);
            r = rs(__NR_move_mount, m, (long)"", AT_FDCWD, (long)tgt, MOVE_MOUNT_F_EMPTY_PATH, 0);
            report(r == 0, "move_mount-%s %s", types[i], en(r));
            close((int)m);
        }
        close((int)fs);
    }
    /* clone an existing tree (a detached copy of /) and attach it */
    long t = rs(__NR_open_tree, AT_FDCWD, (long)"/", OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC, 0, 0, 0);
    report(t >= 0, "open_tree-clone-/ %s", en(t));
    if (t >= 0) {
        struct my_mount_attr a = {0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC, 0, 0};
        long r = rs(__NR_mount_setattr, t, (long)"", AT_EMPTY_PATH | AT_RECURSIVE, (long)&a, sizeof a, 0);
        report(r == 0, "mount_setattr-clone-clear-rdonly %s", en(r));
        close((int)t);
    }
    t = rs(NR_open_tree_attr, AT_FDCWD, (long)"/proc/sys", OPEN_TREE_CLONE, 0, 0, 0);
    report(t >= 0, "open_tree_attr-/proc/sys %s", en(t));
    if (t >= 0) close((int)t);
    /* flip attributes of the live mounts */
    const char *live[] = {"/", "/proc/sys", "/tmp", "/dev", "/proc"};
    for (size_t i = 0; i < sizeof live / sizeof *live; i++) {
        struct my_mount_attr a = {0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID, 0, 0};
        long r = rs(__NR_mount_setattr, AT_FDCWD, (long)live[i], 0, (long)&a, sizeof a, 0);
        report(r == 0, "mount_setattr-%s-clear-ro-noexec %s", live[i], en(r));
        long pk = rs(__NR_fspick, AT_FDCWD, (long)live[i], FSPICK_CLOEXEC, 0, 0, 0);
        report(pk >= 0, "fspick-%s %s", live[i], en(pk));
        if (pk >= 0) {
            long r2 = rs(__NR_fsconfig, pk, FSCONFIG_SET_FLAG, (long)"rw", 0, 0, 0);
            printf("fsconfig rw: %s\n", en(r2));
            r2 = rs(__NR_fsconfig, pk, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0, 0);
            report(r2 == 0, "fspick-reconfigure-rw-%s %s", live[i], en(r2));
            close((int)pk);
        }
    }
    /* statmount/listmount reveal the mount tree (host mounts if the namespace were shared) */
    unsigned long long req[4] = {24 /*size ver0*/, 0xffffffffffffffffULL /*LSMT_ROOT*/, 0, 0};
    unsigned long long ids[64];
    long r = rs(NR_listmount, (long)req, (long)ids, 64, 0, 0, 0);
    report(0, "listmount %s (information only)", en(r));
    r = rs(NR_statmount, (long)req, (long)ids, sizeof ids, 0, 0, 0);
    printf("statmount: %s\n", en(r));
    linger();
    return 0;
}
