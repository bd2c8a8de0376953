/* self_inspection: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I06: self inspection, as amicontained does: Seccomp mode, NoNewPrivs, CapEff/CapPrm/CapBnd/CapAmb,
 * uid_map/gid_map, setgroups, namespaces, cgroup, limits, LSM label. Each weakening an attacker would
 * pick an exploit by is self-reported: capabilities, no_new_privs off, seccomp off, an identity uid map
 * (no user namespace: host root). pstat reads the same facts from the host while this stays alive. */
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    FILE *f = fopen("/proc/self/status", "r"); char l[512];
    unsigned long long capeff = 0, capbnd = 0, capamb = 0, capprm = 0; int seccomp = -1, nnp = -1;
    while (f && fgets(l, sizeof l, f)) {
        if (!strncmp(l, "Cap", 3) || !strncmp(l, "Seccomp", 7) || !strncmp(l, "NoNewPrivs", 10) || !strncmp(l, "Uid", 3) || !strncmp(l, "Gid", 3) || !strncmp(l, "Groups", 6)) printf("%s", l);
        sscanf(l, "CapEff: %llx", &capeff); sscanf(l, "CapPrm: %llx", &capprm); sscanf(l, "CapBnd: %llx", &capbnd); sscanf(l, "CapAmb: %llx", &capamb);
        sscanf(l, "Seccomp: %d", &seccomp); sscanf(l, "NoNewPrivs: %d", &nnp);
    }
    if (f) fclose(f);
    const char *files[] = {"/proc/self/uid_map", "/proc/self/gid_map", "/proc/self/setgroups", "/proc/self/cgroup", "/proc/self/limits",
                           "/proc/self/attr/current", "/proc/self/loginuid", "/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/user/max_user_namespaces"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) dump_path(files[i], 600);
    const char *ns[] = {"user", "pid", "mnt", "net", "ipc", "uts", "cgroup", "time"};
    for (int i = 0; i < 8; i++) { char p[64], t[128]; snprintf(p, sizeof p, "/proc/self/ns/%s", ns[i]); long n = readlink(p, t, sizeof t - 1); if (n > 0) { t[n] = 0; printf("ns %s\n", t); } }
    unsigned inside = 0, outside = 0, count = 0; int identity = 0;
    f = fopen("/proc/self/uid_map", "r");
    if (f && fscanf(f, "%u %u %u", &inside, &outside, &count) == 3 && inside == 0 && outside == 0 && count > 1) identity = 1;
    if (f) fclose(f);
    report(capeff || capprm || capamb, "capabilities (eff %llx prm %llx amb %llx bnd %llx)", capeff, capprm, capamb, capbnd);
    report(nnp == 0, "no_new_privs off (NoNewPrivs %d)", nnp);
    report(seccomp != 2, "seccomp not in filter mode (Seccomp %d)", seccomp);
    report(identity, "identity uid map: running as host root (uid_map 0 0 %u)", count);
    usleep(400000);
    return 0;
}
