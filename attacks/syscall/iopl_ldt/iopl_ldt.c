/* S27: direct hardware and descriptor-table access: iopl(3), ioperm on a port range, modify_ldt read/write (16-bit segments, the espfix class of bugs), and arch_prctl corners; ports are never touched even if access is granted. */
#include "../syscall_prelude.h"
}
#include <asm/ldt.h>
#include <asm/prctl.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    long r = rs(SYS_iopl, 3, 0, 0, 0, 0, 0);
    report(r == 0, "iopl(3) %s", en(r));
    r = rs(SYS_ioperm, 0x80, 1, 1, 0, 0, 0);
    report(r == 0, "ioperm(0x80) %s", en(r));
    r = rs(SYS_ioperm, 0x3f8, 8, 1, 0, 0, 0);
    report(r == 0, "ioperm(0x3f8 serial) %s", en(r));
    char buf[256];
    r = rs(SYS_modify_ldt, 0 /*read*/, (long)buf, sizeof buf, 0, 0, 0);
    report(r >= 0, "modify_ldt(read) %s", en(r));
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = 0;
    d.base_addr = 0;
    d.limit = 0xfff;
    d.seg_32bit = 0;   /* a 16-bit segment */
    d.contents = 0;
    d.useable = 1;
    r = rs(SYS_modify_ldt, 0x11 /*write, new mode*/, (long)&d, sizeof d, 0, 0, 0);
    report(r >= 0, "modify_ldt(write a 16-bit data segment) %s", en(r));
    r = rs(SYS_modify_ldt, 2 /*read default*/, (long)buf, sizeof buf, 0, 0, 0);
    printf("modify_ldt(read default) = %s\n", en(r));
    /* arch_prctl is allowed for TLS; its unusual codes */
    unsigned long v = 0;
    r = rs(SYS_arch_prctl, ARCH_GET_FS, (long)&v, 0, 0, 0, 0);
    printf("arch_prctl(ARCH_GET_FS) = %s\n", en(r));
    r = rs(SYS_arch_prctl, 0x1021 /*ARCH_GET_CPUID*/, 0, 0, 0, 0, 0);
    printf("arch_prctl(ARCH_GET_CPUID) = %s\n", en(r));
    r = rs(SYS_arch_prctl, 0x2001 /*ARCH_MAP_VDSO_X32*/, 0x10000000, 0, 0, 0, 0);
    printf("arch_prctl(ARCH_MAP_VDSO_X32) = %s\n", en(r));
    /* /dev/port, /dev/mem, /dev/kmem, /dev/cpu/0/msr */
    const char *devs[] = {"/dev/port", "/dev/mem", "/dev/kmem", "/dev/cpu/0/msr", "/dev/io"};
    for (int i = 0; i < 5; i++) {
        int fd = open(devs[i], O_RDONLY);
        report(fd >= 0, "open %s %s", devs[i], fd >= 0 ? "ok" : strerror(errno));
        if (fd >= 0) close(fd);
    }
    linger();
    return 0;
}
