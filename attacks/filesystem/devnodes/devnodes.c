/* devnodes: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F21: dangerous character devices. Opens each (O_RDONLY|O_NONBLOCK, then O_RDWR, never writing, never
 * an ioctl) and reads a few bytes where reading is harmless: physical memory (mem, kmem, port), the
 * kernel log, KVM, FUSE, TUN, loop-control, uinput, input events (keyloggers), DRM, sound, vhost, vsock,
 * MSR/CPUID, HPET, RTC, /dev/console and tty0. /dev/watchdog is only stat'ed (opening it arms a host
 * reboot timer). Only null, zero, full, random and urandom should exist; any other open is self-reported. */
static int esc;
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    const char *devs[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/kvm", "/dev/fuse", "/dev/net/tun",
        "/dev/loop-control", "/dev/uinput", "/dev/input/event0", "/dev/input/mice", "/dev/dri/card0", "/dev/dri/renderD128",
        "/dev/snd/controlC0", "/dev/vhost-net", "/dev/vhost-vsock", "/dev/vsock", "/dev/cpu/0/msr", "/dev/cpu/0/cpuid",
        "/dev/hpet", "/dev/rtc0", "/dev/console", "/dev/tty0", "/dev/tty1", "/dev/ttyS0", "/dev/ptmx", "/dev/pts/ptmx",
        "/dev/userfaultfd", "/dev/btrfs-control", "/dev/mapper/control", "/dev/autofs", "/dev/ppp", "/dev/uhid",
        "/dev/vfio/vfio", "/dev/nvram", "/dev/mcelog", "/dev/hwrng", "/dev/sg0", "/dev/bsg", "/dev/tpm0", "/dev/tpmrm0",
        "/dev/log", "/dev/initctl", "/dev/shm/../mem", "/proc/self/root/dev/mem"};
    for (unsigned i = 0; i < sizeof devs / sizeof *devs; i++) {
        int fd = open(devs[i], O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) { printf("open %s: %s\n", devs[i], strerror(errno)); }
        else {
            char b[64]; long n = read(fd, b, sizeof b);
            printf("OPENED %s read-only, read %ld\n", devs[i], n);
            esc++; report(1, "open %s", devs[i]); close(fd);
        }
        fd = open(devs[i], O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) { printf("OPENED %s read-write (nothing written)\n", devs[i]); esc++; report(1, "open-rw %s", devs[i]); close(fd); }
    }
    struct stat st;
    printf("stat /dev/watchdog: %s (never opened)\n", stat("/dev/watchdog", &st) == 0 ? "exists" : strerror(errno));
    DIR *d = opendir("/dev");
    if (d) { struct dirent *e; int n = 0; printf("LIST /dev:"); while ((e = readdir(d)) && n++ < 80) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    if (!esc) report(0, "dangerous-devnodes");
    usleep(400000);
    return 0;
}
