/* abs_outside: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F04: absolute host paths outside the policy. Lists and walks every classic host directory (bounded),
 * reads anything that looks like a secret, and the canary file, canary dir and host dir directly. */
static int hits, entries;
static int interesting(const char *n)
{
    const char *k[] = {"secret", "token", "key", "cred", "pass", ".pem", "canary", "gauntlet", ".env", "id_rsa", "shadow"};
    for (unsigned i = 0; i < sizeof k / sizeof *k; i++) if (strcasestr(n, k[i])) return 1;
    return 0;
}
static void walk(const char *dir, int depth)
{
    if (depth > 3 || entries > 3000) return;
    DIR *d = opendir(dir);
    if (!d) { if (depth == 0) printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    if (depth == 0) printf("LIST %s:", dir);
    struct dirent *e;
    while ((e = readdir(d)) && entries < 3000) {
        entries++;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (depth == 0) printf(" %s", e->d_name);
        char p[1024]; snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (depth == 0 && !strcmp(dir, "/") && (!strcmp(e->d_name, "proc") || !strcmp(e->d_name, "usr") || !strncmp(e->d_name, "lib", 3) || !strcmp(e->d_name, "dev") || !strcmp(e->d_name, "sys"))) continue;
        if (e->d_type == DT_DIR) walk(p, depth + 1);
        else if (e->d_type == DT_REG && interesting(e->d_name)) { printf("\n"); if (dump_path(p, 200) > 0) hits++; }
    }
    if (depth == 0) printf("\n");
    closedir(d);
}
int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    const char *canary_dir = argc > 2 ? argv[2] : "/nonexistent";
    const char *host_dir = argc > 3 ? argv[3] : "/nonexistent";
    if (argc > 4) NONCE = argv[4];
    walk("/", 0);
    const char *dirs[] = {"/home", "/var", "/var/lib", "/var/log", "/var/tmp", "/var/backups", "/opt", "/mnt", "/srv", "/media",
                          "/run", "/run/user", "/boot", "/snap", "/usr/local", "/usr/share", "/usr/src", "/work",
                          "/data", "/etc", "/root", "/sys", "/lost+found", canary_dir, host_dir};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) walk(dirs[i], 0);
    if (dump_path(canary, 400) > 0) hits++;
    /* every parent of the canary, listed: the layout of the harness's case directories */
    char p[1024]; snprintf(p, sizeof p, "%s", canary);
    for (int i = 0; i < 6; i++) { char *s = strrchr(p, '/'); if (!s || s == p) break; *s = 0; walk(p, 2); }
    /* stat alone reveals existence, size and owner */
    struct stat st;
    if (stat(canary, &st) == 0) printf("stat %s: size %lld uid %d\n", canary, (long long)st.st_size, st.st_uid);
    else printf("stat %s: %s\n", canary, strerror(errno));
    printf("entries seen: %d\n", entries);
    report(hits > 0, "read-absolute-host-paths(%d)", hits);
    usleep(400000);
    return 0;
}
