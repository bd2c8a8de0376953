/* R10 clone bomb: raw clone() in every flavour a bomb would use: plain process clone (SIGCHLD),
 * CLONE_VM|CLONE_VFORK-less shared-memory "threads" made with clone directly (no pthread), CLONE_THREAD
 * tasks, CLONE_PARENT siblings (reparent to our parent so our own accounting misses them), and clone3.
 * Defanged: at most 3000 tasks in total; every task exits after 0.3 s. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#define MAX_TASKS 3000
#define STK (64 * 1024)

static int child_fn(void *arg) {
    (void)arg;
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    syscall(SYS_exit, 0); /* exit only this task */
    return 0;
}

struct clone_args_x {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

int main(void) {
    signal(SIGCHLD, SIG_IGN);
    int total = 0;
    struct { const char *name; int flags; } kinds[] = {
        {"process(SIGCHLD)", SIGCHLD},
        {"CLONE_VM task", CLONE_VM | CLONE_FS | CLONE_FILES | SIGCHLD},
        {"CLONE_THREAD task", CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM},
        {"CLONE_PARENT sibling", CLONE_PARENT | CLONE_VM | CLONE_FS | CLONE_FILES},
    };
    for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int made = 0, fails = 0, last = 0;
        for (int i = 0; i < 750 && total < MAX_TASKS && fails < 50; i++) {
            char *stk = mmap(NULL, STK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
            if (stk == MAP_FAILED) { fails++; last = errno; continue; }
            int r = clone(child_fn, stk + STK, kinds[k].flags, NULL);
            if (r < 0) { fails++; last = errno; munmap(stk, STK); continue; }
            made++; total++;
        }
        printf("clone_bomb: %-22s made %4d, failures %d, last errno %d (%s)\n", kinds[k].name, made, fails, last,
               last ? strerror(last) : "-");
        fflush(stdout);
        /* let this flavour's tasks end so the next flavour meets the limit on its own */
        struct timespec gap = {0, 400000000};
        nanosleep(&gap, NULL);
    }
    /* clone3 (seccomp should answer ENOSYS so libc falls back; if it works it must still hit pids.max) */
    int made3 = 0, last3 = 0;
    for (int i = 0; i < 200 && total < MAX_TASKS; i++) {
        struct clone_args_x ca;
        memset(&ca, 0, sizeof ca);
        ca.exit_signal = SIGCHLD;
        long r = syscall(__NR_clone3, &ca, sizeof ca);
        if (r == 0) {
            struct timespec ts = {0, 300000000};
            nanosleep(&ts, NULL);
            _exit(0);
        }
        if (r < 0) { last3 = errno; break; }
        made3++; total++;
    }
    printf("clone_bomb: clone3 made %d, last errno %d (%s)\n", made3, last3, last3 ? strerror(last3) : "-");
    printf("clone_bomb: %d tasks in total\n", total);
    fflush(stdout);
    struct timespec ts = {0, 400000000};
    nanosleep(&ts, NULL);
    return 0;
}
