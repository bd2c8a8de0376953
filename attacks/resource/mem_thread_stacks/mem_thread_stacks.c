/* R05 huge thread stacks: threads created with 512 MiB stacks (pthread_attr_setstacksize) that each
 * recurse/touch their whole stack, plus a thread stack given by the attacker itself (pthread_attr_setstack
 * on a MAP_NORESERVE|MAP_GROWSDOWN region). Stacks are anonymous memory and must be charged to the memcg
 * like any other. Defanged: 4 threads x 512 MiB = 2 GiB at most. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

#define STACK (512UL << 20)
static volatile unsigned long touched_mib[4];

static void *eat(void *arg) {
    long id = (long)arg;
    char probe;
    /* walk down our own stack from here, touching page by page (leave 1 MiB headroom at the bottom) */
    uintptr_t sp = (uintptr_t)&probe;
    for (unsigned long off = 64 * 1024; off < STACK - (1UL << 20); off += 4096) {
        *(volatile char *)(sp - off) = 1;
        if ((off & ((1UL << 20) - 1)) == 0) touched_mib[id] = off >> 20;
    }
    return NULL;
}

int main(void) {
    printf("mem_thread_stacks: 4 threads with 512 MiB stacks, touching them all\n");
    fflush(stdout);
    pthread_t t[4];
    int made = 0;
    for (long i = 0; i < 4; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        int r;
        if (i == 3) {
            void *stk = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
            r = stk == MAP_FAILED ? errno : pthread_attr_setstack(&a, stk, STACK);
        } else {
            r = pthread_attr_setstacksize(&a, STACK);
        }
        if (r == 0) r = pthread_create(&t[i], &a, eat, (void *)i);
        if (r) printf("mem_thread_stacks: thread %ld: %s\n", i, strerror(r));
        else made++;
        fflush(stdout);
    }
    for (int i = 0; i < made; i++) pthread_join(t[i], NULL);
    printf("mem_thread_stacks: touched %lu+%lu+%lu+%lu MiB of thread stacks and was not killed\n", touched_mib[0],
           touched_mib[1], touched_mib[2], touched_mib[3]);
    return 0;
}
