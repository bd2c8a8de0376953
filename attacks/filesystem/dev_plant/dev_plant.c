/* dev_plant: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F21 / Landlock probe: plant things in the sandbox's own read-only places. /dev is a tmpfs mounted
 * read-only, which Landlock also closes to writes; "/" and its children are read-only mounts; /proc is kernel-owned. The
 * attack creates directories, files, symlinks (named like devices a later program would trust: /dev/kvm,
 * /dev/log, /dev/random replacement), renames over /dev/null, /dev/urandom (only its own files), and
 * writes its marker. A weakened fence leaves extra entries in the host's listing of /proc/<pid>/root/dev
 * (pstat) and the attack self-reports each success. */
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
static int esc;
static void ok(const char *what, int r)
{
    if (r == 0) { esc++; printf("DID %s\n", what); report(1, "%s", what); }
    else printf("%s: %s\n", what, strerror(errno));
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    char p[256], q[256];
    snprintf(p, sizeof p, "/dev/gauntlet-dir-%s", NONCE); ok("mkdir-in-dev", mkdir(p, 0755));
    snprintf(p, sizeof p, "/dev/gauntlet-%s", NONCE);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
    ok("create-in-dev", fd >= 0 ? 0 : -1); if (fd >= 0) { dprintf(fd, "gauntlet-%s\n", NONCE); close(fd); }
    ok("symlink /dev/kvm", symlink("/dev/zero", "/dev/kvm"));
    ok("symlink /dev/log", symlink("/tmp/log", "/dev/log"));
    ok("mkdir /dev/net", mkdir("/dev/net", 0755));
    /* replace a trusted node with our own file via rename: only ever our own file moves */
    snprintf(q, sizeof q, "/dev/gauntlet-r-%s", NONCE);
    fd = open(q, O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd);
    ok("rename over /dev/urandom", renameat2(AT_FDCWD, q, AT_FDCWD, "/dev/urandom", 2 /* RENAME_EXCHANGE */));
    ok("link into /dev", link("/dev/null", "/dev/gauntlet-hl"));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX}; snprintf(a.sun_path, sizeof a.sun_path, "/dev/log");
    ok("bind /dev/log", s >= 0 ? bind(s, (struct sockaddr *)&a, sizeof a) : -1);
    /* the read-only root and its mounts */
    snprintf(p, sizeof p, "/gauntlet-%s", NONCE); ok("mkdir-in-root", mkdir(p, 0755));
    snprintf(p, sizeof p, "/usr/lib/gauntlet-%s", NONCE); fd = open(p, O_CREAT | O_WRONLY, 0644); ok("create-in-usr-lib", fd >= 0 ? 0 : -1); if (fd >= 0) close(fd);
    snprintf(p, sizeof p, "/proc/gauntlet-%s", NONCE); ok("mkdir-in-proc", mkdir(p, 0755));
    /* chmod is outside Landlock's rights; on the private /dev tmpfs it is harmless, so informational only */
    printf("chmod /dev 0755 (informational): %s\n", chmod("/dev", 0755) == 0 ? "allowed" : strerror(errno));
    DIR *d = opendir("/dev");
    if (d) { struct dirent *e; int n = 0; printf("LIST /dev:"); while ((e = readdir(d)) && n++ < 60) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    if (!esc) report(0, "plant-in-readonly-places");
    usleep(400000);
    return 0;
}
