/* R02 scheduler abuse: try to take real-time scheduling (SCHED_FIFO/SCHED_RR at max priority, also via
 * sched_setattr and for a thread), a negative nice (setpriority, nice(), PRIO_PGRP, PRIO_USER), the top
 * I/O priority class (ioprio_set IOPRIO_CLASS_RT), and to raise RLIMIT_RTPRIO/RLIMIT_NICE first.
 * Nothing on the host records a failed attempt, so each probe reports itself (self oracle); an RT or
 * negative-nice plugin could starve the host. Defanged: if RT scheduling is granted, the process drops
 * back to SCHED_OTHER at once and spins for no more than 5 ms. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static const char *nonce = "none";
static void report(int escaped, const char *what, int err) {
    printf("GAUNTLET-REPORT %s %s %s (%s)\n", nonce, escaped ? "escaped" : "denied", what, err ? strerror(err) : "ok");
}

struct sched_attr_x { uint32_t size, sched_policy; uint64_t sched_flags; int32_t sched_nice; uint32_t sched_priority; uint64_t rt, dl, per; };

static void back_to_normal(void) {
    struct sched_param sp = {0};
    sched_setscheduler(0, SCHED_OTHER, &sp);
}

int main(int argc, char **argv) {
    if (argc > 1) nonce = argv[1];
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    int r = setrlimit(RLIMIT_RTPRIO, &rl); report(r == 0, "raise RLIMIT_RTPRIO to unlimited", r ? errno : 0);
    r = setrlimit(RLIMIT_NICE, &rl); report(r == 0, "raise RLIMIT_NICE to unlimited", r ? errno : 0);

    int pols[] = {SCHED_FIFO, SCHED_RR};
    for (int i = 0; i < 2; i++) {
        struct sched_param sp = {.sched_priority = sched_get_priority_max(pols[i])};
        r = sched_setscheduler(0, pols[i], &sp);
        int e = r ? errno : 0;
        int got = sched_getscheduler(0);
        report(r == 0 && (got == SCHED_FIFO || got == SCHED_RR), i ? "sched_setscheduler SCHED_RR 99" : "sched_setscheduler SCHED_FIFO 99", e);
        back_to_normal();
        sp.sched_priority = 1;
        r = sched_setscheduler(0, pols[i] | SCHED_RESET_ON_FORK, &sp);
        e = r ? errno : 0;
        report(r == 0, i ? "SCHED_RR 1 with RESET_ON_FORK" : "SCHED_FIFO 1 with RESET_ON_FORK", e);
        back_to_normal();
    }
    struct sched_attr_x a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a; a.sched_policy = SCHED_FIFO; a.sched_priority = 50;
    r = syscall(SYS_sched_setattr, 0, &a, 0);
    report(r == 0, "sched_setattr SCHED_FIFO 50", r ? errno : 0);
    back_to_normal();
    memset(&a, 0, sizeof a);
    a.size = sizeof a; a.sched_policy = 6 /* SCHED_DEADLINE */; a.rt = 10000000; a.dl = 30000000; a.per = 30000000;
    r = syscall(SYS_sched_setattr, 0, &a, 0);
    report(r == 0, "sched_setattr SCHED_DEADLINE", r ? errno : 0);
    back_to_normal();

    errno = 0;
    r = setpriority(PRIO_PROCESS, 0, -20);
    int e = r ? errno : 0;
    errno = 0;
    int nv = getpriority(PRIO_PROCESS, 0);
    report(r == 0 && nv < 0, "setpriority(PRIO_PROCESS, self, -20)", e);
    errno = 0; nv = nice(-10); e = errno;
    report(nv < 0 && e == 0, "nice(-10)", e);
    r = setpriority(PRIO_PGRP, 0, -5); e = r ? errno : 0;
    errno = 0; nv = getpriority(PRIO_PROCESS, 0);
    report(r == 0 && nv < 0, "setpriority(PRIO_PGRP, own, -5)", e);
    r = setpriority(PRIO_USER, getuid(), -5); e = r ? errno : 0;
    errno = 0; nv = getpriority(PRIO_PROCESS, 0);
    report(r == 0 && nv < 0, "setpriority(PRIO_USER, own uid, -5)", e);
    setpriority(PRIO_PROCESS, 0, 0);

    /* ioprio: IOPRIO_WHO_PROCESS=1, class RT=1, level 0 */
    r = syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 0);
    report(r == 0, "ioprio_set IOPRIO_CLASS_RT 0", r ? errno : 0);
    /* affinity pinning is allowed to a sandbox only within its own cpuset; report what we got */
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(0, &set);
    r = sched_setaffinity(0, sizeof set, &set);
    printf("sched_abuse: sched_setaffinity(self, cpu0) -> %s (pinning within the sandbox is not an escape)\n", r ? strerror(errno) : "ok");
    printf("sched_abuse: final policy %d nice %d\n", sched_getscheduler(0), getpriority(PRIO_PROCESS, 0));
    fflush(stdout);
    return 0;
}
