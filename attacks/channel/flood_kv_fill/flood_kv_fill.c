/* chan.flood.kv_fill: Filling the key-value store past its caps.
 * 1024 keys of 256 bytes with 64 KiB values (the largest store the host API allows, 64.3 MiB in the
 * supervisor), then 100 more new keys, an overwrite and a read-back. A store without an entry cap
 * grows the supervisor without bound. Contained: the 100 extra keys are E_FULL (100 caps on the
 * host), replacing a key still works, and the supervisor's resident memory stays within its bound
 * (base + the store's cap + the channel's buffers).
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    static uint8_t val[MAX_VALUE];
    memset(val, 'V', sizeof val);
    char key[MAX_KEY];
    memset(key, 'K', sizeof key);
    int stored = 0, full = 0, other = 0;
    for (uint32_t i = 0; i < MAX_ENTRIES + 100; i++) {
        snprintf(key, 16, "%08u", i);
        key[8] = 'K';
        if (req_put(i + 1, key, MAX_KEY, val, MAX_VALUE)) break;
        struct resp r;
        if (read_resp(&r, 2000) != 1) break;
        if (r.status == 0) stored++;
        else if (r.status == E_FULL) full++;
        else other++;
    }
    int wrong = 0;
    snprintf(key, 16, "%08u", 5);
    key[8] = 'K';
    req_put(5000, key, MAX_KEY, "short", 5);
    if (expect_status("overwrite when full", 5000, 0)) wrong++;
    req_get(5001, key, MAX_KEY, MAX_VALUE);
    if (expect_status("read back", 5001, 5)) wrong++;
    printf("stored %d, E_FULL %d, other %d\n", stored, full, other);
    report(stored > MAX_ENTRIES || wrong, "kv fill: %d keys stored past a cap of %d", stored, MAX_ENTRIES);
    return 0;
}
