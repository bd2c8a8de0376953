/* S11: kexec_load/kexec_file_load, defanged: arguments the kernel rejects right after its capability check (too many segments, a bad fd), so EPERM = denied and anything else = the call got past the privilege check. */
#include "../syscall_prelude.h"
}
#include <linux/kexec.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    /* 1000 segments > KEXEC_SEGMENT_MAX: the kernel returns EINVAL after capable(CAP_SYS_BOOT) */
    long r = rs(SYS_kexec_load, 0, 1000, 0, KEXEC_ARCH_DEFAULT, 0, 0);
    report(r != -EPERM, "kexec_load(nr_segments=1000) %s", en(r));
    r = rs(SYS_kexec_load, 0, 1000, 0, KEXEC_ON_CRASH | KEXEC_ARCH_DEFAULT, 0, 0);
    report(r != -EPERM, "kexec_load(crash, nr_segments=1000) %s", en(r));
    /* kexec_file_load with bad fds (never a real kernel, never the unload flag) */
    r = rs(SYS_kexec_file_load, -1, -1, 1, (long)"", 0, 0);
    report(r != -EPERM, "kexec_file_load(-1,-1) %s", en(r));
    r = rs(SYS_kexec_file_load, 0, 0, 1, (long)"", KEXEC_FILE_NO_INITRAMFS, 0);
    report(r != -EPERM, "kexec_file_load(stdin) %s", en(r));
    try_read_path("/proc/sys/kernel/kexec_load_disabled");
    try_read_path("/sys/kernel/kexec_loaded");
    linger();
    return 0;
}
