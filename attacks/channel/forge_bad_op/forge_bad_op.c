/* chan.forge.bad_op: Forged operation codes on the message channel.
 * Frames whose op byte is none of log (1), kv_get (2), kv_put (3) - 0, 4, 5, 0x7f, 0x80, 0xff - each
 * with a valid id and a body shaped like a real request. A server that dispatches on an unchecked
 * op code indexes past its handler table or runs the wrong handler on the wrong fields. Contained:
 * each frame is answered E_UNKNOWN_OP (-6) with its own id, counted as an error on the host, and
 * the stream stays in step (a valid log right after is answered 0).
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    static const uint8_t ops[] = {0, 4, 5, 0x7f, 0x80, 0xff};
    int wrong = 0;
    for (unsigned i = 0; i < sizeof ops; i++) {
        uint8_t body[16];
        body[0] = ops[i];
        put32(body + 1, 100 + i);
        put32(body + 5, 7);
        memset(body + 9, 'A', 7);
        if (send_raw_frame(sizeof body, body, sizeof body)) break;
        if (expect_status("forged op", 100 + i, E_UNKNOWN_OP)) wrong++;
    }
    req_log(1, "after forged ops", 16);
    if (expect_status("log after forged ops", 1, 0)) wrong++;
    report(wrong > 0, "forged op codes: %d answers were not E_UNKNOWN_OP", wrong);
    return 0;
}
