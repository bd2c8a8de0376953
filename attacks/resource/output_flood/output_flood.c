/* R22 output flood on stdout and stderr: big write()s, writev of many iovecs, splice/sendfile from
 * /dev/zero-backed pipes, and reopening /proc/self/fd/1 and /dev/stdout to get a fresh file description.
 * A harness that buffers everything runs out of memory or disk. Defanged: at most 32 MiB per route
 * (about 128 MiB in all). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/uio.h>

#define MiB (1L << 20)
static char block[1 << 16];

static long flood_fd(int fd, long max) {
    long n = 0;
    while (n < max) {
        ssize_t w = write(fd, block, sizeof block);
        if (w <= 0) break;
        n += w;
    }
    return n;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    memset(block, 'A', sizeof block);
    for (size_t i = 79; i < sizeof block; i += 80) block[i] = '\n';
    long total = 0;
    total += flood_fd(1, 32 * MiB);
    total += flood_fd(2, 16 * MiB);
    struct iovec iov[64];
    for (int i = 0; i < 64; i++) { iov[i].iov_base = block; iov[i].iov_len = sizeof block; }
    for (int i = 0; i < 8; i++) { ssize_t w = writev(1, iov, 64); if (w <= 0) break; total += w; }
    int p[2];
    if (pipe(p) == 0) {
        for (long sent = 0; sent < 16 * MiB;) {
            if (write(p[1], block, sizeof block) <= 0) break;
            ssize_t s = splice(p[0], NULL, 1, NULL, sizeof block, 0);
            if (s <= 0) break;
            sent += s;
            total += s;
        }
    }
    int fd = open("/proc/self/fd/1", O_WRONLY);
    if (fd < 0) fd = open("/dev/stdout", O_WRONLY);
    if (fd >= 0) total += flood_fd(fd, 16 * MiB);
    fd = open("/dev/stderr", O_WRONLY);
    if (fd >= 0) total += flood_fd(fd, 16 * MiB);
    fprintf(stderr, "\noutput_flood: wrote %ld MiB and nothing stopped me\n", total / MiB);
    return 0;
}
