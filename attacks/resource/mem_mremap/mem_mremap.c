/* R04 mremap growth: grow one anonymous mapping with mremap(MREMAP_MAYMOVE) in 16 MiB steps, touching the
 * new tail each time (realloc-style growth that never goes through malloc), and also grow a mapping in place
 * by mremap without MAYMOVE. Defanged: stops at 2 GiB. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

int main(void) {
    size_t step = 16UL << 20, size = step;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 0; }
    memset(p, 1, size);
    printf("mem_mremap: growing a mapping by mremap, 16 MiB at a time, up to 2 GiB\n");
    fflush(stdout);
    while (size < (2048UL << 20)) {
        char *q = mremap(p, size, size + step, MREMAP_MAYMOVE);
        if (q == MAP_FAILED) { printf("mem_mremap: mremap failed at %zu MiB: %s\n", size >> 20, strerror(errno)); break; }
        p = q;
        for (size_t i = size; i < size + step; i += 4096) p[i] = 1;
        size += step;
    }
    printf("mem_mremap: held %zu MiB and was not killed\n", size >> 20);
    return 0;
}
