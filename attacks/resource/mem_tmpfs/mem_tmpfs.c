/* R06 /tmp (tmpfs) fill: shmem pages are not anonymous RSS of any process and survive the writer's death,
 * so a limit that only watches process RSS misses them. Writes 1 MiB blocks into several files under
 * /tmp (also via shm_open and a MAP_SHARED mapping of one file), then closes and unmaps everything so no
 * process holds the memory. Defanged: about 1 GiB at most (20 files of 48 MiB); the files are in the sandbox's private tmpfs. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <signal.h>

#define MiB (1L << 20)
static char block[1 << 20];

static long fill(const char *path, long max_mib) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { printf("mem_tmpfs: open %s: %s\n", path, strerror(errno)); return 0; }
    long n = 0;
    for (; n < max_mib; n++)
        if (write(fd, block, MiB) != MiB) { printf("mem_tmpfs: %s full at %ld MiB: %s\n", path, n, strerror(errno)); break; }
    close(fd);
    return n;
}

int main(void) {
    memset(block, 0x5a, sizeof block);
    signal(SIGXFSZ, SIG_IGN); /* keep each file under RLIMIT_FSIZE; many files make the total */
    long total = 0;
    printf("mem_tmpfs: filling /tmp with 48 MiB files (and a shm_open mapping), up to 1 GiB\n");
    fflush(stdout);
    char path[64];
    for (int i = 0; i < 20 && total < 960; i++) {
        snprintf(path, sizeof path, "/tmp/fill.%d", i);
        long got = fill(path, 48);
        total += got;
        printf("mem_tmpfs: %s holds %ld MiB (total %ld)\n", path, got, total);
        fflush(stdout);
        if (got < 48) break;
    }
    int fd = shm_open("/gauntlet-shm", O_RDWR | O_CREAT, 0600);
    if (fd >= 0 && ftruncate(fd, 48 * MiB) == 0) {
        char *m = mmap(NULL, 48 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            for (long i = 0; i < 48 * MiB; i += 4096) m[i] = 1; /* SIGBUS if the tmpfs is full */
            munmap(m, 48 * MiB);
            total += 48;
        }
        close(fd);
    }
    printf("mem_tmpfs: %ld MiB parked in tmpfs with no process holding it, and I was not killed\n", total);
    return 0;
}
