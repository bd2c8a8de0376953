/* chan.truncate.slow_drip: A frame dripped byte by byte, never finished.
 * Starts a log frame and sends one byte every 20 ms for 1 s (50 bytes of a 200-byte frame), then sits
 * on the open channel until the wall limit kills it. A server that blocks on a read of the whole
 * frame is held by the plugin for as long as it likes. Contained: the server only polls (with the
 * run's deadline), the run ends at the wall limit with a valid Outcome, and when it is over the
 * server answers the torn frame E_MALFORMED and closes (one error on the host, eof).
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    uint8_t b[50];
    put32(b, 200);
    b[4] = OP_LOG;
    put32(b + 5, 7);
    put32(b + 9, 191);
    memset(b + 13, 'D', sizeof b - 13);
    for (unsigned i = 0; i < sizeof b; i++) {
        if (send_all(b + i, 1)) break;
        usleep(20000);
    }
    /* Bounded: the wall limit (3 s) ends this; 10 s is the backstop. */
    struct pollfd pf = { CHAN, POLLIN, 0 };
    poll(&pf, 1, 10000);
    return 0;
}
