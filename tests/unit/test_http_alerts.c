/*
 * test_http_alerts.c — orchestrator/http_alerts.c: checking Alertmanager's
 * webhook payload (version 4) before anything acts on it. A valid payload
 * yields one entry per alert with its status, alertname, severity,
 * identity and annotations; each malformed one is refused with the place
 * named, as the 400 reply says it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "orchestrator/http.h"
#include "tests/unit/unit_util.h"

static json_t *parse(const char *body, char *why)
{
    return http_alerts_parse(body, strlen(body), why, 256);
}

static void alertmanager_payload_yields_each_alert(void **state)
{
    static const char body[] =
        "{\"version\":\"4\",\"groupKey\":\"{}:{}\",\"status\":\"firing\","
        "\"receiver\":\"cutover\",\"alerts\":["
        "{\"status\":\"firing\",\"labels\":{\"alertname\":\"CutoverCheckFailing\","
        "\"severity\":\"critical\",\"check\":\"api\"},\"annotations\":"
        "{\"summary\":\"api fails\"},\"startsAt\":\"2026-01-01T00:00:00Z\","
        "\"fingerprint\":\"a1b2\"},"
        "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"Lag\"}}]}";
    char why[256] = "";
    json_t *a = parse(body, why), *first, *second;

    (void)state;
    assert_non_null(a);
    assert_int_equal(json_array_size(a), 2);
    first = json_array_get(a, 0);
    second = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(first, "status")),
                        "firing");
    assert_string_equal(json_string_value(json_object_get(first, "name")),
                        "CutoverCheckFailing");
    assert_string_equal(json_string_value(json_object_get(first, "severity")),
                        "critical");
    assert_string_equal(json_string_value(json_object_get(first, "key")),
                        "a1b2");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(first, "annotations"), "summary")),
                        "api fails");
    /* no fingerprint, no severity: the labels identify it, severity "" */
    assert_string_equal(json_string_value(json_object_get(second, "status")),
                        "resolved");
    assert_string_equal(json_string_value(json_object_get(second, "severity")),
                        "");
    assert_string_equal(json_string_value(json_object_get(second, "key")),
                        "{\"alertname\":\"Lag\"}");
    json_decref(a);
}

struct bad_case {
    const char *what;
    const char *body;
    const char *why;           /* expected start of the reason */
};

static const struct bad_case bad_cases[] = {
    {"not JSON", "garbage{", "not JSON: "},
    {"empty body", "", "not JSON: "},
    {"not an object", "[1]", "version: expected \"4\""},
    {"no version", "{\"alerts\":[]}", "version: expected \"4\""},
    {"version 3", "{\"version\":\"3\",\"alerts\":[]}", "version: expected \"4\""},
    {"version as a number", "{\"version\":4,\"alerts\":[]}",
     "version: expected \"4\""},
    {"alerts missing", "{\"version\":\"4\"}", "alerts: expected an array"},
    {"an alert that is not an object", "{\"version\":\"4\",\"alerts\":[1]}",
     "alerts[0]: expected an object"},
    {"unknown status",
     "{\"version\":\"4\",\"alerts\":[{\"status\":\"pending\",\"labels\":"
     "{\"alertname\":\"X\"}}]}",
     "alerts[0].status: expected \"firing\" or \"resolved\""},
    {"labels missing",
     "{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\"}]}",
     "alerts[0].labels: expected an object"},
    {"alertname missing (second alert)",
     "{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":"
     "{\"alertname\":\"X\"}},{\"status\":\"firing\",\"labels\":{}}]}",
     "alerts[1].labels.alertname: expected 1 to 255 bytes"},
    {"a label that is not a string",
     "{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":"
     "{\"alertname\":\"X\",\"n\":1}}]}",
     "alerts[0].labels.n: expected a string"},
    {"annotations that are not an object",
     "{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":"
     "{\"alertname\":\"X\"},\"annotations\":[]}]}",
     "alerts[0].annotations: expected an object"},
    {"duplicate keys",
     "{\"version\":\"4\",\"version\":\"4\",\"alerts\":[]}", "not JSON: "},
};

static void run_bad_case(void **state)
{
    const struct bad_case *c = *state;
    char why[256] = "";

    assert_null(parse(c->body, why));
    assert_prefix(why, c->why);
}

int main(void)
{
    enum { NBAD = sizeof bad_cases / sizeof bad_cases[0] };
    struct CMUnitTest tests[1 + NBAD];
    char names[NBAD][128];

    tests[0] = (struct CMUnitTest)cmocka_unit_test(
        alertmanager_payload_yields_each_alert);
    for (size_t i = 0; i < NBAD; i++) {
        snprintf(names[i], sizeof names[i], "refused: %s", bad_cases[i].what);
        tests[1 + i] = (struct CMUnitTest){names[i], run_bad_case, NULL, NULL,
                                           (void *)&bad_cases[i]};
    }
    return _cmocka_run_group_tests("http_alerts", tests, 1 + NBAD, NULL, NULL);
}
