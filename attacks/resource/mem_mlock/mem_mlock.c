/* R08 mlock: pin memory so it can never be reclaimed or swapped: raise RLIMIT_MEMLOCK (soft to hard, then
 * hard to unlimited), mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT), mmap MAP_LOCKED, mlock and mlock2 on
 * growing regions, and SHM_LOCK of a SysV segment. Locked pages must still be charged to the memcg (and the
 * lock bounded by RLIMIT_MEMLOCK). Reports what it got (self) since a denied mlock leaves no host trace.
 * Defanged: at most 256 MiB locked per method, all unlocked and unmapped at the end. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define MiB (1UL << 20)
static const char *nonce = "none";

static long vmlck_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmLck: %ld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

int main(int argc, char **argv) {
    if (argc > 1) nonce = argv[1];
    struct rlimit rl;
    getrlimit(RLIMIT_MEMLOCK, &rl);
    printf("mem_mlock: RLIMIT_MEMLOCK soft %lld hard %lld\n", (long long)rl.rlim_cur, (long long)rl.rlim_max);
    rlim_t hard0 = rl.rlim_max;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_MEMLOCK, &rl);
    struct rlimit up = {RLIM_INFINITY, RLIM_INFINITY};
    int r = setrlimit(RLIMIT_MEMLOCK, &up);
    printf("GAUNTLET-REPORT %s %s raise hard RLIMIT_MEMLOCK to unlimited (%s)\n", nonce,
           (r == 0 && hard0 != RLIM_INFINITY) ? "escaped" : "denied", r ? strerror(errno) : "ok");
    fflush(stdout);

    r = mlockall(MCL_CURRENT | MCL_FUTURE);
    printf("mem_mlock: mlockall(CURRENT|FUTURE) -> %s, VmLck %ld kB\n", r ? strerror(errno) : "ok", vmlck_kib());
    munlockall();
    long best = 0;
    /* MAP_LOCKED mappings of growing size */
    for (unsigned long sz = 8 * MiB; sz <= 256 * MiB; sz *= 2) {
        char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED) { printf("mem_mlock: MAP_LOCKED %lu MiB: %s\n", sz / MiB, strerror(errno)); break; }
        long l = vmlck_kib();
        if (l > best) best = l;
        printf("mem_mlock: MAP_LOCKED %lu MiB -> VmLck %ld kB\n", sz / MiB, l);
        fflush(stdout);
        munmap(p, sz);
    }
    /* mlock / mlock2(MLOCK_ONFAULT) on plain regions, touched */
    for (unsigned long sz = 8 * MiB; sz <= 256 * MiB; sz *= 2) {
        char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        r = mlock(p, sz);
        if (r) r = syscall(SYS_mlock2, p, sz, 1 /* MLOCK_ONFAULT */);
        if (r) { printf("mem_mlock: mlock/mlock2 %lu MiB: %s\n", sz / MiB, strerror(errno)); munmap(p, sz); break; }
        memset(p, 1, sz);
        long l = vmlck_kib();
        if (l > best) best = l;
        printf("mem_mlock: mlock %lu MiB -> VmLck %ld kB\n", sz / MiB, l);
        fflush(stdout);
        munlock(p, sz);
        munmap(p, sz);
    }
    /* SysV SHM_LOCK */
    int id = shmget(IPC_PRIVATE, 64 * MiB, IPC_CREAT | 0600);
    if (id >= 0) {
        r = shmctl(id, SHM_LOCK, NULL);
        printf("mem_mlock: SHM_LOCK 64 MiB segment -> %s\n", r ? strerror(errno) : "ok");
        shmctl(id, IPC_RMID, NULL);
    }
    printf("GAUNTLET-REPORT %s %s lock more memory than the 64M run budget (best VmLck %ld kB)\n", nonce,
           best > 64 * 1024 ? "escaped" : "denied", best);
    return 0;
}
