/* R21 block forever on a futex nobody will wake (FUTEX_WAIT and FUTEX_WAIT_BITSET, private and shared),
 * plus a thread parked in pthread_join on itself-like deadlock (two threads joining each other).
 * Defanged: the waits carry an 8 s timeout. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>

static uint32_t word = 0;
static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER, m2 = PTHREAD_MUTEX_INITIALIZER;

static void *deadlock(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m2);
    struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); ts.tv_sec += 8;
    pthread_mutex_timedlock(&m1, &ts); /* main holds m1 and waits for m2: classic ABBA */
    return NULL;
}

int main(void) {
    printf("hang_futex: parking in FUTEX_WAIT on a word nobody changes, and in an ABBA mutex deadlock\n");
    fflush(stdout);
    pthread_mutex_lock(&m1);
    pthread_t t;
    pthread_create(&t, NULL, deadlock, NULL);
    struct timespec rel = {8, 0};
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
    struct timespec abs; clock_gettime(CLOCK_MONOTONIC, &abs); abs.tv_sec += 1;
    syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
    printf("hang_futex: woke up after the timeouts (the wall deadline did not fire)\n");
    return 0;
}
