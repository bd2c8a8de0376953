/* G04 process-group and session kill: if the supervisor did not setsid() the plugin, the plugin shares the
 * supervisor's process group and session (and maybe its terminal): kill(0, sig) or killpg(getpgrp()) then
 * hits the supervisor and everything started with it, and the terminal lets it inject input or receive SIGHUP.
 * Reports sid/pgid (0 means "the leader is outside my pid namespace"), tries /dev/tty and setpgid into the
 * supervisor's group, then ignores SIGTERM itself and calls kill(0, SIGTERM) exactly once.
 * Host evidence: the supervisor dies (health), pstat sees the session is not the plugin's own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/ioctl.h>

int main(int argc, char **argv) {
    const char *nonce = argc > 1 ? argv[1] : "none";
    pid_t sup = argc > 2 ? atoi(argv[2]) : 0;
    pid_t sid = getsid(0), pgid = getpgrp();
    printf("killpg_session: pid %d sid %d pgid %d tcgetpgrp(0,1,2) = %d,%d,%d\n", (int)getpid(), (int)sid, (int)pgid,
           (int)tcgetpgrp(0), (int)tcgetpgrp(1), (int)tcgetpgrp(2));
    int shares = (sid == 0 || pgid == 0 || sid != getpid());
    printf("GAUNTLET-REPORT %s %s share a session or process group with a process outside the sandbox (sid %d pgid %d)\n",
           nonce, (sid == 0 || pgid == 0) ? "escaped" : "denied", (int)sid, (int)pgid);
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
    printf("GAUNTLET-REPORT %s %s open a controlling terminal /dev/tty (%s)\n", nonce, tty >= 0 ? "escaped" : "denied",
           tty >= 0 ? "ok" : strerror(errno));
    if (tty >= 0) close(tty);
    int r = setpgid(0, sup > 1 ? sup : 1);
    printf("killpg_session: setpgid(0, supervisor %d) -> %s\n", (int)sup, r ? strerror(errno) : "ok");
    printf("GAUNTLET-REPORT %s %s join the supervisor's process group\n", nonce, r == 0 ? "escaped" : "denied");
    fflush(stdout);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    r = kill(0, SIGTERM); /* once */
    printf("killpg_session: kill(0, SIGTERM) on my own group %d -> %s (shared with outside: %s)\n", (int)getpgrp(),
           r ? strerror(errno) : "ok", shares ? "maybe" : "no");
    fflush(stdout);
    usleep(400000);
    return 0;
}
