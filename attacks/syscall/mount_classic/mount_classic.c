/* S04: mount(2): tmpfs/proc/sysfs/cgroup/cgroup2/devpts/mqueue, bind of /, remounts read-write, MS_MOVE, umount of the /proc masks. */
#include "../syscall_prelude.h"
}
#include <sys/mount.h>

static char dir[512];

static void tryit(const char *what, const char *src, const char *tgt, const char *fs, unsigned long fl, const char *data)
{
    long r = rs(SYS_mount, (long)src, (long)tgt, (long)fs, (long)fl, (long)data, 0);
    if (r == 0) {
        report(1, "mount-%s on %s", what, tgt);
        /* show what the mount gives: e.g. a cgroup v1 hierarchy's release_agent */
        char p[700];
        snprintf(p, sizeof p, "%s/release_agent", tgt);
        int fd = open(p, O_WRONLY);
        if (fd >= 0) { report(1, "release_agent writable at %s (not written)", p); close(fd); }
    } else report(0, "mount-%s on %s %s", what, tgt, en(r));
}

static int sub(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, name);
    return mkdir(out, 0755) == 0 || errno == EEXIST;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    snprintf(dir, sizeof dir, "%s/mnt-%s", SCRATCH, NONCE);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(dir, sizeof dir, "/tmp/mnt-%s", NONCE);
        mkdir(dir, 0755);
    }
    char t[600];
    char marker[64];
    snprintf(marker, sizeof marker, "size=64k,mode=0755");
    sub("tmpfs", t, sizeof t); tryit("tmpfs", "gauntlet", t, "tmpfs", 0, marker);
    sub("proc", t, sizeof t); tryit("proc", "proc", t, "proc", 0, NULL);
    sub("sysfs", t, sizeof t); tryit("sysfs", "sysfs", t, "sysfs", 0, NULL);
    sub("cg1", t, sizeof t); tryit("cgroup-v1-memory", "cgroup", t, "cgroup", 0, "memory");
    sub("cg1r", t, sizeof t); tryit("cgroup-v1-rdma", "cgroup", t, "cgroup", 0, "rdma");
    sub("cg2", t, sizeof t); tryit("cgroup2", "cgroup2", t, "cgroup2", 0, NULL);
    sub("pts", t, sizeof t); tryit("devpts", "devpts", t, "devpts", 0, "newinstance,ptmxmode=0666");
    sub("mq", t, sizeof t); tryit("mqueue", "mqueue", t, "mqueue", 0, NULL);
    sub("bpf", t, sizeof t); tryit("bpffs", "bpf", t, "bpf", 0, NULL);
    sub("dbg", t, sizeof t); tryit("debugfs", "debugfs", t, "debugfs", 0, NULL);
    sub("ovl", t, sizeof t); tryit("overlay", "overlay", t, "overlay", 0, "lowerdir=/,upperdir=/tmp,workdir=/tmp");
    sub("root", t, sizeof t); tryit("rbind-root", "/", t, NULL, MS_BIND | MS_REC, NULL);
    sub("dev", t, sizeof t); tryit("bind-dev-null", "/dev/null", t, NULL, MS_BIND, NULL);
    /* remount read-only things read-write */
    tryit("remount-root-rw", NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL);
    tryit("remount-root-rw-plain", NULL, "/", NULL, MS_REMOUNT, NULL);
    tryit("remount-proc-sys-rw", NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL);
    tryit("remount-tmp-exec", NULL, "/tmp", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID, NULL);
    tryit("make-root-shared", NULL, "/", NULL, MS_SHARED | MS_REC, NULL);
    sub("moved", t, sizeof t); tryit("move-proc", "/proc", t, NULL, MS_MOVE, NULL);
    /* the masks over /proc entries and the read-only /proc/sys: peel them off and read below */
    const char *masked[] = {"/proc/kcore", "/proc/kallsyms", "/proc/kmsg", "/proc/keys", "/proc/sched_debug",
                            "/proc/timer_list", "/proc/sys", "/proc/sysrq-trigger", "/proc", "/dev", "/tmp"};
    for (size_t i = 0; i < sizeof masked / sizeof *masked; i++) {
        long r = rs(SYS_umount2, (long)masked[i], MNT_DETACH, 0, 0, 0, 0);
        report(r == 0, "umount2-%s %s", masked[i], en(r));
    }
    /* what's really underneath, if anything came off */
    int fd = open("/proc/kallsyms", O_RDONLY);
    if (fd >= 0) {
        char b[128];
        ssize_t n = read(fd, b, sizeof b - 1);
        if (n > 0) { b[n] = 0; printf("/proc/kallsyms: %s\n", b); report(1, "read /proc/kallsyms through the mask"); }
        close(fd);
    }
    /* is /proc/sys writable as mounted? (read the mount options) */
    FILE *mi = fopen("/proc/self/mountinfo", "r");
    int seen_sys = 0;
    if (mi) {
        char line[1024];
        while (fgets(line, sizeof line, mi)) {
            char mp[512], opts[256];
            if (sscanf(line, "%*s %*s %*s %*s %511s %255s", mp, opts) == 2 && !strcmp(mp, "/proc/sys")) {
                seen_sys = 1;
                report(strncmp(opts, "rw", 2) == 0, "/proc/sys mounted %s", opts);
            }
        }
        fclose(mi);
        if (!seen_sys) report(1, "/proc/sys has no read-only mount of its own (writable with /proc)");
    }
    linger();
    return 0;
}
