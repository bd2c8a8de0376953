/* S17: pivot_root(2) in every arrangement (".","." in scratch, new root with an old-root dir, back to "/"), then a read of the canary through the old root. */
#include "../syscall_prelude.h"
}
int main(int argc, char **argv)
{
    args(argc, argv);
    char nr[600], old[700], p[1800];
    snprintf(nr, sizeof nr, "%s/pivot-%s", SCRATCH, NONCE);
    snprintf(old, sizeof old, "%s/old", nr);
    mkdir(nr, 0755);
    mkdir(old, 0755);
    const struct { const char *n; const char *a, *b; int cd; } V[] = {
        {"dot-dot-in-scratch", ".", ".", 1},
        {"scratch-with-old", nr, old, 0},
        {"root-to-root", "/", "/", 0},
        {"tmp-with-old", "/tmp", "/tmp", 0},
        {"proc", "/proc", "/proc", 0},
    };
    for (size_t i = 0; i < sizeof V / sizeof *V; i++) {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            alarm(2);
            if (V[i].cd && chdir(nr)) _exit(3);
            long r = rs(SYS_pivot_root, (long)V[i].a, (long)V[i].b, 0, 0, 0, 0);
            printf("pivot_root(%s, %s) = %s\n", V[i].a, V[i].b, en(r));
            if (r != 0) _exit(0);
            /* the old root now hangs under the put_old directory: look for the canary there */
            snprintf(p, sizeof p, "/old%s", CANARY);
            try_read_path(p);
            snprintf(p, sizeof p, "%s%s", V[i].b, CANARY);
            try_read_path(p);
            _exit(1);
        }
        int st = 0;
        waitpid(c, &st, 0);
        report(WIFEXITED(st) && WEXITSTATUS(st) == 1, "pivot_root-%s (%s)", V[i].n, wstr(st));
    }
    linger();
    return 0;
}
