/*
 * fuzz_protocol.c — orchestrator/protocol.c: protocol_parse() on one line
 * from the progress socket, which any local user who can reach the socket
 * controls. Inputs go past PROTOCOL_MAX_LINE (run.sh: -max_len=70000) so
 * the length guard is exercised too.
 *
 * Beyond "no crash, no leak": a request that parses has a known kind and
 * NUL-terminated fields, and an error always leaves a message.
 */
#include <stdlib.h>
#include <string.h>

#include "orchestrator/protocol.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_common();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct request req;
    char error[256];

    error[0] = '\0';
    if (protocol_parse((const char *)data, size, &req, error,
                       sizeof error) == 0) {
        if (req.kind > REQ_ALERT ||
            memchr(req.name, '\0', sizeof req.name) == NULL ||
            memchr(req.severity, '\0', sizeof req.severity) == NULL ||
            (req.kind == REQ_ALERT && req.name[0] == '\0') ||
            !(req.rows_per_s >= 0))
            abort();
        (void)protocol_is_control(&req);
    } else if (error[0] == '\0') {
        abort();                       /* a rejection must say why */
    }
    return 0;
}
