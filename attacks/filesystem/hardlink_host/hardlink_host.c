/* hardlink_host: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F07: hard links to host files. link() the canary (and any visible read-only host file: the program,
 * libc, ld.so) into writable places; linkat with AT_SYMLINK_FOLLOW through /proc/self/fd of an O_PATH
 * descriptor; AT_EMPTY_PATH; O_TMPFILE + linkat into the host dir. Then read through the new names.
 * A link that worked would change the host inode's link count (hostfs) or expose the token (canary). */
static int hits;
static void tryl(const char *from, const char *to, int flags)
{
    unlink(to);
    if (linkat(AT_FDCWD, from, AT_FDCWD, to, flags) == 0) {
        printf("LINKED %s -> %s\n", from, to);
        if (dump_path(to, 300) > 0) hits++;
    } else printf("link %s -> %s: %s\n", from, to, strerror(errno));
}
int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    const char *scratch = argc > 2 ? argv[2] : "/tmp";
    const char *host_dir = argc > 3 ? argv[3] : "/nonexistent";
    const char *canary_dir = argc > 4 ? argv[4] : "/nonexistent";
    if (argc > 5) NONCE = argv[5];
    char to[1024], from[1024];
    const char *dst[] = {scratch, "/tmp", "/dev/shm"};
    for (int d = 0; d < 3; d++) {
        snprintf(to, sizeof to, "%s/hl-canary", dst[d]); tryl(canary, to, 0); tryl(canary, to, AT_SYMLINK_FOLLOW);
        snprintf(from, sizeof from, "/proc/self/root%s", canary); tryl(from, to, AT_SYMLINK_FOLLOW);
    }
    /* O_PATH fd on the canary, then link through /proc/self/fd and AT_EMPTY_PATH */
    int pfd = open(canary, O_PATH);
    if (pfd >= 0) {
        printf("O_PATH open of canary succeeded (fd %d)\n", pfd);
        snprintf(from, sizeof from, "/proc/self/fd/%d", pfd);
        snprintf(to, sizeof to, "%s/hl-canary-fd", scratch); tryl(from, to, AT_SYMLINK_FOLLOW);
        snprintf(to, sizeof to, "%s/hl-canary-empty", scratch);
        if (linkat(pfd, "", AT_FDCWD, to, AT_EMPTY_PATH) == 0) { printf("LINKED empty-path\n"); if (dump_path(to, 300) > 0) hits++; }
        else printf("linkat AT_EMPTY_PATH: %s\n", strerror(errno));
    } else printf("O_PATH open %s: %s\n", canary, strerror(errno));
    /* read-only host files that are visible: the program itself, libc, the loader */
    char self[1024]; long n = readlink("/proc/self/exe", self, sizeof self - 1); if (n > 0) self[n] = 0; else strcpy(self, "/proc/self/exe");
    const char *ro[] = {self, "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/lib/os-release", "/etc/passwd", "/etc/shadow"};
    for (unsigned i = 0; i < sizeof ro / sizeof *ro; i++) {
        snprintf(to, sizeof to, "%s/hl-ro%u", scratch, i); unlink(to);
        if (link(ro[i], to) == 0) printf("LINKED host ro file %s into scratch (nlink of a host inode changed)\n", ro[i]);
        else printf("link %s: %s\n", ro[i], strerror(errno));
    }
    /* link something of ours into the host dir and the canary dir (must not appear there) */
    snprintf(from, sizeof from, "%s/hl-mine", scratch);
    int f = open(from, O_CREAT | O_WRONLY | O_TRUNC, 0644); if (f >= 0) { dprintf(f, "gauntlet-%s\n", NONCE); close(f); }
    snprintf(to, sizeof to, "%s/gauntlet-%s", host_dir, NONCE); tryl(from, to, 0);
    snprintf(to, sizeof to, "%s/gauntlet-%s", canary_dir, NONCE); tryl(from, to, 0);
    int tf = open(host_dir, O_TMPFILE | O_WRONLY, 0644);
    if (tf >= 0) {
        dprintf(tf, "gauntlet-%s\n", NONCE);
        snprintf(to, sizeof to, "%s/gauntlet-tmpfile-%s", host_dir, NONCE);
        if (linkat(tf, "", AT_FDCWD, to, AT_EMPTY_PATH) == 0) printf("LINKED O_TMPFILE into host dir\n");
        else printf("linkat tmpfile: %s\n", strerror(errno));
    } else printf("O_TMPFILE in %s: %s\n", host_dir, strerror(errno));
    report(hits > 0, "hardlink-read(%d)", hits);
    usleep(400000);
    return 0;
}
