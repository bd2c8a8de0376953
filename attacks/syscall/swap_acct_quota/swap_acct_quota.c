/* S27: swapon/swapoff, acct, quotactl/quotactl_fd, lookup_dcookie, uselib, nfsservctl, _sysctl, sysfs/ustat: defanged arguments (a non-swap file in scratch, a path that does not exist, accounting switched straight back off) so only the privilege check decides. */
#include "../syscall_prelude.h"
}
#include <sys/swap.h>
#include <sys/quota.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    char f[600];
    snprintf(f, sizeof f, "%s/swap-%s", SCRATCH, NONCE);
    int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        char m[64];
        int n = snprintf(m, sizeof m, "gauntlet-%s\n", NONCE);
        if (write(fd, m, n) != n) {}
        close(fd);
    }
    /* a file with no swap signature: past the capability check the kernel answers EINVAL */
    long r = rs(SYS_swapon, (long)f, 0, 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "swapon(non-swap file) %s", en(r));
    r = rs(SYS_swapoff, (long)"/nonexistent-gauntlet-swap", 0, 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "swapoff(missing path) %s", en(r));
    r = rs(SYS_swapoff, (long)"/", 0, 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "swapoff(/) %s", en(r));
    /* process accounting into scratch, switched off again at once if it was accepted */
    r = rs(SYS_acct, (long)f, 0, 0, 0, 0, 0);
    report(r == 0, "acct(%s) %s", f, en(r));
    if (r == 0) rs(SYS_acct, 0, 0, 0, 0, 0, 0);
    r = rs(SYS_acct, 0, 0, 0, 0, 0, 0);
    report(r == 0, "acct(NULL) %s", en(r));
    /* quotas: read-only queries and a sync */
    struct dqinfo info;
    r = rs(SYS_quotactl, QCMD(Q_GETINFO, USRQUOTA), (long)"/", 0, (long)&info, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "quotactl(Q_GETINFO, /) %s", en(r));
    r = rs(SYS_quotactl, QCMD(Q_SYNC, USRQUOTA), 0, 0, 0, 0, 0);
    report(r == 0, "quotactl(Q_SYNC, all) %s", en(r));
    int d = open(SCRATCH, O_RDONLY | O_DIRECTORY);
    r = rs(443 /*quotactl_fd*/, d, QCMD(Q_GETINFO, USRQUOTA), 0, (long)&info, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "quotactl_fd(Q_GETINFO) %s", en(r));
    if (d >= 0) close(d);
    char b[256];
    r = rs(SYS_lookup_dcookie, 1, (long)b, sizeof b, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "lookup_dcookie %s", en(r));
    r = rs(SYS_uselib, (long)"/proc/self/exe", 0, 0, 0, 0, 0);
    report(r != -EPERM && r != -ENOSYS, "uselib %s", en(r));
    r = rs(SYS_nfsservctl, 0, 0, 0, 0, 0, 0);
    printf("nfsservctl = %s\n", en(r));
    r = rs(SYS__sysctl, 0, 0, 0, 0, 0, 0);
    printf("_sysctl = %s\n", en(r));
    r = rs(SYS_sysfs, 3, 0, 0, 0, 0, 0);
    printf("sysfs(3) = %s\n", en(r));
    r = rs(SYS_vhangup, 0, 0, 0, 0, 0, 0);
    report(r == 0, "vhangup %s", en(r));
    unlink(f);
    linger();
    return 0;
}
