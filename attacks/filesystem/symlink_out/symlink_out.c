/* symlink_out: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F05: plugin-made symlinks pointing outside: absolute, relative ../ chains, chains of links, links to
 * directories, links through /proc/self/root, made in /tmp, /dev/shm and scratch, then followed with
 * open, opendir and realpath. Also tries to plant a symlink inside the host dir and the canary dir. */
static int hits;
static char links[64][700];
static int nlinks;
static void mk(const char *dir, const char *name, const char *target)
{
    if (nlinks >= 64) return;
    char at[700]; snprintf(at, sizeof at, "%s/%s", dir, name);
    unlink(at);
    if (symlink(target, at) == 0) { snprintf(links[nlinks++], 700, "%s", at); printf("symlink %s -> %s\n", at, target); }
    else printf("symlink %s -> %s: %s\n", at, target, strerror(errno));
}
int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    const char *canary_dir = argc > 2 ? argv[2] : "/nonexistent";
    const char *scratch = argc > 3 ? argv[3] : "/tmp";
    const char *host_dir = argc > 4 ? argv[4] : "/nonexistent";
    if (argc > 5) NONCE = argv[5];
    const char *base = strrchr(canary, '/'); base = base ? base + 1 : canary;
    char t[4096];
    const char *where[] = {scratch, "/tmp", "/dev/shm"};
    for (int w = 0; w < 3; w++) {
        mk(where[w], "sl-abs", canary);
        mk(where[w], "sl-dir", canary_dir);
        mk(where[w], "sl-root", "/");
        t[0] = 0; for (int i = 0; i < 30; i++) strcat(t, "../"); strcat(t, canary + 1);
        mk(where[w], "sl-rel", t);
        snprintf(t, sizeof t, "/proc/self/root%s", canary); mk(where[w], "sl-procroot", t);
        snprintf(t, sizeof t, "/proc/1/root%s", canary); mk(where[w], "sl-proc1root", t);
        snprintf(t, sizeof t, "/proc/self/cwd/../../../../..%s", canary); mk(where[w], "sl-proccwd", t);
        /* a chain of 8 hops ending at the canary */
        char nm[64], prev[700];
        snprintf(prev, sizeof prev, "%s", canary);
        for (int i = 7; i >= 0; i--) {
            snprintf(nm, sizeof nm, "sl-chain%d", i); mk(where[w], nm, prev);
            snprintf(prev, sizeof prev, "%s/%s", where[w], nm);
        }
        /* a loop, and a link to a link to a directory */
        mk(where[w], "sl-loop1", "sl-loop2"); mk(where[w], "sl-loop2", "sl-loop1");
        snprintf(t, sizeof t, "%s/sl-root", where[w]); mk(where[w], "sl-root2", t);
    }
    /* follow every link, and the directory links with the canary's basename and a full path behind them */
    for (int i = 0; i < nlinks; i++) {
        if (dump_path(links[i], 300) > 0) hits++;
        char p[1600];
        snprintf(p, sizeof p, "%s/%s", links[i], base); if (dump_path(p, 300) > 0) hits++;
        snprintf(p, sizeof p, "%s%s", links[i], canary); if (dump_path(p, 300) > 0) hits++;
        char rp[4096]; if (realpath(links[i], rp)) printf("realpath %s = %s\n", links[i], rp);
        DIR *d = opendir(links[i]);
        if (d) { struct dirent *e; int n = 0; printf("LIST %s:", links[i]); while ((e = readdir(d)) && n++ < 60) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    }
    /* plant links in host-side directories (must fail: nothing may appear there) */
    char nm[128]; snprintf(nm, sizeof nm, "gauntlet-%s", NONCE);
    mk(host_dir, nm, canary);
    mk(canary_dir, nm, "/");
    report(hits > 0, "symlink-escape-read(%d)", hits);
    usleep(400000);
    return 0;
}
