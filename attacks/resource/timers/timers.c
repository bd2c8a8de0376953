/* R18 timer flood: as many POSIX interval timers as the kernel gives (timer_create, SIGEV_SIGNAL and
 * SIGEV_THREAD_ID) firing every microsecond, timerfds at 1 us, and ITIMER_REAL/VIRTUAL/PROF at 1 us with
 * handlers: an hrtimer and signal-delivery storm whose cost lands in interrupt and kernel context.
 * Contained: the work is charged to the plugin (its CPU budget runs out) and the run is stopped.
 * Defanged: at most 5000 timers and 500 timerfds; everything stops after 10 s. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>

static volatile unsigned long fired;
static void on_sig(int s) { (void)s; fired++; }

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);
    printf("timers: arming up to 5000 POSIX timers, 500 timerfds and 3 itimers at 1 us\n");
    fflush(stdout);
    int timers = 0, tfds = 0, e1 = 0, e2 = 0;
    struct itimerspec its = {{0, 1000}, {0, 1000}};
    for (int i = 0; i < 5000; i++) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = (i % 2) ? SIGEV_SIGNAL : SIGEV_THREAD_ID;
        ev.sigev_signo = SIGRTMIN;
        ev._sigev_un._tid = syscall(SYS_gettid);
        timer_t t;
        if (timer_create(i % 3 == 0 ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ev, &t) != 0) { e1 = errno; break; }
        timer_settime(t, 0, &its, NULL);
        timers++;
    }
    for (int i = 0; i < 500; i++) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
        if (fd < 0) { e2 = errno; break; }
        timerfd_settime(fd, 0, &its, NULL);
        tfds++;
    }
    struct itimerval iv = {{0, 1}, {0, 1}};
    setitimer(ITIMER_REAL, &iv, NULL);
    setitimer(ITIMER_VIRTUAL, &iv, NULL);
    setitimer(ITIMER_PROF, &iv, NULL);
    fflush(stdout);
    printf("timers: %d POSIX timers (%s), %d timerfds (%s), 3 itimers, all at 1 us\n", timers,
           e1 ? strerror(e1) : "bound", tfds, e2 ? strerror(e2) : "bound");
    fflush(stdout);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* no busy loop of our own: all CPU burnt from here on is timer expiry and signal delivery */
    do {
        struct timespec nap = {0, 10000000};
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 10);
    printf("timers: %lu signals handled in 10 s and nothing stopped me\n", fired);
    return 0;
}
