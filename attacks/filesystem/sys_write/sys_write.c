/* sys_write: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F15: writes to /sys. Host-wide sysfs knobs are probed with open(O_WRONLY) only, never written
 * (several would power off, suspend or reconfigure the host); efivars and configfs get a create
 * attempt of a harmless marker entry; sysfs is also mounted afresh (in place and after unshare). */
#include <sys/mount.h>
#include <sched.h>
static int opened;
static void probe(const char *p)
{
    int fd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) { printf("OPENED %s for writing (nothing written)\n", p); opened++; report(1, "open-for-write %s", p); close(fd); }
    else printf("open %s O_WRONLY: %s\n", p, strerror(errno));
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    const char *knobs[] = {"/sys/kernel/uevent_helper", "/sys/power/state", "/sys/power/disk", "/sys/power/wakeup_count",
        "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/ksm/run", "/sys/kernel/profiling",
        "/sys/kernel/kexec_crash_size", "/sys/kernel/rcu_expedited", "/sys/module/printk/parameters/time",
        "/sys/class/thermal/thermal_zone0/mode", "/sys/class/thermal/cooling_device0/cur_state",
        "/sys/devices/system/cpu/cpu0/online", "/sys/devices/system/cpu/cpu1/online", "/sys/devices/system/cpu/smt/control",
        "/sys/block/vda/queue/scheduler", "/sys/block/sda/queue/scheduler", "/sys/block/vda/device/delete",
        "/sys/class/net/lo/mtu", "/sys/class/net/eth0/mtu", "/sys/bus/pci/rescan", "/sys/kernel/debug/sched_features",
        "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/release_agent", "/sys/fs/cgroup/memory/release_agent",
        "/sys/kernel/security/apparmor/.load", "/sys/kernel/security/lsm", "/sys/class/leds/input0::capslock/brightness",
        "/sys/firmware/efi/efivars", "/sys/kernel/config", "/sys/kernel/notes", "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"};
    for (unsigned i = 0; i < sizeof knobs / sizeof *knobs; i++) probe(knobs[i]);
    DIR *d = opendir("/sys");
    if (d) { struct dirent *e; int n = 0; printf("LIST /sys:"); while ((e = readdir(d)) && n++ < 40) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    else printf("opendir /sys: %s\n", strerror(errno));
    /* efivars: creating a variable with a marker GUID name (a harmless marker, 4 attribute bytes + data) */
    char p[256];
    snprintf(p, sizeof p, "/sys/firmware/efi/efivars/gauntlet%s-00000000-0000-0000-0000-000000000000", NONCE);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) { printf("CREATED efivar %s\n", p); opened++; report(1, "efivar-create"); close(fd); } else printf("create efivar: %s\n", strerror(errno));
    snprintf(p, sizeof p, "/sys/kernel/config/gauntlet-%s", NONCE);
    if (mkdir(p, 0755) == 0) { printf("CREATED %s\n", p); opened++; report(1, "configfs-mkdir"); rmdir(p); } else printf("mkdir %s: %s\n", p, strerror(errno));
    /* mount a fresh sysfs: in place, then after unsharing user+mount+net namespaces */
    mkdir("/tmp/gsys", 0755);
    if (mount("sysfs", "/tmp/gsys", "sysfs", 0, NULL) == 0) { printf("MOUNTED sysfs\n"); opened++; report(1, "mount-sysfs"); probe("/tmp/gsys/kernel/uevent_helper"); umount2("/tmp/gsys", MNT_DETACH); }
    else printf("mount sysfs: %s\n", strerror(errno));
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) == 0) {
        printf("unshare(user|mnt|net) worked\n");
        if (mount("sysfs", "/tmp/gsys", "sysfs", 0, NULL) == 0) { printf("MOUNTED sysfs in new userns\n"); probe("/tmp/gsys/kernel/uevent_helper"); probe("/tmp/gsys/power/state"); umount2("/tmp/gsys", MNT_DETACH); }
        else printf("mount sysfs after unshare: %s\n", strerror(errno));
    } else printf("unshare: %s\n", strerror(errno));
    if (!opened) report(0, "sys-write");
    usleep(400000);
    return 0;
}
