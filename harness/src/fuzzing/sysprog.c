/* sysprog: the process fuzz target's plugin, a tiny system-call interpreter.
 *
 * usage: sysprog PORT CANARY_PATH HEX
 *
 * HEX is a sequence of records of 7 x 16 hex digits: the call number, then six arguments. An argument
 * whose top 16 bits are 0xFEED is a pointer into the scratch buffer (low 16 bits: the offset); 0xFEEF
 * is the previous call's result (so `openat` then `read` works). The scratch buffer starts with the
 * canary path (offset 0), "/etc/passwd" (256), "/" (512), a sockaddr_in for 127.0.0.1:PORT (768) and
 * "/proc/self/mem" (1024). Every result is printed, then the whole scratch buffer is written to stdout,
 * so anything a call read in (a canary's token, say) shows up in the output. alarm(2) bounds calls that
 * block. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SCRATCH (64 * 1024)
static unsigned char scratch[SCRATCH + 4096];

static uint64_t hex16(const char *s) {
    char buf[17];
    memcpy(buf, s, 16);
    buf[16] = 0;
    return strtoull(buf, NULL, 16);
}

static long resolve(uint64_t v, long last) {
    uint64_t tag = v >> 48;
    if (tag == 0xFEED) return (long)(scratch + (v & 0xFFFF));
    if (tag == 0xFEEF) return last;
    return (long)v;
}

int main(int argc, char **argv) {
    if (argc < 4) return 64;
    alarm(2);
    int port = atoi(argv[1]);
    strncpy((char *)scratch, argv[2], 255);
    strcpy((char *)scratch + 256, "/etc/passwd");
    strcpy((char *)scratch + 512, "/");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memcpy(scratch + 768, &sa, sizeof sa);
    strcpy((char *)scratch + 1024, "/proc/self/mem");

    const char *hex = argv[3];
    size_t n = strlen(hex) / (7 * 16);
    long last = 0;
    for (size_t i = 0; i < n; i++) {
        const char *r = hex + i * 7 * 16;
        long nr = (long)hex16(r);
        long a[6];
        for (int k = 0; k < 6; k++) a[k] = resolve(hex16(r + 16 * (k + 1)), last);
        last = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        printf("%ld -> %ld\n", nr, last);
        fflush(stdout);
    }
    fwrite(scratch, 1, SCRATCH, stdout);
    return 0;
}
