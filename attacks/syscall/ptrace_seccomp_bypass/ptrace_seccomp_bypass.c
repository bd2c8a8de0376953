/* S02: PTRACE_TRACEME + a tracer that rewrites syscalls after the filter ran, and PTRACE_O_SUSPEND_SECCOMP. */
#include "../syscall_prelude.h"
}
#include <sys/ptrace.h>
#include <sys/user.h>
#include <stddef.h>
#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

static char canary_copy[4096];

/* Tracee: stops, then issues harmless calls that the tracer rewrites into forbidden ones. */
static void tracee(void)
{
    alarm(3);
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) {
        printf("tracee: PTRACE_TRACEME: %s\n", strerror(errno));
        _exit(10);
    }
    raise(SIGSTOP);
    /* 1: getppid rewritten to unshare(CLONE_NEWUSER) */
    unsigned long long before = ns_ino("self", "user");
    long r1 = syscall(SYS_getppid);
    unsigned long long after = ns_ino("self", "user");
    printf("tracee: call 1 returned %ld, user ns %llu -> %llu\n", r1, before, after);
    if (after && before != after) printf("TRACEE-ESCAPED unshare-via-rewrite\n");
    /* 2: getppid rewritten to openat(AT_FDCWD, canary) */
    long r2 = syscall(SYS_getppid);
    if (r2 > 2) {
        char b[256] = {0};
        ssize_t n = read((int)r2, b, sizeof b - 1);
        printf("tracee: rewritten openat gave fd %ld: %zd bytes: %s\n", r2, n, n > 0 ? b : "");
    }
    /* 3: with SUSPEND_SECCOMP the filter is off: try forbidden calls directly */
    long r3 = syscall(SYS_unshare, 0x10000000 /*CLONE_NEWUSER*/);
    printf("tracee: direct unshare(CLONE_NEWUSER) = %ld (%s)\n", r3, r3 ? strerror(errno) : "ok");
    if (r3 == 0) printf("TRACEE-ESCAPED direct-unshare-under-suspend\n");
    int fd = open(canary_copy, O_RDONLY);
    if (fd >= 0) dump_fd("tracee canary", fd);
    tcp_hit("gauntlet-ptrace-bypass");
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    snprintf(canary_copy, sizeof canary_copy, "%s", CANARY);
    int pfd[2];
    if (pipe(pfd) != 0) return 1;
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        setvbuf(stdout, NULL, _IOLBF, 0);
        tracee();
    }
    close(pfd[1]);
    int st = 0;
    waitpid(c, &st, 0);
    if (WIFSTOPPED(st)) {
        long r = rs(SYS_ptrace, PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP, 0, 0);
        report(r >= 0, "ptrace-o-suspend-seccomp %s", en(r));
        if (r < 0) rs(SYS_ptrace, PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD, 0, 0);
        int rewrites = 0;
        for (int i = 0; i < 400 && rewrites < 2; i++) {
            if (ptrace(PTRACE_SYSCALL, c, 0, 0) != 0) break;
            if (waitpid(c, &st, 0) < 0 || !WIFSTOPPED(st)) break;
            if (WSTOPSIG(st) != (SIGTRAP | 0x80)) continue;
            struct user_regs_struct regs;
            if (ptrace(PTRACE_GETREGS, c, 0, &regs) != 0) break;
            if (regs.orig_rax == SYS_getppid) {
                if (rewrites == 0) {
                    regs.orig_rax = SYS_unshare;
                    regs.rdi = 0x10000000;
                } else {
                    regs.orig_rax = SYS_openat;
                    regs.rdi = (unsigned long)AT_FDCWD;
                    regs.rsi = (unsigned long)canary_copy; /* same address in the forked child */
                    regs.rdx = O_RDONLY;
                }
                ptrace(PTRACE_SETREGS, c, 0, &regs);
                rewrites++;
                /* run to syscall exit */
                ptrace(PTRACE_SYSCALL, c, 0, 0);
                waitpid(c, &st, 0);
            }
        }
        ptrace(PTRACE_DETACH, c, 0, 0);
        report(rewrites > 0, "ptrace-syscall-rewrite (%d rewrites)", rewrites);
    } else {
        report(0, "ptrace-traceme: tracee %s", wstr(st));
    }
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    char buf[4096];
    ssize_t n;
    while ((n = read(pfd[0], buf, sizeof buf - 1)) > 0) {
        buf[n] = 0;
        fputs(buf, stdout);
        if (strstr(buf, "TRACEE-ESCAPED")) report(1, "tracee reported a forbidden call through ptrace");
    }
    linger();
    return 0;
}
