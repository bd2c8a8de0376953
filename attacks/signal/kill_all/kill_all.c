/* G02 kill(-1, SIGKILL): signal every process the caller may signal. Inside a PID namespace that is only the
 * plugin's own processes; without one it is every process of the same uid (or every process, for root).
 * Forks 3 sleeping children first so the effect is visible, lists what /proc shows, then calls kill(-1)
 * exactly once and counts which children died. Host evidence: the suite's sentinel dies (census), the
 * supervisor dies (health), or the pid namespace is shared (pstat: the caller survives kill(-1) and stays
 * alive 400 ms). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

int main(void) {
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) { struct timespec ts = {3, 0}; nanosleep(&ts, NULL); _exit(0); }
    }
    int visible = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) if (e->d_name[0] >= '1' && e->d_name[0] <= '9') visible++;
    if (d) closedir(d);
    printf("kill_all: me %d, 3 children, %d processes visible in /proc; calling kill(-1, SIGKILL) once\n", (int)getpid(), visible);
    fflush(stdout);
    int r = kill(-1, SIGKILL);
    int err = r ? errno : 0;
    int died = 0;
    for (int i = 0; i < 3; i++) {
        int st;
        if (kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i] && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) died++;
    }
    printf("kill_all: kill(-1, SIGKILL) -> %s; %d of 3 children were killed; I am still alive\n", r ? strerror(err) : "ok", died);
    fflush(stdout);
    usleep(400000);
    return 0;
}
