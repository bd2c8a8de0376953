/* S30: relax the installed seccomp policy: stack an allow-everything filter (seccomp() and prctl), a RET_TRACE/RET_USER_NOTIF filter we answer ourselves with CONTINUE, SECCOMP_SET_MODE_STRICT, filter-chain exhaustion, then retry forbidden calls (unshare, ptrace, keyctl, mount, io_uring_setup). */
#include "../syscall_prelude.h"
}
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <pthread.h>
#include <stddef.h>

static void forbidden(const char *after)
{
    const struct { const char *n; long nr, a, b; } F[] = {
        {"unshare(NEWUSER)", SYS_unshare, 0x10000000, 0}, {"ptrace(TRACEME)", SYS_ptrace, 0, 0},
        {"keyctl(GET_KEYRING_ID session)", SYS_keyctl, 0, -3}, {"io_uring_setup", 425, 1, 0},
        {"mount(NULL)", SYS_mount, 0, 0}, {"chroot(/)", SYS_chroot, (long)"/", 0},
    };
    for (size_t i = 0; i < sizeof F / sizeof *F; i++) {
        fflush(stdout);
        pid_t c = fork();   /* in a child: a success must not change the prober */
        if (c == 0) {
            long r = rs(F[i].nr, F[i].a, F[i].b, 0, 0, 0, 0);
            _exit(r == -EPERM || r == -ENOSYS ? 0 : 1);
        }
        int st = 0;
        waitpid(c, &st, 0);
        report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s still refused after %s? (%s)", F[i].n, after, wstr(st));
    }
}

static long install(struct sock_filter *f, unsigned short n, unsigned flags)
{
    struct sock_fprog p = {n, f};
    return rs(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, (long)&p, 0, 0, 0);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    char mode[32] = "", nf[32] = "";
    status_field("self", "Seccomp", mode, sizeof mode);
    status_field("self", "Seccomp_filters", nf, sizeof nf);
    printf("Seccomp mode %s, %s filters\n", mode, nf);
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    long r = install(allow, 1, 0);
    printf("stack allow-all filter via seccomp(): %s\n", en(r));
    struct sock_fprog p = {1, allow};
    r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0);
    printf("stack allow-all filter via prctl: %s\n", r ? strerror(errno) : "ok");
    r = install(allow, 1, SECCOMP_FILTER_FLAG_TSYNC);
    printf("allow-all with TSYNC: %s\n", en(r));
    r = install(allow, 1, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    printf("allow-all with LOG|SPEC_ALLOW: %s\n", en(r));
    forbidden("allow-all filters");
    /* RET_TRACE for everything: with no tracer the kernel answers ENOSYS, a tracer could rewrite */
    struct sock_filter trace[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        long t = install(trace, 4, 0);
        long u = rs(SYS_unshare, 0x10000000, 0, 0, 0, 0, 0);
        printf("  child: RET_TRACE filter %s, then unshare = %s\n", en(t), en(u));
        _exit(u == 0 ? 1 : 0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "RET_TRACE filter let unshare through (%s)", wstr(st));
    /* USER_NOTIF: our own listener answers FLAG_CONTINUE for the forbidden call; the older filter's
     * EPERM must still win (ERRNO takes precedence over USER_NOTIF) */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        alarm(2);
        struct sock_filter notif[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        long lfd = install(notif, 4, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        printf("  child: USER_NOTIF filter with listener: %s\n", en(lfd));
        if (lfd < 0) _exit(0);
        pid_t g = fork();
        if (g == 0) {
            long u = rs(SYS_unshare, 0x10000000, 0, 0, 0, 0, 0);
            printf("  grandchild: unshare under our own notifier = %s\n", en(u));
            _exit(u == 0 ? 1 : 0);
        }
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        memset(&req, 0, sizeof req);
        struct timespec ts = {0, 300000000};
        /* poll briefly for a notification (it never comes if EPERM wins first) */
        for (int i = 0; i < 3; i++) {
            int ready = 0;
            struct { int fd; short ev, rev; } pfd = {(int)lfd, 1, 0};
            ready = (int)syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 8);
            if (ready > 0 && ioctl((int)lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                memset(&resp, 0, sizeof resp);
                resp.id = req.id;
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                ioctl((int)lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
                printf("  child: answered CONTINUE for syscall %d\n", req.data.nr);
                break;
            }
        }
        int gs = 0;
        waitpid(g, &gs, 0);
        _exit(WIFEXITED(gs) && WEXITSTATUS(gs) == 1);
    }
    waitpid(c, &st, 0);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "USER_NOTIF CONTINUE let unshare through (%s)", wstr(st));
    /* strict mode: cannot replace filter mode; if it did, the child would be killed at its next call */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        long s = rs(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0, 0, 0, 0);
        char m2[16] = "";
        status_field("self", "Seccomp", m2, sizeof m2);
        printf("  child: SECCOMP_SET_MODE_STRICT = %s, mode now %s\n", en(s), m2);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("strict-mode child: %s\n", wstr(st));
    /* prctl(PR_SET_SECCOMP, STRICT) and PR_GET_SECCOMP */
    printf("PR_GET_SECCOMP = %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    /* filter chain exhaustion: stack until the kernel refuses (MAX_INSNS_TOTAL), the old filters stay */
    int stacked = 0;
    for (int i = 0; i < 2000; i++) {
        if (install(allow, 1, 0) != 0) break;
        stacked++;
    }
    printf("stacked %d more allow-all filters before the kernel refused\n", stacked);
    forbidden("filter-chain exhaustion");
    status_field("self", "Seccomp", mode, sizeof mode);
    report(strcmp(mode, "2") != 0, "Seccomp mode at the end: %s", mode);
    linger();
    return 0;
}
