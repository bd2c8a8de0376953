/* R10 vfork bomb (stress-ng vforkmany style): the parent vforks repeatedly, each child re-executes this
 * binary in "hold" mode (argv[1] = "hold") and sleeps, so the parent resumes at once and vforks again.
 * Also tries vfork chains where every child vforks again before exec.
 * Defanged: at most 3000 children, each exits after 1.5 s. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MAX_PROCS 3000

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "hold") == 0) {
        struct timespec ts = {1, 500000000};
        nanosleep(&ts, NULL);
        return 0;
    }
    signal(SIGCHLD, SIG_IGN);
    int made = 0, fails = 0, last = 0, raw_made = 0;
    char *hold_argv[] = {argv[0], "hold", NULL};
    char *envp[] = {NULL};
    for (int i = 0; i < MAX_PROCS && fails < 200; i++) {
        pid_t p = vfork();
        if (p == 0) {
            execve(argv[0], hold_argv, envp);
            execve("/proc/self/exe", hold_argv, envp);
            _exit(127);
        }
        if (p < 0) { fails++; last = errno; continue; }
        made++;
    }
    /* raw vfork syscall too, in case libc's wrapper is filtered differently */
    for (int i = 0; i < 100; i++) {
        long p = syscall(SYS_vfork);
        if (p == 0) {
            execve(argv[0], hold_argv, envp);
            syscall(SYS_exit, 127);
        }
        if (p < 0) { fails++; last = errno; break; }
        raw_made++;
    }
    printf("vfork_bomb: %d vfork children (+%d raw), %d failures, last errno %d (%s)\n", made, raw_made,
           fails, last, strerror(last));
    fflush(stdout);
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    return 0;
}
