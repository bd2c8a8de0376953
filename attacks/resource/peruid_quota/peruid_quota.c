/* R17 per-UID kernel quotas: inotify instances and watches, keyring keys, pipe buffer pages
 * (pipe-user-pages-soft), queued real-time signals (RLIMIT_SIGPENDING) and processes (RLIMIT_NPROC) are all
 * counted per user. If the plugin shares a host uid with anything else, exhausting them breaks those
 * processes (a same-uid canary can no longer inotify_init, add_key, grow a pipe or fork). Drives each to its
 * limit across 8 processes and prints what it reached and which uid it maps to on the host.
 * Defanged: bounded counts (1024 inotify instances, 20000 watches, 300 keys, 2000 pipes, 20000 signals). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile long *sh;

static void work(int idx) {
    int inst = 0, watches = 0, keys = 0, pipes = 0, sigs = 0, e_in = 0, e_w = 0, e_k = 0, e_p = 0, e_s = 0;
    for (int i = 0; i < 128; i++) {
        int fd = inotify_init1(IN_CLOEXEC);
        if (fd < 0) { e_in = errno; break; }
        inst++;
        if (i == 0)
            for (int w = 0; w < 2500; w++) {
                char d[64];
                snprintf(d, sizeof d, "/tmp/w%d.%d", idx, w);
                if (w < 50) mkdir(d, 0700);
                if (inotify_add_watch(fd, w < 50 ? d : "/tmp", IN_ALL_EVENTS | (w >= 50 ? IN_MASK_ADD : 0)) < 0) { e_w = errno; break; }
                watches++;
            }
    }
    for (int i = 0; i < 40; i++) {
        char desc[64];
        snprintf(desc, sizeof desc, "gauntlet-%d-%d", idx, i);
        long k = syscall(SYS_add_key, "user", desc, "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
        if (k < 0) { e_k = errno; break; }
        keys++;
    }
    for (int i = 0; i < 100; i++) {
        int p[2];
        if (pipe(p) != 0) { e_p = errno; break; }
        if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0) { e_p = errno; close(p[0]); close(p[1]); break; }
        pipes++;
    }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &s, NULL);
    union sigval v = {0};
    for (int i = 0; i < 2500; i++) {
        if (sigqueue(getpid(), SIGRTMIN, v) != 0) { e_s = errno; break; }
        sigs++;
    }
    __atomic_add_fetch(&sh[0], inst, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&sh[1], watches, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&sh[2], keys, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&sh[3], pipes, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&sh[4], sigs, __ATOMIC_SEQ_CST);
    if (idx == 0)
        printf("peruid_quota: worker 0 stopped at: inotify_init %s, add_watch %s, add_key %s, F_SETPIPE_SZ %s, sigqueue %s\n",
               e_in ? strerror(e_in) : "bound", e_w ? strerror(e_w) : "bound", e_k ? strerror(e_k) : "bound",
               e_p ? strerror(e_p) : "bound", e_s ? strerror(e_s) : "bound");
    fflush(stdout);
}

int main(void) {
    sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char map[256] = "?";
    FILE *f = fopen("/proc/self/uid_map", "r");
    if (f) { if (!fgets(map, sizeof map, f)) map[0] = 0; fclose(f); }
    map[strcspn(map, "\n")] = 0;
    struct rlimit rp, rs;
    getrlimit(RLIMIT_NPROC, &rp);
    getrlimit(RLIMIT_SIGPENDING, &rs);
    printf("peruid_quota: uid %d, uid_map '%s', RLIMIT_NPROC %lld, RLIMIT_SIGPENDING %lld\n", (int)getuid(), map,
           (long long)rp.rlim_cur, (long long)rs.rlim_cur);
    fflush(stdout);
    int kids = 0;
    for (int i = 1; i < 8; i++) {
        pid_t p = fork();
        if (p == 0) { work(i); struct timespec ts = {0, 600000000}; nanosleep(&ts, NULL); _exit(0); }
        if (p > 0) kids++;
    }
    work(0);
    while (wait(NULL) > 0) {}
    printf("peruid_quota: the run held %ld inotify instances, %ld watches, %ld keys, %ld 1 MiB pipes, %ld queued signals\n",
           sh[0], sh[1], sh[2], sh[3], sh[4]);
    return 0;
}
