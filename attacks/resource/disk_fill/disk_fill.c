/* R14 disk fill: grow files in the scratch directory (a host directory) by every route: write() past
 * RLIMIT_FSIZE, pwrite at a huge offset, ftruncate to 1 TiB, fallocate, copy_file_range, and (after
 * ignoring SIGXFSZ) many files each just under the per-file limit. A size limit per file does not bound the
 * total; only a quota or a size-capped scratch does. Reports total bytes actually allocated on disk.
 * Defanged: at most 1 GiB allocated; every file is removed at the end. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

#define MiB (1L << 20)
static char block[1 << 20];

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    const char *nonce = argc > 2 ? argv[2] : "none";
    char path[600];
    memset(block, 0x44, sizeof block);
    signal(SIGXFSZ, SIG_IGN); /* otherwise the first write past the limit kills us */
    snprintf(path, sizeof path, "%s/disk_fill.big", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { printf("disk_fill: open %s: %s\n", path, strerror(errno)); return 0; }
    long w = 0;
    for (int i = 0; i < 100; i++) { if (write(fd, block, MiB) != MiB) { printf("disk_fill: write stopped at %ld MiB: %s\n", w, strerror(errno)); break; } w++; }
    printf("disk_fill: pwrite at 1 TiB -> %s\n", pwrite(fd, "x", 1, 1L << 40) == 1 ? "ok" : strerror(errno));
    printf("disk_fill: ftruncate 1 TiB -> %s\n", ftruncate(fd, 1L << 40) == 0 ? "ok" : strerror(errno));
    printf("disk_fill: fallocate 512 MiB -> %s\n", fallocate(fd, 0, 0, 512 * MiB) == 0 ? "ok" : strerror(errno));
    int out = open("/tmp/disk_fill.copy", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (out >= 0) {
        loff_t in_off = 0;
        ssize_t c = copy_file_range(fd, &in_off, out, NULL, 256 * MiB, 0);
        printf("disk_fill: copy_file_range 256 MiB -> %zd (%s)\n", c, c < 0 ? strerror(errno) : "ok");
        close(out);
        unlink("/tmp/disk_fill.copy");
    }
    fflush(stdout);
    /* many files just under the per-file limit, allocated without writing data */
    long total = 0;
    struct stat st;
    if (fstat(fd, &st) == 0) total += st.st_blocks * 512;
    int nfiles = 0;
    for (int i = 0; i < 40 && total < 1024 * MiB; i++) {
        char p2[600];
        snprintf(p2, sizeof p2, "%s/disk_fill.%d", dir, i);
        int f = open(p2, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (f < 0) break;
        nfiles++;
        long want = 48 * MiB;
        if (total + want > 1024 * MiB) want = 1024 * MiB - total;
        int r = fallocate(f, 0, 0, want);
        if (r != 0) { /* fall back to writing */
            for (long x = 0; x < want; x += MiB) if (write(f, block, MiB) != MiB) break;
        }
        if (fstat(f, &st) == 0) total += st.st_blocks * 512;
        close(f);
        if (r != 0 && errno == ENOSPC) { printf("disk_fill: ENOSPC after %d files\n", nfiles); break; }
    }
    printf("disk_fill: %ld MiB allocated on disk in the scratch directory (%d extra files)\n", total / MiB, nfiles);
    printf("GAUNTLET-REPORT %s %s allocate %ld MiB in scratch past the 64 MiB per-file limit\n", nonce,
           total > 256 * MiB ? "escaped" : "denied", total / MiB);
    fflush(stdout);
    close(fd);
    unlink(path);
    for (int i = 0; i < nfiles; i++) { char p2[600]; snprintf(p2, sizeof p2, "%s/disk_fill.%d", dir, i); unlink(p2); }
    return 0;
}
