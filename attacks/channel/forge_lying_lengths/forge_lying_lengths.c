/* chan.forge.lying_lengths: Lengths inside frames that lie.
 * Frames whose inner lengths disagree with the frame's own length: an empty frame, a 3-byte frame, a
 * log whose msg_len claims more, fewer, 0xffffffff ("negative") or 0x80000000 bytes than follow, a
 * kv_get whose key_len claims 65535 bytes or that has a trailing byte or no val_cap, a kv_put whose
 * val_len claims more bytes or 0xffffffff, a kv_put whose key_len runs past the frame, and a log
 * frame with no msg_len at all. A parser that trusts inner lengths reads past the frame into the
 * next one (or past its buffer) and loses step with the stream. Contained: each is answered
 * E_MALFORMED (13 errors on the host), and a valid request right after is answered normally.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

static int wrong = 0;
static uint32_t next_id = 10;

/* Sends `body` (n bytes) as one frame and expects E_MALFORMED with id `want_id`. */
static void lie(const char *what, const uint8_t *body, size_t n, uint32_t want_id)
{
    if (send_raw_frame((uint32_t)n, body, n)) { wrong++; return; }
    if (expect_status(what, want_id, E_MALFORMED)) wrong++;
}

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    uint8_t b[64];
    lie("empty frame", b, 0, 0);
    b[0] = OP_LOG; b[1] = 1; b[2] = 0;
    lie("3-byte frame", b, 3, 0);
    uint32_t lens[] = {100, 1, 0xffffffffu, 0x80000000u};
    for (unsigned i = 0; i < 4; i++) {
        uint32_t id = next_id++;
        b[0] = OP_LOG; put32(b + 1, id); put32(b + 5, lens[i]); memcpy(b + 9, "abc", 3);
        lie("log msg_len lies", b, 12, id);
    }
    uint32_t id = next_id++;
    b[0] = OP_KV_GET; put32(b + 1, id); put16(b + 5, 0xffff); b[7] = 'k'; b[8] = 'k';
    lie("kv_get key_len 65535", b, 9, id);
    id = next_id++;
    b[0] = OP_KV_GET; put32(b + 1, id); put16(b + 5, 1); b[7] = 'k'; put32(b + 8, 16); b[12] = 'X';
    lie("kv_get trailing byte", b, 13, id);
    id = next_id++;
    b[0] = OP_KV_GET; put32(b + 1, id); put16(b + 5, 1); b[7] = 'k';
    lie("kv_get without val_cap", b, 8, id);
    id = next_id++;
    b[0] = OP_KV_PUT; put32(b + 1, id); put16(b + 5, 1); b[7] = 'k'; put32(b + 8, 5); b[12] = 'v';
    lie("kv_put val_len 5, 1 byte", b, 13, id);
    id = next_id++;
    b[0] = OP_KV_PUT; put32(b + 1, id); put16(b + 5, 1); b[7] = 'k'; put32(b + 8, 0xffffffffu); b[12] = 'v';
    lie("kv_put val_len 0xffffffff", b, 13, id);
    id = next_id++;
    b[0] = OP_KV_PUT; put32(b + 1, id); put16(b + 5, 40); memset(b + 7, 'k', 10);
    lie("kv_put key past the frame", b, 17, id);
    id = next_id++;
    b[0] = OP_LOG; put32(b + 1, id);
    lie("log without msg_len", b, 5, id);
    /* Nothing of the lying puts was stored, and the stream is still in step. */
    req_get(1, "k", 1, 16);
    if (expect_status("kv_get after the lies", 1, E_NOT_FOUND)) wrong++;
    req_log(2, "in step", 7);
    if (expect_status("log after the lies", 2, 0)) wrong++;
    report(wrong > 0, "lying lengths: %d answers were not E_MALFORMED", wrong);
    return 0;
}
