/* R12 descriptor exhaustion: try to lift RLIMIT_NOFILE (soft to hard, hard to 1M), then open until EMFILE
 * with every kind of descriptor (open /dev/null, dup, dup2/F_DUPFD to high numbers, sockets, eventfd,
 * epoll, pipes), and multiply across forked children so the run as a whole holds as many files as it can.
 * A run that raises its limit or holds a huge number of files can exhaust the host's fs.file-max.
 * Defanged: each process stops at its own EMFILE or 100000 fds; children hold ~1 s; at most 24 children. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

static volatile long *shared;

static long grab(int verbose) {
    long n = 0;
    int last = 0;
    for (long i = 0; i < 100000; i++) {
        int fd;
        switch (i % 6) {
        case 0: fd = open("/dev/null", O_RDONLY); break;
        case 1: fd = dup(0); break;
        case 2: fd = socket(AF_UNIX, SOCK_DGRAM, 0); break;
        case 3: fd = eventfd(0, 0); break;
        case 4: fd = epoll_create1(0); break;
        default: { int p[2]; fd = pipe(p) == 0 ? p[0] : -1; if (fd >= 0) n++; break; }
        }
        if (fd < 0) { last = errno; if (last == EMFILE || last == ENFILE) break; continue; }
        n++;
    }
    /* descriptor numbers past the limit */
    int hi = fcntl(0, F_DUPFD, 1 << 20);
    int hi2 = dup2(0, 1 << 20);
    if (verbose)
        printf("fd_exhaust: held %ld fds, stopped with %s; F_DUPFD(1M) -> %d, dup2(0, 1M) -> %d (%s)\n", n,
               strerror(last), hi, hi2, hi2 < 0 ? strerror(errno) : "ok");
    return n;
}

int main(void) {
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("fd_exhaust: RLIMIT_NOFILE soft %lld hard %lld\n", (long long)rl.rlim_cur, (long long)rl.rlim_max);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit up = {1 << 20, 1 << 20};
    int r = setrlimit(RLIMIT_NOFILE, &up);
    printf("fd_exhaust: raise RLIMIT_NOFILE to 1M -> %s\n", r ? strerror(errno) : "ok");
    fflush(stdout);
    int kids = 0;
    for (int i = 0; i < 24; i++) {
        pid_t p = fork();
        if (p == 0) {
            __atomic_add_fetch(&shared[0], grab(0), __ATOMIC_SEQ_CST);
            __atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            _exit(0);
        }
        if (p > 0) kids++;
    }
    long mine = grab(1);
    for (int i = 0; i < 100 && shared[1] < kids; i++) { struct timespec ts = {0, 10000000}; nanosleep(&ts, NULL); }
    printf("fd_exhaust: the run held %ld descriptors at once over %d processes\n", mine + shared[0], kids + 1);
    fflush(stdout);
    while (wait(NULL) > 0) {}
    return 0;
}
