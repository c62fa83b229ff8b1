/* gtid.c — a transaction's global id as text (gtid.h). */
#include "lib/gtid.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gtid_mariadb(char out[GTID_MAX], uint32_t domain, uint32_t server,
                  uint64_t seq)
{
    snprintf(out, GTID_MAX, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, domain,
             server, seq);
}

void gtid_mysql(char out[GTID_MAX], const unsigned char sid[16],
                uint64_t gno)
{
    size_t o = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        o += (size_t)snprintf(out + o, GTID_MAX - o, "%02x", sid[i]);
    }
    snprintf(out + o, GTID_MAX - o, ":%" PRIu64, gno);
}

/* Decimal digits up to `until` (or the end), at most `max`; *s moves past
 * them. */
static int number(const char **s, char until, uint64_t max)
{
    char *end;
    uint64_t v;

    if (**s < '0' || **s > '9')
        return 0;
    errno = 0;
    v = strtoull(*s, &end, 10);
    if (errno || v > max || *end != until)
        return 0;
    *s = until ? end + 1 : end;
    return 1;
}

int gtid_valid(const char *s)
{
    static const char uuid[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx:";

    if (strlen(s) >= GTID_MAX)
        return 0;
    if (strchr(s, ':')) {
        for (size_t i = 0; uuid[i]; i++, s++)
            if (uuid[i] == 'x' ? !strchr("0123456789abcdef", *s) || !*s
                               : *s != uuid[i])
                return 0;
        return number(&s, '\0', UINT64_MAX);
    }
    return number(&s, '-', UINT32_MAX) && number(&s, '-', UINT32_MAX) &&
           number(&s, '\0', UINT64_MAX);
}
