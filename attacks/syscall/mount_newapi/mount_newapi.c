/* S04: the new mount API (fsopen/fsconfig/fsmount/move_mount, open_tree clone, fspick remount, mount_setattr clearing RDONLY) and statmount/listmount. */
#include "../syscall_prelude.h"
}
#include <linux/mount.h>
#ifndef __NR_fsopen
#define __NR_open_tree 428
#define __NR_move_mount 429
#define __NR_fsopen 430
#define __NR_fsconfig 431
#define __NR_fsmount 432
#define __NR_fspick 433
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#define NR_statmount 457
#define NR_listmount 458
#define NR_open_tree_attr 467

struct my_mount_attr { unsigned long long attr_set, attr_clr, propagation, userns_fd; };

int main(int argc, char **argv)
{
    args(argc, argv);
    char tgt[600];
    snprintf(tgt, sizeof tgt, "%s/newmnt-%s", SCRATCH, NONCE);
    mkdir(tgt, 0755);
    const char *types[] = {"tmpfs", "proc", "sysfs", "cgroup2", "cgroup", "devpts", "mqueue", "bpf", "overlay"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        long fs = rs(__NR_fsopen, (long)types[i], FSOPEN_CLOEXEC, 0, 0, 0, 0);
        if (fs < 0) { report(0, "fsopen-%s %s", types[i], en(fs)); continue; }
        report(1, "fsopen-%s", types[i]);
        long r = rs(__NR_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0, 0);
        printf("fsconfig create %s: %s\n", types[i], en(r));
        long m = rs(__NR_fsmount, fs, FSMOUNT_CLOEXEC, 0, 0, 0, 0);
        if (m >= 0) {
            report(1, "fsmount-%s", types[i]);
            r = rs(__NR_move_mount, m, (long)"", AT_FDCWD, (long)tgt, MOVE_MOUNT_F_EMPTY_PATH, 0);
            report(r == 0, "move_mount-%s %s", types[i], en(r));
            close((int)m);
        }
        close((int)fs);
    }
    /* clone an existing tree (a detached copy of /) and attach it */
    long t = rs(__NR_open_tree, AT_FDCWD, (long)"/", OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC, 0, 0, 0);
    report(t >= 0, "open_tree-clone-/ %s", en(t));
    if (t >= 0) {
        struct my_mount_attr a = {0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC, 0, 0};
        long r = rs(__NR_mount_setattr, t, (long)"", AT_EMPTY_PATH | AT_RECURSIVE, (long)&a, sizeof a, 0);
        report(r == 0, "mount_setattr-clone-clear-rdonly %s", en(r));
        close((int)t);
    }
    t = rs(NR_open_tree_attr, AT_FDCWD, (long)"/proc/sys", OPEN_TREE_CLONE, 0, 0, 0);
    report(t >= 0, "open_tree_attr-/proc/sys %s", en(t));
    if (t >= 0) close((int)t);
    /* flip attributes of the live mounts */
    const char *live[] = {"/", "/proc/sys", "/tmp", "/dev", "/proc"};
    for (size_t i = 0; i < sizeof live / sizeof *live; i++) {
        struct my_mount_attr a = {0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID, 0, 0};
        long r = rs(__NR_mount_setattr, AT_FDCWD, (long)live[i], 0, (long)&a, sizeof a, 0);
        report(r == 0, "mount_setattr-%s-clear-ro-noexec %s", live[i], en(r));
        long pk = rs(__NR_fspick, AT_FDCWD, (long)live[i], FSPICK_CLOEXEC, 0, 0, 0);
        report(pk >= 0, "fspick-%s %s", live[i], en(pk));
        if (pk >= 0) {
            long r2 = rs(__NR_fsconfig, pk, FSCONFIG_SET_FLAG, (long)"rw", 0, 0, 0);
            printf("fsconfig rw: %s\n", en(r2));
            r2 = rs(__NR_fsconfig, pk, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0, 0);
            report(r2 == 0, "fspick-reconfigure-rw-%s %s", live[i], en(r2));
            close((int)pk);
        }
    }
    /* statmount/listmount reveal the mount tree (host mounts if the namespace were shared) */
    unsigned long long req[4] = {24 /*size ver0*/, 0xffffffffffffffffULL /*LSMT_ROOT*/, 0, 0};
    unsigned long long ids[64];
    long r = rs(NR_listmount, (long)req, (long)ids, 64, 0, 0, 0);
    report(0, "listmount %s (information only)", en(r));
    r = rs(NR_statmount, (long)req, (long)ids, sizeof ids, 0, 0, 0);
    printf("statmount: %s\n", en(r));
    linger();
    return 0;
}
