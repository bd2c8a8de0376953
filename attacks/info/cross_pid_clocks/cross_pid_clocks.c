/* cross_pid_clocks: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I08: measure other processes: the CPU clock of pid 1, the parent, the supervisor and runner (host
 * pids passed in), getrusage(RUSAGE_CHILDREN), sched_getparam/getscheduler/getaffinity, getpriority,
 * prlimit(get) and pidfd_open on them, /proc/<pid>/stat and schedstat. No signal is sent and nothing is
 * set. A host pid that answers means the host's pid namespace is shared: self-reported, since reading a
 * clock leaves no trace on the host. */
#include <time.h>
#include <sched.h>
#include <sys/resource.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((~(clockid_t)(pid) << 3) | (clockid_t)(clock))
static int probe(int pid, const char *who)
{
    int got = 0; struct timespec ts;
    if (clock_gettime(MAKE_PROCESS_CPUCLOCK(pid, 2), &ts) == 0) { printf("%s(%d) cpu clock: %ld.%09ld\n", who, pid, ts.tv_sec, ts.tv_nsec); got++; }
    else printf("%s(%d) cpu clock: %s\n", who, pid, strerror(errno));
    struct sched_param sp; if (sched_getparam(pid, &sp) == 0) { printf("  sched_getparam ok\n"); got++; } else printf("  sched_getparam: %s\n", strerror(errno));
    cpu_set_t cs; if (sched_getaffinity(pid, sizeof cs, &cs) == 0) { printf("  affinity ok (%d cpus)\n", CPU_COUNT(&cs)); got++; } else printf("  getaffinity: %s\n", strerror(errno));
    errno = 0; int pr = getpriority(PRIO_PROCESS, pid); if (errno == 0) { printf("  priority %d\n", pr); got++; } else printf("  getpriority: %s\n", strerror(errno));
    struct rlimit rl; if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) == 0) { printf("  prlimit nofile %llu\n", (unsigned long long)rl.rlim_cur); got++; } else printf("  prlimit: %s\n", strerror(errno));
    int pfd = syscall(SYS_pidfd_open, pid, 0); if (pfd >= 0) { printf("  pidfd_open ok\n"); got++; close(pfd); } else printf("  pidfd_open: %s\n", strerror(errno));
    char p[64]; snprintf(p, sizeof p, "/proc/%d/stat", pid); dump_path(p, 200);
    return got;
}
int main(int argc, char **argv)
{
    int sup = argc > 1 ? atoi(argv[1]) : 0, runner = argc > 2 ? atoi(argv[2]) : 0;
    if (argc > 3) NONCE = argv[3];
    probe(1, "pid1"); probe(getppid(), "parent");
    struct rusage ru; if (getrusage(RUSAGE_CHILDREN, &ru) == 0) printf("RUSAGE_CHILDREN utime %ld.%06ld\n", ru.ru_utime.tv_sec, ru.ru_utime.tv_usec);
    /* host pids: inside our own pid namespace they must not exist (a tiny pid could collide with ours) */
    int own_max = 0; DIR *d = opendir("/proc"); struct dirent *e; int cnt = 0;
    while (d && (e = readdir(d))) { int v = atoi(e->d_name); if (v > own_max) own_max = v; if (v) cnt++; }
    if (d) closedir(d);
    int hs = sup > 0 ? probe(sup, "supervisor") : 0, hr = runner > 0 ? probe(runner, "runner") : 0;
    int collide = (sup > 0 && sup <= own_max && cnt < 10) || (runner > 0 && runner <= own_max && cnt < 10);
    printf("host pid answers: supervisor %d, runner %d (visible pids %d, max %d)\n", hs, hr, cnt, own_max);
    report((hs || hr) && !collide, "host pids measurable (supervisor %d, runner %d)", hs, hr);
    usleep(400000);
    return 0;
}
