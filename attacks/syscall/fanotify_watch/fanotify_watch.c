/* S27: fanotify_init in every class (notification, content, pre-content permission) and unprivileged FID mode, then marks on the mount, the filesystem and the canary's directory to watch (or gate) host file access. */
#include "../syscall_prelude.h"
}
#include <sys/fanotify.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    const struct { const char *n; unsigned f; } C[] = {
        {"CLASS_NOTIF", FAN_CLASS_NOTIF},
        {"CLASS_CONTENT (permission events)", FAN_CLASS_CONTENT},
        {"CLASS_PRE_CONTENT", FAN_CLASS_PRE_CONTENT},
        {"REPORT_FID (unprivileged mode)", FAN_CLASS_NOTIF | FAN_REPORT_FID},
        {"REPORT_DFID_NAME", FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME},
        {"UNLIMITED_QUEUE", FAN_CLASS_NOTIF | FAN_UNLIMITED_QUEUE},
    };
    char canary_dir[512];
    snprintf(canary_dir, sizeof canary_dir, "%s", CANARY);
    char *slash = strrchr(canary_dir, '/');
    if (slash && slash != canary_dir) *slash = 0;
    for (size_t i = 0; i < sizeof C / sizeof *C; i++) {
        long fd = rs(SYS_fanotify_init, C[i].f | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY, 0, 0, 0, 0);
        report(fd >= 0, "fanotify_init(%s) %s", C[i].n, en(fd));
        if (fd < 0) continue;
        const struct { const char *n; unsigned f; const char *p; } M[] = {
            {"mount /", FAN_MARK_MOUNT, "/"}, {"filesystem /", FAN_MARK_FILESYSTEM, "/"},
            {"canary dir", 0, canary_dir}, {"scratch", 0, SCRATCH},
        };
        for (size_t j = 0; j < sizeof M / sizeof *M; j++) {
            long r = rs(SYS_fanotify_mark, fd, FAN_MARK_ADD | M[j].f, FAN_OPEN | FAN_ACCESS | FAN_EVENT_ON_CHILD, AT_FDCWD, (long)M[j].p, 0);
            report(r == 0 && j < 3, "fanotify_mark(%s) %s", M[j].n, en(r));
        }
        close((int)fd);
    }
    linger();
    return 0;
}
