/* S20: capset to a full set, PR_CAP_AMBIENT_RAISE of every cap, PR_CAPBSET_READ/DROP, securebits and KEEPCAPS tricks, then the process's capability lines as the host will sample them. */
#include "../syscall_prelude.h"
}
#include <sys/prctl.h>
#include <linux/capability.h>

static void caps(const char *when)
{
    const char *k[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"};
    printf("[%s]", when);
    for (int i = 0; i < 7; i++) {
        char v[64] = "";
        status_field("self", k[i], v, sizeof v);
        printf(" %s=%s", k[i], v);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    args(argc, argv);
    caps("start");
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0xff, sizeof d);
    long r = rs(SYS_capset, (long)&h, (long)d, 0, 0, 0, 0);
    report(r == 0, "capset(all) %s", en(r));
    memset(d, 0, sizeof d);
    r = rs(SYS_capget, (long)&h, (long)d, 0, 0, 0, 0);
    int got = d[0].effective | d[1].effective | d[0].permitted | d[1].permitted;
    report(got != 0, "capget after: eff %08x%08x prm %08x%08x inh %08x%08x", d[1].effective, d[0].effective,
           d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
    /* inheritable to full, then ambient raise (needs each cap in permitted and inheritable) */
    d[0].inheritable = d[1].inheritable = 0xffffffff;
    rs(SYS_capset, (long)&h, (long)d, 0, 0, 0, 0);
    int amb = 0, bnd = 0, bnd_drop_ok = 0;
    for (int c = 0; c <= 63; c++) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) == 0) amb++;
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) bnd++;
    }
    report(amb > 0, "PR_CAP_AMBIENT_RAISE succeeded for %d caps", amb);
    report(bnd > 0, "PR_CAPBSET_READ: %d caps left in the bounding set", bnd);
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) == 0) bnd_drop_ok = 1;
    printf("PR_CAPBSET_DROP(CAP_SYS_ADMIN) = %s (dropping is harmless)\n", bnd_drop_ok ? "ok" : strerror(errno));
    int sb = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    printf("securebits = 0x%x\n", sb);
    r = prctl(PR_SET_SECUREBITS, 0, 0, 0, 0);
    report(r == 0 && sb != 0, "PR_SET_SECUREBITS(0) (unlock root-gets-caps-on-exec) %s", r ? strerror(errno) : "ok");
    r = prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    printf("PR_SET_KEEPCAPS(1) = %s\n", r ? strerror(errno) : "ok");
    r = prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0);
    printf("PR_SET_NO_NEW_PRIVS(0) = %s (can never be cleared)\n", r ? strerror(errno) : "ok");
    /* exec ourselves again: uid 0 in a user namespace regains full caps on exec unless securebits say no */
    if (argc > 8 && !strcmp(argv[8], "again")) {
        caps("after re-exec");
        char e[64] = "";
        status_field("self", "CapEff", e, sizeof e);
        report(strspn(e, "0") != strlen(e), "capabilities after execve as uid 0: CapEff %s", e);
        linger();
        return 0;
    }
    caps("end");
    char nnp[16] = "";
    status_field("self", "NoNewPrivs", nnp, sizeof nnp);
    report(strcmp(nnp, "1") != 0, "NoNewPrivs is %s (must be 1: exec could otherwise gain privileges)", nnp);
    char e[64] = "";
    status_field("self", "CapEff", e, sizeof e);
    report(strspn(e, "0") != strlen(e), "capabilities held: CapEff %s", e);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], NONCE, SCRATCH, CANARY, "0", "0", "0", "0", "again", (char *)0);
    printf("re-exec failed: %s\n", strerror(errno));
    linger();
    return 0;
}
