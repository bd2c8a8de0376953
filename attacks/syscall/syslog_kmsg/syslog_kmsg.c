/* S25: read the kernel log (syslog READ_ALL/READ/SIZE_BUFFER, /dev/kmsg, /proc/kmsg) and inject a marker line into it; never clears the log. Whatever is read is printed for the canary oracle. */
#include "../syscall_prelude.h"
}
int main(int argc, char **argv)
{
    args(argc, argv);
    try_read_path("/proc/sys/kernel/dmesg_restrict");
    static char buf[16384];
    long r = rs(SYS_syslog, 10 /*SIZE_BUFFER*/, 0, 0, 0, 0, 0);
    report(r >= 0, "syslog(SIZE_BUFFER) %s", en(r));
    r = rs(SYS_syslog, 3 /*READ_ALL*/, (long)buf, sizeof buf - 1, 0, 0, 0);
    report(r > 0, "syslog(READ_ALL) %s", en(r));
    if (r > 0) { buf[r] = 0; printf("kernel log tail: %s\n", buf + (r > 4000 ? r - 4000 : 0)); }
    r = rs(SYS_syslog, 9 /*SIZE_UNREAD*/, 0, 0, 0, 0, 0);
    report(r >= 0, "syslog(SIZE_UNREAD) %s", en(r));
    r = rs(SYS_syslog, 8 /*CONSOLE_LEVEL*/, 0, 7, 0, 0, 0);   /* would raise console verbosity */
    report(r >= 0, "syslog(CONSOLE_LEVEL) %s", en(r));
    const char *files[] = {"/dev/kmsg", "/proc/kmsg", "/proc/self/root/dev/kmsg", "/var/log/kern.log", "/var/log/syslog", "/var/log/dmesg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        int fd = open(files[i], O_RDONLY | O_NONBLOCK);
        if (fd < 0) { report(0, "open %s %s", files[i], strerror(errno)); continue; }
        ssize_t n = read(fd, buf, sizeof buf - 1);
        report(n > 0, "read %s %zd bytes", files[i], n);
        if (n > 0) { buf[n] = 0; printf("%s: %s\n", files[i], buf); }
        close(fd);
    }
    int fd = open("/dev/kmsg", O_WRONLY);
    if (fd >= 0) {
        char m[128];
        int n = snprintf(m, sizeof m, "<6>gauntlet-%s\n", NONCE);
        ssize_t w = write(fd, m, n);
        report(w == n, "inject a line through /dev/kmsg %s", w == n ? "ok" : strerror(errno));
        close(fd);
    } else report(0, "open /dev/kmsg for writing %s", strerror(errno));
    linger();
    return 0;
}
