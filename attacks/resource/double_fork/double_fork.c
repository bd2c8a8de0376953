/* R19 double fork: the grandchild is orphaned (its parent exits at once), so it reparents to init or a
 * subreaper, closes its stdio, ignores SIGTERM/SIGHUP and keeps running after the main process exits.
 * A supervisor that only waits for or kills its direct child misses it. Defanged: the daemon sleeps 5 s
 * in total and exits by itself. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>

int main(void) {
    pid_t c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            signal(SIGINT, SIG_IGN);
            signal(SIGPIPE, SIG_IGN);
            setsid();
            int fd = open("/dev/null", O_RDWR);
            if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); }
            for (int i = 0; i < 50; i++) { /* 5 s */
                struct timespec ts = {0, 100000000};
                nanosleep(&ts, NULL);
            }
            _exit(0);
        }
        _exit(0); /* orphan the grandchild */
    }
    waitpid(c, NULL, 0);
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    printf("double_fork: daemon grandchild started, main exits now; the daemon should not outlive the run\n");
    fflush(stdout);
    return 0;
}
