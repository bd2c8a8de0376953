/* S33: copy our own binary into every writable place (/tmp, /dev/shm, scratch), chmod +x, and exec it directly, through a hard link, a symlink, a /proc/self/fd path and a shell-less "#!" script whose interpreter is the copy; noexec mounts and Landlock's execute right must stop all of them. */
#include "../syscall_prelude.h"
}
static char img[4 << 20];
static ssize_t len;

static void try_exec(const char *how, const char *path, char **argv0)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *av[] = {argv0[0], (char *)NONCE, (char *)SCRATCH, (char *)CANARY, "0", "0", "0", "0", "payload", (char *)how, NULL};
        execv(path, av);
        printf("  %s (%s): %s\n", how, path, strerror(errno));
        _exit(3);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3) report(0, "exec-%s %s", how, path);
}

static int copy_to(const char *dst)
{
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0) { printf("create %s: %s\n", dst, strerror(errno)); return -1; }
    ssize_t w = write(fd, img, len);
    close(fd);
    chmod(dst, 0755);
    return w == len ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 9 && !strcmp(argv[8], "payload")) {
        args(argc, argv);
        char exe[512] = {0};
        if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "?");
        report(1, "exec-%s ran a written binary (exe %s)", argv[9], exe);
        /* only the first payload lingers for the host sampler (keeps the run inside its wall time) */
        char mk[700];
        snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
        int first = open(mk, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (first >= 0) { close(first); usleep(400000); }
        return 0;
    }
    args(argc, argv);
    int me = open("/proc/self/exe", O_RDONLY);
    len = me >= 0 ? read(me, img, sizeof img) : -1;
    if (me >= 0) close(me);
    const char *dirs[] = {"/tmp", "/dev/shm", SCRATCH, "/dev"};
    for (int i = 0; i < 4; i++) {
        char p[700], l[700], s[700], sh[700], how[64];
        snprintf(p, sizeof p, "%s/copy-%s", dirs[i], NONCE);
        if (copy_to(p) != 0) continue;
        snprintf(how, sizeof how, "copy-in-%s", dirs[i]);
        for (char *q = how; *q; q++) if (*q == '/') *q = '_';
        try_exec(how, p, argv);
        snprintf(l, sizeof l, "%s/link-%s", dirs[i], NONCE);
        if (link(p, l) == 0) { try_exec("hardlink", l, argv); unlink(l); }
        snprintf(s, sizeof s, "%s/sym-%s", dirs[i], NONCE);
        if (symlink(p, s) == 0) { try_exec("symlink", s, argv); unlink(s); }
        int fd = open(p, O_RDONLY);
        if (fd >= 0) {
            char fp[64];
            snprintf(fp, sizeof fp, "/proc/self/fd/%d", fd);
            try_exec("proc-fd", fp, argv);
            close(fd);
        }
        /* a script whose interpreter is the copy (binfmt_script opens the interpreter itself) */
        snprintf(sh, sizeof sh, "%s/script-%s", dirs[i], NONCE);
        fd = open(sh, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd >= 0) {
            char line[800];
            int n = snprintf(line, sizeof line, "#!%s\n", p);
            if (write(fd, line, n) < 0) {}
            close(fd);
            try_exec("shebang-interpreter", sh, argv);
            unlink(sh);
        }
        if (strcmp(dirs[i], "/dev")) unlink(p);   /* a copy in /dev stays until after the linger */
    }
    /* a script in a writable place whose interpreter is the (executable) original binary */
    char sh[700];
    snprintf(sh, sizeof sh, "%s/script2-%s", SCRATCH, NONCE);
    int fd = open(sh, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd >= 0) {
        char exe[512] = {0}, line[600];
        if (readlink("/proc/self/exe", exe, sizeof exe - 1) > 0) {
            int n = snprintf(line, sizeof line, "#!%s\n", exe);
            if (write(fd, line, n) < 0) {}
        }
        close(fd);
        try_exec("script-in-scratch", sh, argv);
        unlink(sh);
    }
    char mk[700];
    snprintf(mk, sizeof mk, "%s/.linger-%s", SCRATCH, NONCE);
    unlink(mk);
    linger();
    snprintf(mk, sizeof mk, "/dev/copy-%s", NONCE);
    unlink(mk);
    return 0;
}
