/* chan.flood.no_read: Sending requests and never reading the responses.
 * Stores one 64 KiB value, then sends up to 5000 kv_get requests for it (12 bytes each, 64 KiB per
 * answer) without ever reading a response. A server that queues every response grows by 64 KiB per
 * 12-byte request (320 MiB here); one that blocks writing to a plugin that never reads wedges the
 * supervisor. Contained: the server holds at most its send buffer (256 KiB) of unread responses
 * beyond the kernel's, then cuts the plugin off (send_buffer_full, a cap on the host); the plugin's
 * next send fails with EPIPE; the supervisor's memory stays within its bound.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    static uint8_t val[MAX_VALUE];
    memset(val, 'V', sizeof val);
    req_put(1, "big", 3, val, MAX_VALUE);
    if (expect_status("put", 1, 0)) return 0;
    int sent = 0, err = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        err = req_get(i + 2, "big", 3, MAX_VALUE);
        if (err) break;
        sent++;
    }
    printf("kv_get requests sent before the channel stopped taking them: %d (error %d)\n", sent, err);
    report(err == 0, "unread responses: the server took all %d requests", sent);
    return 0;
}
