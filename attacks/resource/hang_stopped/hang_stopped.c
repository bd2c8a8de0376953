/* R21 variant: the main process stops itself with SIGSTOP (and a child with SIGTSTP ignored -> raise
 * SIGSTOP). A supervisor that waits with WUNTRACED, or treats a stopped child as finished or as "not
 * running, so no CPU, so fine", may hang or report early; the wall deadline must still SIGKILL it.
 * Defanged: a helper child sends SIGCONT to the main process after 8 s, then everyone exits. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <signal.h>
#include <time.h>

int main(void) {
    pid_t me = getpid();
    pid_t h = fork();
    if (h == 0) {
        struct timespec ts = {8, 0};
        nanosleep(&ts, NULL);
        kill(me, SIGCONT);
        _exit(0);
    }
    printf("hang_stopped: stopping myself with SIGSTOP; helper %d resumes me in 8 s\n", (int)h);
    fflush(stdout);
    raise(SIGSTOP);
    printf("hang_stopped: resumed after 8 s: the wall deadline did not end a stopped run\n");
    return 0;
}
