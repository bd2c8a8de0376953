/* chan.escape.scm_rights: Descriptors and credentials passed to the supervisor.
 * Twenty valid log requests, each carrying 100 descriptors as SCM_RIGHTS (the channel itself, a pipe,
 * /dev/null), then one with forged SCM_CREDENTIALS (pid 1, uid 0). A server that receives with a
 * control buffer installs the plugin's descriptors in the supervisor (filling its table, or handing
 * it a socket the plugin controls); one that trusts credentials believes the forgery. Contained:
 * the server receives without a control buffer, so the kernel drops the descriptors without
 * installing them; each message counts as an error on the host (20), the supervisor's descriptor
 * table never grows (sampled from /proc/<pid>/fd), forged credentials are refused by the kernel,
 * and the log requests are still answered.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

static int send_with_fds(const void *data, size_t n, const int *fds, int nfds)
{
    struct iovec iov = { (void *)data, n };
    char cbuf[CMSG_SPACE(sizeof(int) * 100)];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    return sendmsg(CHAN, &msg, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -errno;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    int p[2];
    if (pipe(p) != 0) return 0;
    int devnull = open("/dev/null", O_RDONLY);
    int fds[100];
    for (int i = 0; i < 100; i++) fds[i] = i % 3 == 0 ? CHAN : i % 3 == 1 ? p[0] : (devnull >= 0 ? devnull : p[1]);
    uint8_t frame[4 + 9 + 8];
    int answered = 0, sent = 0;
    for (uint32_t i = 0; i < 20; i++) {
        put32(frame, 9 + 8);
        frame[4] = OP_LOG;
        put32(frame + 5, i + 1);
        put32(frame + 9, 8);
        memcpy(frame + 13, "with fds", 8);
        int err = send_with_fds(frame, sizeof frame, fds, 100);
        if (err) { printf("sendmsg SCM_RIGHTS: %s\n", strerror(-err)); break; }
        sent++;
        if (expect_status("log with fds", i + 1, 0) == 0) answered++;
    }
    /* The server never sends descriptors back. */
    /* Forged credentials: pid 1 and uid 0 of the host. */
    put32(frame + 5, 100);
    struct iovec iov = { frame, sizeof frame };
    char cbuf[CMSG_SPACE(sizeof(struct ucred))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred forged = { 1, 0, 0 };
    memcpy(CMSG_DATA(c), &forged, sizeof forged);
    ssize_t w = sendmsg(CHAN, &msg, MSG_NOSIGNAL);
    report(w >= 0, "forged SCM_CREDENTIALS (pid 1): %s", w >= 0 ? "sent" : strerror(errno));
    if (w >= 0) expect_status("log with forged credentials", 100, 0);
    req_log(200, "after", 5);
    int alive = expect_status("log after the descriptors", 200, 0) == 0;
    printf("messages with descriptors sent %d, answered %d\n", sent, answered);
    report(!alive, "channel broken by descriptor passing");
    return 0;
}
