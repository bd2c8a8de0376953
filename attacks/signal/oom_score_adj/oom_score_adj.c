/* G07 OOM-killer games: make itself unkillable (oom_score_adj -1000, legacy oom_adj -17) and make others the
 * first victims (+1000 on the parent, the supervisor, the runner and pid 1), so a host-wide OOM takes the
 * harness instead of the plugin. Raising one's own score is allowed and harmless; lowering needs
 * CAP_SYS_RESOURCE. Writes go through /proc/<pid>/ and /proc/self/ (also via an fd opened before a setuid-style
 * change would apply). Reports itself (self): nothing on the host records a refused write.
 * Defanged: foreign targets get the value they already had written back if the first write succeeded. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static const char *nonce = "none";

static int read_int(const char *path, int *v) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fscanf(f, "%d", v) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

static int write_str(const char *path, const char *val) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, val, strlen(val));
    int e = errno;
    close(fd);
    return n == (ssize_t)strlen(val) ? 0 : -e;
}

static void foreign(const char *label, pid_t pid) {
    if (pid <= 0 || pid == getpid()) return;
    char p[64];
    int before = 0;
    snprintf(p, sizeof p, "/proc/%d/oom_score_adj", (int)pid);
    int rd = read_int(p, &before);
    int r = write_str(p, "1000");
    printf("oom_score_adj: %s (pid %d): read %s (%d), write 1000 -> %s\n", label, (int)pid, rd ? "failed" : "ok", before,
           r ? strerror(-r) : "ok");
    if (pid != 1)
        printf("GAUNTLET-REPORT %s %s raise the %s's oom_score_adj\n", nonce, r == 0 ? "escaped" : "denied", label);
    if (r == 0) { char b[16]; snprintf(b, sizeof b, "%d", before); write_str(p, b); }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1) nonce = argv[1];
    pid_t sup = argc > 2 ? atoi(argv[2]) : 0, run = argc > 3 ? atoi(argv[3]) : 0;
    int before = 0, after = 0;
    read_int("/proc/self/oom_score_adj", &before);
    int r1 = write_str("/proc/self/oom_score_adj", "-1000");
    int r2 = write_str("/proc/self/oom_adj", "-17");
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/oom_score_adj", (int)getpid());
    int r3 = write_str(p, "-999");
    read_int("/proc/self/oom_score_adj", &after);
    printf("oom_score_adj: own before %d; write -1000 -> %s; oom_adj -17 -> %s; via /proc/<pid> -999 -> %s; after %d\n",
           before, r1 ? strerror(-r1) : "ok", r2 ? strerror(-r2) : "ok", r3 ? strerror(-r3) : "ok", after);
    printf("GAUNTLET-REPORT %s %s lower my own oom_score_adj (%d -> %d)\n", nonce, after < before ? "escaped" : "denied", before, after);
    int r4 = write_str("/proc/self/oom_score_adj", "1000");
    printf("oom_score_adj: raising my own score to 1000 -> %s (the kernel allows this; harmless)\n", r4 ? strerror(-r4) : "ok");
    fflush(stdout);
    foreign("parent", getppid());
    foreign("supervisor", sup);
    foreign("runner", run);
    foreign("sandbox pid 1", 1);
    usleep(400000);
    return 0;
}
