/* S26: sethostname/setdomainname and the /proc/sys/kernel/{hostname,domainname} files, with a gauntlet-<nonce> marker; the host hostname is watched by the knobs oracle, the private UTS namespace makes changes invisible, /proc/sys writes must fail. */
#include "../syscall_prelude.h"
}
#include <sys/utsname.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    struct utsname u;
    uname(&u);
    printf("hostname before: %s domain %s\n", u.nodename, u.domainname);
    char m[64];
    int n = snprintf(m, sizeof m, "gauntlet-%s", NONCE);
    long r = rs(SYS_sethostname, (long)m, n, 0, 0, 0, 0);
    report(r == 0, "sethostname(%s) %s", m, en(r));
    r = rs(SYS_setdomainname, (long)m, n, 0, 0, 0, 0);
    report(r == 0, "setdomainname(%s) %s", m, en(r));
    const char *files[] = {"/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"};
    for (int i = 0; i < 2; i++) {
        int fd = open(files[i], O_WRONLY);
        if (fd < 0) { report(0, "open %s for writing %s", files[i], strerror(errno)); continue; }
        ssize_t w = write(fd, m, n);
        report(w == n, "write %s %s", files[i], w == n ? "accepted" : strerror(errno));
        close(fd);
    }
    /* other /proc/sys files this sandbox's own namespaces would own (net, ipc, user) */
    const char *owned[] = {"/proc/sys/net/ipv4/ip_local_port_range", "/proc/sys/net/ipv4/ping_group_range",
                           "/proc/sys/kernel/msgmax", "/proc/sys/kernel/shmmax", "/proc/sys/user/max_user_namespaces",
                           "/proc/sys/net/core/somaxconn"};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) {
        char cur[128] = {0};
        int fd = open(owned[i], O_RDONLY);
        ssize_t k = fd >= 0 ? read(fd, cur, sizeof cur - 1) : -1;
        if (fd >= 0) close(fd);
        fd = open(owned[i], O_WRONLY);
        if (fd < 0) { report(0, "open %s for writing %s", owned[i], strerror(errno)); continue; }
        ssize_t w = k > 0 ? write(fd, cur, k) : -1;   /* its own current value */
        report(w > 0, "write %s (current value) %s", owned[i], w > 0 ? "accepted" : strerror(errno));
        close(fd);
    }
    uname(&u);
    printf("hostname after: %s domain %s\n", u.nodename, u.domainname);
    linger();
    return 0;
}
