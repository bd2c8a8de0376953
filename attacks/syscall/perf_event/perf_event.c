/* S09: perf_event_open for ourselves, system-wide (pid -1 on each cpu), on pid 1 and the parent: hardware, software, tracepoint, kprobe, breakpoint types. */
#include "../syscall_prelude.h"
}
#include <linux/perf_event.h>
#include <linux/hw_breakpoint.h>

static volatile long target_var;

int main(int argc, char **argv)
{
    args(argc, argv);
    try_read_path("/proc/sys/kernel/perf_event_paranoid");
    const struct { const char *n; unsigned t; unsigned long long cfg; } T[] = {
        {"hw-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
        {"hw-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
        {"sw-task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
        {"sw-cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
        {"tracepoint-0", PERF_TYPE_TRACEPOINT, 1},
        {"raw", PERF_TYPE_RAW, 0x3c},
        {"breakpoint", PERF_TYPE_BREAKPOINT, 0},
    };
    const struct { const char *n; int pid, cpu; } W[] = {
        {"self", 0, -1}, {"system-wide-cpu0", -1, 0}, {"pid1", 1, -1}, {"parent", -2, -1}, {"supervisor", -3, -1},
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++)
        for (size_t j = 0; j < sizeof W / sizeof *W; j++) {
            int pid = W[j].pid == -2 ? getppid() : W[j].pid == -3 ? SUPV_PID : W[j].pid;
            if (W[j].pid == -3 && SUPV_PID <= 0) continue;
            struct perf_event_attr pe;
            memset(&pe, 0, sizeof pe);
            pe.size = sizeof pe;
            pe.type = T[i].t;
            pe.config = T[i].cfg;
            pe.disabled = 1;
            pe.exclude_kernel = W[j].pid == 0;
            if (T[i].t == PERF_TYPE_BREAKPOINT) {
                pe.bp_type = HW_BREAKPOINT_W;
                pe.bp_addr = (unsigned long)&target_var;
                pe.bp_len = HW_BREAKPOINT_LEN_8;
            }
            long fd = rs(SYS_perf_event_open, (long)&pe, pid, W[j].cpu, -1, 0, 0);
            report(fd >= 0, "perf_event_open-%s-%s %s", T[i].n, W[j].n, en(fd));
            if (fd >= 0) close((int)fd);
        }
    /* the kprobe PMU through sysfs (type number comes from /sys/bus/event_source) */
    try_read_path("/sys/bus/event_source/devices/kprobe/type");
    linger();
    return 0;
}
