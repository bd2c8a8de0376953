/* S05/S07: raw clone(2) carrying each CLONE_NEW* flag, all of them, and the same flags hidden in the high 32 bits of the register. */
#include "../syscall_prelude.h"
}
#include <sched.h>
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* A raw clone like fork(): the child returns 0 on the same stack (no CLONE_VM). */
static long raw_clone(unsigned long flags)
{
    return syscall(SYS_clone, flags, 0, 0, 0, 0);
}

static void probe(const char *name, unsigned long flags, const char *ns)
{
    unsigned long long before = ns_ino("self", ns);
    int pfd[2];
    if (pipe(pfd) != 0) return;
    fflush(stdout);
    long pid = raw_clone(flags | SIGCHLD);
    if (pid == 0) {
        close(pfd[0]);
        unsigned long long mine = ns_ino("self", ns);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "%llu", mine);
        ssize_t w = write(pfd[1], msg, n);
        (void)w;
        _exit(0);
    }
    close(pfd[1]);
    if (pid < 0) {
        report(0, "clone-%s flags=0x%lx %s", name, flags, strerror(errno));
        close(pfd[0]);
        return;
    }
    char buf[64] = {0};
    ssize_t n = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    waitpid((pid_t)pid, NULL, 0);
    unsigned long long child = n > 0 ? strtoull(buf, NULL, 10) : 0;
    printf("clone %s: child %s ns %llu, ours %llu\n", name, ns, child, before);
    report(child && child != before, "clone-%s flags=0x%lx child-in-new-%s-ns", name, flags, ns);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    const struct { const char *n; unsigned long f; const char *ns; } T[] = {
        {"NEWUSER", CLONE_NEWUSER, "user"}, {"NEWNS", CLONE_NEWNS, "mnt"}, {"NEWPID", CLONE_NEWPID, "pid"},
        {"NEWNET", CLONE_NEWNET, "net"}, {"NEWIPC", CLONE_NEWIPC, "ipc"}, {"NEWUTS", CLONE_NEWUTS, "uts"},
        {"NEWCGROUP", CLONE_NEWCGROUP, "cgroup"},
    };
    unsigned long all = 0;
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        probe(T[i].n, T[i].f, T[i].ns);
        all |= T[i].f;
        char name[64];
        snprintf(name, sizeof name, "%s-high-bits", T[i].n);
        probe(name, T[i].f | 0xffffffff00000000UL, T[i].ns);
        snprintf(name, sizeof name, "%s-shifted-high", T[i].n);
        probe(name, (T[i].f << 32), T[i].ns);
    }
    probe("ALL", all, "user");
    probe("NEWUSER|NEWNS", CLONE_NEWUSER | CLONE_NEWNS, "user");
    /* CLONE_NEWTIME shares bits with the exit signal for clone(); try it as the signal byte */
    probe("NEWTIME-as-signal", CLONE_NEWTIME, "time_for_children");
    /* libc paths: a thread-style clone with CLONE_VM etc. must still work (not a probe of denial) */
    linger();
    return 0;
}
