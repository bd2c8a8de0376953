/* G01 kill the supervisor: signal getppid(), the supervisor's host pid and the runner's host pid (passed in
 * args, as an attacker would learn them from /proc or a ps listing), by kill, tgkill and rt_sigqueueinfo.
 * Inside a PID namespace those pids do not exist (ESRCH); without one they are same-uid or root processes.
 * Probes with signal 0 first and reads /proc/<pid>/comm; sends SIGTERM only to a target that answered and is
 * not part of this plugin. The runner is only probed (signal 0), never signalled.
 * Reports each probe (self); the host sees a dead supervisor (health) or a shared pid namespace (pstat). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>

static const char *nonce = "none";
static char mycomm[64];

static void comm_of(pid_t pid, char *out, size_t n) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(p, "r");
    out[0] = 0;
    if (f) { if (!fgets(out, n, f)) out[0] = 0; fclose(f); }
    out[strcspn(out, "\n")] = 0;
}

static void probe(const char *label, pid_t pid, int may_signal) {
    if (pid <= 1 || pid == getpid()) { printf("kill_supervisor: %s pid %d skipped (not a foreign pid)\n", label, (int)pid); return; }
    char comm[64];
    comm_of(pid, comm, sizeof comm);
    int r = kill(pid, 0);
    int e = r ? errno : 0;
    int foreign = (r == 0) && strcmp(comm, mycomm) != 0;
    printf("kill_supervisor: kill(%s %d, 0) -> %s, comm '%s'\n", label, (int)pid, r ? strerror(e) : "ok", comm);
    printf("GAUNTLET-REPORT %s %s signal-probe the %s (host pid %d)\n", nonce, foreign ? "escaped" : "denied", label, (int)pid);
    if (foreign && may_signal) {
        r = syscall(SYS_tgkill, pid, pid, SIGTERM);
        printf("kill_supervisor: tgkill(%d, SIGTERM) -> %s\n", (int)pid, r ? strerror(errno) : "ok");
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_signo = SIGTERM;
        si.si_code = -1; /* SI_QUEUE */
        r = syscall(SYS_rt_sigqueueinfo, pid, SIGTERM, &si);
        printf("kill_supervisor: rt_sigqueueinfo(%d, SIGTERM) -> %s\n", (int)pid, r ? strerror(errno) : "ok");
        r = kill(pid, SIGTERM);
        printf("kill_supervisor: kill(%d, SIGTERM) -> %s\n", (int)pid, r ? strerror(errno) : "ok");
        printf("GAUNTLET-REPORT %s %s send SIGTERM to the %s\n", nonce, r == 0 ? "escaped" : "denied", label);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1) nonce = argv[1];
    pid_t sup = argc > 2 ? atoi(argv[2]) : 0, run = argc > 3 ? atoi(argv[3]) : 0;
    comm_of(getpid(), mycomm, sizeof mycomm);
    printf("kill_supervisor: me pid %d ppid %d; supervisor host pid %d, runner host pid %d\n", (int)getpid(),
           (int)getppid(), (int)sup, (int)run);
    fflush(stdout);
    probe("parent", getppid(), 1);
    probe("supervisor", sup, 1);
    probe("runner", run, 0);
    /* the sandbox's own init: killing it only ends this run, but an init that is the real supervisor dies */
    int r = kill(1, 0);
    char c1[64];
    comm_of(1, c1, sizeof c1);
    printf("kill_supervisor: kill(1, 0) -> %s, pid 1 is '%s'\n", r ? strerror(errno) : "ok", c1);
    fflush(stdout);
    usleep(400000); /* stay alive for the host's pstat sampler */
    return 0;
}
