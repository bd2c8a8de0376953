/* fingerprint: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I03: fingerprint the host: uname, /proc/version, cmdline, cpuinfo, CPUID vendor/brand/hypervisor,
 * DMI ids, os-release, hostname, machine-id, boot_id, modules, meminfo, nproc. Informational: the
 * sandbox may allow most of it; the point is to record what leaks. Canary oracle only (nothing here
 * should ever carry the token). */
#include <sys/utsname.h>
#include <cpuid.h>
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    struct utsname u;
    if (uname(&u) == 0) printf("uname: %s %s %s %s %s (domain %s)\n", u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname);
    unsigned a, b, c, d; char vendor[13] = {0}, brand[49] = {0};
    if (__get_cpuid(0, &a, &b, &c, &d)) { memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4); }
    for (unsigned i = 0; i < 3; i++) if (__get_cpuid(0x80000002 + i, &a, &b, &c, &d)) { memcpy(brand + 16 * i, &a, 4); memcpy(brand + 16 * i + 4, &b, 4); memcpy(brand + 16 * i + 8, &c, 4); memcpy(brand + 16 * i + 12, &d, 4); }
    __cpuid(1, a, b, c, d);
    char hv[13] = {0}; if (c & (1u << 31)) { __cpuid(0x40000000, a, b, c, d); memcpy(hv, &b, 4); memcpy(hv + 4, &c, 4); memcpy(hv + 8, &d, 4); }
    printf("cpuid: vendor %s, brand %s, hypervisor %s\n", vendor, brand, hv[0] ? hv : "none");
    printf("nproc online: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    const char *files[] = {"/proc/version", "/proc/cmdline", "/proc/cpuinfo", "/proc/meminfo", "/proc/modules", "/etc/os-release", "/usr/lib/os-release",
        "/etc/hostname", "/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id", "/proc/sys/kernel/hostname",
        "/sys/class/dmi/id/product_name", "/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/board_serial",
        "/proc/self/cgroup", "/proc/1/sched", "/proc/self/uid_map", "/proc/sys/kernel/osrelease", "/proc/filesystems", "/proc/swaps"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) dump_path(files[i], i == 2 ? 600 : 300);
    return 0;
}
