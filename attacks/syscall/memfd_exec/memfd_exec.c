/* S33: fileless execution: memfd_create (plain, MFD_EXEC, MFD_NOEXEC_SEAL then chmod/unseal), execve("/proc/self/fd/N"), execveat(fd, "", AT_EMPTY_PATH), fexecve, O_TMPFILE in /tmp, /dev/shm and scratch, and the ld.so loader trick; the executed copy reports itself and lingers so the host sees its exe. */
#include "../syscall_prelude.h"
}
#include <sys/mman.h>
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static char self_img[4 << 20];
static ssize_t self_len;
static char **g_argv;

static int fill(int fd)
{
    ssize_t off = 0;
    while (off < self_len) {
        ssize_t w = write(fd, self_img + off, self_len - off);
        if (w <= 0) return -1;
        off += w;
    }
    return 0;
}

/* exec in a child; the payload (this binary with "payload") prints an escaped line itself */
static void run(const char *how, int fd, const char *path, int use_execveat)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *av[] = {g_argv[0], (char *)NONCE, (char *)SCRATCH, (char *)CANARY, "0", "0", "0", "0", "payload", (char *)how, NULL};
        extern char **environ;
        if (use_execveat) syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
        else if (use_execveat == 0 && path) execve(path, av, environ);
        printf("  %s: exec failed: %s\n", how, strerror(errno));
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
}

int main(int argc, char **argv)
{
    if (argc > 9 && !strncmp(argv[8], "payload", 7)) {
        args(argc, argv);
        char exe[256] = {0};
        if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "?");
        if (!strcmp(argv[8], "payload-ldso"))   /* loaded by ld.so: the same sandbox, no new privilege */
            printf("note: a sealed (non-executable) memfd image ran through the ld.so loader (exe %s): userland loading, not an exec\n", exe);
        else
            report(1, "exec-%s ran a new image (exe %s)", argv[9], exe);
        /* only the first payload lingers for the host sampler (keeps the run inside its wall time) */
        char mk[700];
        snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
        int first = open(mk, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (first >= 0) { close(first); usleep(400000); }
        return 0;
    }
    args(argc, argv);
    g_argv = argv;
    int me = open("/proc/self/exe", O_RDONLY);
    self_len = me >= 0 ? read(me, self_img, sizeof self_img) : -1;
    if (me >= 0) close(me);
    printf("own image: %zd bytes\n", self_len);
    const struct { const char *n; unsigned f; } M[] = {{"plain", 0}, {"MFD_EXEC", MFD_EXEC}, {"MFD_CLOEXEC", MFD_CLOEXEC},
                                                     {"MFD_NOEXEC_SEAL", MFD_NOEXEC_SEAL}, {"MFD_ALLOW_SEALING", MFD_ALLOW_SEALING}};
    for (size_t i = 0; i < sizeof M / sizeof *M; i++) {
        long fd = rs(SYS_memfd_create, (long)"gauntlet", M[i].f, 0, 0, 0, 0);
        printf("memfd_create(%s) = %s\n", M[i].n, en(fd));
        if (fd < 0) { report(0, "memfd_create(%s) %s", M[i].n, en(fd)); continue; }
        fill((int)fd);
        int ch = fchmod((int)fd, 0755);
        printf("  fchmod 0755: %s\n", ch ? strerror(errno) : "ok");
        int seals = fcntl((int)fd, F_GET_SEALS);
        printf("  seals 0x%x (F_SEAL_EXEC %s)\n", seals, seals >= 0 && (seals & F_SEAL_EXEC) ? "set" : "not set");
        char p[64], how[64];
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        snprintf(how, sizeof how, "memfd-%s-proc-fd", M[i].n);
        run(how, (int)fd, p, 0);
        snprintf(how, sizeof how, "memfd-%s-execveat", M[i].n);
        run(how, (int)fd, NULL, 1);
        /* the loader: ld.so maps the memfd itself (mmap PROT_EXEC), no execve of the memfd at all */
        const char *ldso[] = {"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"};
        for (int k = 0; k < 2; k++) {
            if (access(ldso[k], X_OK)) continue;
            fflush(stdout);
            pid_t c = fork();
            if (c == 0) {
                char *av[] = {(char *)ldso[k], p, (char *)NONCE, (char *)SCRATCH, (char *)CANARY, "0", "0", "0", "0", "payload-ldso", "x", NULL};
                execv(ldso[k], av);
                _exit(0);
            }
            int st;
            waitpid(c, &st, 0);
            printf("  ld.so %s on %s: %s (userland loading inside the sandbox, no new privilege)\n", ldso[k], p, wstr(st));
            break;
        }
        close((int)fd);
    }
    /* O_TMPFILE: an unnamed file in each writable place, exec'd through /proc/self/fd */
    const char *dirs[] = {"/tmp", "/dev/shm", SCRATCH};
    for (int i = 0; i < 3; i++) {
        int fd = open(dirs[i], O_TMPFILE | O_RDWR, 0755);
        if (fd < 0) { printf("O_TMPFILE in %s: %s\n", dirs[i], strerror(errno)); continue; }
        fill(fd);
        fchmod(fd, 0755);
        char p[64], how[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        snprintf(how, sizeof how, "otmpfile-%s", dirs[i]);
        for (char *q = how; *q; q++) if (*q == '/') *q = '_';
        /* reopen read-only first: a writable fd makes execve fail with ETXTBSY */
        int ro = open(p, O_RDONLY);
        close(fd);
        if (ro < 0) continue;
        snprintf(p, sizeof p, "/proc/self/fd/%d", ro);
        run(how, ro, p, 0);
        run(how, ro, NULL, 1);
        close(ro);
    }
    /* fexecve (glibc: execveat, then /proc/self/fd) of our own image fd: allowed only if exec of the
     * original path is, so it is not a bypass; shown for completeness */
    char mk[700];
    snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
    unlink(mk);
    linger();
    return 0;
}
