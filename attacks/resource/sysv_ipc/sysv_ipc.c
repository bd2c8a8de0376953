/* R16 SysV and POSIX IPC exhaustion: SysV shared-memory segments outlive every process that attached them
 * (until IPC_RMID or the IPC namespace dies), so they are memory owned by nobody. Creates 16 MiB segments,
 * touches and detaches them, fills SysV semaphore sets and message queues, and POSIX message queues.
 * First lists what IPC objects are already visible (a shared host IPC namespace shows the host's).
 * Defanged: at most 1 GiB of segments; everything it made is removed if it survives. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define MiB (1L << 20)

static int count_lines(const char *p) {
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) if (c == '\n') n++;
    fclose(f);
    return n - 1; /* header */
}

int main(int argc, char **argv) {
    const char *nonce = argc > 1 ? argv[1] : "none";
    int pre_shm = count_lines("/proc/sysvipc/shm"), pre_sem = count_lines("/proc/sysvipc/sem"), pre_msg = count_lines("/proc/sysvipc/msg");
    printf("sysv_ipc: objects visible before I made any: shm %d sem %d msg %d\n", pre_shm, pre_sem, pre_msg);
    printf("GAUNTLET-REPORT %s %s see foreign SysV IPC objects\n", nonce, (pre_shm > 0 || pre_sem > 0 || pre_msg > 0) ? "escaped" : "denied");
    fflush(stdout);
    int sems = 0, msgs = 0, mqs = 0;
    int semids[64], msgids[64];
    for (int i = 0; i < 64; i++) { int id = semget(IPC_PRIVATE, 250, IPC_CREAT | 0600); if (id < 0) break; semids[sems++] = id; }
    char m[8192 + sizeof(long)];
    memset(m, 'q', sizeof m);
    *(long *)m = 1;
    for (int i = 0; i < 64; i++) {
        int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (id < 0) break;
        msgids[msgs++] = id;
        for (int k = 0; k < 64; k++) if (msgsnd(id, m, 8192, IPC_NOWAIT) != 0) break;
    }
    for (int i = 0; i < 64; i++) {
        char name[64];
        snprintf(name, sizeof name, "/gauntlet-%s-%d", nonce, i);
        struct mq_attr a = {0, 10, 8192, 0};
        mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &a);
        if (q == (mqd_t)-1) { if (i == 0) printf("sysv_ipc: mq_open: %s\n", strerror(errno)); break; }
        for (int k = 0; k < 10; k++) if (mq_send(q, m, 8192, 0) != 0) break;
        mqs++;
    }
    printf("sysv_ipc: %d semaphore sets, %d message queues (filled), %d POSIX mqueues\n", sems, msgs, mqs);
    fflush(stdout);
    int shms = 0, shmids[64];
    long total = 0;
    for (int i = 0; i < 64 && total < 1024 * MiB; i++) {
        int id = shmget(IPC_PRIVATE, 16 * MiB, IPC_CREAT | 0600);
        if (id < 0) { printf("sysv_ipc: shmget: %s\n", strerror(errno)); break; }
        shmids[shms++] = id;
        char *p = shmat(id, NULL, 0);
        if (p == (void *)-1) break;
        for (long k = 0; k < 16 * MiB; k += 4096) p[k] = 1;
        shmdt(p); /* detached: the segment is now held by no process */
        total += 16 * MiB;
    }
    printf("sysv_ipc: %ld MiB in %d detached shm segments and I was not killed\n", total / MiB, shms);
    fflush(stdout);
    for (int i = 0; i < shms; i++) shmctl(shmids[i], IPC_RMID, NULL);
    for (int i = 0; i < sems; i++) semctl(semids[i], 0, IPC_RMID);
    for (int i = 0; i < msgs; i++) msgctl(msgids[i], IPC_RMID, NULL);
    for (int i = 0; i < mqs; i++) { char name[64]; snprintf(name, sizeof name, "/gauntlet-%s-%d", nonce, i); mq_unlink(name); }
    return 0;
}
