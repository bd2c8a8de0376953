/* R01 busy loop on every core: the main thread plus 7 threads spin, and SIGXCPU is ignored (so an
 * RLIMIT_CPU soft limit alone only nags). Defanged: every spinner stops after 20 s of wall time. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <signal.h>
#include <pthread.h>
#include <time.h>

static volatile unsigned long sink;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void *spin(void *arg) {
    (void)arg;
    double end = now() + 20.0;
    unsigned long x = 1;
    while (now() < end)
        for (int i = 0; i < 100000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    sink = x;
    return NULL;
}

int main(void) {
    signal(SIGXCPU, SIG_IGN);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    printf("cpu_spin: spinning on %ld online cpus with 8 threads, SIGXCPU ignored\n", n);
    fflush(stdout);
    pthread_t t[7];
    for (int i = 0; i < 7; i++) pthread_create(&t[i], NULL, spin, NULL);
    spin(NULL);
    for (int i = 0; i < 7; i++) pthread_join(t[i], NULL);
    printf("cpu_spin: spun 20 s and nothing stopped me\n");
    return 0;
}
