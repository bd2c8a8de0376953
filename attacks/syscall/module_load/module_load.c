/* S12: init_module/finit_module/delete_module, defanged (an invalid ELF image, a module name that cannot exist), plus the modprobe autoload path through unusual socket families and the /proc/sys/kernel/modprobe knob. */
#include "../syscall_prelude.h"
}
#include <sys/socket.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    static const char junk[] = "\177ELF-not-a-module-gauntlet";
    long r = rs(SYS_init_module, (long)junk, sizeof junk, (long)"", 0, 0, 0);
    /* past the capability check the kernel answers ENOEXEC/EINVAL/EFAULT; EPERM means denied */
    report(r != -EPERM && r != -ENOSYS, "init_module(junk) %s", en(r));
    int fd = open("/dev/null", O_RDONLY);
    r = rs(SYS_finit_module, fd, (long)"", 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "finit_module(/dev/null) %s", en(r));
    close(fd);
    fd = open("/proc/self/exe", O_RDONLY);
    r = rs(SYS_finit_module, fd, (long)"", 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "finit_module(own binary) %s", en(r));
    if (fd >= 0) close(fd);
    char name[64];
    snprintf(name, sizeof name, "gauntlet_%s", NONCE);
    r = rs(SYS_delete_module, (long)name, O_NONBLOCK, 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "delete_module(%s) %s", name, en(r));
    r = rs(174 /*create_module*/, (long)name, 4096, 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "create_module %s", en(r));
    /* request_module through socket families whose modules are usually not loaded */
    const int fams[] = {AF_APPLETALK, AF_X25, AF_AX25, AF_IPX, AF_RDS, AF_CAN, AF_TIPC, AF_BLUETOOTH, AF_VSOCK, AF_ALG, AF_KEY, AF_PACKET, AF_XDP};
    for (size_t i = 0; i < sizeof fams / sizeof *fams; i++) {
        int s = socket(fams[i], SOCK_DGRAM, 0);
        if (s < 0) s = socket(fams[i], SOCK_SEQPACKET, 0);
        report(s >= 0, "socket(family %d) (module autoload path) %s", fams[i], s >= 0 ? "opened" : strerror(errno));
        if (s >= 0) close(s);
    }
    /* netlink protocols are allowed by design; an unknown protocol still asks the kernel to autoload
     * net-pf-16-proto-N (host modprobe). Informational: the knobs oracle sees any module that loads. */
    int nl_open = 0;
    for (int proto = 0; proto < 32; proto++) {
        int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
        if (s >= 0) { nl_open++; close(s); }
    }
    printf("netlink protocols that opened: %d of 32\n", nl_open);
    /* the knobs the module loader trusts */
    try_read_path("/proc/sys/kernel/modprobe");
    fd = open("/proc/sys/kernel/modprobe", O_WRONLY);
    report(fd >= 0, "open /proc/sys/kernel/modprobe for writing %s (nothing written)", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    try_read_path("/proc/sys/kernel/modules_disabled");
    linger();
    return 0;
}
