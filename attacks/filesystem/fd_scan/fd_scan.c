/* fd_scan: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F14: inventory of inherited descriptors 3..1024: what each is (readlink, fstat, fcntl flags,
 * socket peer credentials), what it holds (pread from 0 and read, non-blocking), and whether it can
 * be written: a harmless marker `gauntlet-<nonce>` goes to inherited pipes and sockets (supervisor log
 * and control channels), never to regular files. */
#include <sys/socket.h>
#include <poll.h>
static int hits;
int main(int argc, char **argv)
{
    int canary_fd = argc > 1 ? atoi(argv[1]) : 3;
    if (argc > 2) NONCE = argv[2];
    int seen = 0;
    for (int fd = 3; fd <= 1024; fd++) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0) continue;
        seen++;
        struct stat st; fstat(fd, &st);
        char p[64], t[512]; snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        long n = readlink(p, t, sizeof t - 1); if (n >= 0) t[n] = 0; else t[0] = 0;
        printf("INHERITED fd %d%s: type %o flags %x -> %s\n", fd, fd == canary_fd ? " (canary fd number)" : "", st.st_mode & S_IFMT, fl, t);
        char b[1024]; long r = pread(fd, b, sizeof b, 0);
        if (r < 0) {
            struct pollfd pf = {fd, POLLIN, 0};
            if (poll(&pf, 1, 20) > 0 && (pf.revents & POLLIN)) r = read(fd, b, sizeof b);
        }
        if (r > 0) { printf("READ fd %d: ", fd); show(b, r, 800); hits++; }
        /* reopen through /proc: a write-only inherited fd may reopen read-write */
        int re = open(p, O_RDONLY | O_NONBLOCK);
        if (re >= 0) { r = read(re, b, sizeof b); if (r > 0) { printf("READ reopened fd %d: ", fd); show(b, r, 800); hits++; } close(re); }
        if (S_ISSOCK(st.st_mode)) {
            struct ucred uc; socklen_t l = sizeof uc;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) == 0) printf("  socket peer pid %d uid %d\n", uc.pid, uc.uid);
        }
        if ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && (fl & O_ACCMODE) != O_RDONLY) {
            char m[128]; int k = snprintf(m, sizeof m, "gauntlet-%s\n", NONCE);
            long w = send(fd, m, k, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0) w = write(fd, m, k);
            printf("  wrote marker to fd %d: %ld\n", fd, w);
            if (w > 0) hits++;
        }
    }
    printf("descriptors beyond stdio: %d\n", seen);
    report(seen > 0, "inherited-fds(%d, %d usable)", seen, hits);
    usleep(400000);
    return 0;
}
