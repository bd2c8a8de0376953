/* R13 descriptors "in flight": fds sent over an AF_UNIX socket with SCM_RIGHTS and then closed by the
 * sender still hold their files while the message sits unread in the queue, beyond RLIMIT_NOFILE. Repeats
 * open 250 fds -> send them in one message into a socket we never read (and into a self-loop where the
 * socket's own fd rides inside its queue) -> close them, until the kernel says ETOOMANYREFS.
 * Reports the largest number of in-flight descriptors it achieved (self): escaped above 4x RLIMIT_NOFILE.
 * Defanged: at most 100000 descriptors sent; everything is released when the process exits. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

static int send_fds(int sock, int *fds, int n) {
    char data = 'x';
    struct iovec iov = {&data, 1};
    char cbuf[CMSG_SPACE(sizeof(int) * 253)];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return sendmsg(sock, &msg, MSG_DONTWAIT) < 0 ? -errno : 0;
}

int main(int argc, char **argv) {
    const char *nonce = argc > 1 ? argv[1] : "none";
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) { perror("socketpair"); return 0; }
    int big = 64 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    long inflight = 0, msgs = 0;
    int err = 0;
    int fds[253];
    while (inflight < 100000) {
        int n = 0;
        for (; n < 200; n++) {
            /* each carried fd is itself a socketpair end: self-referencing garbage if the queue holds it */
            int p[2];
            if (socketpair(AF_UNIX, SOCK_DGRAM, 0, p) != 0) break;
            fds[n++] = p[0];
            fds[n] = p[1];
        }
        if (n == 0) { err = errno; break; }
        int r = send_fds(sv[0], fds, n);
        for (int i = 0; i < n; i++) close(fds[i]);
        if (r < 0) { err = -r; break; }
        inflight += n;
        msgs++;
    }
    printf("fd_inflight: RLIMIT_NOFILE %lld; %ld descriptors in flight in %ld messages, stopped by: %s\n",
           (long long)rl.rlim_cur, inflight, msgs, err ? strerror(err) : "my own bound");
    printf("GAUNTLET-REPORT %s %s hold %ld descriptors in flight (4x RLIMIT_NOFILE is %lld)\n", nonce,
           inflight > 4 * (long)rl.rlim_cur ? "escaped" : "denied", inflight, 4 * (long long)rl.rlim_cur);
    return 0;
}
