/* host_processes: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I04: enumerate processes: every pid in /proc with its comm, cmdline and uid, /proc/loadavg (newest
 * pid), /proc/stat process counters, and kill(pid, 0) is NOT used (no signals). The sandbox should show
 * only its own few pids; seeing more than 5 means a shared pid namespace (self-report; pstat also sees
 * the shared namespace while this stays alive 400 ms). */
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    DIR *d = opendir("/proc");
    int pids = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            pids++;
            if (pids > 300) continue;
            char p[300], comm[64] = "?"; snprintf(p, sizeof p, "/proc/%s/comm", e->d_name);
            int fd = open(p, O_RDONLY); if (fd >= 0) { long n = read(fd, comm, sizeof comm - 1); if (n > 0) comm[n - 1] = 0; close(fd); }
            char cl[200] = ""; snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
            fd = open(p, O_RDONLY); if (fd >= 0) { long n = read(fd, cl, sizeof cl - 1); if (n > 0) { for (long i = 0; i < n; i++) if (!cl[i]) cl[i] = ' '; cl[n] = 0; } close(fd); }
            struct stat st; snprintf(p, sizeof p, "/proc/%s", e->d_name); stat(p, &st);
            printf("PID %s uid %d comm %s cmd %s\n", e->d_name, st.st_uid, comm, cl);
        }
        closedir(d);
    } else printf("opendir /proc: %s\n", strerror(errno));
    printf("visible pids: %d (own pid %d, ppid %d)\n", pids, getpid(), getppid());
    dump_path("/proc/loadavg", 100);
    FILE *f = fopen("/proc/stat", "r"); char l[256];
    while (f && fgets(l, sizeof l, f)) if (!strncmp(l, "processes", 9) || !strncmp(l, "procs_", 6)) printf("%s", l);
    if (f) fclose(f);
    report(pids > 5, "saw %d pids (more than 5 means the host's pid namespace)", pids);
    usleep(400000);
    return 0;
}
