/* R10 thread bomb: pthread_create in a loop (small stacks) and threads that spawn threads.
 * Defanged: at most 3000 threads; each exits after 1.5 s. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 3000
static int made = 0, fails = 0, last = 0;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_attr_t attr;

static void *worker(void *arg) {
    long depth = (long)arg;
    /* each thread tries to spawn two more (tree growth) */
    for (int i = 0; i < 2 && depth < 12; i++) {
        pthread_mutex_lock(&mu);
        int ok = made < MAX_THREADS;
        if (ok) made++;
        pthread_mutex_unlock(&mu);
        if (!ok) break;
        pthread_t t;
        int r = pthread_create(&t, &attr, worker, (void *)(depth + 1));
        if (r) {
            pthread_mutex_lock(&mu);
            made--; fails++; last = r;
            pthread_mutex_unlock(&mu);
        }
    }
    struct timespec ts = {1, 500000000};
    nanosleep(&ts, NULL);
    return NULL;
}

int main(void) {
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* flat loop first */
    for (int i = 0; i < 1500 && fails < 100; i++) {
        pthread_t t;
        pthread_mutex_lock(&mu);
        made++;
        pthread_mutex_unlock(&mu);
        int r = pthread_create(&t, &attr, worker, (void *)11L);
        if (r) { pthread_mutex_lock(&mu); made--; fails++; last = r; pthread_mutex_unlock(&mu); }
    }
    pthread_t t;
    if (pthread_create(&t, &attr, worker, (void *)0L) == 0) { pthread_mutex_lock(&mu); made++; pthread_mutex_unlock(&mu); }
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&mu);
    printf("thread_bomb: %d threads created, %d failures, last error %d (%s)\n", made, fails, last,
           last ? strerror(last) : "-");
    pthread_mutex_unlock(&mu);
    fflush(stdout);
    _exit(0);
}
