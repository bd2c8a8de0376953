/* chan.truncate.mid_stream: Killed in the middle of a stream.
 * 30 requests in one burst without reading (10 logs, 10 puts, 10 gets), then the first 30 000 bytes of
 * a 64 KiB kv_put, then SIGKILL to itself mid-frame. The server must serve what arrived, notice the
 * torn frame without waiting for the rest, and end when the run ends. Contained: one error (the
 * truncated frame) on the host, the channel closes at the end of the stream (eof), and the run is
 * reported killed by signal 9 with a valid Outcome.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    for (uint32_t i = 0; i < 10; i++) {
        char key[8];
        int n = snprintf(key, sizeof key, "k%u", i);
        req_log(3 * i + 1, "burst", 5);
        req_put(3 * i + 2, key, (uint16_t)n, "v", 1);
        req_get(3 * i + 3, key, (uint16_t)n, 16);
    }
    static uint8_t b[30000];
    put32(b, 5 + 2 + 3 + 4 + MAX_VALUE);
    b[4] = OP_KV_PUT;
    put32(b + 5, 99);
    put16(b + 9, 3);
    memcpy(b + 11, "big", 3);
    put32(b + 14, MAX_VALUE);
    memset(b + 18, 'T', sizeof b - 18);
    send_all(b, sizeof b);
    kill(getpid(), SIGKILL);
    return 0;
}
