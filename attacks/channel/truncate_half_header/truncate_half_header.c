/* chan.truncate.half_header: Half a length prefix, then the end of the stream.
 * Two bytes of a length prefix, then shutdown(SHUT_WR): the server sees the end of the stream inside a
 * frame header. A server that waits for the rest hangs until the run's end; one that reads the
 * missing bytes as zeros answers garbage. Contained: the server answers id 0 E_MALFORMED to the
 * half-open plugin (which still reads) and closes (eof, one error on the host).
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    uint8_t h[2] = {9, 0};
    if (send_all(h, 2)) return 0;
    shutdown(CHAN, SHUT_WR);
    struct resp r;
    int k = read_resp(&r, 2500);
    int ok = k == 1 && r.id == 0 && r.status == E_MALFORMED;
    if (!ok) printf("response: k=%d\n", k);
    k = read_resp(&r, 2500);
    report(!ok || k != 0, "half a header: answered E_MALFORMED, then closed");
    return 0;
}
