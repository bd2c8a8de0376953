/* R21 block forever in read(): first on stdin (the sandbox should give /dev/null, so EOF at once); then on
 * a pipe whose write end we keep open ourselves, on a FIFO made in /tmp opened O_RDWR, and on a socketpair.
 * Defanged: each blocking read is bounded by poll() with a timeout; the total is about 8 s. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>

static void block_on(const char *what, int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, ms);
    char c;
    if (r > 0) {
        ssize_t n = read(fd, &c, 1);
        printf("hang_read: %s readable at once: read -> %zd (%s)\n", what, n, n < 0 ? strerror(errno) : "ok");
    } else {
        printf("hang_read: %s blocked %d ms (nothing killed me)\n", what, ms);
    }
    fflush(stdout);
}

int main(void) {
    printf("hang_read: blocking in read() on stdin, a pipe, a FIFO and a socketpair\n");
    fflush(stdout);
    block_on("stdin", 0, 2000);
    int p[2];
    if (pipe(p) == 0) block_on("own pipe", p[0], 2000);
    mkfifo("/tmp/hang_read.fifo", 0600);
    int f = open("/tmp/hang_read.fifo", O_RDWR);
    if (f >= 0) block_on("fifo", f, 2000);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) block_on("socketpair", sv[0], 2000);
    return 0;
}
