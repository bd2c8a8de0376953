/* cleanup_sabotage: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F27: make the harness's cleanup of scratch hard: a tree deeper than PATH_MAX (300 levels of 200-char
 * names), directories and files chmod 000, a read-only sticky directory holding files, FIFOs and a
 * bound unix socket, names with newlines, leading dashes, invalid UTF-8 and "..."-like names, 300 empty
 * files, hard links, symlinks to host paths ({host_dir}, {canary_dir}, "/") so a cleaner that follows
 * links would delete host files, and chattr +i/+a attempts. The harness must remove all of it and touch
 * nothing outside scratch (hostfs; census; health). */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
int main(int argc, char **argv)
{
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    const char *host_dir = argc > 2 ? argv[2] : "/nonexistent";
    const char *canary_dir = argc > 3 ? argv[3] : "/nonexistent";
    if (argc > 4) NONCE = argv[4];
    int root = open(scratch, O_RDONLY | O_DIRECTORY);
    if (root < 0) { printf("open scratch: %s\n", strerror(errno)); return 0; }
    /* 1. deep tree beyond PATH_MAX, built with openat so no path is ever long */
    char name[201]; memset(name, 'd', 200); name[200] = 0;
    int fd = dup(root), depth = 0;
    mkdirat(fd, "deep", 0755); int nfd = openat(fd, "deep", O_RDONLY | O_DIRECTORY); close(fd); fd = nfd;
    for (; depth < 100 && fd >= 0; depth++) {
        if (mkdirat(fd, name, 0755) != 0) break;
        nfd = openat(fd, name, O_RDONLY | O_DIRECTORY); close(fd); fd = nfd;
    }
    if (fd >= 0) { int f = openat(fd, "bottom", O_CREAT | O_WRONLY, 0644); if (f >= 0) close(f); fchmod(fd, 0); close(fd); }
    printf("deep tree: %d levels (~%d bytes of path)\n", depth, depth * 201);
    /* 2. chmod 000 directories with content, and a 000 file */
    mkdirat(root, "locked", 0755);
    int lk = openat(root, "locked", O_RDONLY | O_DIRECTORY);
    if (lk >= 0) { mkdirat(lk, "inner", 0755); int f = openat(lk, "inner/file", O_CREAT | O_WRONLY, 0644); if (f >= 0) close(f); fchmodat(lk, "inner", 0, 0); fchmod(lk, 0); close(lk); }
    fd = openat(root, "nofile", O_CREAT | O_WRONLY, 0); if (fd >= 0) close(fd);
    mkdirat(root, "sticky-ro", 0755); fd = openat(root, "sticky-ro/x", O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd); fchmodat(root, "sticky-ro", 01555, 0);
    /* 3. FIFOs and a socket named like things a collector reads */
    const char *fifos[] = {"output", "stdout.log", "result.json", "outcome.json", "report.txt"};
    for (int i = 0; i < 5; i++) printf("mkfifo %s: %s\n", fifos[i], mkfifoat(root, fifos[i], 0666) == 0 ? "ok" : strerror(errno));
    int s = socket(AF_UNIX, SOCK_STREAM, 0); struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", scratch);
    printf("bind socket in scratch: %s\n", s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 ? "ok" : strerror(errno));
    /* 4. hostile names */
    const char *names[] = {"-rf", "--no-preserve-root", "a\nb", "\xff\xfe", "...", " ", "*", "$(touch x)", ".hidden", "x\\y"};
    for (int i = 0; i < 10; i++) { fd = openat(root, names[i], O_CREAT | O_WRONLY, 0644); if (fd >= 0) { dprintf(fd, "gauntlet-%s\n", NONCE); close(fd); } }
    /* 5. many small files and hard links */
    mkdirat(root, "many", 0755); int m = openat(root, "many", O_RDONLY | O_DIRECTORY); int made = 0;
    for (int i = 0; i < 300 && m >= 0; i++) { char n[32]; snprintf(n, sizeof n, "f%d", i); fd = openat(m, n, O_CREAT | O_WRONLY, 0644); if (fd < 0) break; close(fd); made++; }
    for (int i = 0; i < 30 && m >= 0; i++) { char n[32]; snprintf(n, sizeof n, "h%d", i); linkat(m, "f0", m, n, 0); }
    if (m >= 0) close(m);
    printf("small files: %d\n", made);
    /* 6. symlinks to host paths: a cleaner that follows them deletes host files */
    char t[600];
    symlinkat(host_dir, root, "host-link"); symlinkat(canary_dir, root, "canary-link"); symlinkat("/", root, "root-link");
    snprintf(t, sizeof t, "%s/.", host_dir); symlinkat(t, root, "host-link-dot");
    mkdirat(root, "sub", 0755); symlinkat(host_dir, root, "sub/inner-host-link");
    symlinkat("../../../../../../../../..", root, "up-link");
    /* 7. immutable and append-only flags */
    fd = openat(root, "immutable", O_CREAT | O_RDONLY, 0644);
    if (fd >= 0) { int fl = FS_IMMUTABLE_FL | FS_APPEND_FL; printf("chattr +ia: %s\n", ioctl(fd, FS_IOC_SETFLAGS, &fl) == 0 ? "SET" : strerror(errno)); close(fd); }
    /* 8. make scratch itself unwritable for the cleaner (mode change only) */
    printf("chmod scratch 0555: %s\n", fchmod(root, 0555) == 0 ? "ok" : strerror(errno));
    close(root);
    printf("sabotage planted for nonce %s\n", NONCE);
    return 0;
}
