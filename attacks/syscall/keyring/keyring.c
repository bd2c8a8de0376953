/* S10: keyctl/add_key/request_key: find and read the session, user and process keyrings, join another session keyring, brute-force key ids, read /proc/keys. */
#include "../syscall_prelude.h"
}
#include <linux/keyctl.h>

static void show_key(long id, const char *label)
{
    char desc[256] = {0}, data[512] = {0};
    long d = rs(SYS_keyctl, KEYCTL_DESCRIBE, id, (long)desc, sizeof desc - 1, 0, 0);
    long r = rs(SYS_keyctl, KEYCTL_READ, id, (long)data, sizeof data - 1, 0, 0);
    printf("[%s] key %ld describe=%s '%s' read=%s '%.*s'\n", label, id, en(d), d > 0 ? desc : "", en(r),
           r > 0 ? (int)(r < (long)sizeof data ? r : (long)sizeof data - 1) : 0, data);
}

int main(int argc, char **argv)
{
    args(argc, argv);
    const struct { const char *n; long id; } R[] = {
        {"thread", KEY_SPEC_THREAD_KEYRING}, {"process", KEY_SPEC_PROCESS_KEYRING},
        {"session", KEY_SPEC_SESSION_KEYRING}, {"user", KEY_SPEC_USER_KEYRING},
        {"user-session", KEY_SPEC_USER_SESSION_KEYRING},
    };
    for (size_t i = 0; i < sizeof R / sizeof *R; i++) {
        long id = rs(SYS_keyctl, KEYCTL_GET_KEYRING_ID, R[i].id, 0, 0, 0, 0);
        report(id >= 0, "keyctl-get-keyring-id-%s %s", R[i].n, en(id));
        if (id >= 0) {
            show_key(id, R[i].n);
            /* list members and read each (an inherited session keyring would hold the supervisor's keys) */
            long ids[64];
            long n = rs(SYS_keyctl, KEYCTL_READ, id, (long)ids, sizeof ids, 0, 0);
            for (long k = 0; n > 0 && k < n / 4 && k < 64; k++) show_key(((int *)ids)[k], "member");
        }
    }
    long k = rs(SYS_add_key, (long)"user", (long)"gauntlet", (long)NONCE, strlen(NONCE), KEY_SPEC_PROCESS_KEYRING, 0);
    report(k >= 0, "add_key-user %s", en(k));
    k = rs(SYS_request_key, (long)"user", (long)"gauntlet-secret", 0, KEY_SPEC_SESSION_KEYRING, 0, 0);
    report(k >= 0, "request_key-user %s", en(k));
    k = rs(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (long)"_ses", 0, 0, 0, 0);
    report(k >= 0, "keyctl-join-session-keyring _ses %s", en(k));
    k = rs(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0, 0);
    report(k >= 0, "keyctl-join-anonymous-session %s", en(k));
    /* botb-style brute force of key serial numbers (bounded) */
    int found = 0;
    for (long id = 1; id < 20000 && found < 16; id++) {
        char desc[128];
        long d = rs(SYS_keyctl, KEYCTL_DESCRIBE, id, (long)desc, sizeof desc, 0, 0);
        if (d > 0) { found++; show_key(id, "bruteforce"); }
        if (id == 1 && d == -EPERM) { printf("keyctl itself refused, stop brute force early\n"); break; }
    }
    for (long id = 0x10000000; id < 0x10000000 + 5000 && found < 16; id++) {
        char desc[128];
        long d = rs(SYS_keyctl, KEYCTL_DESCRIBE, id, (long)desc, sizeof desc, 0, 0);
        if (d > 0) { found++; show_key(id, "bruteforce-high"); }
        if (d == -EPERM) break;
    }
    report(found > 0, "keyctl-bruteforce-describe found %d keys", found);
    try_read_path("/proc/keys");
    try_read_path("/proc/key-users");
    linger();
    return 0;
}
