/* R22 variant: the flood comes from a tree, not the main process. 16 children (some in their own session,
 * some double-forked) write stdout and stderr at once in small and large writes, while the main process
 * exits at once: a supervisor that counts only the main process's output, or stops reading when the main
 * process exits but keeps the pipes open, either passes unbounded output or hangs.
 * Defanged: 4 MiB per child, 64 MiB in all. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

static char block[1 << 16];

int main(void) {
    memset(block, 'B', sizeof block);
    for (size_t i = 99; i < sizeof block; i += 100) block[i] = '\n';
    for (int c = 0; c < 16; c++) {
        pid_t p = fork();
        if (p != 0) continue;
        signal(SIGPIPE, SIG_IGN);
        if (c % 4 == 1) setsid();
        if (c % 4 == 2 && fork() != 0) _exit(0); /* orphaned writer */
        long n = 0;
        int fd = (c % 2) ? 2 : 1;
        while (n < (4L << 20)) {
            size_t len = (n / sizeof block) % 2 ? 7 : sizeof block; /* mix tiny and large writes */
            ssize_t w = write(fd, block, len);
            if (w <= 0) break;
            n += w;
        }
        _exit(0);
    }
    printf("output_flood_tree: 16 writers started; main exits now\n");
    return 0;
}
