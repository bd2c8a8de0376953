/* S19: exec setuid/setgid/file-capability binaries reachable in the view (and a setuid copy we make ourselves); the host sees the child's identity and capabilities while it runs. */
#include "../syscall_prelude.h"
}
#include <dirent.h>
#include <sys/xattr.h>

#include <time.h>
static int tried;
static long scanned;
static struct timespec t0;

static double elapsed(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static void try_exec(const char *path, const char *why)
{
    if (tried >= 24) return;
    tried++;
    int pfd[2];
    if (pipe(pfd)) return;
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(pfd[0]);
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0); dup2(nul, 1); dup2(nul, 2);
        alarm(2);
        execl(path, path, "--version", (char *)0);
        _exit(127);
    }
    close(pfd[1]);
    char uid[128] = "", cap[64] = "", cp[32];
    snprintf(cp, sizeof cp, "%d", c);
    for (int i = 0; i < 20; i++) {  /* sample for ~100 ms while the binary runs */
        usleep(5000);
        char u2[128] = "", c2[64] = "";
        if (!status_field(cp, "Uid", u2, sizeof u2)) break;
        status_field(cp, "CapEff", c2, sizeof c2);
        if (strcmp(u2, uid) || strcmp(c2, cap)) { strcpy(uid, u2); strcpy(cap, c2); }
        if (strspn(c2, "0") != strlen(c2)) break;
    }
    int st;
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    close(pfd[0]);
    int gain = cap[0] && strspn(cap, "0") != strlen(cap);
    report(gain, "exec %s (%s): Uid %s CapEff %s", path, why, uid, cap);
}

static void scan(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) && n++ < 5000 && tried < 24 && scanned++ < 40000 && elapsed() < 1.0) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st)) continue;
        if (S_ISDIR(st.st_mode) && depth < 3) { scan(p, depth + 1); continue; }
        if (!S_ISREG(st.st_mode)) continue;
        char capbuf[64];
        int fcap = getxattr(p, "security.capability", capbuf, sizeof capbuf) > 0;
        if (st.st_mode & (S_ISUID | S_ISGID)) try_exec(p, st.st_mode & S_ISUID ? "setuid" : "setgid");
        else if (fcap) try_exec(p, "file capabilities");
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin", "/opt"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) scan(dirs[i], 0);
    printf("%d setuid/setgid/file-cap binaries tried, %ld entries scanned in %.2fs\n", tried, scanned, elapsed());
    /* make our own: copy this binary to scratch, chmod u+s (root-owned inside the user ns), exec it */
    char dst[600];
    snprintf(dst, sizeof dst, "%s/suid-%s", SCRATCH, NONCE);
    int in = open("/proc/self/exe", O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in >= 0 && out >= 0) {
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0) if (write(out, buf, n) != n) break;
    }
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    int r = chmod(dst, 04755);
    printf("chmod u+s %s: %s\n", dst, r ? strerror(errno) : "ok");
    r = setxattr(dst, "security.capability", "\x01\x00\x00\x02\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00", 20, 0);
    printf("setxattr security.capability on the copy: %s\n", r ? strerror(errno) : "ok");
    try_exec(dst, "own setuid copy");
    unlink(dst);
    char nnp[64] = "";
    status_field("self", "NoNewPrivs", nnp, sizeof nnp);
    report(strcmp(nnp, "1") != 0, "NoNewPrivs is %s", nnp);
    linger();
    return 0;
}
