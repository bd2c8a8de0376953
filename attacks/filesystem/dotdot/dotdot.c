/* dotdot: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F03: `..` traversal in every shape: relative chains from the cwd, `/../`, `a/../../`, long chains,
 * openat() from a scratch dirfd, chdir("..") loops, /proc/self/cwd, and openat2 with and without
 * RESOLVE_IN_ROOT. Every successful read is printed. */
#include <linux/openat2.h>
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int hits;
static void try(int dirfd, const char *p)
{
    if (dump_path_at(dirfd, p, 400) > 0) hits++;
}

int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    const char *scratch = argc > 2 ? argv[2] : "/tmp";
    if (argc > 3) NONCE = argv[3];
    const char *rel = canary[0] == '/' ? canary + 1 : canary; /* canary path without the leading slash */
    char p[8192], cwd[512];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : strerror(errno));
    /* relative ../ chains of every length from the cwd */
    for (int k = 1; k <= 40; k++) {
        p[0] = 0;
        for (int i = 0; i < k; i++) strcat(p, "../");
        strcat(p, rel);
        if (k <= 4 || k == 8 || k == 16 || k == 40) try(AT_FDCWD, p);
        else { int fd = open(p, O_RDONLY); if (fd >= 0) { close(fd); try(AT_FDCWD, p); } }
    }
    /* a very long chain (well past any plausible depth, under PATH_MAX) */
    p[0] = 0;
    for (int i = 0; i < 1300; i++) strcat(p, "../");
    strcat(p, rel);
    try(AT_FDCWD, p);
    /* absolute forms with .. */
    const char *forms[] = {"/../%s", "/../../../../%s", "/./../%s", "//..//..//%s", "/tmp/../%s", "/tmp/../../../%s",
                           "/proc/../%s", "/proc/self/../../%s", "/dev/../../%s", "/dev/shm/../../../%s",
                           "/proc/self/cwd/../../../../%s", "/proc/self/root/../../../%s", "/.../%s", "/../%s/"};
    for (unsigned i = 0; i < sizeof forms / sizeof *forms; i++) { snprintf(p, sizeof p, forms[i], rel); try(AT_FDCWD, p); }
    /* a/../../ from real directories the attack makes */
    char base[512];
    snprintf(base, sizeof base, "%s/dd-a/b/c", scratch);
    char tmp[512]; snprintf(tmp, sizeof tmp, "%s/dd-a", scratch); mkdir(tmp, 0755);
    snprintf(tmp, sizeof tmp, "%s/dd-a/b", scratch); mkdir(tmp, 0755); mkdir(base, 0755);
    mkdir("/tmp/a", 0755); mkdir("/tmp/a/b", 0755);
    snprintf(p, sizeof p, "a/../../%s", rel); try(AT_FDCWD, p);
    snprintf(p, sizeof p, "/tmp/a/b/../../../../../../%s", rel); try(AT_FDCWD, p);
    snprintf(p, sizeof p, "%s/../../../../../../../../%s", base, rel); try(AT_FDCWD, p);
    snprintf(p, sizeof p, "%s/dd-a/./b/.././../../../../../../../../%s", scratch, rel); try(AT_FDCWD, p);
    /* openat relative to a scratch directory fd */
    int sfd = open(scratch, O_RDONLY | O_DIRECTORY);
    int pfd = open(scratch, O_PATH | O_DIRECTORY);
    for (int k = 1; k <= 12; k++) {
        p[0] = 0; for (int i = 0; i < k; i++) strcat(p, "../"); strcat(p, rel);
        if (sfd >= 0) try(sfd, p);
        if (pfd >= 0 && k % 4 == 0) try(pfd, p);
    }
    /* walk up with openat(fd, "..") one step at a time */
    int fd = open(scratch, O_PATH | O_DIRECTORY);
    for (int i = 0; i < 20 && fd >= 0; i++) { int n = openat(fd, "..", O_PATH | O_DIRECTORY); close(fd); fd = n; }
    if (fd >= 0) { try(fd, rel); close(fd); }
    /* openat2 with plain resolution, and with RESOLVE_IN_ROOT / BENEATH (must not help) */
    unsigned long long res[] = {0, RESOLVE_IN_ROOT, RESOLVE_BENEATH, RESOLVE_NO_XDEV};
    for (int r = 0; r < 4; r++) {
        struct open_how how = {.flags = O_RDONLY, .resolve = res[r]};
        snprintf(p, sizeof p, "../../../../../../%s", rel);
        int f = syscall(SYS_openat2, sfd, p, &how, sizeof how);
        if (f < 0) printf("openat2(resolve=%llx) %s: %s\n", res[r], p, strerror(errno));
        else { char b[256]; long n = read(f, b, sizeof b); printf("READ openat2 %s: ", p); show(b, n, 256); close(f); hits++; }
    }
    /* chdir(..) loops, then relative opens */
    if (chdir(scratch) == 0) {
        for (int i = 0; i < 64; i++) if (chdir("..") != 0) break;
        printf("after 64x chdir(..): cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : strerror(errno));
        try(AT_FDCWD, rel);
        snprintf(p, sizeof p, "./%s", rel); try(AT_FDCWD, p);
        DIR *d = opendir(".");
        if (d) { struct dirent *e; int n = 0; printf("LIST .:"); while ((e = readdir(d)) && n++ < 100) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    }
    report(hits > 0, "dotdot-traversal-read(%d)", hits);
    usleep(400000);
    return 0;
}
