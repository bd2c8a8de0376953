/* S06: setns(2) into every namespace reachable through /proc/<pid>/ns/<ns> (self, parent, pid 1, every visible pid, host pids) and through pidfds. */
#include "../syscall_prelude.h"
}
#include <sched.h>
#include <dirent.h>
#include <sys/ioctl.h>
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *NSN[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time", "pid_for_children", "time_for_children"};

static int try_pid(int pid)
{
    int hits = 0;
    for (size_t i = 0; i < sizeof NSN / sizeof *NSN; i++) {
        char p[128];
        snprintf(p, sizeof p, "/proc/%d/ns/%s", pid, NSN[i]);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) printf("open %s: %s\n", p, strerror(errno));
            continue;
        }
        /* in a child: a successful setns would change the prober */
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            alarm(2);
            unsigned long long before = ns_ino("self", NSN[i]);
            long r = rs(SYS_setns, fd, 0, 0, 0, 0, 0);
            unsigned long long after = ns_ino("self", NSN[i]);
            printf("setns(%s) = %s (%llu -> %llu)\n", p, en(r), before, after);
            _exit(r == 0 ? 1 : 0);
        }
        int st = 0;
        waitpid(c, &st, 0);
        int ok = WIFEXITED(st) && WEXITSTATUS(st) == 1;
        report(ok, "setns-%s (%s)", p, wstr(st));
        hits += ok;
        close(fd);
    }
    return hits;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    try_pid(getpid());
    try_pid(getppid());
    if (getppid() != 1) try_pid(1);
    if (SUPV_PID > 0) try_pid(SUPV_PID);
    if (RUNNER_PID > 0 && RUNNER_PID != SUPV_PID) try_pid(RUNNER_PID);
    /* every other pid /proc lists (host processes if the pid namespace were shared) */
    DIR *d = opendir("/proc");
    int seen = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && seen < 40) {
            int pid = atoi(e->d_name);
            if (pid <= 1 || pid == getpid() || pid == getppid() || pid == SUPV_PID) continue;
            seen++;
            try_pid(pid);
        }
        closedir(d);
    }
    printf("%d other pids visible in /proc\n", seen);
    /* pidfd-based setns (5.8+): join all of a process's namespaces at once */
    long pfd = rs(SYS_pidfd_open, getppid(), 0, 0, 0, 0, 0);
    if (pfd >= 0) {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            long r = rs(SYS_setns, pfd, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP, 0, 0, 0, 0);
            printf("setns(pidfd(parent), all) = %s\n", en(r));
            _exit(r == 0);
        }
        int st = 0;
        waitpid(c, &st, 0);
        report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "setns-pidfd-parent-all (%s)", wstr(st));
        close((int)pfd);
    } else printf("pidfd_open(parent): %s\n", en(pfd));
    /* namespace ioctls: walk up to the owning user namespace / parent pid ns */
    int fd = open("/proc/self/ns/user", O_RDONLY);
    if (fd >= 0) {
        int par = ioctl(fd, 0xb702 /*NS_GET_PARENT*/);
        int own = ioctl(fd, 0xb701 /*NS_GET_USERNS*/);
        printf("NS_GET_PARENT(user) = %d (%s), NS_GET_USERNS = %d\n", par, par < 0 ? strerror(errno) : "got the host-side parent ns", own);
        if (par >= 0) {
            fflush(stdout);
            pid_t c = fork();
            if (c == 0) { long r = rs(SYS_setns, par, CLONE_NEWUSER, 0, 0, 0, 0); printf("setns(parent user ns) = %s\n", en(r)); _exit(r == 0); }
            int st = 0;
            waitpid(c, &st, 0);
            report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "setns-parent-user-ns-via-NS_GET_PARENT (%s)", wstr(st));
        }
    }
    linger();
    return 0;
}
