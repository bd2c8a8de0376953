/* chan.forge.bad_ids: Reserved, repeated and extreme request ids.
 * Requests with id 0 (reserved for the server's answers to frames without a readable id) on every op,
 * the same id twice in a row, and id 0xffffffff. A server that keys pending requests by id can be
 * confused into answering the wrong request or keeping state per id. Contained: the server keeps no
 * state per id, answers the id-0 frames E_MALFORMED (counted as errors on the host) and echoes
 * every other id exactly, in request order.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    int wrong = 0;
    req_log(0, "id zero", 7);
    if (expect_status("log id 0", 0, E_MALFORMED)) wrong++;
    req_get(0, "k", 1, 16);
    if (expect_status("kv_get id 0", 0, E_MALFORMED)) wrong++;
    req_put(0, "k", 1, "v", 1);
    if (expect_status("kv_put id 0", 0, E_MALFORMED)) wrong++;
    /* The id-0 put must not have stored anything. */
    req_get(5, "k", 1, 16);
    if (expect_status("kv_get after id-0 put", 5, E_NOT_FOUND)) wrong++;
    /* Repeated ids, pipelined: answered in order, each with the same id. */
    req_put(7, "k", 1, "one", 3);
    req_get(7, "k", 1, 16);
    if (expect_status("repeated id (put)", 7, 0)) wrong++;
    if (expect_status("repeated id (get)", 7, 3)) wrong++;
    req_log(0xffffffffu, "max id", 6);
    if (expect_status("id 0xffffffff", 0xffffffffu, 0)) wrong++;
    report(wrong > 0, "request ids: %d answers carried a wrong id or status", wrong);
    return 0;
}
