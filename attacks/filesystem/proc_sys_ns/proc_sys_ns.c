/* proc_sys_ns: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F15 (namespaced knobs): /proc/sys files that belong to the plugin's own namespaces (net, uts, ipc,
 * user) are writable by their namespace's root unless /proc/sys is mounted read-only. Each knob is read
 * and its own current value written back (or, for the hostname, a gauntlet-<nonce> marker in the
 * private UTS namespace): harmless, yet proof that the sandbox's /proc/sys is writable. Host-global
 * knobs are only opened for writing. Self-report per knob: no host state changes when the knob is
 * namespaced, so only the plugin can see the write succeed (pstat also checks /proc/sys is read-only). */
#include <sys/statvfs.h>
static int escaped;
static void rewrite(const char *p, const char *marker)
{
    char cur[256] = ""; int fd = open(p, O_RDONLY);
    if (fd >= 0) { long n = read(fd, cur, sizeof cur - 1); if (n > 0) cur[n] = 0; close(fd); }
    fd = open(p, O_WRONLY);
    if (fd < 0) { printf("open %s O_WRONLY: %s\n", p, strerror(errno)); report(0, "write %s", p); return; }
    const char *v = marker ? marker : cur;
    long w = write(fd, v, strlen(v));
    int e = errno; close(fd);
    if (w > 0) { printf("WROTE %s := %s", p, v); if (!strchr(v, '\n')) printf("\n"); escaped++; report(1, "write %s", p); }
    else { printf("write %s: %s\n", p, strerror(e)); report(0, "write %s", p); }
}
static void openonly(const char *p)
{
    int fd = open(p, O_WRONLY);
    if (fd >= 0) { printf("OPENED host-global %s for writing (nothing written)\n", p); report(1, "open-global %s", p); close(fd); escaped++; }
    else printf("open %s O_WRONLY: %s\n", p, strerror(errno));
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    char host[128]; snprintf(host, sizeof host, "gauntlet-%s", NONCE);
    const char *own[] = {"/proc/sys/net/ipv4/ip_local_port_range", "/proc/sys/net/ipv4/ping_group_range",
        "/proc/sys/net/core/somaxconn", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/lo/route_localnet",
        "/proc/sys/net/ipv4/tcp_syncookies", "/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/unix/max_dgram_qlen",
        "/proc/sys/fs/mqueue/queues_max", "/proc/sys/fs/mqueue/msg_max", "/proc/sys/kernel/shmmax", "/proc/sys/kernel/msgmax",
        "/proc/sys/kernel/sem", "/proc/sys/user/max_user_namespaces", "/proc/sys/user/max_net_namespaces",
        "/proc/sys/kernel/ns_last_pid"};
    for (unsigned i = 0; i < sizeof own / sizeof *own; i++) rewrite(own[i], NULL);
    rewrite("/proc/sys/kernel/hostname", host);
    rewrite("/proc/sys/kernel/domainname", host);
    const char *global[] = {"/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/vm/drop_caches",
        "/proc/sys/kernel/panic", "/proc/sys/kernel/sysrq", "/proc/sys/vm/overcommit_memory", "/proc/sys/fs/file-max",
        "/proc/sys/kernel/randomize_va_space", "/proc/sys/kernel/yama/ptrace_scope", "/proc/sys/kernel/unprivileged_bpf_disabled"};
    for (unsigned i = 0; i < sizeof global / sizeof *global; i++) openonly(global[i]);
    /* Is /proc/sys a read-only mount? (Landlock may still refuse the writes above; a writable mount is the
     * weakness either way, and the same fact the host's pstat reads from our mountinfo.) */
    FILE *m = fopen("/proc/self/mountinfo", "r");
    int seen = 0;
    if (m) { char l[1024]; while (fgets(l, sizeof l, m)) if (strstr(l, " /proc/sys ")) { seen = 1; printf("mountinfo: %s", l); } fclose(m); }
    struct statvfs sv;
    if (statvfs("/proc/sys", &sv) == 0) {
        printf("/proc/sys mount: %s (separate mount in mountinfo: %s)\n", (sv.f_flag & ST_RDONLY) ? "read-only" : "WRITABLE", seen ? "yes" : "no");
        report(!(sv.f_flag & ST_RDONLY), "proc-sys-mount-writable");
    } else printf("statvfs /proc/sys: %s\n", strerror(errno));
    printf("writable knobs: %d\n", escaped);
    usleep(400000);
    return 0;
}
