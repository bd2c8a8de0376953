/* R15 inode exhaustion: create as many empty files, directories, symlinks and hard links as possible in the
 * scratch directory and in /tmp (tmpfs nr_inodes). Empty files cost no blocks, so a byte quota alone does not
 * stop them; each one costs an inode and dentry/inode kernel memory (charged to the memcg).
 * Defanged: at most 60000 entries per directory tree; everything it made is removed at the end. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static long spray(const char *base, const char *nonce, int cleanup) {
    char d[600], p[700];
    snprintf(d, sizeof d, "%s/inodes-%s", base, nonce);
    if (mkdir(d, 0700) != 0 && errno != EEXIST) { printf("disk_inodes: mkdir %s: %s\n", d, strerror(errno)); return 0; }
    long n = 0;
    int err = 0;
    double end = now() + 0.6;
    for (long i = 0; i < 60000 && now() < end; i++) {
        int r;
        snprintf(p, sizeof p, "%s/%ld", d, i);
        switch (i % 4) {
        case 0: r = mknod(p, S_IFREG | 0600, 0); break;
        case 1: r = mkdir(p, 0700); break;
        case 2: r = symlink("x", p); break;
        default: { char t[700]; snprintf(t, sizeof t, "%s/%ld", d, i - 3); r = link(t, p); if (r) r = mknod(p, S_IFREG | 0600, 0); break; }
        }
        if (r != 0) { err = errno; if (err == ENOSPC || err == EDQUOT) break; continue; }
        n++;
    }
    printf("disk_inodes: %s: %ld entries, stopped by %s\n", d, n, err ? strerror(err) : "own bound");
    fflush(stdout);
    if (cleanup) {
        for (long i = 0; i < 60000; i++) {
            snprintf(p, sizeof p, "%s/%ld", d, i);
            if (unlink(p) != 0 && rmdir(p) != 0 && errno == ENOENT && i > n + 8) break;
        }
        rmdir(d);
    }
    return n;
}

int main(int argc, char **argv) {
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    const char *nonce = argc > 2 ? argv[2] : "none";
    spray("/tmp", nonce, 0);
    spray(scratch, nonce, 1);
    return 0;
}
