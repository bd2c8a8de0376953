/* chan.forge.huge_frame: A frame claiming 4 GiB.
 * A length prefix of 0xffffffff (4 GiB - 1, or -1 read as signed) followed by 1 MiB of junk. A server
 * that allocates the claimed length up front, or buffers until the frame is complete, lets one
 * plugin take the supervisor's memory; one that reads it as a signed length may wrap. Contained:
 * the prefix is over the cap (65 803 bytes), so the server answers id 0 E_TOO_LARGE at once,
 * without buffering the payload, and closes its end (oversized_frame); the supervisor's resident
 * memory stays within its bound.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    uint8_t h[4];
    put32(h, 0xffffffffu);
    if (send_all(h, 4)) return 0;
    static uint8_t junk[64 << 10];
    memset(junk, 0x41, sizeof junk);
    int sent = 0, err = 0;
    for (int i = 0; i < 16; i++) { /* at most 1 MiB */
        err = send_all_t(junk, sizeof junk, 500);
        if (err) break;
        sent++;
    }
    printf("junk chunks sent before the server stopped reading: %d (last error %d)\n", sent, err);
    struct resp r;
    int k = read_resp(&r, 2000);
    int ok = k == 1 && r.id == 0 && r.status == E_TOO_LARGE;
    if (!ok) printf("response: k=%d id=%u status=%d\n", k, k == 1 ? r.id : 0, k == 1 ? r.status : 0);
    /* Then the end of the stream: EOF, or a reset (the server closed with the junk unread). */
    k = read_resp(&r, 2000);
    report(!ok || k == 1, "4 GiB frame: answered E_TOO_LARGE and closed");
    return 0;
}
