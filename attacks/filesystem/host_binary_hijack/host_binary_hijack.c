/* host_binary_hijack: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F26: host binary and library hijack. Opens every visible system binary and library for writing
 * (O_WRONLY|O_APPEND, never O_TRUNC, nothing written), tries to create /etc/ld.so.preload and a
 * marker in /usr/local/bin, /usr/lib and /lib (O_CREAT|O_EXCL, marker content only), utimes/chmod a
 * library, renames a library over another (EXDEV/EROFS expected), and remounts the read-only binds
 * read-write. Created markers are host-visible (hostfs over host_paths); write handles are self-reported. */
#include <sys/mount.h>
#include <sys/time.h>
static int esc;
static void try_w(const char *p)
{
    int fd = open(p, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) { printf("OPENED %s for writing (nothing written)\n", p); esc++; report(1, "write-open %s", p); close(fd); }
    else if (errno != ENOENT) printf("open %s O_WRONLY: %s\n", p, strerror(errno));
}
static void try_create(const char *p)
{
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) { dprintf(fd, "gauntlet-%s\n", NONCE); close(fd); printf("CREATED %s\n", p); esc++; report(1, "create %s", p); }
    else printf("create %s: %s\n", p, strerror(errno));
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    const char *bins[] = {"/bin/sh", "/bin/bash", "/usr/bin/env", "/usr/bin/sudo", "/usr/bin/python3", "/usr/sbin/sshd", "/sbin/init",
        "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
        "/usr/lib/x86_64-linux-gnu/libpthread.so.0", "/etc/ld.so.cache", "/etc/passwd", "/usr/lib/os-release", "/proc/self/exe"};
    for (unsigned i = 0; i < sizeof bins / sizeof *bins; i++) try_w(bins[i]);
    /* every shared object in the library directories (bounded) */
    const char *libdirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib"};
    int n = 0;
    for (int d = 0; d < 4; d++) {
        DIR *dp = opendir(libdirs[d]); if (!dp) continue;
        struct dirent *e;
        while ((e = readdir(dp)) && n < 400) { if (!strstr(e->d_name, ".so")) continue; char p[600]; snprintf(p, sizeof p, "%s/%s", libdirs[d], e->d_name); try_w(p); n++; }
        closedir(dp);
    }
    printf("libraries probed: %d\n", n);
    try_create("/etc/ld.so.preload");
    char p[256];
    const char *dirs[] = {"/usr/local/bin", "/usr/lib", "/lib", "/usr/lib/x86_64-linux-gnu", "/etc", "/usr/bin"};
    for (int d = 0; d < 6; d++) { snprintf(p, sizeof p, "%s/gauntlet-%s", dirs[d], NONCE); try_create(p); }
    struct timeval tv[2] = {{1, 0}, {1, 0}};
    if (utimes("/lib/x86_64-linux-gnu/libc.so.6", tv) == 0) { printf("UTIMES on libc succeeded\n"); esc++; report(1, "utimes-libc"); } else printf("utimes libc: %s\n", strerror(errno));
    if (chmod("/lib/x86_64-linux-gnu/libc.so.6", 0755) == 0) { printf("CHMOD libc succeeded\n"); esc++; report(1, "chmod-libc"); } else printf("chmod libc: %s\n", strerror(errno));
    if (rename("/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6") == 0) printf("rename onto itself allowed (no change)\n"); else printf("rename libc: %s\n", strerror(errno));
    const char *mnts[] = {"/usr/lib", "/lib", "/", "/lib64"};
    for (int i = 0; i < 4; i++) {
        if (mount(NULL, mnts[i], NULL, MS_REMOUNT | MS_BIND, NULL) == 0) { printf("REMOUNTED %s rw\n", mnts[i]); esc++; report(1, "remount-rw %s", mnts[i]); }
        else printf("remount %s rw: %s\n", mnts[i], strerror(errno));
    }
    if (!esc) report(0, "host-binary-hijack");
    return 0;
}
