/* R21 sleep forever in every sleeping call: clock_nanosleep on CLOCK_MONOTONIC, CLOCK_BOOTTIME and an
 * absolute CLOCK_REALTIME deadline, select(NULL), poll(no fds), epoll_wait on an empty set, and waiting
 * for a child that itself sleeps. Defanged: each wait is bounded so the whole run takes about 8 s. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <time.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/epoll.h>
#include <sys/wait.h>

int main(void) {
    printf("hang_sleep: sleeping in clock_nanosleep, select, poll, epoll_wait, waitpid\n");
    fflush(stdout);
    struct timespec t = {1, 0};
    clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
    clock_nanosleep(CLOCK_BOOTTIME, 0, &t, NULL);
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += 1;
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
    struct timeval tv = {1, 0};
    select(0, NULL, NULL, NULL, &tv);
    poll(NULL, 0, 1000);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    if (ep >= 0) epoll_wait(ep, &ev, 1, 1000);
    pid_t c = fork();
    if (c == 0) { struct timespec s = {2, 0}; nanosleep(&s, NULL); _exit(0); }
    if (c > 0) waitpid(c, NULL, 0);
    printf("hang_sleep: slept about 8 s and nothing killed me\n");
    return 0;
}
