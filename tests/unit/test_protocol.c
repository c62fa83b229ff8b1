/*
 * test_protocol.c — orchestrator/protocol.c: parsing the progress socket's
 * client commands (DESIGN §7), and which of them need the owner's uid.
 *
 * Valid lines and malformed lines are two tables, each row its own cmocka
 * test; every malformed line must be refused with the exact reason sent
 * back in the error reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "orchestrator/protocol.h"
#include "tests/unit/unit_util.h"

struct ok_case {
    const char *what;
    const char *line;
    enum request_kind kind;
    double rows_per_s;
    const char *name;
    const char *severity;
    int control;
};

static const struct ok_case ok_cases[] = {
    {"status", "{\"cmd\":\"status\"}", REQ_STATUS, 0, "", "", 0},
    {"pause", "{\"cmd\":\"pause\"}", REQ_PAUSE, 0, "", "", 1},
    {"resume", "{\"cmd\":\"resume\"}", REQ_RESUME, 0, "", "", 1},
    {"cutover", "{\"cmd\":\"cutover\"}", REQ_CUTOVER, 0, "", "", 1},
    {"abort", "{\"cmd\":\"abort\"}", REQ_ABORT, 0, "", "", 1},
    {"rollback", "{\"cmd\":\"rollback\"}", REQ_ROLLBACK, 0, "", "", 1},
    {"throttle 500 rows/s", "{\"cmd\":\"throttle\",\"rows_per_s\":500}",
     REQ_THROTTLE, 500, "", "", 1},
    {"throttle 0 (unlimited)", "{\"cmd\":\"throttle\",\"rows_per_s\":0}",
     REQ_THROTTLE, 0, "", "", 1},
    {"throttle with a fractional rate, keys in any order",
     "{\"rows_per_s\":2.5,\"cmd\":\"throttle\"}", REQ_THROTTLE, 2.5, "", "",
     1},
    {"alert without severity", "{\"cmd\":\"alert\",\"name\":\"pager\"}",
     REQ_ALERT, 0, "pager", "", 1},
    {"alert with severity",
     "{\"cmd\":\"alert\",\"name\":\"pager\",\"severity\":\"critical\"}",
     REQ_ALERT, 0, "pager", "critical", 1},
    {"status surrounded by spaces", "  {\"cmd\":\"status\"}  ", REQ_STATUS, 0,
     "", "", 0},
};

struct bad_case {
    const char *what;
    const char *line;
    const char *error;         /* exact reply text, or its prefix */
    int prefix_only;
    size_t len;                /* 0: strlen(line) */
};

static const struct bad_case bad_cases[] = {
    {"malformed JSON", "{\"cmd\":", "not JSON: ", 1},
    {"empty line", "", "not JSON: ", 1},
    {"trailing garbage", "{\"cmd\":\"pause\"} x",
     "not JSON: end of file expected near 'x'", 0},
    {"duplicate key", "{\"cmd\":\"pause\",\"cmd\":\"abort\"}",
     "not JSON: duplicate object key", 1},
    {"bare string", "\"status\"", "not JSON: '[' or '{' expected near "
                                  "'\"status\"'", 0},
    {"array instead of object", "[\"status\"]", "expected a JSON object", 0},
    {"missing cmd", "{}", "missing \"cmd\" (one of status, pause, resume, "
                          "cutover, abort, rollback, throttle, alert)", 0},
    {"cmd that is not a string", "{\"cmd\":5}", "missing \"cmd\" (one of "
     "status, pause, resume, cutover, abort, rollback, throttle, alert)", 0},
    {"unknown cmd", "{\"cmd\":\"explode\"}", "unknown command \"explode\"",
     0},
    {"cmd in the wrong case", "{\"cmd\":\"PAUSE\"}",
     "unknown command \"PAUSE\"", 0},
    {"throttle without rows_per_s", "{\"cmd\":\"throttle\"}",
     "throttle needs \"rows_per_s\": a number >= 0 (0 = unlimited)", 0},
    {"throttle with negative rows_per_s",
     "{\"cmd\":\"throttle\",\"rows_per_s\":-1}",
     "throttle needs \"rows_per_s\": a number >= 0 (0 = unlimited)", 0},
    {"throttle with rows_per_s as a string",
     "{\"cmd\":\"throttle\",\"rows_per_s\":\"5\"}",
     "throttle needs \"rows_per_s\": a number >= 0 (0 = unlimited)", 0},
    {"alert without name", "{\"cmd\":\"alert\"}",
     "alert needs \"name\": a string of 1 to 95 bytes", 0},
    {"alert with empty name", "{\"cmd\":\"alert\",\"name\":\"\"}",
     "alert needs \"name\": a string of 1 to 95 bytes", 0},
    {"alert with a non-string severity",
     "{\"cmd\":\"alert\",\"name\":\"x\",\"severity\":7}",
     "\"severity\" must be a short string", 0},
    {"unknown extra field on a plain command",
     "{\"cmd\":\"pause\",\"force\":true}", "unknown field \"force\"", 0},
    {"unknown extra field on throttle",
     "{\"cmd\":\"throttle\",\"rows_per_s\":5,\"burst\":9}",
     "unknown field \"burst\"", 0},
    {"rows_per_s on a command that takes none",
     "{\"cmd\":\"status\",\"rows_per_s\":5}", "unknown field \"rows_per_s\"",
     0},
    {"NUL byte in the line", "{\"cmd\":\"pause\"}\0junk", "not JSON: ", 1,
     sizeof "{\"cmd\":\"pause\"}\0junk" - 1},
};

static void parse_ok(const char *line, size_t len, struct request *r)
{
    char error[256] = "";

    if (protocol_parse(line, len, r, error, sizeof error) != 0)
        fail_msg("%s refused: %s", line, error);
}

static void expect_refused(const char *line, size_t len, const char *want,
                           int prefix_only)
{
    struct request r;
    char error[256] = "";

    assert_int_equal(protocol_parse(line, len, &r, error, sizeof error), -1);
    if (prefix_only)
        assert_prefix(error, want);
    else
        assert_string_equal(error, want);
}

static void run_ok_case(void **state)
{
    const struct ok_case *c = *state;
    struct request r;

    parse_ok(c->line, strlen(c->line), &r);
    assert_int_equal(r.kind, c->kind);
    assert_true(r.rows_per_s == c->rows_per_s);
    assert_string_equal(r.name, c->name);
    assert_string_equal(r.severity, c->severity);
    assert_int_equal(protocol_is_control(&r), c->control);
}

static void run_bad_case(void **state)
{
    const struct bad_case *c = *state;

    expect_refused(c->line, c->len ? c->len : strlen(c->line), c->error,
                   c->prefix_only);
}

static char *alert_with_name_of(size_t n)
{
    char *name = malloc(n + 1), *line;

    memset(name, 'n', n);
    name[n] = '\0';
    assert_true(asprintf(&line, "{\"cmd\":\"alert\",\"name\":\"%s\"}",
                         name) > 0);
    free(name);
    return line;
}

static void alert_name_of_95_bytes_is_the_longest_accepted(void **state)
{
    char *ok = alert_with_name_of(95), *too_long = alert_with_name_of(96);
    struct request r;

    (void)state;
    parse_ok(ok, strlen(ok), &r);
    assert_int_equal(strlen(r.name), 95);
    expect_refused(too_long, strlen(too_long),
                   "alert needs \"name\": a string of 1 to 95 bytes", 0);
    free(ok);
    free(too_long);
}

static void severity_of_32_bytes_is_refused(void **state)
{
    static const char line[] =
        "{\"cmd\":\"alert\",\"name\":\"x\",\"severity\":"
        "\"ssssssssssssssssssssssssssssssss\"}";
    static const char ok[] =
        "{\"cmd\":\"alert\",\"name\":\"x\",\"severity\":"
        "\"sssssssssssssssssssssssssssssss\"}";
    struct request r;

    (void)state;
    expect_refused(line, strlen(line), "\"severity\" must be a short string",
                   0);
    parse_ok(ok, strlen(ok), &r);
    assert_int_equal(strlen(r.severity), 31);
}

/* {"cmd":"status"} padded with spaces to exactly `len` bytes. */
static char *padded_status(size_t len)
{
    static const char head[] = "{\"cmd\":\"status\"";
    char *line = malloc(len + 1);

    memcpy(line, head, sizeof head - 1);
    memset(line + sizeof head - 1, ' ', len - sizeof head);
    line[len - 1] = '}';
    line[len] = '\0';
    return line;
}

static void line_longer_than_max_is_refused(void **state)
{
    char *at_max = padded_status(PROTOCOL_MAX_LINE);
    char *over = padded_status(PROTOCOL_MAX_LINE + 1);
    struct request r;

    (void)state;
    parse_ok(at_max, PROTOCOL_MAX_LINE, &r);
    assert_int_equal(r.kind, REQ_STATUS);
    expect_refused(over, PROTOCOL_MAX_LINE + 1,
                   "line longer than 65536 bytes", 0);
    free(at_max);
    free(over);
}

static void error_reply_fits_a_small_buffer(void **state)
{
    struct request r;
    char error[12];

    (void)state;
    memset(error, 'Z', sizeof error);
    assert_int_equal(protocol_parse("{}", 2, &r, error, sizeof error), -1);
    assert_string_equal(error, "missing \"cm");
}

static void only_status_is_not_a_control_command(void **state)
{
    (void)state;
    for (int k = REQ_STATUS; k <= REQ_ALERT; k++) {
        struct request r = {.kind = (enum request_kind)k};
        assert_int_equal(protocol_is_control(&r), k != REQ_STATUS);
    }
}

#define T(f) {#f, f, NULL, NULL, NULL}

/* One list of command names (CTL_COMMANDS) serves the parser, the
 * server and `cutover ctl`: each name parses to its own kind. */
static void every_command_name_parses_to_its_kind(void **state)
{
    (void)state;
    for (int k = 0; k < REQ__COUNT; k++) {
        char line[128], error[256];
        struct request r;
        const char *name = request_name((enum request_kind)k);

        assert_int_equal(request_by_name(name), k);
        snprintf(line, sizeof line, "{\"cmd\":\"%s\"%s}", name,
                 k == REQ_THROTTLE ? ",\"rows_per_s\":5"
                 : k == REQ_ALERT ? ",\"name\":\"x\"" : "");
        if (protocol_parse(line, strlen(line), &r, error, sizeof error) != 0)
            fail_msg("%s: %s", line, error);
        assert_int_equal(r.kind, k);
        assert_int_equal(protocol_is_control(&r), k != REQ_STATUS);
    }
}

static const struct CMUnitTest fixed_tests[] = {
    T(alert_name_of_95_bytes_is_the_longest_accepted),
    T(severity_of_32_bytes_is_refused),
    T(line_longer_than_max_is_refused),
    T(error_reply_fits_a_small_buffer),
    T(only_status_is_not_a_control_command),
    T(every_command_name_parses_to_its_kind),
};

int main(void)
{
    enum { NFIXED = sizeof fixed_tests / sizeof fixed_tests[0],
           NOK = sizeof ok_cases / sizeof ok_cases[0],
           NBAD = sizeof bad_cases / sizeof bad_cases[0] };
    struct CMUnitTest tests[NFIXED + NOK + NBAD];
    char names[NOK + NBAD][128];
    size_t n = 0;

    for (size_t i = 0; i < NOK; i++, n++) {
        snprintf(names[n], sizeof names[n], "parses: %s", ok_cases[i].what);
        tests[n] = (struct CMUnitTest){names[n], run_ok_case, NULL, NULL,
                                       (void *)&ok_cases[i]};
    }
    for (size_t i = 0; i < NBAD; i++, n++) {
        snprintf(names[n], sizeof names[n], "refuses: %s",
                 bad_cases[i].what);
        tests[n] = (struct CMUnitTest){names[n], run_bad_case, NULL, NULL,
                                       (void *)&bad_cases[i]};
    }
    memcpy(tests + n, fixed_tests, sizeof fixed_tests);
    return _cmocka_run_group_tests("protocol", tests, NFIXED + NOK + NBAD,
                                   NULL, NULL);
}
