/* S24: set the host clock: settimeofday/clock_settime to the current time (defanged: no real jump), adjtimex/clock_adjtime writing the current tick, timezone, and a time namespace with its offsets file. */
#include "../syscall_prelude.h"
}
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

int main(int argc, char **argv)
{
    args(argc, argv);
    struct timeval tv;
    struct timezone tz;
    gettimeofday(&tv, &tz);
    long r = rs(SYS_settimeofday, (long)&tv, 0, 0, 0, 0, 0);
    report(r == 0, "settimeofday(now) %s", en(r));
    r = rs(SYS_settimeofday, 0, (long)&tz, 0, 0, 0, 0);
    report(r == 0, "settimeofday(timezone only, current value) %s", en(r));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r = rs(SYS_clock_settime, CLOCK_REALTIME, (long)&ts, 0, 0, 0, 0);
    report(r == 0, "clock_settime(CLOCK_REALTIME, now) %s", en(r));
    clock_gettime(CLOCK_TAI, &ts);
    r = rs(SYS_clock_settime, CLOCK_TAI, (long)&ts, 0, 0, 0, 0);
    report(r == 0 || (r != -EPERM && r != -EINVAL), "clock_settime(CLOCK_TAI) %s", en(r));
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    r = rs(SYS_adjtimex, (long)&tx, 0, 0, 0, 0, 0);   /* modes = 0 is a read */
    printf("adjtimex(read) = %s tick=%ld freq=%ld\n", en(r), tx.tick, tx.freq);
    report(r >= 0, "adjtimex(read-only query) reached the kernel %s", en(r));
    long tick = r >= 0 ? tx.tick : 10000;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_TICK;
    tx.tick = tick;   /* the same tick: no change even if it were accepted */
    r = rs(SYS_adjtimex, (long)&tx, 0, 0, 0, 0, 0);
    report(r >= 0, "adjtimex(ADJ_TICK same value) %s", en(r));
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_OFFSET | ADJ_OFFSET_SINGLESHOT;
    tx.offset = 0;
    r = rs(SYS_clock_adjtime, CLOCK_REALTIME, (long)&tx, 0, 0, 0, 0);
    report(r >= 0, "clock_adjtime(singleshot offset 0) %s", en(r));
    /* time namespace: per-namespace offsets of CLOCK_MONOTONIC/BOOTTIME */
    r = rs(SYS_unshare, 0x80 /*CLONE_NEWTIME*/, 0, 0, 0, 0, 0);
    report(r == 0, "unshare(CLONE_NEWTIME) %s", en(r));
    int fd = open("/proc/self/timens_offsets", O_WRONLY);
    if (fd >= 0) {
        ssize_t w = write(fd, "monotonic 1 0", 13);
        report(w > 0, "write /proc/self/timens_offsets %s", w > 0 ? "ok" : strerror(errno));
        close(fd);
    } else printf("open timens_offsets: %s\n", strerror(errno));
    /* RTC device */
    fd = open("/dev/rtc0", O_RDONLY);
    printf("/dev/rtc0: %s\n", fd >= 0 ? "opened" : strerror(errno));
    if (fd >= 0) close(fd);
    linger();
    return 0;
}
