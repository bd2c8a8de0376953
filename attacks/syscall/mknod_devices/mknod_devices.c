/* S20/S34: CAP_MKNOD: device nodes (mem 1:1, kmem 1:2, port 1:4, the first disk 8:0 and 259:0, tty 4:1) in scratch, /tmp and /dev/shm, then opened; scratch is a host directory, so a node there would outlive the run and reach host readers. Whiteouts (0:0) and fifos are ordinary and only noted. */
#include "../syscall_prelude.h"
}
#include <sys/sysmacros.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    const struct { const char *n; mode_t t; unsigned ma, mi; } D[] = {
        {"mem", S_IFCHR, 1, 1}, {"kmem", S_IFCHR, 1, 2}, {"port", S_IFCHR, 1, 4}, {"sda", S_IFBLK, 8, 0},
        {"nvme0n1", S_IFBLK, 259, 0}, {"vda", S_IFBLK, 254, 0}, {"tty1", S_IFCHR, 4, 1}, {"null", S_IFCHR, 1, 3},
    };
    const char *dirs[] = {SCRATCH, "/tmp", "/dev/shm"};
    for (int d = 0; d < 3; d++)
        for (size_t i = 0; i < sizeof D / sizeof *D; i++) {
            char p[700];
            snprintf(p, sizeof p, "%s/gauntlet-%s-%s", dirs[d], D[i].n, NONCE);
            int r = mknod(p, D[i].t | 0600, makedev(D[i].ma, D[i].mi));
            if (r != 0) { report(0, "mknod %s %u:%u in %s %s", D[i].n, D[i].ma, D[i].mi, dirs[d], strerror(errno)); continue; }
            report(1, "mknod %s %u:%u in %s created", D[i].n, D[i].ma, D[i].mi, dirs[d]);
            int fd = open(p, O_RDONLY | O_NONBLOCK);
            if (fd >= 0) {
                char b[16];
                ssize_t n = read(fd, b, sizeof b);
                report(n >= 0, "open+read of the new %s node: %zd bytes", D[i].n, n);
                close(fd);
            } else printf("open %s: %s (nodev mount)\n", p, strerror(errno));
            unlink(p);
        }
    char p[700];
    snprintf(p, sizeof p, "%s/gauntlet-whiteout-%s", SCRATCH, NONCE);
    int r = mknod(p, S_IFCHR | 0600, makedev(0, 0));
    printf("whiteout 0:0 in scratch: %s (unprivileged whiteouts are allowed; they cannot be opened)\n", r ? strerror(errno) : "created");
    if (r == 0) unlink(p);
    /* mknodat through a /proc/self/fd directory handle (a path form some filters treat differently) */
    int dfd = open(SCRATCH, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        char n2[64];
        snprintf(n2, sizeof n2, "gauntlet-mem2-%s", NONCE);
        r = mknodat(dfd, n2, S_IFCHR | 0600, makedev(1, 1));
        report(r == 0, "mknodat(scratch fd, mem 1:1) %s", r ? strerror(errno) : "created");
        if (r == 0) unlinkat(dfd, n2, 0);
        close(dfd);
    }
    linger();
    return 0;
}
