/* S14: userfaultfd (the race amplifier of many kernel exploits): the syscall with each flag, the /dev/userfaultfd device with USERFAULTFD_IOC_NEW, and a live registration if either works. */
#include "../syscall_prelude.h"
}
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/userfaultfd.h>
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

static void exercise(int fd, const char *how)
{
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    int a = ioctl(fd, UFFDIO_API, &api);
    printf("%s: UFFDIO_API = %d (%s)\n", how, a, a ? strerror(errno) : "ok");
    void *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct uffdio_register reg = {.range = {(unsigned long)page, 4096}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    int g = ioctl(fd, UFFDIO_REGISTER, &reg);
    report(a == 0 && g == 0, "userfaultfd-%s register a range %s", how, g ? strerror(errno) : "ok");
    munmap(page, 4096);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    try_read_path("/proc/sys/vm/unprivileged_userfaultfd");
    const struct { const char *n; int f; } F[] = {
        {"0", 0}, {"cloexec", O_CLOEXEC}, {"nonblock", O_NONBLOCK}, {"user-mode-only", UFFD_USER_MODE_ONLY},
        {"cloexec|nonblock|user-mode-only", O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY},
    };
    for (size_t i = 0; i < sizeof F / sizeof *F; i++) {
        long fd = rs(SYS_userfaultfd, F[i].f, 0, 0, 0, 0, 0);
        report(fd >= 0, "userfaultfd(%s) %s", F[i].n, en(fd));
        if (fd >= 0) { exercise((int)fd, F[i].n); close((int)fd); }
    }
    const char *devs[] = {"/dev/userfaultfd", "/proc/self/root/dev/userfaultfd"};
    for (int i = 0; i < 2; i++) {
        int dev = open(devs[i], O_RDWR | O_CLOEXEC);
        if (dev < 0) { report(0, "open %s %s", devs[i], strerror(errno)); continue; }
        int fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
        report(fd >= 0, "%s USERFAULTFD_IOC_NEW %s", devs[i], fd >= 0 ? "ok" : strerror(errno));
        if (fd >= 0) { exercise(fd, "device"); close(fd); }
        close(dev);
    }
    /* the x32 number of the same call */
    long fd = rs(SYS_userfaultfd | 0x40000000, O_CLOEXEC, 0, 0, 0, 0, 0);
    report(fd >= 0, "userfaultfd(x32 number) %s", en(fd));
    linger();
    return 0;
}
