/* R03 heap hog: malloc 1 MiB chunks and touch every page until allocation fails or 2 GiB is held, in the
 * main thread and 3 more threads at once (separate malloc arenas). Defanged: stops at 2 GiB in total. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define TOTAL_MAX (2048L)  /* MiB over all threads */
static long held = 0;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *hog(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        int more = held < TOTAL_MAX;
        if (more) held++;
        pthread_mutex_unlock(&mu);
        if (!more) break;
        char *p = malloc(CHUNK);
        if (!p) break;
        for (size_t i = 0; i < CHUNK; i += 4096) p[i] = (char)i | 1;
    }
    return NULL;
}

int main(void) {
    printf("mem_heap: malloc+touch up to 2 GiB from 4 threads\n");
    fflush(stdout);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, hog, NULL);
    hog(NULL);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    printf("mem_heap: held %ld MiB and was not killed\n", held);
    return 0;
}
