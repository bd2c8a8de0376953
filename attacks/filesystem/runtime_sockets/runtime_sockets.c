/* runtime_sockets: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* F23: container-runtime and system sockets. Connects to docker, containerd, cri-o, podman, kubelet,
 * buildkit, D-Bus, systemd, snapd, nscd, X11, ssh agents, every unix socket path listed in
 * /proc/net/unix, the harness's honeypot {unix_path} and abstract {abstract_name}, and well-known
 * abstract names (containerd-shim, X11); on connect it sends `GET /info` with a gauntlet-<nonce> marker.
 * The honeypots see any connection (honeypot oracle). */
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
static int hits;
static void conn(const char *path, int abstract)
{
    int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
    for (int t = 0; t < 3; t++) {
        int s = socket(AF_UNIX, types[t] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0) { printf("socket: %s\n", strerror(errno)); return; }
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        socklen_t len;
        if (abstract) { a.sun_path[0] = 0; strncpy(a.sun_path + 1, path, sizeof a.sun_path - 2); len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path); }
        else { strncpy(a.sun_path, path, sizeof a.sun_path - 1); len = sizeof a; }
        if (connect(s, (struct sockaddr *)&a, len) == 0 || errno == EINPROGRESS) {
            char m[256]; int k = snprintf(m, sizeof m, "GET /info HTTP/1.0\r\nX-Gauntlet: gauntlet-%s\r\n\r\n", NONCE);
            long w = send(s, m, k, MSG_NOSIGNAL);
            usleep(20000);
            char b[512]; long r = recv(s, b, sizeof b, MSG_DONTWAIT);
            printf("CONNECTED %s%s (type %d), sent %ld, got %ld\n", abstract ? "@" : "", path, types[t], w, r);
            if (r > 0) show(b, r, 300);
            hits++; report(1, "connect %s%s", abstract ? "@" : "", path);
            close(s); return;
        }
        int e = errno; close(s);
        if (t == 0 || e != EPROTOTYPE) { printf("connect %s%s (type %d): %s\n", abstract ? "@" : "", path, types[t], strerror(e)); if (e != EPROTOTYPE) return; }
    }
}
int main(int argc, char **argv)
{
    const char *unix_path = argc > 1 ? argv[1] : "/nonexistent";
    const char *abs_name = argc > 2 ? argv[2] : "none";
    if (argc > 3) NONCE = argv[3];
    const char *paths[] = {"/var/run/docker.sock", "/run/docker.sock", "/run/user/0/docker.sock", "/run/containerd/containerd.sock",
        "/run/containerd/containerd.sock.ttrpc", "/var/run/crio/crio.sock", "/run/crio/crio.sock", "/run/podman/podman.sock",
        "/run/user/1000/podman/podman.sock", "/var/lib/kubelet/pod-resources/kubelet.sock", "/var/lib/kubelet/device-plugins/kubelet.sock",
        "/run/buildkit/buildkitd.sock", "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket", "/run/systemd/private",
        "/run/systemd/journal/socket", "/run/systemd/journal/stdout", "/run/systemd/notify", "/run/snapd.socket", "/var/run/nscd/socket",
        "/tmp/.X11-unix/X0", "/run/k3s/containerd/containerd.sock", "/var/run/cri-dockerd.sock", "/run/firecracker.socket",
        "/var/run/libvirt/libvirt-sock", "/run/lxd/unix.socket", "/var/snap/lxd/common/lxd/unix.socket", "/dev/log", unix_path};
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) conn(paths[i], 0);
    const char *abstracts[] = {abs_name, "/containerd-shim/moby/x/shim.sock", "/tmp/.X11-unix/X0", "/org/freedesktop/systemd1/notify", "gauntlet"};
    for (unsigned i = 0; i < sizeof abstracts / sizeof *abstracts; i++) conn(abstracts[i], 1);
    /* ssh agents and anything in /tmp named like a socket dir */
    DIR *d = opendir("/tmp");
    if (d) { struct dirent *e; int n = 0; while ((e = readdir(d)) && n++ < 200) if (!strncmp(e->d_name, "ssh-", 4)) { char p[600]; snprintf(p, sizeof p, "/tmp/%s", e->d_name); DIR *s = opendir(p); if (s) { struct dirent *f; while ((f = readdir(s))) if (!strncmp(f->d_name, "agent.", 6)) { char q[1200]; snprintf(q, sizeof q, "%s/%s", p, f->d_name); conn(q, 0); } closedir(s); } } closedir(d); }
    /* every bound unix socket the kernel shows us */
    FILE *f = fopen("/proc/net/unix", "r");
    if (f) {
        char l[600]; int n = 0;
        while (fgets(l, sizeof l, f) && n < 60) {
            char *p = strrchr(l, ' '); if (!p) continue; p++; p[strcspn(p, "\n")] = 0;
            if (*p == '/') { conn(p, 0); n++; } else if (*p == '@') { conn(p + 1, 1); n++; }
        }
        fclose(f);
    } else printf("open /proc/net/unix: %s\n", strerror(errno));
    if (!hits) report(0, "runtime-sockets");
    usleep(400000);
    return 0;
}
