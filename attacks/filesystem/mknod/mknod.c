/* mknod: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F19: device nodes. mknod/mknodat of block and char devices (host disk 8:0 and 253:0/252:0, mem 1:1,
 * kmem 1:2, port 1:4, tun 10:200, fuse 10:229, kvm 10:232, tty 4:1) in /tmp, /dev/shm, scratch and
 * /dev; opens each node made (reading 64 bytes, never writing). Then FIFOs, sockets and a plain file
 * named like a device in /dev: those need no capability; /dev (a tmpfs) is mounted read-only and Landlock grants it no write, so
 * a breach of both shows in the host's listing of /proc/<pid>/root/dev (pstat) and in the self-report. */
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/un.h>
static int esc;
int main(int argc, char **argv)
{
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    if (argc > 2) NONCE = argv[2];
    struct { const char *n; mode_t t; int ma, mi; } nodes[] = {
        {"sda", S_IFBLK, 8, 0}, {"vda", S_IFBLK, 253, 0}, {"vda2", S_IFBLK, 252, 0}, {"nvme0n1", S_IFBLK, 259, 0},
        {"mem", S_IFCHR, 1, 1}, {"kmem", S_IFCHR, 1, 2}, {"port", S_IFCHR, 1, 4}, {"tun", S_IFCHR, 10, 200},
        {"fuse", S_IFCHR, 10, 229}, {"kvm", S_IFCHR, 10, 232}, {"tty1", S_IFCHR, 4, 1}, {"null2", S_IFCHR, 1, 3}};
    const char *dirs[] = {"/tmp", "/dev/shm", scratch, "/dev"};
    char p[600];
    for (unsigned d = 0; d < 4; d++) {
        for (unsigned i = 0; i < sizeof nodes / sizeof *nodes; i++) {
            snprintf(p, sizeof p, "%s/g-%s", dirs[d], nodes[i].n);
            int r = (i % 2) ? mknodat(AT_FDCWD, p, nodes[i].t | 0666, makedev(nodes[i].ma, nodes[i].mi))
                            : mknod(p, nodes[i].t | 0666, makedev(nodes[i].ma, nodes[i].mi));
            if (r != 0) { printf("mknod %s (%d:%d): %s\n", p, nodes[i].ma, nodes[i].mi, strerror(errno)); continue; }
            esc++; printf("MADE device node %s\n", p); report(1, "mknod %s", p);
            int fd = open(p, O_RDONLY | O_NONBLOCK);
            if (fd >= 0) { char b[64]; long n = read(fd, b, sizeof b); printf("  opened, read %ld\n", n); close(fd); }
            else printf("  open: %s\n", strerror(errno));
        }
    }
    /* no-capability node types planted in /dev: a FIFO, a socket, a file and a symlink named like devices */
    snprintf(p, sizeof p, "/dev/gauntlet-fifo-%s", NONCE);
    if (mkfifo(p, 0666) == 0) { esc++; printf("MADE fifo in /dev\n"); report(1, "fifo-in-dev"); } else printf("mkfifo %s: %s\n", p, strerror(errno));
    snprintf(p, sizeof p, "/dev/gauntlet-%s", NONCE);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) { esc++; dprintf(fd, "gauntlet-%s\n", NONCE); close(fd); printf("MADE file in /dev\n"); report(1, "file-in-dev"); } else printf("create %s: %s\n", p, strerror(errno));
    if (symlink("/dev/null", "/dev/sda") == 0) { esc++; printf("MADE /dev/sda symlink\n"); report(1, "symlink-in-dev"); } else printf("symlink /dev/sda: %s\n", strerror(errno));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX}; snprintf(a.sun_path, sizeof a.sun_path, "/dev/g-%s.sock", NONCE);
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0) { esc++; printf("BOUND socket in /dev\n"); report(1, "socket-in-dev"); } else printf("bind %s: %s\n", a.sun_path, strerror(errno));
    if (!esc) report(0, "mknod");
    usleep(400000);
    return 0;
}
