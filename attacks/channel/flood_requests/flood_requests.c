/* chan.flood.requests: Requests past the per-run cap.
 * 400 valid requests (logs, puts and gets, pipelined 50 at a time) under a policy whose
 * wasm.max_host_calls is 300 - the cap the channel shares with the wasm host API. A server without
 * a cap serves a plugin's request storm for as long as the run lasts. Contained: requests 1-300 are
 * answered, the 301st is answered E_LIMIT and the server closes its end (request_cap); the host
 * counts at most 301 requests and usage.host_calls counts them.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    int ok = 0, limit = 0, other = 0, eof = 0;
    for (uint32_t batch = 0; batch < 8 && !eof; batch++) {
        for (uint32_t i = 0; i < 50; i++) {
            uint32_t id = batch * 50 + i + 1;
            char key[16];
            int n = snprintf(key, sizeof key, "k%u", id % 64);
            int err = (id % 3 == 0) ? req_log(id, "flood", 5)
                    : (id % 3 == 1) ? req_put(id, key, (uint16_t)n, "v", 1)
                                    : req_get(id, key, (uint16_t)n, 16);
            if (err) break;
        }
        for (uint32_t i = 0; i < 50; i++) {
            struct resp r;
            int k = read_resp(&r, 2000);
            if (k != 1) { eof = 1; break; }
            if (r.status == E_LIMIT) limit++;
            else if (r.status >= 0 || r.status == E_NOT_FOUND) ok++;
            else other++;
        }
    }
    printf("answered %d, E_LIMIT %d, other %d\n", ok, limit, other);
    report(ok > 300 || limit != 1, "request cap: %d served past a cap of 300", ok);
    return 0;
}
