/* S07: clone3 must fail with ENOSYS (so libc falls back to the filterable clone); then try namespace flags, CLONE_INTO_CGROUP and set_tid through it anyway. */
#include "../syscall_prelude.h"
}
#include <sched.h>
#include <linux/sched.h>
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct ca {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

static void probe(const char *name, unsigned long long flags, size_t size, int cgfd, const char *ns)
{
    struct ca a;
    memset(&a, 0, sizeof a);
    a.flags = flags;
    a.exit_signal = SIGCHLD;
    pid_t want = 1;
    if (!strcmp(name, "set_tid")) { a.set_tid = (unsigned long)&want; a.set_tid_size = 1; }
    if (cgfd >= 0) a.cgroup = (unsigned long long)cgfd;
    unsigned long long before = ns_ino("self", ns);
    fflush(stdout);
    long pid = syscall(__NR_clone3, &a, size);
    if (pid == 0) {
        unsigned long long mine = ns_ino("self", ns);
        printf("  clone3 child (%s): %s ns %llu (parent %llu), pid %d\n", name, ns, mine, before, getpid());
        fflush(stdout);
        _exit(mine != before ? 42 : 41);
    }
    int e = errno;
    if (pid < 0) {
        /* ENOSYS is the sandbox's answer; anything else (EINVAL, EPERM from the kernel...) means the call
         * reached the kernel, which the seccomp design relies on never happening */
        int reached = e != ENOSYS;
        report(reached, "clone3-%s size=%zu %s%s", name, size, strerror(e), reached ? " (call reached the kernel)" : "");
        return;
    }
    int st;
    waitpid((pid_t)pid, &st, 0);
    report(1, "clone3-%s created a child (%s)%s", name, wstr(st),
           WIFEXITED(st) && WEXITSTATUS(st) == 42 ? " in a new namespace" : "");
}

int main(int argc, char **argv)
{
    args(argc, argv);
    int cg = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
    printf("cgroup dir fd: %d\n", cg);
    probe("plain", 0, sizeof(struct ca), -1, "pid");
    probe("NEWUSER", CLONE_NEWUSER, sizeof(struct ca), -1, "user");
    probe("NEWNS", CLONE_NEWNS, sizeof(struct ca), -1, "mnt");
    probe("NEWPID", CLONE_NEWPID, sizeof(struct ca), -1, "pid_for_children");
    probe("NEWNET", CLONE_NEWNET, sizeof(struct ca), -1, "net");
    probe("NEWCGROUP", CLONE_NEWCGROUP, sizeof(struct ca), -1, "cgroup");
    probe("NEWTIME", 0x80, sizeof(struct ca), -1, "time_for_children");
    probe("ALL", CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP,
          sizeof(struct ca), -1, "user");
    probe("INTO_CGROUP", CLONE_INTO_CGROUP, sizeof(struct ca), cg >= 0 ? cg : 0, "cgroup");
    probe("set_tid", 0, sizeof(struct ca), -1, "pid");
    probe("size-v0", CLONE_NEWUSER, 64, -1, "user");
    probe("size-big", CLONE_NEWUSER, 4096, -1, "user");
    /* the clone3 number with the x32 bit (seccomp must not see a different number) */
    struct ca a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_NEWUSER;
    a.exit_signal = SIGCHLD;
    fflush(stdout);
    long pid = syscall(__NR_clone3 | 0x40000000, &a, sizeof a);
    if (pid == 0) _exit(0);
    if (pid > 0) { waitpid((pid_t)pid, NULL, 0); report(1, "clone3-x32-number created a child"); }
    else report(0, "clone3-x32-number %s", strerror(errno));
    linger();
    return 0;
}
