/* R03 heap hog through the program break: sbrk/brk in 4 MiB steps, touching every page, until brk fails
 * or 2 GiB. (Bypasses malloc's mmap threshold and any malloc-level hook.) Defanged: 2 GiB at most. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

int main(void) {
    printf("mem_brk: growing the break and touching it, up to 2 GiB\n");
    fflush(stdout);
    long step = 4L << 20, got = 0;
    unsigned long cur = syscall(SYS_brk, 0);
    while (got < (2048L << 20)) {
        unsigned long want = cur + step;
        unsigned long r = syscall(SYS_brk, want);
        if (r < want) { printf("mem_brk: brk refused at %ld MiB\n", got >> 20); break; }
        for (unsigned long a = cur; a < want; a += 4096) *(volatile char *)a = 1;
        cur = want;
        got += step;
    }
    printf("mem_brk: held %ld MiB and was not killed\n", got >> 20);
    return 0;
}
