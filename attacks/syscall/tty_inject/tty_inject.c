/* S22: terminal injection: TIOCSTI (also with the 32-bit request hidden under high bits of the 64-bit register), TIOCLINUX paste, TIOCSCTTY steal, TIOCCONS, TIOCSETD, vhangup, on fds 0-2, /dev/tty, /dev/console, /dev/ptmx, the parent's fds. */
#include "../syscall_prelude.h"
}
#include <sys/ioctl.h>
#include <termios.h>

static char marker[80];

static void on_fd(int fd, const char *name)
{
    if (fd < 0) return;
    int istty = isatty(fd);
    pid_t sid = -1, pg = -1;
    ioctl(fd, TIOCGSID, &sid);
    ioctl(fd, TIOCGPGRP, &pg);
    printf("%s: isatty=%d sid=%d pgrp=%d (our sid %d)\n", name, istty, sid, pg, getsid(0));
    /* TIOCSTI: one harmless byte at a time (a '#' comment marker, never a newline) */
    int injected = 0;
    for (const char *c = marker; *c; c++) {
        long r = rs(SYS_ioctl, fd, TIOCSTI, (long)c, 0, 0, 0);
        if (r != 0) { if (c == marker) report(0, "TIOCSTI on %s %s", name, en(r)); break; }
        injected++;
    }
    if (injected) report(1, "TIOCSTI on %s injected %d bytes", name, injected);
    /* the request is an unsigned int in the kernel: a filter comparing all 64 bits would miss these */
    const unsigned long hi[] = {0x100000000UL | TIOCSTI, 0xffffffff00000000UL | TIOCSTI, 0x8000000000000000UL | TIOCSTI};
    for (int i = 0; i < 3; i++) {
        long r = rs(SYS_ioctl, fd, (long)hi[i], (long)"#", 0, 0, 0);
        report(r == 0, "TIOCSTI-high-bits 0x%lx on %s %s", hi[i], name, en(r));
    }
    /* TIOCLINUX: set selection / paste selection / report mouse (virtual consoles) */
    char sub[8] = {3 /*TIOCL_PASTESEL*/};
    long r = rs(SYS_ioctl, fd, TIOCLINUX, (long)sub, 0, 0, 0);
    report(r == 0, "TIOCLINUX-pastesel on %s %s", name, en(r));
    r = rs(SYS_ioctl, fd, 0x100000000UL | TIOCLINUX, (long)sub, 0, 0, 0);
    report(r == 0, "TIOCLINUX-high-bits on %s %s", name, en(r));
    /* make it our controlling terminal, stealing it (arg 1) if another session owns it */
    r = rs(SYS_ioctl, fd, TIOCSCTTY, 1, 0, 0, 0);
    report(r == 0, "TIOCSCTTY(steal) on %s %s", name, en(r));
    r = rs(SYS_ioctl, fd, 0x100000000UL | TIOCSCTTY, 0, 0, 0, 0);
    report(r == 0, "TIOCSCTTY-high-bits on %s %s", name, en(r));
    r = rs(SYS_ioctl, fd, TIOCCONS, 0, 0, 0, 0);
    report(r == 0, "TIOCCONS (redirect console) on %s %s", name, en(r));
    if (r == 0) rs(SYS_ioctl, fd, TIOCCONS, 0, 0, 0, 0);
    /* line discipline change (N_TTY = 0, i.e. no change on a normal tty): the policy means to deny
     * TIOCSETD outright, so any answer but EPERM shows the filter let it reach the tty layer */
    int ldisc = 0;
    r = rs(SYS_ioctl, fd, TIOCSETD, (long)&ldisc, 0, 0, 0);
    report(r != -EPERM, "TIOCSETD (0x%x) on %s %s%s", TIOCSETD, name, en(r), r != -EPERM ? " (seccomp let it through)" : "");
    r = rs(SYS_ioctl, fd, 0x100000000UL | TIOCSETD, (long)&ldisc, 0, 0, 0);
    report(r != -EPERM, "TIOCSETD-high-bits on %s %s", name, en(r));
}

int main(int argc, char **argv)
{
    args(argc, argv);
    snprintf(marker, sizeof marker, "#gauntlet-%s", NONCE);
    char sid[64] = "", nnp[8] = "";
    status_field("self", "NSsid", sid, sizeof sid);
    status_field("self", "NoNewPrivs", nnp, sizeof nnp);
    printf("session %d, pgrp %d, pid %d, NSsid %s\n", getsid(0), getpgrp(), getpid(), sid);
    report(getsid(0) != getpid(), "own session (sid %d vs pid %d): session shared with the caller", getsid(0), getpid());
    on_fd(0, "fd0");
    on_fd(1, "fd1");
    on_fd(2, "fd2");
    const char *devs[] = {"/dev/tty", "/dev/console", "/dev/tty0", "/dev/tty1", "/dev/ptmx", "/dev/pts/0", "/dev/pts/1", "/proc/self/fd/0"};
    for (size_t i = 0; i < sizeof devs / sizeof *devs; i++) {
        int fd = open(devs[i], O_RDWR | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) { printf("open %s: %s\n", devs[i], strerror(errno)); continue; }
        on_fd(fd, devs[i]);
        close(fd);
    }
    /* the parent's (supervisor's, without a pid ns) terminal descriptors */
    for (int i = 0; i < 3; i++) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/fd/%d", getppid(), i);
        int fd = open(p, O_RDWR | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) { printf("open %s: %s\n", p, strerror(errno)); continue; }
        on_fd(fd, p);
        close(fd);
    }
    long r = rs(SYS_vhangup, 0, 0, 0, 0, 0, 0);
    report(r == 0, "vhangup %s", en(r));
    linger();
    return 0;
}
