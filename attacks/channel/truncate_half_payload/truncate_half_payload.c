/* chan.truncate.half_payload: Half a payload, then close.
 * A log frame whose prefix claims 100 bytes, of which 50 arrive (op, id 42, msg_len and part of the
 * message), then close(3) and exit. A server that waits for the rest of the frame, or hands a short
 * buffer to the handler, either hangs or reads stale bytes. Contained: at the end of the stream the
 * server answers the truncated frame E_MALFORMED with its id and counts one error on the host
 * (eof); nothing is logged.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    uint8_t b[54];
    put32(b, 100);
    b[4] = OP_LOG;
    put32(b + 5, 42);
    put32(b + 9, 91);
    memset(b + 13, 'P', sizeof b - 13);
    send_all(b, sizeof b);
    close(CHAN);
    return 0;
}
