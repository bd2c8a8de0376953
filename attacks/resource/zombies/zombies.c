/* R11 zombies: children that exit at once and are never reaped; each keeps its pid (and a pids.max slot).
 * Tries to make up to 200 zombies, then reports how many forks failed. Defanged: bounded counts, the main
 * process exits after ~1 s (its zombies go with it). */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <dirent.h>

int main(void) {
    signal(SIGCHLD, SIG_DFL); /* default: children become zombies until waited for */
    int made = 0, fails = 0, last = 0;
    for (int i = 0; i < 200; i++) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        if (p < 0) { fails++; last = errno; continue; }
        made++;
    }
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    int zombies = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) {
            char *rp = strrchr(buf, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'Z') zombies++;
        }
        fclose(f);
    }
    if (d) closedir(d);
    printf("zombies: %d children made, %d zombies visible, %d fork failures, last errno %d (%s)\n", made, zombies,
           fails, last, last ? strerror(last) : "-");
    fflush(stdout);
    ts.tv_sec = 0; ts.tv_nsec = 800000000;
    nanosleep(&ts, NULL);
    return 0;
}
