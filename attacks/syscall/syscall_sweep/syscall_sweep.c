/* S28: full syscall sweep: every x86_64 number 0..470 and every x32 number (nr | 0x40000000, 0..547) with zero arguments, each in its own child; the always-denied calls and the whole x32 table must answer EPERM/ENOSYS (or die by SIGSYS), never reach the kernel. */
#include "../syscall_prelude.h"
}
/* x86_64 syscall names by number (Linux 6.18). */
static const char *const NAMES[470] = {
    [0] = "read", [1] = "write", [2] = "open", [3] = "close", [4] = "stat", [5] = "fstat", [6] = "lstat",
    [7] = "poll", [8] = "lseek", [9] = "mmap", [10] = "mprotect", [11] = "munmap", [12] = "brk",
    [13] = "rt_sigaction", [14] = "rt_sigprocmask", [15] = "rt_sigreturn", [16] = "ioctl", [17] = "pread64",
    [18] = "pwrite64", [19] = "readv", [20] = "writev", [21] = "access", [22] = "pipe", [23] = "select",
    [24] = "sched_yield", [25] = "mremap", [26] = "msync", [27] = "mincore", [28] = "madvise",
    [29] = "shmget", [30] = "shmat", [31] = "shmctl", [32] = "dup", [33] = "dup2", [34] = "pause",
    [35] = "nanosleep", [36] = "getitimer", [37] = "alarm", [38] = "setitimer", [39] = "getpid",
    [40] = "sendfile", [41] = "socket", [42] = "connect", [43] = "accept", [44] = "sendto", [45] = "recvfrom",
    [46] = "sendmsg", [47] = "recvmsg", [48] = "shutdown", [49] = "bind", [50] = "listen",
    [51] = "getsockname", [52] = "getpeername", [53] = "socketpair", [54] = "setsockopt", [55] = "getsockopt",
    [56] = "clone", [57] = "fork", [58] = "vfork", [59] = "execve", [60] = "exit", [61] = "wait4",
    [62] = "kill", [63] = "uname", [64] = "semget", [65] = "semop", [66] = "semctl", [67] = "shmdt",
    [68] = "msgget", [69] = "msgsnd", [70] = "msgrcv", [71] = "msgctl", [72] = "fcntl", [73] = "flock",
    [74] = "fsync", [75] = "fdatasync", [76] = "truncate", [77] = "ftruncate", [78] = "getdents",
    [79] = "getcwd", [80] = "chdir", [81] = "fchdir", [82] = "rename", [83] = "mkdir", [84] = "rmdir",
    [85] = "creat", [86] = "link", [87] = "unlink", [88] = "symlink", [89] = "readlink", [90] = "chmod",
    [91] = "fchmod", [92] = "chown", [93] = "fchown", [94] = "lchown", [95] = "umask", [96] = "gettimeofday",
    [97] = "getrlimit", [98] = "getrusage", [99] = "sysinfo", [100] = "times", [101] = "ptrace",
    [102] = "getuid", [103] = "syslog", [104] = "getgid", [105] = "setuid", [106] = "setgid",
    [107] = "geteuid", [108] = "getegid", [109] = "setpgid", [110] = "getppid", [111] = "getpgrp",
    [112] = "setsid", [113] = "setreuid", [114] = "setregid", [115] = "getgroups", [116] = "setgroups",
    [117] = "setresuid", [118] = "getresuid", [119] = "setresgid", [120] = "getresgid", [121] = "getpgid",
    [122] = "setfsuid", [123] = "setfsgid", [124] = "getsid", [125] = "capget", [126] = "capset",
    [127] = "rt_sigpending", [128] = "rt_sigtimedwait", [129] = "rt_sigqueueinfo", [130] = "rt_sigsuspend",
    [131] = "sigaltstack", [132] = "utime", [133] = "mknod", [134] = "uselib", [135] = "personality",
    [136] = "ustat", [137] = "statfs", [138] = "fstatfs", [139] = "sysfs", [140] = "getpriority",
    [141] = "setpriority", [142] = "sched_setparam", [143] = "sched_getparam", [144] = "sched_setscheduler",
    [145] = "sched_getscheduler", [146] = "sched_get_priority_max", [147] = "sched_get_priority_min",
    [148] = "sched_rr_get_interval", [149] = "mlock", [150] = "munlock", [151] = "mlockall",
    [152] = "munlockall", [153] = "vhangup", [154] = "modify_ldt", [155] = "pivot_root", [156] = "_sysctl",
    [157] = "prctl", [158] = "arch_prctl", [159] = "adjtimex", [160] = "setrlimit", [161] = "chroot",
    [162] = "sync", [163] = "acct", [164] = "settimeofday", [165] = "mount", [166] = "umount2",
    [167] = "swapon", [168] = "swapoff", [169] = "reboot", [170] = "sethostname", [171] = "setdomainname",
    [172] = "iopl", [173] = "ioperm", [174] = "create_module", [175] = "init_module", [176] = "delete_module",
    [177] = "get_kernel_syms", [178] = "query_module", [179] = "quotactl", [180] = "nfsservctl",
    [181] = "getpmsg", [182] = "putpmsg", [183] = "afs_syscall", [184] = "tuxcall", [185] = "security",
    [186] = "gettid", [187] = "readahead", [188] = "setxattr", [189] = "lsetxattr", [190] = "fsetxattr",
    [191] = "getxattr", [192] = "lgetxattr", [193] = "fgetxattr", [194] = "listxattr", [195] = "llistxattr",
    [196] = "flistxattr", [197] = "removexattr", [198] = "lremovexattr", [199] = "fremovexattr",
    [200] = "tkill", [201] = "time", [202] = "futex", [203] = "sched_setaffinity",
    [204] = "sched_getaffinity", [205] = "set_thread_area", [206] = "io_setup", [207] = "io_destroy",
    [208] = "io_getevents", [209] = "io_submit", [210] = "io_cancel", [211] = "get_thread_area",
    [212] = "lookup_dcookie", [213] = "epoll_create", [214] = "epoll_ctl_old", [215] = "epoll_wait_old",
    [216] = "remap_file_pages", [217] = "getdents64", [218] = "set_tid_address", [219] = "restart_syscall",
    [220] = "semtimedop", [221] = "fadvise64", [222] = "timer_create", [223] = "timer_settime",
    [224] = "timer_gettime", [225] = "timer_getoverrun", [226] = "timer_delete", [227] = "clock_settime",
    [228] = "clock_gettime", [229] = "clock_getres", [230] = "clock_nanosleep", [231] = "exit_group",
    [232] = "epoll_wait", [233] = "epoll_ctl", [234] = "tgkill", [235] = "utimes", [236] = "vserver",
    [237] = "mbind", [238] = "set_mempolicy", [239] = "get_mempolicy", [240] = "mq_open", [241] = "mq_unlink",
    [242] = "mq_timedsend", [243] = "mq_timedreceive", [244] = "mq_notify", [245] = "mq_getsetattr",
    [246] = "kexec_load", [247] = "waitid", [248] = "add_key", [249] = "request_key", [250] = "keyctl",
    [251] = "ioprio_set", [252] = "ioprio_get", [253] = "inotify_init", [254] = "inotify_add_watch",
    [255] = "inotify_rm_watch", [256] = "migrate_pages", [257] = "openat", [258] = "mkdirat",
    [259] = "mknodat", [260] = "fchownat", [261] = "futimesat", [262] = "newfstatat", [263] = "unlinkat",
    [264] = "renameat", [265] = "linkat", [266] = "symlinkat", [267] = "readlinkat", [268] = "fchmodat",
    [269] = "faccessat", [270] = "pselect6", [271] = "ppoll", [272] = "unshare", [273] = "set_robust_list",
    [274] = "get_robust_list", [275] = "splice", [276] = "tee", [277] = "sync_file_range", [278] = "vmsplice",
    [279] = "move_pages", [280] = "utimensat", [281] = "epoll_pwait", [282] = "signalfd",
    [283] = "timerfd_create", [284] = "eventfd", [285] = "fallocate", [286] = "timerfd_settime",
    [287] = "timerfd_gettime", [288] = "accept4", [289] = "signalfd4", [290] = "eventfd2",
    [291] = "epoll_create1", [292] = "dup3", [293] = "pipe2", [294] = "inotify_init1", [295] = "preadv",
    [296] = "pwritev", [297] = "rt_tgsigqueueinfo", [298] = "perf_event_open", [299] = "recvmmsg",
    [300] = "fanotify_init", [301] = "fanotify_mark", [302] = "prlimit64", [303] = "name_to_handle_at",
    [304] = "open_by_handle_at", [305] = "clock_adjtime", [306] = "syncfs", [307] = "sendmmsg",
    [308] = "setns", [309] = "getcpu", [310] = "process_vm_readv", [311] = "process_vm_writev",
    [312] = "kcmp", [313] = "finit_module", [314] = "sched_setattr", [315] = "sched_getattr",
    [316] = "renameat2", [317] = "seccomp", [318] = "getrandom", [319] = "memfd_create",
    [320] = "kexec_file_load", [321] = "bpf", [322] = "execveat", [323] = "userfaultfd", [324] = "membarrier",
    [325] = "mlock2", [326] = "copy_file_range", [327] = "preadv2", [328] = "pwritev2",
    [329] = "pkey_mprotect", [330] = "pkey_alloc", [331] = "pkey_free", [332] = "statx",
    [333] = "io_pgetevents", [334] = "rseq", [335] = "uretprobe", [424] = "pidfd_send_signal",
    [425] = "io_uring_setup", [426] = "io_uring_enter", [427] = "io_uring_register", [428] = "open_tree",
    [429] = "move_mount", [430] = "fsopen", [431] = "fsconfig", [432] = "fsmount", [433] = "fspick",
    [434] = "pidfd_open", [435] = "clone3", [436] = "close_range", [437] = "openat2", [438] = "pidfd_getfd",
    [439] = "faccessat2", [440] = "process_madvise", [441] = "epoll_pwait2", [442] = "mount_setattr",
    [443] = "quotactl_fd", [444] = "landlock_create_ruleset", [445] = "landlock_add_rule",
    [446] = "landlock_restrict_self", [447] = "memfd_secret", [448] = "process_mrelease",
    [449] = "futex_waitv", [450] = "set_mempolicy_home_node", [451] = "cachestat", [452] = "fchmodat2",
    [453] = "map_shadow_stack", [454] = "futex_wake", [455] = "futex_wait", [456] = "futex_requeue",
    [457] = "statmount", [458] = "listmount", [459] = "lsm_get_self_attr", [460] = "lsm_set_self_attr",
    [461] = "lsm_list_modules", [462] = "mseal", [463] = "setxattrat", [464] = "getxattrat",
    [465] = "listxattrat", [466] = "removexattrat", [467] = "open_tree_attr", [468] = "file_getattr",
    [469] = "file_setattr",
};
/* Calls the sandbox must always refuse, whatever the policy (the sandbox's ALWAYS_DENIED list). */
static const int ALWAYS_DENIED[] = {
    165 /*mount*/, 166 /*umount2*/, 155 /*pivot_root*/, 161 /*chroot*/, 272 /*unshare*/, 308 /*setns*/,
    435 /*clone3*/, 430 /*fsopen*/, 431 /*fsconfig*/, 432 /*fsmount*/, 433 /*fspick*/, 428 /*open_tree*/,
    467 /*open_tree_attr*/, 429 /*move_mount*/, 442 /*mount_setattr*/, 457 /*statmount*/, 458 /*listmount*/,
    101 /*ptrace*/, 310 /*process_vm_readv*/, 311 /*process_vm_writev*/, 440 /*process_madvise*/,
    448 /*process_mrelease*/, 312 /*kcmp*/, 438 /*pidfd_getfd*/, 321 /*bpf*/, 298 /*perf_event_open*/,
    250 /*keyctl*/, 248 /*add_key*/, 249 /*request_key*/, 323 /*userfaultfd*/, 425 /*io_uring_setup*/,
    426 /*io_uring_enter*/, 427 /*io_uring_register*/, 246 /*kexec_load*/, 320 /*kexec_file_load*/,
    175 /*init_module*/, 313 /*finit_module*/, 176 /*delete_module*/, 174 /*create_module*/, 167 /*swapon*/,
    168 /*swapoff*/, 169 /*reboot*/, 163 /*acct*/, 179 /*quotactl*/, 443 /*quotactl_fd*/, 170 /*sethostname*/,
    171 /*setdomainname*/, 164 /*settimeofday*/, 227 /*clock_settime*/, 305 /*clock_adjtime*/,
    159 /*adjtimex*/, 103 /*syslog*/, 304 /*open_by_handle_at*/, 212 /*lookup_dcookie*/,
    300 /*fanotify_init*/, 153 /*vhangup*/, 172 /*iopl*/, 173 /*ioperm*/, 154 /*modify_ldt*/, 134 /*uselib*/,
    180 /*nfsservctl*/, 156 /*_sysctl*/, 322 /*execveat*/, 447 /*memfd_secret*/, 279 /*move_pages*/,
    256 /*migrate_pages*/, 335 /*uretprobe*/, 460 /*lsm_set_self_attr*/, 303 /*name_to_handle_at*/,
};
#include <sys/mman.h>
#include <sys/time.h>
#include <stdarg.h>

#define X32 0x40000000L
#define UNSET (-999999L)

static long *slot;   /* shared with the children: each writes its call's return value */

static int is_always_denied(long nr)
{
    for (size_t i = 0; i < sizeof ALWAYS_DENIED / sizeof *ALWAYS_DENIED; i++)
        if (ALWAYS_DENIED[i] == nr) return 1;
    return 0;
}

/* Calls that would block, end or confuse the sweeper even in a child: skipped. */
static int skipped(long n)
{
    switch (n) {
    case 15: case 23: case 34: case 58: case 60: case 231: case 270: case 271: case 153:
    case 513: /* x32 rt_sigreturn */
        return 1;
    }
    return 0;
}

/* Zero arguments, except for calls that zero arguments would make destructive if ever privileged:
 * those get arguments the kernel rejects right after its permission check. */
static long call(long nr)
{
    long base = nr & ~X32;
    switch (base) {
    case 169: return syscall(nr, 0xfee1deadL, 0x12345678L, 0, 0);          /* reboot: bad magic2 */
    case 246: case 528: return syscall(nr, 0, 1000L, 0, 0);                /* kexec_load: too many segments */
    case 320: return syscall(nr, -1L, -1L, 0, 0, 0);                        /* kexec_file_load: bad fds */
    case 170: case 171: return syscall(nr, (long)"gauntlet", 1000L);        /* set{host,domain}name: len > 64 */
    case 163: return syscall(nr, (long)"/nonexistent-gauntlet-acct");       /* acct: missing file */
    case 168: return syscall(nr, (long)"/nonexistent-gauntlet-swap");       /* swapoff: missing file */
    }
    return syscall(nr, 0, 0, 0, 0, 0, 0);
}

/* Returns the raw result (or -errno), or UNSET if the child died first; *sig gets the signal. */
static long probe(long nr, int *sig)
{
    *slot = UNSET;
    fflush(stdout);
    pid_t me_parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        pid_t me = getpid();
        struct itimerval it = {{0, 0}, {0, 200000}};
        setitimer(ITIMER_REAL, &it, NULL);
        long r = call(nr);
        if (getpid() != me) _exit(0);   /* fork/clone: the new child leaves at once */
        *slot = r == -1 ? -errno : r;
        syscall(SYS_exit_group, 0);
        _exit(0);
    }
    (void)me_parent;
    int st = 0;
    *sig = 0;
    if (c < 0) { *sig = -1; return UNSET; }
    waitpid(c, &st, __WALL);
    if (WIFSIGNALED(st)) *sig = WTERMSIG(st);
    return *slot;
}

static char summary[20000];
static size_t sl;

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (sl < sizeof summary - 100) sl += vsnprintf(summary + sl, sizeof summary - sl, fmt, ap);
    va_end(ap);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    slot = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slot == MAP_FAILED) return 1;
    int bad = 0, eperm = 0, reached = 0, sigsys = 0, nskip = 0;
    /* native table */
    for (long nr = 0; nr <= 470; nr++) {
        if (skipped(nr)) { nskip++; continue; }
        int sig;
        long r = probe(nr, &sig);
        const char *name = nr < (long)(sizeof NAMES / sizeof *NAMES) && NAMES[nr] ? NAMES[nr] : "?";
        int refused = (r == -EPERM || r == -ENOSYS) || sig == SIGSYS;
        /* uretprobe (335) and uprobe (336) are exempted from seccomp by the kernel itself (6.13+/6.16+):
         * outside a probe trampoline they only SIGILL the caller or fail with ENXIO. Recorded, not judged. */
        if ((nr == 335 || nr == 336) && (sig == SIGILL || r == -ENXIO)) {
            printf("note: syscall %ld (%s) bypasses seccomp by kernel design: %s%s\n", nr, name,
                   r == UNSET ? "no result" : en(r), sig == SIGILL ? ", caller got SIGILL" : "");
            refused = 1;
        }
        if (sig == SIGSYS) sigsys++;
        if (refused) eperm++;
        else { reached++; note(" %ld:%s=%s%s", nr, name, r == UNSET ? "died" : en(r), sig ? "/sig" : ""); }
        if (is_always_denied(nr) && !refused) {
            bad++;
            report(1, "sweep: always-denied syscall %ld (%s) reached the kernel: %s (signal %d)", nr, name,
                   r == UNSET ? "no result" : en(r), sig);
        }
    }
    printf("native 0..470: %d refused (EPERM/ENOSYS/SIGSYS, %d by SIGSYS), %d reached the kernel, %d skipped\n",
           eperm, sigsys, reached, nskip);
    printf("reached the kernel (zero args):%s\n", summary);
    sl = 0;
    summary[0] = 0;
    /* x32 table: the whole ABI is refused by the filter */
    int x32_reached = 0;
    for (long n = 0; n <= 547; n++) {
        if (skipped(n)) continue;
        int sig;
        long r = probe(n | X32, &sig);
        int refused = (r == -EPERM || r == -ENOSYS) || sig == SIGSYS;
        if (!refused) {
            x32_reached++;
            note(" x32:%ld=%s", n, r == UNSET ? "died" : en(r));
        }
    }
    report(x32_reached > 0, "sweep: %d x32 syscall numbers reached the kernel%s", x32_reached, summary);
    report(bad > 0, "sweep: %d always-denied native syscalls reached the kernel", bad);
    /* numbers past the end of the table and negative numbers */
    long odd[] = {471, 512, 1000, 0x3fffffff, -1, 0x7fffffff, (long)0x8000000000000000UL | 39, 0x100000000L | 101, 0x100000000L | 39};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        int sig;
        long r = probe(odd[i], &sig);
        /* a number whose low 32 bits name a call (e.g. 0x1_0000_0065 = ptrace) must not be treated as it */
        int as_call = r != -ENOSYS && r != -EPERM && sig != SIGSYS && r != UNSET;
        report(as_call && (odd[i] & 0xffffffff) == 101, "sweep: number 0x%lx -> %s (signal %d)", odd[i], r == UNSET ? "no result" : en(r), sig);
    }
    linger();
    return 0;
}
