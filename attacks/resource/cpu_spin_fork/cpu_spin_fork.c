/* R01 variant: spread the spin across many short-lived processes, each one well under any per-process
 * RLIMIT_CPU, so only a tree-wide CPU budget (cgroup cpu usage) can stop it. Each worker spins 150 ms of
 * CPU then exits and a new one replaces it. Defanged: at most 400 workers in total, 20 s of wall time. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>

static volatile unsigned long sink;
static double cpu_now(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void worker(void) {
    signal(SIGXCPU, SIG_IGN);
    double end = cpu_now() + 0.15;
    unsigned long x = 1;
    while (cpu_now() < end)
        for (int i = 0; i < 10000; i++) x = x * 6364136223846793005UL + 1;
    sink = x;
    _exit(0);
}

int main(void) {
    printf("cpu_spin_fork: relay of short spinning workers, 4 at a time\n");
    fflush(stdout);
    double end = now() + 20.0;
    int started = 0, running = 0;
    while (started < 400 && now() < end) {
        while (running < 4 && started < 400) {
            pid_t p = fork();
            if (p == 0) worker();
            if (p < 0) break;
            started++; running++;
        }
        if (wait(NULL) > 0) running--;
        else break;
    }
    while (wait(NULL) > 0) {}
    printf("cpu_spin_fork: %d workers (about %.1f s CPU) ran and nothing stopped me\n", started, started * 0.15);
    return 0;
}
