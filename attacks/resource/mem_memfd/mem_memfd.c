/* R06 memfd + fallocate (defanged: at most 16 files of 48 MiB plus 60 MiB mapped): memfd_create files live on the kernel's internal shmem mount, not on the sandbox's
 * size-capped /tmp or /dev/shm, so a tmpfs size= cap does not bound them; fallocate allocates their pages
 * without touching them from user space. Tries fallocate(1 GiB) on one memfd, then grows several more in
 * 64 MiB steps (ftruncate + fallocate, and MAP_SHARED touching), keeping the fds open and the pages unmapped.
 * Only memcg charging of shmem stops it. Defanged: 1 GiB in total. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <signal.h>

#define MiB (1L << 20)
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* try every flag set an attacker would: plain, CLOEXEC, NOEXEC_SEAL (what a strict filter allows) */
static int any_memfd(const char *name) {
    unsigned flags[] = {MFD_CLOEXEC, 0, MFD_NOEXEC_SEAL, MFD_NOEXEC_SEAL | MFD_CLOEXEC, MFD_NOEXEC_SEAL | MFD_ALLOW_SEALING};
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        int fd = syscall(SYS_memfd_create, name, flags[i]);
        if (fd >= 0) { static int said; if (!said++) printf("mem_memfd: memfd_create flags 0x%x -> fd %d\n", flags[i], fd); return fd; }
        static int said2; if (said2++ < 5) printf("mem_memfd: memfd_create flags 0x%x: %s\n", flags[i], strerror(errno));
    }
    /* fallback: an unnamed shmem file */
    int fd = open("/dev/shm", O_TMPFILE | O_RDWR, 0600);
    if (fd < 0) fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    printf("mem_memfd: O_TMPFILE fallback -> %d\n", fd);
    return fd;
}

int main(void) {
    long total = 0;
    signal(SIGXFSZ, SIG_IGN); /* stay under RLIMIT_FSIZE per file; never die of it */
    printf("mem_memfd: memfd_create + fallocate in many files (each under RLIMIT_FSIZE), up to 1 GiB\n");
    fflush(stdout);
    /* many memfds, 48 MiB each in 16 MiB steps: a per-file size limit does not bound the total */
    for (int f = 0; f < 16 && total < 768; f++) {
        int fd = any_memfd("gauntlet-fill");
        fflush(stdout);
        if (fd < 0) break;
        for (long off = 0; off < 48 * MiB; off += 16 * MiB) {
            if (fallocate(fd, 0, off, 16 * MiB) != 0) {
                printf("mem_memfd: fallocate file %d at %ld MiB: %s\n", f, off / MiB, strerror(errno));
                break;
            }
            total += 16;
        }
        printf("mem_memfd: %ld MiB allocated in %d memfds\n", total, f + 1);
        fflush(stdout);
    }
    int fd2 = any_memfd("gauntlet-map");
    if (fd2 >= 0 && ftruncate(fd2, 60 * MiB) == 0) {
        char *m = mmap(NULL, 60 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
        if (m != MAP_FAILED) {
            for (long i = 0; i < 60 * MiB; i += 4096) m[i] = 1;
            munmap(m, 60 * MiB);
            total += 60;
        }
    }
    printf("mem_memfd: %ld MiB of memfd pages held and I was not killed\n", total);
    return 0;
}
