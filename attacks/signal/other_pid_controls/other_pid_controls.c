/* G06 controls over other processes: prlimit64 (read only), getpriority/setpriority, sched_getaffinity/
 * sched_setaffinity, sched_getparam/sched_setscheduler, ioprio_get/ioprio_set and process_madvise-free
 * probes on the parent, the supervisor, the runner and pid 1, plus setpriority(PRIO_USER) over the whole uid.
 * "Set" calls write back the value just read, so a success changes nothing but proves the power to starve
 * or throttle the harness (nice 19, RLIMIT_NOFILE 0, pinning to one CPU). Reports itself (self); pstat sees
 * a shared pid namespace. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>
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

static void res(const char *label, const char *what, int ok, int err, int foreign) {
    printf("other_pid_controls: %s on %s -> %s\n", what, label, ok ? "ok" : strerror(err));
    if (foreign) printf("GAUNTLET-REPORT %s %s %s on the %s\n", nonce, ok ? "escaped" : "denied", what, label);
}

static void probe(const char *label, pid_t pid) {
    if (pid <= 0 || pid == getpid()) return;
    char comm[64];
    comm_of(pid, comm, sizeof comm);
    int foreign = pid != 1 && strcmp(comm, mycomm) != 0;
    printf("other_pid_controls: target %s pid %d comm '%s'\n", label, (int)pid, comm);
    struct rlimit old;
    int r = syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, NULL, &old);
    res(label, "prlimit64 read RLIMIT_NOFILE", r == 0, errno, foreign);
    if (r == 0) { r = syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, &old, NULL); res(label, "prlimit64 write (same value)", r == 0, errno, foreign); }
    errno = 0;
    int pr = getpriority(PRIO_PROCESS, pid);
    int e = errno;
    res(label, "getpriority", e == 0, e, 0);
    if (e == 0) { r = setpriority(PRIO_PROCESS, pid, pr); res(label, "setpriority (same nice)", r == 0, errno, foreign); }
    cpu_set_t set;
    CPU_ZERO(&set);
    r = sched_getaffinity(pid, sizeof set, &set);
    res(label, "sched_getaffinity", r == 0, errno, 0);
    if (r == 0) { r = sched_setaffinity(pid, sizeof set, &set); res(label, "sched_setaffinity (same mask)", r == 0, errno, foreign); }
    struct sched_param sp;
    r = sched_getparam(pid, &sp);
    res(label, "sched_getparam", r == 0, errno, 0);
    if (r == 0) { int pol = sched_getscheduler(pid); r = pol < 0 ? -1 : sched_setscheduler(pid, pol, &sp); res(label, "sched_setscheduler (same policy)", r == 0, errno, foreign); }
    long io = syscall(SYS_ioprio_get, 1, pid);
    res(label, "ioprio_get", io >= 0, errno, 0);
    if (io >= 0) { r = syscall(SYS_ioprio_set, 1, pid, io); res(label, "ioprio_set (same value)", r == 0, errno, foreign); }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1) nonce = argv[1];
    pid_t sup = argc > 2 ? atoi(argv[2]) : 0, run = argc > 3 ? atoi(argv[3]) : 0;
    comm_of(getpid(), mycomm, sizeof mycomm);
    probe("parent", getppid());
    probe("supervisor", sup);
    probe("runner", run);
    probe("sandbox pid 1", 1);
    /* the whole uid: if the plugin shares a host uid, this renices every process of it (to the same value) */
    errno = 0;
    int me = getpriority(PRIO_PROCESS, 0);
    int r = setpriority(PRIO_USER, getuid(), me);
    printf("other_pid_controls: setpriority(PRIO_USER, uid %d, %d) -> %s\n", (int)getuid(), me, r ? strerror(errno) : "ok");
    fflush(stdout);
    usleep(400000);
    return 0;
}
