/* R09 kernel-memory hog: memory held by the kernel on the plugin's behalf rather than in its address
 * space: pipe buffers (F_SETPIPE_SZ to the max, then filled), AF_UNIX stream and datagram socket buffers
 * (SO_SNDBUF/SO_RCVBUF raised, filled non-blocking), and epoll instances, spread over up to 24 processes so
 * RLIMIT_NOFILE per process does not bound the total. If this memory is not charged to the run's memcg, the
 * plugin parks far more than its memory limit in the kernel. Reports the bytes it queued (self): escaped
 * when more than twice the 64M budget sat in kernel buffers at once and the run was not stopped.
 * Defanged: stops at 1 GiB queued in total; every process exits after holding ~1 s. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define CAP (1L << 30)
static volatile long *shared;
static char buf[65536];

static int add(long n) {
    long v = __atomic_add_fetch(&shared[0], n, __ATOMIC_SEQ_CST);
    return v < CAP;
}

static void fill_fd(int fd) {
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 4096; i++) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n <= 0) break;
        if (!add(n)) break;
    }
}

static void worker(void) {
    int pipes = 0, socks = 0, eps = 0;
    for (int i = 0; i < 80 && shared[0] < CAP; i++) {
        int p[2];
        if (pipe(p) != 0) break;
        fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
        fill_fd(p[1]);
        close(p[1]); /* the read end keeps the buffer alive */
        pipes++;
    }
    for (int i = 0; i < 80 && shared[0] < CAP; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0, sv) != 0) break;
        int big = 16 << 20;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        fill_fd(sv[0]);
        socks++;
    }
    for (int i = 0; i < 40; i++) {
        int e = epoll_create1(0);
        if (e < 0) break;
        eps++;
    }
    __atomic_add_fetch(&shared[1], pipes, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&shared[2], socks, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&shared[3], eps, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&shared[4], 1, __ATOMIC_SEQ_CST);
    struct timespec ts = {1, 200000000};
    nanosleep(&ts, NULL);
    _exit(0);
}

int main(int argc, char **argv) {
    const char *nonce = argc > 1 ? argv[1] : "none";
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(buf, 'k', sizeof buf);
    signal(SIGPIPE, SIG_IGN);
    int kids = 0;
    for (int i = 0; i < 24; i++) {
        pid_t p = fork();
        if (p == 0) worker();
        if (p > 0) kids++;
    }
    /* wait until all workers are holding (or 1 s) */
    for (int i = 0; i < 100 && shared[4] < kids; i++) { struct timespec ts = {0, 10000000}; nanosleep(&ts, NULL); }
    long held = shared[0];
    printf("mem_kernel_objects: %d workers hold %ld MiB in kernel buffers (%ld pipes, %ld socketpairs, %ld epolls)\n",
           kids, held >> 20, shared[1], shared[2], shared[3]);
    printf("GAUNTLET-REPORT %s %s park %ld MiB in kernel buffers with a 64M memory limit\n", nonce,
           held > (128L << 20) ? "escaped" : "denied", held >> 20);
    fflush(stdout);
    while (wait(NULL) > 0) {}
    return 0;
}
