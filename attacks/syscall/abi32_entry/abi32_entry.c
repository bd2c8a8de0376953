/* S29: the other syscall ABIs: int $0x80 (i386 table: getpid, then forbidden calls like ptrace, mount, unshare, open of the canary), sysenter, syscall with the x32 bit, and the legacy vsyscall page; each in its own child, since a correct filter kills on a foreign architecture. */
#include "../syscall_prelude.h"
}
#include <sys/mman.h>

static int nr32, a1, a2, a3;
static char path32[1024];
static char *lowbuf;

/* int $0x80 with 32-bit arguments; our stack and data live above 4 GiB, so string arguments are copied
 * to a MAP_32BIT page first */
static long int80(int nr, int b, int c, int d)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d) : "memory");
    return r;
}

static int do_int80(void *arg)
{
    (void)arg;
    long r = int80(nr32, a1, a2, a3);
    printf("  int $0x80 nr %d returned %ld\n", nr32, r);
    if (nr32 == 5 && r >= 0) {   /* open: read what we opened */
        long n = lowbuf ? int80(3 /*read*/, (int)r, (int)(long)(lowbuf + 4096), 200) : -1;
        if (n > 0) lowbuf[4096 + n] = 0;
        printf("  read via int 0x80: %ld bytes: %s\n", n, n > 0 ? lowbuf + 4096 : "");
    }
    return r >= 0 ? 1 : (r > -4096 ? 2 : 0);
}

static int do_sysenter(void *arg)
{
    (void)arg;
    long r;
    /* getpid through sysenter (i386 20); on 64-bit Intel this is #UD from long mode, AMD refuses too */
    __asm__ volatile("push %%rbp\n\tmov %%rsp, %%rbp\n\tsysenter\n\tpop %%rbp" : "=a"(r) : "a"(20) : "rcx", "rdx", "memory");
    printf("  sysenter returned %ld\n", r);
    return 1;
}

static int do_vsyscall(void *arg)
{
    (void)arg;
    /* vsyscall gettimeofday at its fixed address (emulated, and filtered, or absent) */
    long (*vgtod)(void *, void *) = (long (*)(void *, void *))0xffffffffff600000UL;
    char tv[16];
    long r = vgtod(tv, 0);
    printf("  vsyscall gettimeofday returned %ld\n", r);
    return 0;
}

static void i386(const char *what, int nr, int b, int c, int d, int forbidden)
{
    nr32 = nr; a1 = b; a2 = c; a3 = d;
    int st = in_child(do_int80, NULL, 2);
    int survived = WIFEXITED(st);
    int worked = survived && WEXITSTATUS(st) == 1;
    printf("int $0x80 %s: %s\n", what, wstr(st));
    /* a correct filter kills on AUDIT_ARCH_I386 (SIGSYS); surviving means the i386 table is reachable */
    report(forbidden ? worked : survived && !(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) && WEXITSTATUS(st) != 0,
           "int0x80-%s (%s)", what, wstr(st));
}

int main(int argc, char **argv)
{
    args(argc, argv);
    char *low = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) { printf("MAP_32BIT: %s\n", strerror(errno)); low = NULL; }
    int lo = (int)(long)low;
    lowbuf = low;
    if (low) {
        snprintf(low, 1024, "%s", CANARY);
        snprintf(low + 1024, 64, "/tmp");
        snprintf(low + 2048, 64, "tmpfs");
    }
    i386("getpid(20)", 20, 0, 0, 0, 0);
    i386("ptrace-traceme(26)", 26, 0, 0, 0, 1);
    if (low) i386("mount-tmpfs(21)", 21, lo + 2048, lo + 1024, lo + 2048, 1);
    i386("unshare-newuser(310)", 310, 0x10000000, 0, 0, 1);
    i386("keyctl-get-session(288)", 288, 0, -3, 0, 1);
    i386("io_uring_setup(425)", 425, 1, lo + 6144, 0, 1);
    i386("setns(346)", 346, 0, 0, 0, 0);
    if (low) {
        snprintf(path32, sizeof path32, "%s", CANARY);
        i386("open-canary(5)", 5, lo, 0, 0, 1);
    }
    int st = in_child(do_sysenter, NULL, 2);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "sysenter-getpid (%s)", wstr(st));
    st = in_child(do_vsyscall, NULL, 2);
    printf("vsyscall page: %s\n", wstr(st));
    /* syscall instruction with the x32 bit on calls the native filter would refuse */
    const struct { const char *n; long nr, a; } X[] = {{"ptrace", 101, 0}, {"unshare", 272, 0x10000000}, {"getpid", 39, 0}, {"io_uring_setup", 425, 1}};
    for (int i = 0; i < 4; i++) {
        long r = rs(X[i].nr | 0x40000000, X[i].a, 0, 0, 0, 0, 0);
        report(r >= 0 || (r != -EPERM && r != -ENOSYS), "x32-%s %s", X[i].n, en(r));
    }
    linger();
    return 0;
}
