/* A hostile test program for the process sandbox's integration tests: one mode per layer.
 * Every mode is bounded (counts, bytes, time) so that a failed containment cannot hurt the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static int forkbomb(void) {
    int made = 0, failed = 0;
    for (int i = 0; i < 3000; i++) {
        pid_t p = fork();
        if (p == 0) { pause(); _exit(0); }
        if (p < 0) { failed++; if (failed > 50) break; } else made++;
    }
    printf("forked %d failed %d\n", made, failed);
    fflush(stdout);
    return 0;
}

static int memhog(long max_mib) {
    long got = 0;
    for (; got < max_mib; got++) {
        char *p = malloc(1 << 20);
        if (!p) break;
        memset(p, 0x5a, 1 << 20);
    }
    printf("allocated %ld MiB\n", got);
    return 0;
}

static int spin(void) {
    time_t end = time(NULL) + 30;
    volatile unsigned long x = 0;
    while (time(NULL) < end) x++;
    return 0;
}

static int sleeper(int secs) { sleep(secs); printf("woke up\n"); return 0; }

static int daemonize(const char *marker_dir) {
    pid_t p = fork();
    if (p == 0) {
        if (fork() == 0) {
            setsid();
            for (int i = 0; i < 40; i++) usleep(100000);
            char path[4096];
            snprintf(path, sizeof path, "%s/daemon-survived", marker_dir);
            int fd = open(path, O_CREAT | O_WRONLY, 0644);
            if (fd >= 0) close(fd);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(p, NULL, 0);
    printf("daemon started\n");
    return 0;
}

static int net(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int rc = connect(s, (void *)&a, sizeof a);
    printf("tcp connect: %s\n", rc == 0 ? "ok" : strerror(errno));
    if (rc == 0) write(s, "hello", 5);
    int f = socket(AF_INET, SOCK_STREAM, 0);
    rc = sendto(f, "hello", 5, 0x20000000 /* MSG_FASTOPEN */, (void *)&a, sizeof a);
    printf("tcp fastopen: %s\n", rc >= 0 ? "ok" : strerror(errno));
    int pk = socket(AF_INET, 10 /* SOCK_PACKET */, htons(3));
    printf("sock_packet: %s\n", pk >= 0 ? "ok" : strerror(errno));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    rc = sendto(u, "hello", 5, 0, (void *)&a, sizeof a);
    printf("udp send: %s\n", rc >= 0 ? "ok" : strerror(errno));
    return 0;
}

static void dump(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("%s: %s\n", path, strerror(errno)); return; }
    static char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) n = 0;
    buf[n] = 0;
    printf("%s: read [%s]\n", path, buf);
    close(fd);
}

static int readfile(int argc, char **argv) {
    for (int i = 0; i < argc; i++) dump(argv[i]);
    return 0;
}

static int flood(void) {
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 16384; i++) /* at most 1 GiB */
        if (write(1, buf, sizeof buf) < 0) return 1;
    return 0;
}

static int env(void) {
    extern char **environ;
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    return 0;
}

static int fds(void) {
    for (int fd = 3; fd < 1024; fd++) {
        char buf[256];
        if (fcntl(fd, F_GETFD) < 0) continue;
        fcntl(fd, F_SETFL, O_NONBLOCK);
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n < 0) n = 0;
        buf[n] = 0;
        printf("fd %d open: [%s]\n", fd, buf);
    }
    printf("fd scan done\n");
    return 0;
}

/* Each call uses arguments that fail with something other than EPERM when the call is allowed, so that
 * EPERM (ENOSYS for clone3) identifies the seccomp filter. */
static int syscalls(void) {
    struct { const char *name; long nr; long a, b, c, d, e, f; } calls[] = {
        {"mount", SYS_mount, 0, 0, 0, 0, 0, 0},
        {"umount2", SYS_umount2, 0, 0, 0, 0, 0, 0},
        {"unshare", SYS_unshare, CLONE_NEWUTS, 0, 0, 0, 0, 0},
        {"setns", SYS_setns, -1, 0, 0, 0, 0, 0},
        {"clone_newuser", SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0, 0},
        {"clone_newns", SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0, 0},
        {"clone_newnet", SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0, 0},
        {"clone3", 435, 0, 0, 0, 0, 0, 0},
        {"ptrace", SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0, 0, 0},
        {"process_vm_readv", SYS_process_vm_readv, 1, 0, 0, 0, 0, 0},
        {"process_vm_writev", SYS_process_vm_writev, 1, 0, 0, 0, 0, 0},
        {"bpf", SYS_bpf, 0, 0, 0, 0, 0, 0},
        {"perf_event_open", SYS_perf_event_open, 0, 0, -1, -1, 0, 0},
        {"keyctl", SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0, 0, 0, 0},
        {"add_key", SYS_add_key, 0, 0, 0, 0, 0, 0},
        {"request_key", SYS_request_key, 0, 0, 0, 0, 0, 0},
        {"userfaultfd", SYS_userfaultfd, 0, 0, 0, 0, 0, 0},
        {"io_uring_setup", 425, 0, 0, 0, 0, 0, 0},
        {"io_uring_enter", 426, -1, 0, 0, 0, 0, 0},
        {"io_uring_register", 427, -1, 0, 0, 0, 0, 0},
        {"kexec_load", SYS_kexec_load, 0, 0, 0, 0, 0, 0},
        {"kexec_file_load", SYS_kexec_file_load, -1, -1, 0, 0, 0, 0},
        {"init_module", SYS_init_module, 0, 0, 0, 0, 0, 0},
        {"finit_module", SYS_finit_module, -1, 0, 0, 0, 0, 0},
        {"delete_module", SYS_delete_module, 0, 0, 0, 0, 0, 0},
        {"swapon", SYS_swapon, 0, 0, 0, 0, 0, 0},
        {"swapoff", SYS_swapoff, 0, 0, 0, 0, 0, 0},
        {"reboot", SYS_reboot, 0, 0, 0, 0, 0, 0},
        {"acct", SYS_acct, 0, 0, 0, 0, 0, 0},
        {"chroot", SYS_chroot, 0, 0, 0, 0, 0, 0},
        {"pivot_root", SYS_pivot_root, 0, 0, 0, 0, 0, 0},
        {"sethostname", SYS_sethostname, 0, 0, 0, 0, 0, 0},
        {"setdomainname", SYS_setdomainname, 0, 0, 0, 0, 0, 0},
        {"settimeofday", SYS_settimeofday, 0, 0, 0, 0, 0, 0},
        {"clock_settime", SYS_clock_settime, 0, 0, 0, 0, 0, 0},
        {"clock_adjtime", SYS_clock_adjtime, 0, 0, 0, 0, 0, 0},
        {"adjtimex", SYS_adjtimex, 0, 0, 0, 0, 0, 0},
        {"syslog", SYS_syslog, 3 /* READ_ALL */, 0, 0, 0, 0, 0},
        {"quotactl", SYS_quotactl, 0, 0, 0, 0, 0, 0},
        {"open_by_handle_at", SYS_open_by_handle_at, -1, 0, 0, 0, 0, 0},
        {"ioctl_tiocsti", SYS_ioctl, 0, TIOCSTI, 0, 0, 0, 0},
        {"ioctl_tiocsti_hibits", SYS_ioctl, 0, 0x100000000L | TIOCSTI, 0, 0, 0, 0},
        {"ioctl_tioclinux", SYS_ioctl, 0, TIOCLINUX, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        errno = 0;
        long rc = syscall(calls[i].nr, calls[i].a, calls[i].b, calls[i].c, calls[i].d, calls[i].e, calls[i].f);
        if (rc == 0 && calls[i].nr == SYS_clone) _exit(0); /* a clone that got through: the child leaves */
        printf("%s %s\n", calls[i].name, rc >= 0 ? "ALLOWED" : strerrorname_np(errno));
    }
    return 0;
}

static int tiocsti(void) {
    const char *cmd = "echo INJECTED\n";
    /* Make the terminal on stdin our controlling terminal first, where the sandbox would let us. */
    if (ioctl(0, TIOCSCTTY, 0) != 0) printf("tiocsctty: %s\n", strerror(errno));
    int hits = 0;
    for (const char *c = cmd; *c; c++)
        if (ioctl(0, TIOCSTI, c) == 0) hits++;
    printf("tiocsti injected %d bytes (%s)\n", hits, hits ? "ok" : strerror(errno));
    return 0;
}

static int host_name(void) {
    int rc = sethostname("gauntlet-pwned", 14);
    printf("sethostname: %s\n", rc == 0 ? "ok" : strerror(errno));
    struct utsname u;
    uname(&u);
    printf("hostname %s\n", u.nodename);
    return 0;
}

/* Tries to leave setuid/setgid files and directories behind in a read-write host directory. */
static int setid(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/suid-open", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 04755);
    printf("open 04755: %s\n", fd >= 0 ? "ok" : strerror(errno));
    snprintf(path, sizeof path, "%s/plain", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0755);
    if (fd >= 0) close(fd);
    printf("chmod 04755: %s\n", chmod(path, 04755) == 0 ? "ok" : strerror(errno));
    printf("chmod 02755: %s\n", chmod(path, 02755) == 0 ? "ok" : strerror(errno));
    printf("fchmodat 06755: %s\n", fchmodat(AT_FDCWD, path, 06755, 0) == 0 ? "ok" : strerror(errno));
    snprintf(path, sizeof path, "%s/sgid-dir", dir);
    printf("mkdir 02775: %s\n", mkdir(path, 02775) == 0 ? "ok" : strerror(errno));
    return 0;
}

static int status(void) {
    dump("/proc/self/status");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 100;
    const char *m = argv[1];
    if (!strcmp(m, "forkbomb")) return forkbomb();
    if (!strcmp(m, "memhog")) return memhog(argc > 2 ? atol(argv[2]) : 2048);
    if (!strcmp(m, "spin")) return spin();
    if (!strcmp(m, "sleep")) return sleeper(argc > 2 ? atoi(argv[2]) : 30);
    if (!strcmp(m, "daemon")) return daemonize(argv[2]);
    if (!strcmp(m, "net")) return net(atoi(argv[2]));
    if (!strcmp(m, "read")) return readfile(argc - 2, argv + 2);
    if (!strcmp(m, "fds")) return fds();
    if (!strcmp(m, "syscalls")) return syscalls();
    if (!strcmp(m, "tiocsti")) return tiocsti();
    if (!strcmp(m, "hostname")) return host_name();
    if (!strcmp(m, "status")) return status();
    if (!strcmp(m, "exit")) return atoi(argv[2]);
    if (!strcmp(m, "flood")) return flood();
    if (!strcmp(m, "setid")) return setid(argv[2]);
    if (!strcmp(m, "env")) return env();
    return 101;
}
