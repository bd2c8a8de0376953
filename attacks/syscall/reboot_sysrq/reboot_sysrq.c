/* S23: reboot(2) (defanged: a wrong second magic, so the kernel refuses right after its privilege check), Ctrl-Alt-Del toggles, /proc/sysrq-trigger ('h' = help only), kernel.sysrq and panic knobs (rewritten with their current value). */
#include "../syscall_prelude.h"
}
#include <linux/reboot.h>

static void same_value_write(const char *path)
{
    char cur[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("open %s: %s\n", path, strerror(errno)); return; }
    ssize_t n = read(fd, cur, sizeof cur - 1);
    close(fd);
    fd = open(path, O_WRONLY);
    if (fd < 0) { report(0, "open-for-write %s %s", path, strerror(errno)); return; }
    ssize_t w = n > 0 ? write(fd, cur, n) : -1;
    report(w > 0, "write %s (its current value %.*s) %s", path, (int)(n > 0 ? n - 1 : 0), cur, w > 0 ? "accepted" : strerror(errno));
    close(fd);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    /* wrong magic2: past the capability check the kernel answers EINVAL; EPERM = denied */
    long r = rs(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678, LINUX_REBOOT_CMD_POWER_OFF, 0, 0, 0);
    report(r != -EPERM, "reboot(bad magic2, POWER_OFF) %s", en(r));
    r = rs(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678, LINUX_REBOOT_CMD_CAD_OFF, 0, 0, 0);
    report(r != -EPERM, "reboot(bad magic2, CAD_OFF) %s", en(r));
    /* inside a pid namespace RESTART would only end the namespace: still defanged with the bad magic */
    r = rs(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678, LINUX_REBOOT_CMD_RESTART, 0, 0, 0);
    report(r != -EPERM, "reboot(bad magic2, RESTART) %s", en(r));
    /* sysrq: 'h' only prints the help text to the kernel log */
    int fd = open("/proc/sysrq-trigger", O_WRONLY);
    if (fd >= 0) {
        ssize_t w = write(fd, "h", 1);
        report(w == 1, "write 'h' to /proc/sysrq-trigger %s", w == 1 ? "accepted" : strerror(errno));
        close(fd);
    } else report(0, "open /proc/sysrq-trigger for writing %s", strerror(errno));
    same_value_write("/proc/sys/kernel/sysrq");
    same_value_write("/proc/sys/kernel/ctrl-alt-del");
    same_value_write("/proc/sys/kernel/panic");
    same_value_write("/proc/sys/kernel/panic_on_oops");
    same_value_write("/proc/sys/vm/panic_on_oom");
    same_value_write("/proc/sys/kernel/core_pattern");
    same_value_write("/proc/sys/kernel/poweroff_cmd");
    try_read_path("/proc/sys/kernel/random/boot_id");
    linger();
    return 0;
}
