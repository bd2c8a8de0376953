/* S34: create entries in /dev, a private tmpfs mounted read-only that Landlock also closes to writes (regular file, directory, fifo, socket, symlink, hard link, device nodes 1:3 and 1:1, rename into /dev); the host lists the plugin's /dev while it lingers. */
#include "../syscall_prelude.h"
}
#include <sys/un.h>
#include <sys/sysmacros.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    char p[256];
    int made = 0;
#define TRY(expr, fmt, ...) do { int _r = (expr); snprintf(p, sizeof p, fmt, __VA_ARGS__); \
        report(_r == 0, "create in /dev: %s %s", p, _r == 0 ? "ok" : strerror(errno)); made += _r == 0; } while (0)
    char f[128];
    snprintf(f, sizeof f, "/dev/gauntlet-%s", NONCE);
    int fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644);
    report(fd >= 0, "create in /dev: regular file %s %s", f, fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) { made++; if (write(fd, "gauntlet\n", 9) < 0) {} close(fd); }
    snprintf(f, sizeof f, "/dev/gauntlet-dir-%s", NONCE);
    TRY(mkdir(f, 0755), "directory %s", f);
    snprintf(f, sizeof f, "/dev/gauntlet-fifo-%s", NONCE);
    TRY(mkfifo(f, 0644), "fifo %s", f);
    snprintf(f, sizeof f, "/dev/gauntlet-sym-%s", NONCE);
    TRY(symlink("/proc/self/root", f), "symlink %s", f);
    snprintf(f, sizeof f, "/dev/gauntlet-null-%s", NONCE);
    TRY(mknod(f, S_IFCHR | 0666, makedev(1, 3)), "char device 1:3 %s", f);
    snprintf(f, sizeof f, "/dev/gauntlet-mem-%s", NONCE);
    TRY(mknod(f, S_IFCHR | 0600, makedev(1, 1)), "char device 1:1 (mem) %s", f);
    snprintf(f, sizeof f, "/dev/gauntlet-link-%s", NONCE);
    TRY(link("/dev/null", f), "hard link %s", f);
    snprintf(f, sizeof f, "/dev/shm/../gauntlet-dotdot-%s", NONCE);
    fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644);
    report(fd >= 0, "create in /dev via /dev/shm/..: %s", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) { made++; close(fd); }
    /* a unix socket bound in /dev */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "/dev/gauntlet-sock-%s", NONCE);
    TRY(bind(s, (struct sockaddr *)&un, sizeof un), "socket %s", un.sun_path);
    /* rename a scratch file into /dev */
    char src[600];
    snprintf(src, sizeof src, "%s/to-dev-%s", SCRATCH, NONCE);
    fd = open(src, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);
    snprintf(f, sizeof f, "/dev/gauntlet-moved-%s", NONCE);
    TRY(rename(src, f), "rename from scratch %s", f);
    unlink(src);
    /* and the nodes that are there: writable? (null/zero/full/random/urandom are meant to be) */
    const char *nodes[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    for (int i = 0; i < 5; i++) {
        struct stat st;
        if (stat(nodes[i], &st) == 0) printf("%s: %u:%u mode %o\n", nodes[i], major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777);
    }
    printf("%d entries created in /dev\n", made);
    linger();
    /* clean up after the host sampler has seen them (a private /dev disappears anyway) */
    const char *pfx[] = {"gauntlet-", "gauntlet-dir-", "gauntlet-fifo-", "gauntlet-sym-", "gauntlet-null-", "gauntlet-mem-",
                         "gauntlet-link-", "gauntlet-dotdot-", "gauntlet-sock-", "gauntlet-moved-"};
    for (int i = 0; i < 10; i++) {
        snprintf(f, sizeof f, "/dev/%s%s", pfx[i], NONCE);
        if (unlink(f) != 0) rmdir(f);
    }
    return 0;
}
