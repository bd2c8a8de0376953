/* R20 session/process-group escape: children move into their own sessions and process groups (setsid,
 * setpgid to a fresh group, setpgid into a sibling's group), block every catchable signal, and a last one
 * keeps re-forking ("respawn") so a one-shot kill of known pids misses the new ones.
 * Defanged: every process ends by itself within 5 s; the respawn chain is at most 40 forks. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>

static void harden(void) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_IGN);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); }
}

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void) {
    int r1 = -1, r2 = -1, e1 = 0, e2 = 0;
    /* 1: its own session */
    pid_t a = fork();
    if (a == 0) { harden(); setsid(); nap_ms(5000); _exit(0); }
    /* 2: its own process group (same session) */
    pid_t b = fork();
    if (b == 0) { harden(); setpgid(0, 0); nap_ms(5000); _exit(0); }
    /* 3: respawner in its own session: forks a successor and exits, repeatedly */
    pid_t c = fork();
    if (c == 0) {
        harden();
        setsid();
        for (int i = 0; i < 40; i++) {
            pid_t n = fork();
            if (n < 0) break;
            if (n > 0) _exit(0); /* parent dies, child carries on with a new pid */
            nap_ms(125);
        }
        _exit(0);
    }
    nap_ms(50);
    /* report what worked */
    r1 = (a > 0) ? getsid(a) : -1; if (r1 < 0) e1 = errno;
    r2 = (b > 0) ? getpgid(b) : -1; if (r2 < 0) e2 = errno;
    printf("setsid_escape: me pid %d sid %d pgid %d; child A pid %d sid %d (%s); child B pid %d pgid %d (%s); respawner %d\n",
           (int)getpid(), (int)getsid(0), (int)getpgid(0), (int)a, r1, e1 ? strerror(e1) : "ok", (int)b, r2,
           e2 ? strerror(e2) : "ok", (int)c);
    fflush(stdout);
    return 0; /* main exits at once; the others should die with the run */
}
