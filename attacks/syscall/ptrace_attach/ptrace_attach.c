/* S01: PTRACE_ATTACH / PTRACE_SEIZE / PTRACE_TRACEME against the parent, pid 1, siblings, host pids. */
#include "../syscall_prelude.h"
}
#include <sys/ptrace.h>

static void try_pid(const char *who, pid_t pid)
{
    if (pid <= 0) return;
    long r = rs(SYS_ptrace, PTRACE_SEIZE, pid, 0, 0, 0, 0);
    if (r >= 0) {
        report(1, "ptrace-seize-%s-pid-%d", who, pid);
        rs(SYS_ptrace, PTRACE_DETACH, pid, 0, 0, 0, 0);
    } else report(0, "ptrace-seize-%s-pid-%d %s", who, pid, en(r));
    r = rs(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0, 0, 0);
    if (r >= 0) {
        report(1, "ptrace-attach-%s-pid-%d", who, pid);
        int st;
        waitpid(pid, &st, __WALL);
        /* peek one word of its memory to prove control, then let it go */
        errno = 0;
        long w = ptrace(PTRACE_PEEKUSER, pid, 0, 0);
        printf("peekuser(%d) = %lx (%s)\n", pid, w, strerror(errno));
        rs(SYS_ptrace, PTRACE_DETACH, pid, 0, 0, 0, 0);
    } else report(0, "ptrace-attach-%s-pid-%d %s", who, pid, en(r));
    /* the modern /proc route: /proc/<pid>/mem needs the same ptrace access */
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/mem", pid);
    int fd = open(p, O_RDWR);
    if (fd >= 0) {
        report(1, "open-%s-rdwr", p);
        close(fd);
    } else printf("open %s O_RDWR: %s\n", p, strerror(errno));
}

static int traceme(void *a)
{
    (void)a;
    long r = rs(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0);
    printf("child: PTRACE_TRACEME -> %s\n", en(r));
    return r >= 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    printf("pid %d ppid %d\n", getpid(), getppid());
    try_pid("parent", getppid());
    try_pid("init", 1);
    /* siblings: two children of ours; the first tries to attach to the second (same parent) */
    int pfd[2];
    if (pipe(pfd) == 0) {
        pid_t victim = fork();
        if (victim == 0) {
            close(pfd[0]);
            alarm(3);
            pause();
            _exit(0);
        }
        pid_t tracer = fork();
        if (tracer == 0) {
            close(pfd[0]);
            alarm(3);
            long r = rs(SYS_ptrace, PTRACE_SEIZE, victim, 0, 0, 0, 0);
            char c = r >= 0 ? 'E' : 'D';
            if (write(pfd[1], &c, 1) < 0) _exit(2);
            _exit(0);
        }
        close(pfd[1]);
        char c = 0;
        if (read(pfd[0], &c, 1) == 1)
            report(c == 'E', "ptrace-seize-sibling-pid-%d", victim);
        waitpid(tracer, NULL, 0);
        /* our own child (the parent-to-child direction) */
        long r = rs(SYS_ptrace, PTRACE_ATTACH, victim, 0, 0, 0, 0);
        if (r >= 0) {
            report(1, "ptrace-attach-own-child-pid-%d", victim);
            rs(SYS_ptrace, PTRACE_DETACH, victim, 0, 0, 0, 0);
        } else report(0, "ptrace-attach-own-child %s", en(r));
        kill(victim, SIGKILL);
        waitpid(victim, NULL, 0);
    }
    /* TRACEME: make our parent (pid 1 of the sandbox, or the supervisor without a pid ns) our tracer */
    int st = in_child(traceme, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "ptrace-traceme (%s)", wstr(st));
    /* host pids passed in: must not even be visible */
    try_pid("supervisor", SUPV_PID);
    try_pid("runner", RUNNER_PID);
    /* scan a range of low pids (host daemons when there is no pid namespace) with SEIZE only */
    int hits = 0;
    for (pid_t p = 2; p < 400; p++) {
        if (p == getpid()) continue;
        long r = rs(SYS_ptrace, PTRACE_SEIZE, p, 0, 0, 0, 0);
        if (r >= 0) {
            hits++;
            report(1, "ptrace-seize-scan-pid-%d", p);
            rs(SYS_ptrace, PTRACE_DETACH, p, 0, 0, 0, 0);
        }
    }
    if (!hits) report(0, "ptrace-seize-scan-2..399");
    linger();
    return 0;
}
