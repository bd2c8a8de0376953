/* net_topology: see attack.toml for the technique. Defanged: bounded loops, reads and harmless markers only. */
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

/* I05: network topology: /proc/net/{dev,route,ipv6_route,arp,if_inet6,tcp,tcp6,udp,unix,fib_trie,
 * netstat,snmp}, getifaddrs, SIOCGIFCONF, /etc/resolv.conf and hosts. The sandbox's own network
 * namespace has only lo (down, or up with loopback mode) and no routes: any other interface or a route
 * means the host network is shared (self-report; pstat sees the namespace while this stays alive). */
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
int main(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    const char *files[] = {"/proc/net/dev", "/proc/net/route", "/proc/net/ipv6_route", "/proc/net/arp", "/proc/net/if_inet6",
        "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/fib_trie", "/proc/net/igmp", "/proc/net/packet",
        "/proc/1/net/dev", "/etc/resolv.conf", "/etc/hosts", "/sys/class/net"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) dump_path(files[i], 700);
    struct ifaddrs *ifa, *i; int others = 0;
    if (getifaddrs(&ifa) == 0) {
        for (i = ifa; i; i = i->ifa_next) {
            char a[64] = "-";
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
            else if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a, sizeof a);
            printf("IF %s flags %x addr %s\n", i->ifa_name, i->ifa_flags, a);
            if (strcmp(i->ifa_name, "lo")) others++;
        }
        freeifaddrs(ifa);
    } else printf("getifaddrs: %s\n", strerror(errno));
    int routes = 0;
    FILE *f = fopen("/proc/net/route", "r"); char l[256];
    if (f) { if (fgets(l, sizeof l, f)) while (fgets(l, sizeof l, f)) routes++; fclose(f); }
    printf("non-lo interface entries: %d, IPv4 routes: %d\n", others, routes);
    report(others > 0 || routes > 0, "host network visible (%d interfaces besides lo, %d routes)", others, routes);
    usleep(400000);
    return 0;
}
