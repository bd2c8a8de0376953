/* S31: threads versus the filter: threads started before we stack filters (with and without TSYNC) and threads started after, each retrying forbidden calls and reporting its own Seccomp status; also a thread that races execve. */
#include "../syscall_prelude.h"
}
#include <pthread.h>
#include <sys/prctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static volatile int go;
static int results[8];

static void *worker(void *arg)
{
    long idx = (long)arg;
    for (int i = 0; i < 200 && !go; i++) usleep(1000);
    char path[64], mode[16] = "";
    snprintf(path, sizeof path, "self/task/%ld", (long)syscall(SYS_gettid));
    status_field(path, "Seccomp", mode, sizeof mode);
    long a = rs(SYS_unshare, 0x10000000, 0, 0, 0, 0, 0);   /* thread-level unshare of a user ns is refused by
                                                               the kernel for threaded processes (EINVAL) too */
    long b = rs(SYS_keyctl, 0 /*GET_KEYRING_ID*/, -3, 0, 0, 0, 0);
    long c = rs(425, 1, 0, 0, 0, 0, 0);   /* io_uring_setup: EFAULT would mean it reached the kernel */
    long d = rs(SYS_ptrace, 16 /*PTRACE_ATTACH*/, 1, 0, 0, 0, 0);
    printf("thread %ld (tid %ld): Seccomp %s; unshare %s keyctl %s io_uring_setup %s ptrace %s\n", idx,
           (long)syscall(SYS_gettid), mode, en(a), en(b), en(c), en(d));
    results[idx] = (b != -EPERM && b != -ENOSYS) || (c != -EPERM && c != -ENOSYS) || (d != -EPERM && d != -ENOSYS) ||
                   strcmp(mode, "2") != 0;
    return NULL;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    pthread_t t[6];
    /* two threads that exist before anything else happens */
    pthread_create(&t[0], NULL, worker, (void *)0);
    pthread_create(&t[1], NULL, worker, (void *)1);
    /* stack a permissive filter with TSYNC (synchronises all threads onto our filter tree) */
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog p = {1, allow};
    long r = rs(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, (long)&p, 0, 0, 0);
    printf("TSYNC allow-all: %s\n", en(r));
    /* and one without TSYNC (threads diverge) */
    r = rs(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&p, 0, 0, 0);
    printf("non-TSYNC allow-all on the main thread: %s\n", en(r));
    pthread_create(&t[2], NULL, worker, (void *)2);
    pthread_create(&t[3], NULL, worker, (void *)3);
    /* TSYNC again from a diverged tree: the kernel refuses with the tid of the blocking thread */
    r = rs(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, (long)&p, 0, 0, 0);
    printf("TSYNC with diverged threads: %s\n", en(r));
    go = 1;
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) report(results[i], "thread %d reached a forbidden call or lost its filter", i);
    /* a thread that clears its own no_new_privs is impossible; try anyway and then stack from it */
    r = prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0);
    printf("PR_SET_NO_NEW_PRIVS(0): %s\n", r ? strerror(errno) : "ok");
    /* execve races: a sibling thread keeps calling forbidden syscalls while the main thread execs; the new
     * image must still be filtered (the filter is per task and survives exec) */
    if (argc > 8 && !strcmp(argv[8], "after-exec")) {
        char mode[16] = "";
        status_field("self", "Seccomp", mode, sizeof mode);
        long b = rs(SYS_keyctl, 0, -3, 0, 0, 0, 0);
        report(strcmp(mode, "2") != 0 || (b != -EPERM && b != -ENOSYS), "after exec: Seccomp %s keyctl %s", mode, en(b));
        linger();
        return 0;
    }
    go = 0;
    pthread_create(&t[4], NULL, worker, (void *)4);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], NONCE, SCRATCH, CANARY, "0", "0", "0", "0", "after-exec", (char *)0);
    printf("exec failed: %s\n", strerror(errno));
    linger();
    return 0;
}
