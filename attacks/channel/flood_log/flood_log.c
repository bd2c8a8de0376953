/* chan.flood.log: Huge log lines and a log flood.
 * A 4097-byte log line, a 64 KiB log "line" in a well-formed frame, then 4 KiB lines until the server
 * refuses and 50 more after that. Log lines land in the supervisor's memory and on the run's
 * stderr; uncapped, one plugin fills the host's logs or the supervisor's heap. Contained: lines
 * over 4 KiB are E_TOO_LARGE, lines past the run's output budget (limits.output, 64K in the suite)
 * are E_LIMIT and dropped, the Outcome's output stays within the limit and limits_hit names output.
 * Defanged: bounded loops and timeouts; nothing but descriptor 3 leads out of the sandbox; ends within the wall limit. */
#include "../chan.h"

int main(int argc, char **argv)
{
    args(argc, argv);
    if (!have_channel()) return 0;
    static char line[MAX_VALUE];
    memset(line, 'L', sizeof line);
    int wrong = 0;
    req_log(1, line, MAX_LOG_LINE + 1);
    if (expect_status("4097-byte line", 1, E_TOO_LARGE)) wrong++;
    req_log(2, line, MAX_VALUE);
    if (expect_status("64 KiB line", 2, E_TOO_LARGE)) wrong++;
    int kept = 0, refused = 0;
    for (uint32_t id = 3; id < 203 && refused < 50; id++) {
        if (req_log(id, line, MAX_LOG_LINE)) break;
        struct resp r;
        if (read_resp(&r, 2000) != 1) break;
        if (r.status == 0) kept++;
        else if (r.status == E_LIMIT) refused++;
        else wrong++;
    }
    printf("4 KiB lines kept %d, refused %d\n", kept, refused);
    report(wrong > 0 || refused < 50 || kept > 16, "log flood: %d lines kept past a 64K budget", kept);
    return 0;
}
