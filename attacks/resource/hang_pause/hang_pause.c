/* R21 block forever without CPU: pause() and sigsuspend() with every signal blocked/ignored.
 * Defanged: alarm(8) ends the process (SIGALRM default action) 8 s later, well past the 3 s wall. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <signal.h>

int main(void) {
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGALRM) signal(s, SIG_IGN);
    printf("hang_pause: ignoring signals and sleeping in pause(); only a wall-clock kill ends me early\n");
    fflush(stdout);
    alarm(8);
    pause();
    sigset_t none;
    sigemptyset(&none);
    sigsuspend(&none);
    return 0;
}
