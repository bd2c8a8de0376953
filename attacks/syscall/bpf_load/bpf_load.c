/* S08: bpf(2): map create, program load (socket filter, kprobe, tracepoint, cgroup), object listing, and the /sys/fs/bpf pins. */
#include "../syscall_prelude.h"
}
#include <linux/bpf.h>

static long bpf(int cmd, union bpf_attr *a)
{
    return rs(SYS_bpf, cmd, (long)a, sizeof *a, 0, 0, 0);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = 1;
    long m = bpf(BPF_MAP_CREATE, &a);
    report(m >= 0, "bpf-map-create-array %s", en(m));
    /* r0 = 0; exit */
    struct bpf_insn prog[2] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    const struct { const char *n; int t; } types[] = {
        {"socket_filter", BPF_PROG_TYPE_SOCKET_FILTER}, {"kprobe", BPF_PROG_TYPE_KPROBE},
        {"tracepoint", BPF_PROG_TYPE_TRACEPOINT},     {"cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB},
        {"xdp", BPF_PROG_TYPE_XDP},                   {"cgroup_device", BPF_PROG_TYPE_CGROUP_DEVICE},
    };
    char log[256];
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        memset(&a, 0, sizeof a);
        a.prog_type = types[i].t;
        a.insns = (unsigned long)prog;
        a.insn_cnt = 2;
        a.license = (unsigned long)"GPL";
        a.log_buf = (unsigned long)log;
        a.log_size = sizeof log;
        a.log_level = 1;
        long p = bpf(BPF_PROG_LOAD, &a);
        report(p >= 0, "bpf-prog-load-%s %s", types[i].n, en(p));
        if (p >= 0) close((int)p);
    }
    memset(&a, 0, sizeof a);
    long r = bpf(BPF_PROG_GET_NEXT_ID, &a);
    report(r >= 0, "bpf-prog-get-next-id (enumerate host programs) %s", en(r));
    struct { unsigned int flags, bpffs_fd; } tok = {0, 0};
    r = rs(SYS_bpf, 36 /*BPF_TOKEN_CREATE*/, (long)&tok, sizeof tok, 0, 0, 0);
    report(r >= 0, "bpf-token-create %s", en(r));
    /* pinned objects and the JIT knobs */
    int fd = open("/sys/fs/bpf", O_RDONLY | O_DIRECTORY);
    printf("/sys/fs/bpf: %s\n", fd >= 0 ? "visible" : strerror(errno));
    if (fd >= 0) close(fd);
    try_read_path("/proc/sys/kernel/unprivileged_bpf_disabled");
    try_read_path("/proc/sys/net/core/bpf_jit_enable");
    /* classic BPF on a socket is ordinary (tcpdump-style) and stays inside our sockets */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s >= 0) {
        struct { unsigned short code; unsigned char jt, jf; unsigned int k; } ins = {0x06, 0, 0, 0};
        struct { unsigned short len; void *f; } fp = {1, &ins};
        printf("SO_ATTACH_FILTER (classic) = %d\n", setsockopt(s, SOL_SOCKET, 26, &fp, sizeof fp));
        close(s);
    }
    linger();
    return 0;
}
