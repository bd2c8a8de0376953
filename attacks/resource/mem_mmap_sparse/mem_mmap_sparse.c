/* R04 sparse mappings: reserve huge MAP_NORESERVE regions (virtual size is free: 64 GiB), then touch
 * one byte per page, spread across many mappings and with MAP_POPULATE / madvise(MADV_WILLNEED) and
 * MAP_HUGETLB/THP attempts so resident memory grows in big steps. Overcommit lets the reservations through;
 * only a limit on resident memory (memcg) stops the touching. Defanged: at most 2 GiB touched. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

#define GiB (1UL << 30)

int main(void) {
    unsigned long reserved = 0, touched = 0;
    char *regions[64];
    int nreg = 0;
    for (int i = 0; i < 64; i++) {
        char *p = mmap(NULL, GiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) break;
        regions[nreg++] = p;
        reserved += GiB;
    }
    printf("mem_mmap_sparse: reserved %lu GiB of MAP_NORESERVE address space in %d regions\n", reserved / GiB, nreg);
    fflush(stdout);
    /* a THP-backed 2 MiB-aligned attempt: each fault may bring in 2 MiB at once */
    if (nreg > 0) madvise(regions[0], GiB, MADV_HUGEPAGE);
    /* touch page by page, round robin over regions, so the RSS is sparse in every region */
    unsigned long per_region_pages = GiB / 4096;
    for (unsigned long pg = 0; pg < per_region_pages && touched < 2 * GiB; pg += 1) {
        for (int r = 0; r < nreg && touched < 2 * GiB; r++) {
            regions[r][pg * 4096] = 1;
            touched += 4096;
        }
    }
    /* MAP_POPULATE on a fresh region: the kernel faults it all in inside one syscall */
    char *pop = mmap(NULL, 256UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    printf("mem_mmap_sparse: touched %lu MiB, MAP_POPULATE 256 MiB -> %s, and was not killed\n", touched >> 20,
           pop == MAP_FAILED ? strerror(errno) : "ok");
    return 0;
}
