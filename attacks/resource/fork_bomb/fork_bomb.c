/* R10 fork bomb via fork(): every process forks again (exponential), bounded by a shared budget.
 * Defanged: at most 3000 processes in total, every process exits after ~1.5 s. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_PROCS 3000

int main(void) {
    /* shared counters survive fork (MAP_SHARED anonymous) */
    volatile int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) { perror("mmap"); return 0; }
    shared[0] = 1; /* processes created (incl. main) */
    shared[1] = 0; /* fork failures */
    shared[2] = 0; /* last errno */
    signal(SIGCHLD, SIG_IGN); /* auto-reap */
    pid_t main_pid = getpid();
    printf("fork_bomb: starting from pid %d\n", (int)main_pid);
    fflush(stdout);
    for (int gen = 0; gen < 12; gen++) {
        if (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) >= MAX_PROCS) break;
        int n = __atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST);
        if (n > MAX_PROCS) { __atomic_sub_fetch(&shared[0], 1, __ATOMIC_SEQ_CST); break; }
        pid_t p = fork();
        if (p < 0) {
            __atomic_sub_fetch(&shared[0], 1, __ATOMIC_SEQ_CST);
            __atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
            shared[2] = errno;
            /* a real bomb keeps retrying; retry a bounded number of times */
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
            continue;
        }
        /* both parent and child continue the loop: exponential growth */
    }
    /* hold the slot so the tree is as wide as possible at once */
    struct timespec hold = {1, 500000000};
    nanosleep(&hold, NULL);
    if (getpid() == main_pid) {
        printf("fork_bomb: created %d processes, %d fork failures, last errno %d (%s)\n",
               shared[0], shared[1], shared[2], strerror(shared[2]));
        fflush(stdout);
    }
    _exit(0);
}
