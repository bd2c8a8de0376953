/* S03: process_vm_readv/process_vm_writev and /proc/<pid>/mem against the parent, pid 1, a child and host pids. */
#include "../syscall_prelude.h"
}
#include <sys/uio.h>

static volatile char secret[64] = "child-secret-gauntlet";

static void probe(const char *who, pid_t pid, void *addr)
{
    char buf[64] = {0};
    struct iovec local = {buf, sizeof buf - 1}, remote = {addr, sizeof buf - 1};
    long r = rs(SYS_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
    if (r > 0) report(1, "process_vm_readv-%s-pid-%d read %ld bytes", who, pid, r);
    else report(0, "process_vm_readv-%s-pid-%d %s", who, pid, en(r));
    char marker[64];
    snprintf(marker, sizeof marker, "gauntlet-%s", NONCE);
    struct iovec l2 = {marker, strlen(marker) + 1}, r2 = {addr, strlen(marker) + 1};
    /* writes only ever target our own child's buffer (never a process outside the sandbox) */
    if (!strcmp(who, "child")) {
        r = rs(SYS_process_vm_writev, pid, (long)&l2, 1, (long)&r2, 1, 0);
        if (r > 0) report(1, "process_vm_writev-%s-pid-%d wrote %ld bytes", who, pid, r);
        else report(0, "process_vm_writev-%s-pid-%d %s", who, pid, en(r));
    }
}

int main(int argc, char **argv)
{
    args(argc, argv);
    /* Addresses: for a child the buffer sits at the same address; for other pids any mapped address
     * works as a probe because the permission check comes before the copy (probe the stack and the
     * executable's base, which ASLR moves, and a fixed low address). */
    pid_t child = fork();
    if (child == 0) {
        alarm(3);
        pause();
        _exit(0);
    }
    usleep(20000);
    probe("child", child, (void *)secret);
    probe("parent", getppid(), (void *)0x400000);
    probe("init", 1, (void *)0x400000);
    if (SUPV_PID > 0) probe("supervisor", SUPV_PID, (void *)0x400000);
    if (RUNNER_PID > 0 && RUNNER_PID != SUPV_PID) probe("runner", RUNNER_PID, (void *)0x400000);
    /* /proc/<pid>/mem and /proc/<pid>/environ on the parent and pid 1 (a non-dumpable init) */
    pid_t targets[] = {getppid(), 1, SUPV_PID};
    for (int i = 0; i < 3; i++) {
        if (targets[i] <= 0) continue;
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/mem", targets[i]);
        int fd = open(p, O_RDONLY);
        if (fd >= 0) {
            report(1, "open-%s", p);
            close(fd);
        } else report(0, "open-%s %s", p, strerror(errno));
        snprintf(p, sizeof p, "/proc/%d/environ", targets[i]);
        try_read_path(p);
    }
    /* other processes: process_madvise / pidfd_getfd / kcmp need the same access */
    long pfd = rs(SYS_pidfd_open, getppid(), 0, 0, 0, 0, 0);
    printf("pidfd_open(parent) = %s\n", en(pfd));
    if (pfd >= 0) {
        for (int fd = 0; fd < 8; fd++) {
            long r = rs(438 /*pidfd_getfd*/, pfd, fd, 0, 0, 0, 0);
            if (r >= 0) {
                report(1, "pidfd_getfd-parent-fd-%d", fd);
                dump_fd("stolen fd", (int)r);
                close((int)r);
            } else if (fd == 0) report(0, "pidfd_getfd-parent %s", en(r));
        }
        struct iovec iov = {(void *)0x400000, 4096};
        long r = rs(440 /*process_madvise*/, pfd, (long)&iov, 1, 8 /*MADV_COLD*/, 0, 0);
        report(r >= 0, "process_madvise-parent %s", en(r));
        close((int)pfd);
    }
    long r = rs(SYS_kcmp, getpid(), getppid(), 0 /*KCMP_FILE*/, 0, 0, 0);
    report(r >= 0, "kcmp-parent %s", en(r));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    linger();
    return 0;
}
