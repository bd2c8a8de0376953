/* chan.escape.fd3: Inspecting and reusing descriptor 3.
 * What descriptor 3 gives away and what it can be turned into: fstat, SO_PEERCRED (pid 0 and the
 * overflow uid expected), the peer's address, reopening through /proc/self/fd/3, listen, connect to the
 * host's abstract honeypot. Binding a name to the plugin's own end is allowed but stays in the plugin's
 * network namespace (informational). Self-reported probes; the channel must still work afterwards.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    const char *abstract = argc > 2 ? argv[2] : "none";
    if (!have_channel()) return 0;
    struct stat st;
    fstat(CHAN, &st);
    printf("fd 3: mode %o ino %lu\n", st.st_mode, (unsigned long)st.st_ino);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(CHAN, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        report(cred.pid != 0, "SO_PEERCRED shows pid %d uid %d gid %d", cred.pid, cred.uid, cred.gid);
    else
        report(0, "SO_PEERCRED: %s", strerror(errno));
    struct sockaddr_un peer;
    len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    if (getpeername(CHAN, (struct sockaddr *)&peer, &len) == 0)
        report(len > sizeof(sa_family_t) && peer.sun_path[0] != 0, "peer address is named (%u bytes)", len);
    int fd = open("/proc/self/fd/3", O_RDWR);
    int e = errno;
    report(fd >= 0, "reopen through /proc/self/fd/3: %s", fd >= 0 ? "opened" : strerror(e));
    if (fd >= 0) close(fd);
    int rc = listen(CHAN, 1);
    e = errno;
    report(rc == 0, "listen on fd 3: %s", rc == 0 ? "listening" : strerror(e));
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s", abstract);
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract);
    rc = connect(CHAN, (struct sockaddr *)&a, alen);
    e = errno;
    report(rc == 0, "connect fd 3 to the host's abstract socket: %s", rc == 0 ? "connected" : strerror(e));
    /* Naming the plugin's own end is allowed (socketpair ends are unbound), but only in the plugin's
     * own network namespace: informational, the honeypot oracle sees any reach of the host's name. */
    rc = bind(CHAN, (struct sockaddr *)&a, alen);
    e = errno;
    printf("bind fd 3 to an abstract name in the plugin's namespace: %s\n", rc == 0 ? "bound" : strerror(e));
    int one = 1;
    setsockopt(CHAN, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    /* Still a working channel afterwards. */
    req_log(1, "after the probes", 16);
    report(expect_status("log after the probes", 1, 0) != 0, "channel broken by the probes");
    return 0;
}
