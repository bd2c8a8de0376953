/* kernel_infoleak: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F22: kernel information leaks: kallsyms with real addresses, kcore, sched_debug, timer_list, keys,
 * key-users, config.gz, vmcoreinfo, debugfs, securityfs, kmsg/dmesg (syslog(2)), iomem, modules with
 * addresses, pagemap PFNs, slabinfo, /proc/self/stack. Each is read (4 KiB at most); a masked entry
 * reads empty. Self-report per leak: a read of kernel memory or addresses changes nothing on the host;
 * the host's pstat reads the masks from our mountinfo. */
#include <sys/klog.h>
#include <stdint.h>
static int esc;
static long rd(const char *p, char *b, long sz)
{
    int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { printf("open %s: %s\n", p, strerror(errno)); return -1; }
    long n = read(fd, b, sz - 1); close(fd);
    if (n < 0) { printf("read %s: %s\n", p, strerror(errno)); return -1; }
    b[n] = 0; printf("READ %s: %ld bytes\n", p, n);
    return n;
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    static char b[4096];
    long n = rd("/proc/kallsyms", b, sizeof b);
    if (n > 0) { show(b, n, 200); unsigned long a = strtoul(b, 0, 16); if (a) { esc++; report(1, "kallsyms-addresses"); } else report(0, "kallsyms-addresses"); }
    else report(0, "kallsyms-addresses");
    n = rd("/proc/kcore", b, sizeof b); if (n > 0) { esc++; report(1, "kcore"); } else report(0, "kcore");
    const char *masked[] = {"/proc/sched_debug", "/proc/timer_list", "/proc/keys", "/proc/key-users", "/proc/config.gz",
                            "/sys/kernel/vmcoreinfo", "/proc/latency_stats", "/proc/kmsg", "/proc/kpageflags", "/proc/kpagecount"};
    for (unsigned i = 0; i < sizeof masked / sizeof *masked; i++) {
        n = rd(masked[i], b, sizeof b);
        if (n > 0) { show(b, n, 200); esc++; report(1, "read %s", masked[i]); } else report(0, "read %s", masked[i]);
    }
    /* informational files: printed, not judged (readable on many hardened hosts too) */
    const char *info[] = {"/proc/iomem", "/proc/ioports", "/proc/modules", "/proc/slabinfo", "/proc/vmallocinfo", "/proc/self/stack",
                          "/proc/self/syscall", "/proc/buddyinfo", "/proc/zoneinfo", "/proc/cmdline", "/proc/sys/kernel/kptr_restrict",
                          "/proc/sys/kernel/dmesg_restrict", "/proc/sys/kernel/perf_event_paranoid"};
    for (unsigned i = 0; i < sizeof info / sizeof *info; i++) { n = rd(info[i], b, sizeof b); if (n > 0) show(b, n, 160); }
    const char *dirs[] = {"/sys/kernel/debug", "/sys/kernel/tracing", "/sys/kernel/security", "/sys/firmware", "/sys/kernel/btf"};
    for (int i = 0; i < 5; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) { printf("opendir %s: %s\n", dirs[i], strerror(errno)); continue; }
        int k = 0; struct dirent *e; printf("LIST %s:", dirs[i]); while ((e = readdir(d)) && k < 30) { if (e->d_name[0] != '.') k++; printf(" %s", e->d_name); } printf("\n"); closedir(d);
        if (k) { esc++; report(1, "list %s", dirs[i]); }
    }
    n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, b, sizeof b);
    if (n > 0) { printf("dmesg via syslog(2): %ld bytes\n", n); show(b, n, 200); esc++; report(1, "syslog-read"); }
    else { printf("syslog(READ_ALL): %s\n", strerror(errno)); report(0, "syslog-read"); }
    /* pagemap: physical frame numbers of our own page (needs CAP_SYS_ADMIN to be nonzero) */
    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (pm >= 0) {
        volatile char page[4096]; page[0] = 1;
        uint64_t ent = 0; long r = pread(pm, &ent, 8, ((uintptr_t)page / 4096) * 8); close(pm);
        uint64_t pfn = ent & ((1ULL << 55) - 1);
        printf("pagemap entry %llx (pfn %llx)\n", (unsigned long long)ent, (unsigned long long)pfn);
        if (r == 8 && pfn) { esc++; report(1, "pagemap-pfn"); } else report(0, "pagemap-pfn");
    }
    printf("leaks: %d\n", esc);
    usleep(400000);
    return 0;
}
