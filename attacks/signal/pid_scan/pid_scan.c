/* G03 pid scan: kill(pid, 0) over the whole pid range (1..pid_max, time-boxed) and pidfd_open on every pid
 * that answers, plus the supervisor's and runner's host pids. Counts signalable pids and compares them with
 * what /proc lists: a pid that answers but is not in our /proc, or more live pids than pids.max allows, means
 * the plugin can reach processes outside its sandbox. Reports itself (self); pstat sees a shared namespace.
 * Defanged: signal 0 only (nothing is delivered); 0.6 s of scanning at most. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    const char *nonce = argc > 1 ? argv[1] : "none";
    pid_t sup = argc > 2 ? atoi(argv[2]) : 0, run = argc > 3 ? atoi(argv[3]) : 0;
    long pid_max = 4194304;
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    if (f) { if (fscanf(f, "%ld", &pid_max) != 1) pid_max = 4194304; fclose(f); }
    if (pid_max > 4194304) pid_max = 4194304;
    long answered = 0, eperm = 0, not_in_proc = 0, pidfds = 0, scanned = 0;
    long first_foreign = 0;
    double end = now() + 0.6;
    for (long p = 1; p <= pid_max; p++) {
        if ((p & 1023) == 0 && now() > end) break;
        scanned = p;
        int r = kill((pid_t)p, 0);
        if (r != 0 && errno != EPERM) continue;
        if (r != 0) eperm++;
        answered++;
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%ld", p);
        if (stat(path, &st) != 0) { not_in_proc++; if (!first_foreign) first_foreign = p; }
        long fd = syscall(__NR_pidfd_open, p, 0);
        if (fd >= 0) { pidfds++; close(fd); }
    }
    int sup_hit = sup > 1 && (kill(sup, 0) == 0 || errno == EPERM);
    int run_hit = run > 1 && (kill(run, 0) == 0 || errno == EPERM);
    long sfd = sup > 1 ? syscall(__NR_pidfd_open, sup, 0) : -1;
    printf("pid_scan: scanned pids 1..%ld of %ld: %ld answered (%ld with EPERM), %ld not listed in /proc (first %ld), %ld pidfds opened\n",
           scanned, pid_max, answered, eperm, not_in_proc, first_foreign, pidfds);
    printf("pid_scan: supervisor %d %s, runner %d %s, pidfd_open(supervisor) -> %s\n", (int)sup, sup_hit ? "ANSWERS" : "absent",
           (int)run, run_hit ? "ANSWERS" : "absent", sfd >= 0 ? "ok" : strerror(errno));
    int esc = answered > 40 || not_in_proc > 0 || sup_hit || run_hit || sfd >= 0;
    printf("GAUNTLET-REPORT %s %s reach processes outside the sandbox by pid (%ld answered)\n", nonce, esc ? "escaped" : "denied", answered);
    fflush(stdout);
    usleep(400000);
    return 0;
}
