/* S05: unshare(2) with every CLONE_NEW* flag, alone and combined, then the CVE-2022-0492 follow-up (map root, mount cgroup). */
#include "../syscall_prelude.h"
}
#include <sched.h>
#include <sys/mount.h>
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct { const char *name; long flag; const char *ns; } NS[] = {
    {"CLONE_NEWUSER", CLONE_NEWUSER, "user"},   {"CLONE_NEWNS", CLONE_NEWNS, "mnt"},
    {"CLONE_NEWPID", CLONE_NEWPID, "pid_for_children"}, {"CLONE_NEWNET", CLONE_NEWNET, "net"},
    {"CLONE_NEWIPC", CLONE_NEWIPC, "ipc"},      {"CLONE_NEWUTS", CLONE_NEWUTS, "uts"},
    {"CLONE_NEWCGROUP", CLONE_NEWCGROUP, "cgroup"}, {"CLONE_NEWTIME", CLONE_NEWTIME, "time_for_children"},
};

static long flagv;
static const char *nsname;

/* In a child, so a success does not change the prober. Exit 1 = the namespace changed. */
static int one(void *a)
{
    (void)a;
    unsigned long long before = ns_ino("self", nsname);
    long r = rs(SYS_unshare, flagv, 0, 0, 0, 0, 0);
    unsigned long long after = ns_ino("self", nsname);
    printf("  unshare(0x%lx) = %s, %s ns %llu -> %llu\n", flagv, en(r), nsname, before, after);
    if (r != 0) return 0;
    if (flagv & CLONE_NEWUSER) {
        /* the classic follow-up: become root of the new namespace and mount something */
        int fd = open("/proc/self/setgroups", O_WRONLY);
        if (fd >= 0) { ssize_t w = write(fd, "deny", 4); (void)w; close(fd); }
        fd = open("/proc/self/uid_map", O_WRONLY);
        if (fd >= 0) { ssize_t w = write(fd, "0 0 1", 5); (void)w; close(fd); }
        char cap[64] = "";
        status_field("self", "CapEff", cap, sizeof cap);
        printf("  CapEff in the new user ns: %s\n", cap);
        long m = rs(SYS_unshare, CLONE_NEWNS | CLONE_NEWCGROUP, 0, 0, 0, 0, 0);
        printf("  nested unshare(NEWNS|NEWCGROUP) = %s\n", en(m));
        char t[600];
        snprintf(t, sizeof t, "%s/cg-%s", SCRATCH, NONCE);
        mkdir(t, 0755);
        long mr = rs(SYS_mount, (long)"cgroup", (long)t, (long)"cgroup", 0, (long)"rdma", 0);
        printf("  mount cgroup v1 rdma in the new ns = %s\n", en(mr));
        if (mr == 0) { printf("  (mounted; release_agent not touched)\n"); umount2(t, MNT_DETACH); }
    }
    return (before != after || r == 0) ? 1 : 0;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    long all = 0;
    for (size_t i = 0; i < sizeof NS / sizeof *NS; i++) {
        flagv = NS[i].flag;
        nsname = NS[i].ns;
        all |= flagv;
        int st = in_child(one, NULL, 2);
        report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "unshare-%s (%s)", NS[i].name, wstr(st));
    }
    flagv = all; nsname = "user";
    int st = in_child(one, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "unshare-all-namespaces (%s)", wstr(st));
    flagv = CLONE_NEWUSER | CLONE_NEWNS; nsname = "user";
    st = in_child(one, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "unshare-NEWUSER|NEWNS (%s)", wstr(st));
    /* flags in the high half of the 64-bit register (the kernel takes an unsigned long) */
    flagv = (long)(0x100000000UL | CLONE_NEWUSER); nsname = "user";
    st = in_child(one, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "unshare-NEWUSER-with-high-bits (%s)", wstr(st));
    /* also the unshare of non-namespace state that libcs use (allowed or not, harmless) */
    long r = rs(SYS_unshare, CLONE_FILES | CLONE_FS, 0, 0, 0, 0, 0);
    printf("unshare(CLONE_FILES|CLONE_FS) = %s (not a namespace)\n", en(r));
    /* the sysctl that would gate user namespaces, for the record */
    try_read_path("/proc/sys/user/max_user_namespaces");
    linger();
    return 0;
}
