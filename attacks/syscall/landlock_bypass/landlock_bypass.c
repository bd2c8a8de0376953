/* S34: Landlock bypass variants: cross-rule rename/link (refer) from read-only or executable areas into scratch and back, /proc/self/fd reopen with wider modes, O_PATH upgrades, leaked directory fds, a stacked permissive ruleset, and truncate/chmod/utime on read-only files; ends with a read of the canary through every path form. */
#include "../syscall_prelude.h"
}
#include <dirent.h>
#include <poll.h>
#include <linux/landlock.h>
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

int main(int argc, char **argv)
{
    args(argc, argv);
    char exe[512] = {0}, p[1200], q[1200];
    if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "/proc/self/exe");
    long abi = rs(__NR_landlock_create_ruleset, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0, 0, 0);
    printf("landlock ABI %s\n", en(abi));
    /* 1: refer: link/rename our read-only+exec binary into scratch (would carry the exec right along) */
    snprintf(p, sizeof p, "%s/ll-link-%s", SCRATCH, NONCE);
    int r = link(exe, p);
    report(r == 0, "link(program -> scratch) %s", r ? strerror(errno) : "ok");
    if (r == 0) unlink(p);
    r = rename(exe, p);
    report(r == 0, "rename(program -> scratch) %s", r ? strerror(errno) : "ok");
    if (r == 0 && rename(p, exe)) printf("could not move the program back: %s\n", strerror(errno)); /* defanged */
    /* rename a scratch file onto a read-only location */
    snprintf(q, sizeof q, "%s/ll-file-%s", SCRATCH, NONCE);
    int fd = open(q, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);
    const char *ro_targets[] = {"/ll-gauntlet", "/proc/ll-gauntlet", "/dev/ll-gauntlet"};
    for (int i = 0; i < 3; i++) {
        r = rename(q, ro_targets[i]);
        report(r == 0, "rename(scratch -> %s) %s", ro_targets[i], r ? strerror(errno) : "ok");
        if (r == 0) { if (rename(ro_targets[i], q)) {} }
        r = link(q, ro_targets[i]);
        report(r == 0, "link(scratch -> %s) %s", ro_targets[i], r ? strerror(errno) : "ok");
        if (r == 0) unlink(ro_targets[i]);
    }
    /* 2: /proc/self/fd reopen: O_PATH or read-only handles reopened for writing */
    const char *ro_files[] = {exe, "/proc/self/exe", "/etc/passwd", "/proc/sys/kernel/hostname"};
    for (int i = 0; i < 4; i++) {
        int o = open(ro_files[i], O_PATH);
        if (o < 0) { printf("O_PATH %s: %s\n", ro_files[i], strerror(errno)); continue; }
        char fp[64];
        snprintf(fp, sizeof fp, "/proc/self/fd/%d", o);
        int w = open(fp, O_WRONLY);
        report(w >= 0, "reopen %s (O_PATH) for writing via %s %s", ro_files[i], fp, w >= 0 ? "ok" : strerror(errno));
        if (w >= 0) close(w);
        close(o);
    }
    /* 3: truncate/chmod/utime on the read-only program, defanged: each sets the value it already has, so
     * only the permission check decides and nothing changes even if it passes */
    struct stat es;
    if (stat(exe, &es) == 0) {
        r = truncate(exe, es.st_size);
        report(r == 0, "truncate(program, its own size) %s", r ? strerror(errno) : "ok");
        r = chmod(exe, es.st_mode & 07777);
        report(r == 0, "chmod(program, its own mode) %s", r ? strerror(errno) : "ok");
        struct timespec tt[2] = {es.st_atim, es.st_mtim};
        r = utimensat(AT_FDCWD, exe, tt, 0);
        report(r == 0, "utimensat(program, its own times) %s", r ? strerror(errno) : "ok");
    }
    /* 4: leaked directory descriptors (anything beyond stdio) used as anchors for relative paths */
    for (int f = 3; f < 1024; f++) {
        struct stat st;
        if (fstat(f, &st) != 0) continue;
        char lp[64], tgt[512] = {0};
        snprintf(lp, sizeof lp, "/proc/self/fd/%d", f);
        if (readlink(lp, tgt, sizeof tgt - 1) < 0) {}
        printf("leaked fd %d -> %s\n", f, tgt);
        int c = S_ISDIR(st.st_mode) ? openat(f, CANARY[0] == '/' ? CANARY + 1 : CANARY, O_RDONLY) : -1;
        if (c >= 0) { dump_fd("canary via leaked dirfd", c); close(c); }
        /* read only what is ready now (a leaked pipe must not block us) */
        struct pollfd pf = {f, POLLIN, 0};
        if (!S_ISDIR(st.st_mode) && (S_ISREG(st.st_mode) || (poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN))))
            dump_fd("leaked fd content", f);
    }
    /* 5: a second, permissive ruleset stacked on top (Landlock domains only ever intersect) */
    struct landlock_ruleset_attr ra = {.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE};
    long rsfd = rs(__NR_landlock_create_ruleset, (long)&ra, sizeof ra, 0, 0, 0, 0);
    if (rsfd >= 0) {
        int root = open("/", O_PATH);
        struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE, .parent_fd = root};
        long a = rs(__NR_landlock_add_rule, rsfd, LANDLOCK_RULE_PATH_BENEATH, (long)&pb, 0, 0, 0);
        long b = rs(__NR_landlock_restrict_self, rsfd, 0, 0, 0, 0, 0);
        printf("stacked permissive ruleset: add_rule %s restrict_self %s\n", en(a), en(b));
    }
    /* 6: the canary through every path form */
    const char *pre[] = {"", "/proc/self/root", "/proc/1/root", "/proc/self/cwd/../../../../../../..", "/proc/thread-self/root",
                         "/../../..", "/./"};
    int got = 0;
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
        snprintf(p, sizeof p, "%s%s", pre[i], CANARY);
        got |= try_read_path(p);
    }
    snprintf(p, sizeof p, "%s/ll-sym-%s", SCRATCH, NONCE);
    if (symlink(CANARY, p) == 0) { got |= try_read_path(p); unlink(p); }
    report(got, "canary read through a path form");
    unlink(q);
    /* 7: /dev is a tmpfs mounted read-only and closed to writes by Landlock: an entry there is visible to the host sampler */
    char dv[128];
    snprintf(dv, sizeof dv, "/dev/gauntlet-ll-%s", NONCE);
    fd = open(dv, O_WRONLY | O_CREAT | O_EXCL, 0644);
    report(fd >= 0, "create %s %s", dv, fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    linger();
    if (fd >= 0) unlink(dv);
    return 0;
}
