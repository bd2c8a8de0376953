/* S15: personality(ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | MMAP_PAGE_ZERO ...), alone, combined, with the value's high bits set, then re-exec to see whether ASLR really went away. */
#include "../syscall_prelude.h"
}
#include <sys/personality.h>
#include <sys/mman.h>

static unsigned long current(void) { return (unsigned long)syscall(SYS_personality, 0xffffffffUL); }

int main(int argc, char **argv)
{
    if (argc > 8 && !strcmp(argv[8], "child")) {
        /* re-exec'd: print where things landed; the parent compares two runs */
        int local;
        printf("CHILD stack=%p mmap=%p personality=0x%lx\n", (void *)&local,
               mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), current());
        return 0;
    }
    args(argc, argv);
    const unsigned long DANGER = ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | MMAP_PAGE_ZERO | ADDR_LIMIT_32BIT |
                                 ADDR_LIMIT_3GB | ADDR_COMPAT_LAYOUT;
    const struct { const char *n; unsigned long v; } P[] = {
        {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
        {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
        {"ADDR_NO_RANDOMIZE|READ_IMPLIES_EXEC", ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC},
        {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
        {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
        {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
        {"PER_LINUX32|ADDR_NO_RANDOMIZE", PER_LINUX32 | ADDR_NO_RANDOMIZE},
        {"PER_SVR4 (implies STICKY_TIMEOUTS|MMAP_PAGE_ZERO)", PER_SVR4},
        {"PER_LINUX|ADDR_NO_RANDOMIZE high-bits", 0x100000000UL | ADDR_NO_RANDOMIZE},
        {"ADDR_NO_RANDOMIZE in bits 32+", (unsigned long)ADDR_NO_RANDOMIZE << 32},
        {"0xffffffff-minus-query", 0xfffffffeUL},
    };
    unsigned long before = current();
    printf("personality now 0x%lx\n", before);
    for (size_t i = 0; i < sizeof P / sizeof *P; i++) {
        long r = rs(SYS_personality, (long)P[i].v, 0, 0, 0, 0, 0);
        unsigned long now = current();
        int bad = (now & DANGER) != 0;
        report(bad, "personality(%s = 0x%lx) returned %s, now 0x%lx", P[i].n, P[i].v, en(r), now);
        rs(SYS_personality, PER_LINUX, 0, 0, 0, 0, 0);
    }
    /* end-to-end: set the flag and exec ourselves twice; identical addresses mean ASLR is off */
    rs(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0);
    char line[2][256] = {"", ""};
    for (int k = 0; k < 2; k++) {
        int pfd[2];
        if (pipe(pfd)) break;
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            dup2(pfd[1], 1);
            execl("/proc/self/exe", argv[0], NONCE, SCRATCH, CANARY, "0", "0", "0", "0", "child", (char *)0);
            _exit(127);
        }
        close(pfd[1]);
        ssize_t n = read(pfd[0], line[k], sizeof line[k] - 1);
        if (n > 0) line[k][n] = 0;
        close(pfd[0]);
        waitpid(c, NULL, 0);
        printf("exec %d: %s", k, line[k]);
    }
    if (line[0][0] && line[1][0])
        report(!strcmp(line[0], line[1]), "aslr-off-after-exec (two execs %s)", strcmp(line[0], line[1]) ? "differ" : "IDENTICAL");
    try_read_path("/proc/self/personality");
    linger();
    return 0;
}
