/* shared_tmp: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I09: other tenants' files. Lists /tmp, /var/tmp, /dev/shm, /run/shm, /dev/mqueue, /run/user and the
 * parent of scratch (the runner's host /tmp holds other cases' directories), walks them (depth 3,
 * bounded), reads every file whose name starts with gauntlet- or looks secret (canary, secret, token),
 * and enumerates SysV shared memory (SHM_STAT over the kernel's ids) and POSIX message queues. Canary
 * oracle; stays alive 400 ms for pstat (a shared mount namespace shows the host /tmp). */
#include <sys/ipc.h>
#include <sys/shm.h>
static int entries;
static void walk(const char *dir, int depth)
{
    if (depth > 3 || entries > 2500) return;
    DIR *d = opendir(dir);
    if (!d) { if (depth == 0) printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    struct dirent *e;
    while ((e = readdir(d)) && entries < 2500) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || e->d_name[1] == '.')) continue;
        entries++;
        char p[1024]; snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (depth <= 1) printf("SEE %s\n", p);
        if (e->d_type == DT_DIR) walk(p, depth + 1);
        else if (e->d_type == DT_REG && (!strncmp(e->d_name, "gauntlet", 8) || strcasestr(e->d_name, "canary") || strcasestr(e->d_name, "secret") || strcasestr(e->d_name, "token")))
            dump_path(p, 300);
    }
    closedir(d);
}
int main(int argc, char **argv)
{
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    if (argc > 2) NONCE = argv[2];
    char par[600]; snprintf(par, sizeof par, "%s", scratch); char *s = strrchr(par, '/'); if (s && s != par) *s = 0;
    const char *dirs[] = {"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/dev/mqueue", "/run/user", "/run/lock", par};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) walk(dirs[i], 0);
    printf("entries seen: %d\n", entries);
    struct shm_info si; int maxid = shmctl(0, SHM_INFO, (struct shmid_ds *)&si);
    printf("SHM_INFO: max index %d (%s)\n", maxid, maxid < 0 ? strerror(errno) : "ok");
    for (int i = 0; i <= maxid && i < 256; i++) {
        struct shmid_ds ds; int id = shmctl(i, SHM_STAT, &ds);
        if (id < 0) continue;
        printf("SHM segment id %d key %x size %zu\n", id, ds.shm_perm.__key, ds.shm_segsz);
        void *a = shmat(id, 0, SHM_RDONLY);
        if (a != (void *)-1) { show(a, ds.shm_segsz < 300 ? ds.shm_segsz : 300, 300); shmdt(a); }
    }
    usleep(400000);
    return 0;
}
