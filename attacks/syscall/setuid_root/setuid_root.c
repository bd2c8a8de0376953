/* S18: setuid/setresuid/setreuid/setfsuid/setgid/setgroups to 0 and to other ids; escaped only if the process ends up with a real gain: a capability, a host-root identity, or another uid's identity. */
#include "../syscall_prelude.h"
}
#include <grp.h>

static void state(const char *when, char *cap, size_t n)
{
    char uid[128] = "", gid[128] = "", groups[128] = "";
    status_field("self", "Uid", uid, sizeof uid);
    status_field("self", "Gid", gid, sizeof gid);
    status_field("self", "Groups", groups, sizeof groups);
    status_field("self", "CapEff", cap, n);
    printf("[%s] Uid: %s | Gid: %s | Groups: %s | CapEff: %s\n", when, uid, gid, groups, cap);
}

static int capful(const char *cap) { return strspn(cap, "0") != strlen(cap); }

int main(int argc, char **argv)
{
    args(argc, argv);
    char cap[64] = "";
    state("start", cap, sizeof cap);
    report(capful(cap), "capabilities at start: CapEff %s", cap);
    /* the uid map shows whether "uid 0" here is root on the host */
    try_read_path("/proc/self/uid_map");
    try_read_path("/proc/self/gid_map");
    try_read_path("/proc/self/setgroups");
    const struct { const char *n; long nr, a, b, c; } C[] = {
        {"setuid(0)", SYS_setuid, 0, 0, 0},
        {"setresuid(0,0,0)", SYS_setresuid, 0, 0, 0},
        {"setreuid(0,0)", SYS_setreuid, 0, 0, 0},
        {"setfsuid(0)", SYS_setfsuid, 0, 0, 0},
        {"setgid(0)", SYS_setgid, 0, 0, 0},
        {"setresgid(0,0,0)", SYS_setresgid, 0, 0, 0},
        {"setuid(1) (daemon)", SYS_setuid, 1, 0, 0},
        {"setuid(65534) (nobody)", SYS_setuid, 65534, 0, 0},
        {"setresuid(-1,1000,-1)", SYS_setresuid, -1, 1000, -1},
        {"setgid(65534)", SYS_setgid, 65534, 0, 0},
    };
    for (size_t i = 0; i < sizeof C / sizeof *C; i++) {
        long r = rs(C[i].nr, C[i].a, C[i].b, C[i].c, 0, 0, 0);
        char c2[64] = "", uid[128] = "";
        status_field("self", "CapEff", c2, sizeof c2);
        status_field("self", "Uid", uid, sizeof uid);
        /* uid 0 inside the user namespace is expected (mapped to an unprivileged host uid); a gain is a
         * capability appearing, or moving to an identity the map did not grant */
        int gain = capful(c2) || (r >= 0 && C[i].a != 0 && C[i].a != -1 && C[i].nr != SYS_setfsuid);
        report(gain, "%s returned %s, Uid %s CapEff %s", C[i].n, en(r), uid, c2);
    }
    gid_t g[2] = {0, 65534};
    long r = rs(SYS_setgroups, 2, (long)g, 0, 0, 0, 0);
    report(r == 0, "setgroups({0,65534}) %s", en(r));
    r = rs(SYS_setgroups, 0, 0, 0, 0, 0, 0);
    printf("setgroups(0, NULL) (dropping only) = %s\n", en(r));
    /* rewrite our own id maps (only possible from outside; tried anyway) */
    int fd = open("/proc/self/uid_map", O_WRONLY);
    if (fd >= 0) {
        ssize_t w = write(fd, "0 0 4294967295", 14);
        report(w > 0, "write /proc/self/uid_map full range %s", w > 0 ? "ok" : strerror(errno));
        close(fd);
    } else report(0, "open /proc/self/uid_map for writing %s", strerror(errno));
    state("end", cap, sizeof cap);
    linger();
    return 0;
}
