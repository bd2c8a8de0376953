/* R07 page-cache balloon: write large files in the scratch directory (dirty pages), read them back
 * (clean cache), and mmap one MAP_SHARED to dirty it through the mapping. The page cache is charged to the
 * writer's memory cgroup and must be reclaimed inside it, not pushed onto the host.
 * Defanged: 4 files of 60 MiB (240 MiB on disk, each under RLIMIT_FSIZE), removed at the end. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>

#define MiB (1L << 20)
static char block[1 << 20];

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    signal(SIGXFSZ, SIG_IGN);
    memset(block, 0x33, sizeof block);
    char path[4][512];
    long written = 0, readback = 0;
    for (int f = 0; f < 4; f++) {
        snprintf(path[f], sizeof path[f], "%s/pagecache.%d", dir, f);
        int fd = open(path[f], O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) { printf("mem_pagecache: open %s: %s\n", path[f], strerror(errno)); path[f][0] = 0; continue; }
        for (int i = 0; i < 60; i++) {
            if (write(fd, block, MiB) != MiB) { printf("mem_pagecache: write: %s\n", strerror(errno)); break; }
            written++;
        }
        close(fd);
    }
    for (int pass = 0; pass < 2; pass++)
        for (int f = 0; f < 4; f++) {
            if (!path[f][0]) continue;
            int fd = open(path[f], O_RDONLY);
            if (fd < 0) continue;
            posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
            ssize_t n;
            while ((n = read(fd, block, MiB)) > 0) readback += n;
            close(fd);
        }
    if (path[0][0]) {
        int fd = open(path[0], O_RDWR);
        char *m = fd >= 0 ? mmap(NULL, 60 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
        if (m != MAP_FAILED) { for (long i = 0; i < 60 * MiB; i += 4096) m[i] ^= 1; munmap(m, 60 * MiB); }
        if (fd >= 0) close(fd);
    }
    printf("mem_pagecache: wrote %ld MiB, read back %ld MiB through the page cache\n", written, readback / MiB);
    for (int f = 0; f < 4; f++) if (path[f][0]) unlink(path[f]);
    return 0;
}
