/* R05 stack exhaustion: first try to lift RLIMIT_STACK (setrlimit to unlimited, then re-exec so the new
 * limit applies to the main stack), then recurse without bound using 64 KiB alloca frames touched in full.
 * Contained: the stack limit holds (8 MiB), recursion dies with SIGSEGV well below the memory limit.
 * Defanged: recursion depth is capped at 2 GiB of frames. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <alloca.h>
#include <unistd.h>
#include <sys/resource.h>

static unsigned long depth_reached;

static unsigned long recurse(unsigned long depth) {
    volatile char *frame = alloca(64 * 1024);
    for (int i = 0; i < 64 * 1024; i += 4096) frame[i] = (char)depth;
    depth_reached = depth;
    if (depth % 64 == 0) { printf("mem_stack_recursion: %lu MiB of stack\n", depth / 16); fflush(stdout); }
    if (depth >= 32768) return depth; /* 2 GiB */
    return recurse(depth + 1) + frame[0];
}

int main(int argc, char **argv) {
    struct rlimit rl;
    getrlimit(RLIMIT_STACK, &rl);
    printf("mem_stack_recursion: RLIMIT_STACK soft %lld hard %lld\n", (long long)rl.rlim_cur, (long long)rl.rlim_max);
    if (argc < 2) {
        struct rlimit up = {RLIM_INFINITY, RLIM_INFINITY};
        int r = setrlimit(RLIMIT_STACK, &up);
        printf("mem_stack_recursion: raise RLIMIT_STACK to unlimited -> %s\n", r ? strerror(errno) : "ok");
        if (r != 0) { up.rlim_cur = rl.rlim_max; r = setrlimit(RLIMIT_STACK, &up); }
        fflush(stdout);
        char *nargv[] = {argv[0], "reexec", NULL};
        char *envp[] = {NULL};
        execve(argv[0], nargv, envp);
    }
    fflush(stdout);
    unsigned long d = recurse(1);
    printf("mem_stack_recursion: recursed %lu frames (%lu MiB) and was not killed\n", d, d / 16);
    return 0;
}
