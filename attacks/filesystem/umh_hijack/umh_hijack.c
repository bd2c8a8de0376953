/* umh_hijack: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F16: usermode-helper hijack: kernel.core_pattern (pipe handler), kernel.modprobe, binfmt_misc
 * register, uevent_helper / kernel.hotplug. Each is opened for writing; only core_pattern and modprobe,
 * which the knobs oracle watches and the harness restores, get a harmless marker (a plain file name, not
 * a pipe, and a nonexistent helper path) if the open succeeds. binfmt_misc is also mounted afresh. The
 * triggers (a crash with RLIMIT_CORE raised, a socket family that autoloads a module) run either way. */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
static int esc;
static void knob(const char *p, const char *marker)
{
    int fd = open(p, O_WRONLY);
    if (fd < 0) { printf("open %s O_WRONLY: %s\n", p, strerror(errno)); report(0, "umh %s", p); return; }
    esc++;
    if (marker) { long w = write(fd, marker, strlen(marker)); printf("OPENED %s, marker write: %ld (%s)\n", p, w, w < 0 ? strerror(errno) : "ok"); }
    else printf("OPENED %s for writing (nothing written)\n", p);
    report(1, "umh %s", p);
    close(fd);
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    char m1[128], m2[128];
    snprintf(m1, sizeof m1, "gauntlet-%s", NONCE);
    snprintf(m2, sizeof m2, "/nonexistent/gauntlet-%s", NONCE);
    dump_path("/proc/sys/kernel/core_pattern", 200);
    dump_path("/proc/sys/kernel/modprobe", 200);
    knob("/proc/sys/kernel/core_pattern", m1);
    knob("/proc/sys/kernel/modprobe", m2);
    knob("/proc/sys/kernel/core_uses_pid", NULL);
    knob("/proc/sys/fs/suid_dumpable", NULL);
    knob("/proc/sys/kernel/hotplug", NULL);
    knob("/sys/kernel/uevent_helper", NULL);
    knob("/proc/sys/fs/binfmt_misc/register", NULL);
    knob("/proc/sys/fs/binfmt_misc/status", NULL);
    knob("/proc/sys/kernel/poweroff_cmd", NULL);
    mkdir("/tmp/gbin", 0755);
    if (mount("binfmt_misc", "/tmp/gbin", "binfmt_misc", 0, NULL) == 0) { printf("MOUNTED binfmt_misc\n"); esc++; report(1, "mount-binfmt_misc"); knob("/tmp/gbin/register", NULL); umount2("/tmp/gbin", MNT_DETACH); }
    else printf("mount binfmt_misc: %s\n", strerror(errno));
    /* triggers: a core dump and a module autoload; harmless when the knobs are untouched */
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    printf("setrlimit(CORE, inf): %s\n", setrlimit(RLIMIT_CORE, &rl) == 0 ? "ok" : strerror(errno));
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) { signal(SIGSEGV, SIG_DFL); raise(SIGSEGV); _exit(0); }
    int st = 0; if (c > 0) waitpid(c, &st, 0);
    printf("crash child: signal %d core %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0, WCOREDUMP(st) ? 1 : 0);
    int s = socket(AF_IPX, SOCK_DGRAM, 0); printf("socket(AF_IPX) to trigger request_module: %s\n", s >= 0 ? "ok" : strerror(errno));
    if (!esc) report(0, "umh-hijack");
    usleep(400000);
    return 0;
}
