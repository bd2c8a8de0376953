/* chan.escape.shutdown: Shutdown tricks on descriptor 3.
 * shutdown(SHUT_RD) on the plugin's end so that every response the server sends fails (EPIPE on the
 * supervisor's side), then ten log requests, then half a frame and shutdown(SHUT_WR), then writes
 * after that. A server that treats a failed send as fatal loses the plugin's requests; one that
 * treats it as retryable spins; one that waits for the rest of the frame hangs. Contained: the
 * server keeps serving what the plugin sends (its log lines are kept), drops the undeliverable
 * responses, answers the torn frame as an error (one on the host) and ends at the end of the stream
 * (eof).
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    shutdown(CHAN, SHUT_RD);
    int sent = 0;
    for (uint32_t i = 0; i < 10; i++)
        if (req_log(i + 1, "after SHUT_RD", 13) == 0) sent++;
    uint8_t half[3] = {50, 0, 0};
    send_all(half, 3);
    shutdown(CHAN, SHUT_WR);
    int late = send(CHAN, "x", 1, MSG_NOSIGNAL);
    printf("logs sent %d; a send after SHUT_WR: %s\n", sent, late < 0 ? strerror(errno) : "accepted");
    report(late >= 0, "send after SHUT_WR accepted");
    return 0;
}
