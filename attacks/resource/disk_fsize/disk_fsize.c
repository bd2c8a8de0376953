/* R14 single-file growth with SIGXFSZ at its default action: write one file in the scratch directory in
 * 1 MiB blocks up to 1 GiB. Contained: the first write past RLIMIT_FSIZE (64 MiB) raises SIGXFSZ and the
 * kernel kills the process (limit file_size). Defanged: 1 GiB at most, removed if the process survives. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static char block[1 << 20];

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char path[600];
    snprintf(path, sizeof path, "%s/disk_fsize.big", dir);
    memset(block, 0x55, sizeof block);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { printf("disk_fsize: open: %s\n", strerror(errno)); return 0; }
    printf("disk_fsize: writing one file up to 1 GiB\n");
    fflush(stdout);
    long mib = 0;
    for (; mib < 1024; mib++) if (write(fd, block, sizeof block) != (ssize_t)sizeof block) break;
    printf("disk_fsize: wrote %ld MiB and was not killed (%s)\n", mib, strerror(errno));
    close(fd);
    unlink(path);
    return 0;
}
