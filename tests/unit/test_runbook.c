/*
 * test_runbook.c — lib/runbook.c (+ runbook_rules.c, jsonread.c):
 * loading and validating runbooks (DESIGN §3).
 *
 * Most cases start from the minimal valid runbook below and apply a JSON
 * merge patch (RFC 7386: objects merge, null deletes a key) to make it
 * invalid in exactly one way; each such case is its own cmocka test,
 * named after the kind of error, and checks the error code and that the
 * message starts with the JSON path of the problem and the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>

#include "lib/runbook.h"
#include "lib/secrets.h"
#include "tests/unit/unit_util.h"

#define BASE_DIR "/base/runbooks"

static const char minimal[] =
    "{\"version\":1,\"name\":\"t\",\"state_dir\":\"s\","
    "\"source\":{\"type\":\"sqlite\",\"path\":\"a.sqlite3\"},"
    "\"target\":{\"type\":\"mysql\",\"socket\":\"/tmp/x.sock\","
    "\"database\":\"d\"}}";

#define CANARY "s3cr3t-canary"
#define PW_VAR "CUTOVER_UNIT_TARGET_PW"
#define UNSET_VAR "CUTOVER_UNIT_NEVER_SET_PW"

/* ---- helpers ------------------------------------------------------------ */

/* RFC 7386 merge patch, in place. */
static void merge_patch(json_t *target, json_t *patch)
{
    const char *key;
    json_t *v;

    json_object_foreach(patch, key, v) {
        json_t *cur = json_object_get(target, key);
        if (json_is_null(v))
            json_object_del(target, key);
        else if (json_is_object(v) && json_is_object(cur))
            merge_patch(cur, v);
        else
            json_object_set(target, key, v);
    }
}

/* The minimal runbook with `patch` applied, as text; caller frees. */
static char *patched(const char *patch)
{
    json_error_t jerr;
    json_t *base = json_loads(minimal, 0, &jerr), *p;
    char *text;

    assert_non_null(base);
    if (patch) {
        p = json_loads(patch, 0, &jerr);
        if (!p)
            fail_msg("bad patch in the test itself: %s: %s", patch, jerr.text);
        merge_patch(base, p);
        json_decref(p);
    }
    text = json_dumps(base, JSON_COMPACT);
    json_decref(base);
    assert_non_null(text);
    return text;
}

/* Parse minimal+patch; must succeed. */
static struct runbook *parse_ok(const char *patch)
{
    struct co_err err = {0};
    struct runbook *rb = NULL;
    char *text = patched(patch);
    int rc = runbook_parse(text, strlen(text), BASE_DIR, &rb, &err);

    if (rc != 0)
        fail_msg("expected %s to parse, got %d: %s", text, rc, err.msg);
    free(text);
    assert_non_null(rb);
    return rb;
}

/* Parse `text`; must fail with CO_ERUNBOOK and a message starting with
 * `prefix`. Returns the message (static) for further checks. */
static const char *expect_error_text(const char *text, const char *prefix)
{
    static struct co_err err;
    struct runbook *rb = (struct runbook *)1;
    int rc;

    memset(&err, 0, sizeof err);
    rc = runbook_parse(text, strlen(text), BASE_DIR, &rb, &err);
    if (rc != CO_ERUNBOOK)
        fail_msg("expected CO_ERUNBOOK for %s, got %d (%s)", text, rc,
                 err.msg);
    assert_null(rb);
    assert_int_equal(err.code, CO_ERUNBOOK);
    assert_prefix(err.msg, prefix);
    return err.msg;
}

static const char *expect_error(const char *patch, const char *prefix)
{
    char *text = patched(patch);
    const char *msg = expect_error_text(text, prefix);

    free(text);
    return msg;
}

/* ---- error table: one cmocka test per row ------------------------------- */

struct error_case {
    const char *name;
    const char *patch;     /* merge patch on the minimal runbook, or */
    const char *raw;       /* the whole text when it is not valid JSON */
    const char *prefix;    /* expected start of err.msg */
};

static const struct error_case error_cases[] = {
    {"malformed JSON is reported with line and column", NULL,
     "{\n  \"version\": 1,\n  \"name\": \n}",
     "line 4, column 1: unexpected token near '}'"},
    {"truncated JSON is reported with line and column", NULL,
     "{\"version\":1,\"name\":\"t\"",
     "line 1, column 23: '}' expected near end of file"},
    {"duplicate key is refused with its position and name", NULL,
     "{\"version\":1,\"copy\":{\"workers\":2,\"workers\":3}}",
     "line 1, column 42: duplicate object key near '\"workers\"'"},
    {"top level that is not an object", NULL, "[1, 2]",
     "(top level): expected an object"},
    {"unknown top-level key", "{\"colour\":\"blue\"}",
     NULL, "colour: unknown key (allowed here: version, name, state_dir,"},
    {"unknown nested key (typo)", "{\"copy\":{\"wrokers\":4}}", NULL,
     "copy.wrokers: unknown key (allowed here: workers, chunk_target_ms,"},
    {"missing version", "{\"version\":null}", NULL,
     "version: required but missing"},
    {"version 2", "{\"version\":2}", NULL,
     "version: version 2 is not supported (this cutover reads version 1)"},
    {"missing name", "{\"name\":null}", NULL, "name: required but missing"},
    {"bad name characters", "{\"name\":\"shop db!\"}", NULL,
     "name: use 1 to 64 letters, digits, '_', '.', '-'"},
    {"missing state_dir", "{\"state_dir\":null}", NULL,
     "state_dir: required but missing"},
    {"missing source", "{\"source\":null}", NULL,
     "source: required but missing"},
    {"missing source.path", "{\"source\":{\"path\":null}}", NULL,
     "source.path: required but missing"},
    {"bad source.type", "{\"source\":{\"type\":\"postgres\"}}", NULL,
     "source.type: \"postgres\" is not one of: sqlite"},
    {"bad source.app_transactions",
     "{\"source\":{\"app_transactions\":\"exclusive\"}}", NULL,
     "source.app_transactions: \"exclusive\" is not one of: deferred, "
     "immediate"},
    {"missing source.type", "{\"source\":{\"type\":null}}", NULL,
     "source.type: required but missing"},
    {"missing target", "{\"target\":null}", NULL,
     "target: required but missing"},
    {"bad target.type", "{\"target\":{\"type\":\"oracle\"}}", NULL,
     "target.type: \"oracle\" is not one of: mysql"},
    {"missing target.type", "{\"target\":{\"type\":null}}", NULL,
     "target.type: required but missing"},
    {"missing target.database", "{\"target\":{\"database\":null}}", NULL,
     "target.database: required but missing"},
    {"target without socket or host", "{\"target\":{\"socket\":null}}", NULL,
     "target: give a socket or a host"},
    {"port out of range", "{\"target\":{\"port\":70000}}", NULL,
     "target.port: 70000 is out of range (1 to 65535)"},
    {"string where an integer is expected",
     "{\"copy\":{\"workers\":\"4\"}}", NULL,
     "copy.workers: expected an integer"},
    {"tls verify_identity without ca",
     "{\"target\":{\"tls\":{\"mode\":\"verify_identity\"}}}", NULL,
     "target.tls.ca: required when mode is verify_identity"},
    {"bad enum value (verify.mode fast)", "{\"verify\":{\"mode\":\"fast\"}}",
     NULL, "verify.mode: \"fast\" is not one of: full, sample, count"},
    {"copy.workers 0", "{\"copy\":{\"workers\":0}}", NULL,
     "copy.workers: 0 is out of range (1 to 64)"},
    {"schema override that is not a string",
     "{\"schema\":{\"overrides\":{\"orders.total\":12}}}",
     NULL, "schema.overrides.orders.total: expected the target column's "
     "type as a string"},
    {"schema overrides with schema.mode existing",
     "{\"schema\":{\"mode\":\"existing\",\"overrides\":"
     "{\"orders.total\":\"DECIMAL(12,2)\"}}}", NULL,
     "schema.overrides: not used with schema.mode \"existing\""},
    {"schema override key without a dot",
     "{\"schema\":{\"overrides\":{\"total\":\"INT\"}}}", NULL,
     "schema.overrides.total: key must be \"table.column\""},
    {"switch exec that is not an array of strings",
     "{\"cutover\":{\"switch\":[{\"exec\":[\"true\"]},"
     "{\"exec\":[\"sh\",1]}]}}", NULL,
     "cutover.switch[1].exec: expected an array of strings"},
    {"action with both exec and http",
     "{\"cutover\":{\"switch\":[{\"exec\":[\"true\"],"
     "\"http\":{\"url\":\"http://127.0.0.1/\"}}]}}", NULL,
     "cutover.switch[0]: an action has exactly one of \"exec\" or \"http\""},
    {"http action url that is not http(s)",
     "{\"cutover\":{\"switch_back\":[{\"http\":{\"url\":\"ftp://h/x\"}}]}}",
     NULL,
     "cutover.switch_back[0].http.url: expected an http:// or https:// URL"},
    {"post_validate check without http or sql",
     "{\"post_validate\":{\"checks\":[{\"name\":\"api\"}]}}", NULL,
     "post_validate.checks[0]: a check has exactly one of \"http\" or "
     "\"sql\""},
    {"duplicate check names",
     "{\"post_validate\":{\"checks\":[{\"name\":\"a\",\"sql\":\"SELECT 1\"},"
     "{\"name\":\"a\",\"sql\":\"SELECT 2\"}]}}", NULL,
     "post_validate.checks[1].name: check name \"a\" is used twice"},
    {"trigger on an unknown metric",
     "{\"triggers\":[{\"name\":\"lag\",\"metric\":\"sync.lagg_s\","
     "\"above\":1,\"action\":\"pause\"}]}", NULL,
     "triggers[0].metric: unknown metric \"sync.lagg_s\""},
    {"trigger with both above and below",
     "{\"triggers\":[{\"name\":\"lag\",\"metric\":\"sync.lag_s\","
     "\"above\":1,\"below\":0,\"action\":\"pause\"}]}", NULL,
     "triggers[0]: a metric rule has exactly one of \"above\" or \"below\""},
    {"trigger with neither metric nor alert",
     "{\"triggers\":[{\"name\":\"x\",\"action\":\"pause\"}]}", NULL,
     "triggers[0]: a rule has exactly one of \"metric\" or \"alert\""},
    {"throttle trigger without rows_per_s",
     "{\"triggers\":[{\"name\":\"slow\",\"metric\":\"target.probe_ms\","
     "\"above\":50,\"action\":\"throttle\"}]}", NULL,
     "triggers[0].rows_per_s: required when action is throttle"},
    {"alert rule with for_s",
     "{\"triggers\":[{\"name\":\"pager\",\"alert\":\"*\",\"for_s\":5,"
     "\"action\":\"rollback\"}]}", NULL,
     "triggers[0]: alert rules take no above, below or for_s"},
    {"trigger stage name that is not a stage",
     "{\"triggers\":[{\"name\":\"lag\",\"metric\":\"sync.lag_s\","
     "\"above\":5,\"action\":\"pause\",\"stages\":[\"sync\",\"paused\"]}]}",
     NULL, "triggers[0].stages: \"paused\" is not a stage"},
    {"target.replica_lag_s without replicas",
     "{\"triggers\":[{\"name\":\"rl\",\"metric\":\"target.replica_lag_s\","
     "\"above\":5,\"action\":\"pause\"}]}", NULL,
     "triggers[0].metric: target.replica_lag_s needs target.replicas"},
    {"check.NAME.failures for an undeclared check",
     "{\"triggers\":[{\"name\":\"lag\",\"metric\":\"sync.lag_s\","
     "\"above\":5,\"action\":\"pause\"},{\"name\":\"api\","
     "\"metric\":\"check.api.failures\",\"above\":2,"
     "\"action\":\"rollback\"}]}", NULL,
     "triggers[1].metric: unknown metric \"check.api.failures\""},
    {"webhook subscribing to an unknown event type",
     "{\"notify\":[{\"webhook\":{\"url\":\"https://hooks.example.org/x\","
     "\"events\":[\"stage\",\"bogus\"]}}]}", NULL,
     "notify[0].webhook.events: \"bogus\" is not an event type"},
    {"webhook subscribing to a socket-only line",
     "{\"notify\":[{\"webhook\":{\"url\":\"https://hooks.example.org/x\","
     "\"events\":[\"throttle\",\"hello\"]}}]}", NULL,
     "notify[0].webhook.events: \"hello\" is not an event type"},
    {"progress.mode that is not octal", "{\"progress\":{\"mode\":\"999\"}}",
     NULL,
     "progress.mode: expected an octal file mode such as \"0660\""},
    {"password_env naming an unset variable",
     "{\"target\":{\"password_env\":\"" UNSET_VAR "\"}}", NULL,
     "target.password_env: environment variable " UNSET_VAR " is not set"},
    {"http.listen that is a host name, not an address",
     "{\"http\":{\"listen\":\"localhost:9464\"}}", NULL,
     "http.listen: \"localhost\" is not a numeric IPv4 or [IPv6] address"},
    {"http.listen without a port",
     "{\"http\":{\"listen\":\"127.0.0.1\"}}", NULL,
     "http.listen: expected HOST:PORT"},
    {"http.listen with port 0",
     "{\"http\":{\"listen\":\"127.0.0.1:0\"}}", NULL,
     "http.listen: the port must be a number from 1 to 65535"},
    {"unknown key in http",
     "{\"http\":{\"token\":\"x\"}}", NULL, "http.token: unknown key"},
    {"http.max_connections out of range",
     "{\"http\":{\"max_connections\":0}}", NULL,
     "http.max_connections: "},
    {"mysql source: an unknown capture",
     "{\"source\":{\"type\":\"mysql\",\"path\":null,\"socket\":\"/s.sock\","
     "\"database\":\"shop\",\"capture\":\"wal\"}}", NULL,
     "source.capture: \"wal\" is not one of: triggers, binlog"},
    {"mysql source: server_id 0",
     "{\"source\":{\"type\":\"mysql\",\"path\":null,\"socket\":\"/s.sock\","
     "\"database\":\"shop\",\"server_id\":0}}", NULL,
     "source.server_id: 0 is out of range"},
    {"mysql source: poll_ms past 10 s",
     "{\"source\":{\"type\":\"mysql\",\"path\":null,\"socket\":\"/s.sock\","
     "\"database\":\"shop\",\"poll_ms\":10001}}", NULL,
     "source.poll_ms: 10001 is out of range (0 to 10000)"},
    {"mysql source: a SQLite key is unknown",
     "{\"source\":{\"type\":\"mysql\",\"path\":null,\"socket\":\"/s.sock\","
     "\"database\":\"shop\",\"busy_timeout_ms\":5}}", NULL,
     "source.busy_timeout_ms: unknown key (allowed here: type, socket, "},
    {"mysql source: the database is required",
     "{\"source\":{\"type\":\"mysql\",\"path\":null,\"socket\":\"/s.sock\"}}",
     NULL, "source.database: required but missing"},
    {"mysql source: a server is required",
     "{\"source\":{\"type\":\"mysql\",\"path\":null,\"database\":\"d\"}}",
     NULL, "source: give a socket or a host"},
};

static void run_error_case(void **state)
{
    const struct error_case *c = *state;

    if (c->raw)
        expect_error_text(c->raw, c->prefix);
    else
        expect_error(c->patch, c->prefix);
}

/* ---- defaults and paths ------------------------------------------------- */

static void http_section_is_off_by_default_and_loopback_when_on(void **state)
{
    struct runbook *rb = parse_ok(NULL);

    (void)state;
    assert_false(rb->http.enabled);
    runbook_free(rb);
    rb = parse_ok("{\"http\":{}}");
    assert_true(rb->http.enabled);
    assert_string_equal(rb->http.listen, "127.0.0.1:9464");
    assert_null(rb->http.token_env);
    assert_int_equal(rb->http.max_connections, 32);
    runbook_free(rb);
    rb = parse_ok("{\"http\":{\"listen\":\"[::1]:9100\","
                  "\"token_env\":\"CUTOVER_UNIT_HTTP_TOKEN\"}}");
    assert_string_equal(rb->http.listen, "[::1]:9100");
    assert_string_equal(rb->http.token_env, "CUTOVER_UNIT_HTTP_TOKEN");
    runbook_free(rb);
}

static void minimal_runbook_gets_documented_defaults(void **state)
{
    struct runbook *rb = parse_ok(NULL);

    (void)state;
    assert_string_equal(rb->name, "t");
    assert_int_equal(rb->copy.workers, 2);
    assert_int_equal(rb->copy.chunk_target_ms, 500);
    assert_true(rb->copy.max_rows_per_s == 0);
    assert_int_equal(rb->copy.method, COPY_AUTO);
    assert_int_equal(rb->sync.batch_rows, 2000);
    assert_true(rb->sync.ready_lag_s == 1.0);
    assert_int_equal(rb->verify.mode, VERIFY_FULL);
    assert_int_equal(rb->verify.recheck_attempts, 3);
    assert_int_equal(rb->cutover.mode, CUTOVER_AUTO);
    assert_int_equal(rb->cutover.max_write_pause_ms, 1000);
    assert_int_equal(rb->cutover.retries, 5);
    assert_int_equal(rb->cutover.nswitch, 0);
    assert_int_equal(rb->schema.mode, SCHEMA_CREATE);
    /* the target driver's default (test_target_mysql.c) */
    assert_null(rb->schema.collation);
    assert_int_equal(rb->schema.invalid_utf8, UTF8_REJECT);
    assert_int_equal(rb->progress.mode, 0660);
    assert_string_equal(rb->progress.socket,
                        BASE_DIR "/s/progress.sock");
    assert_int_equal(rb->tables.ninclude, 1);
    assert_string_equal(rb->tables.include[0], "*");
    assert_int_equal(rb->tables.nexclude, 0);
    assert_int_equal(rb->target.port, 3306);
    assert_null(rb->target.password);
    assert_int_equal(rb->ntriggers, 0);
    assert_int_equal(rb->triggers_given, 0);
    assert_int_equal(rb->source.app_immediate, 0);
    runbook_free(rb);
    rb = parse_ok("{\"source\":{\"app_transactions\":\"immediate\"}}");
    assert_int_equal(rb->source.app_immediate, 1);
    runbook_free(rb);
}

static void relative_paths_resolve_against_the_runbook_dir(void **state)
{
    struct runbook *rb = parse_ok(
        "{\"target\":{\"socket\":\"run/mysqld.sock\"},"
        "\"progress\":{\"socket\":\"p.sock\"}}");

    (void)state;
    assert_string_equal(rb->state_dir, BASE_DIR "/s");
    assert_string_equal(rb->source.path, BASE_DIR "/a.sqlite3");
    assert_string_equal(rb->target.socket, BASE_DIR "/run/mysqld.sock");
    assert_string_equal(rb->progress.socket, BASE_DIR "/p.sock");
    runbook_free(rb);
}

static void absolute_paths_are_kept(void **state)
{
    struct runbook *rb = parse_ok(
        "{\"state_dir\":\"/var/lib/cutover/shop\","
        "\"source\":{\"path\":\"/srv/app/db.sqlite3\"},"
        "\"progress\":{\"socket\":\"/run/cutover.sock\"}}");

    (void)state;
    assert_string_equal(rb->state_dir, "/var/lib/cutover/shop");
    assert_string_equal(rb->source.path, "/srv/app/db.sqlite3");
    assert_string_equal(rb->target.socket, "/tmp/x.sock");
    assert_string_equal(rb->progress.socket, "/run/cutover.sock");
    runbook_free(rb);
}

static void explicit_values_override_defaults(void **state)
{
    struct runbook *rb = parse_ok(
        "{\"copy\":{\"workers\":8,\"chunk_target_ms\":250},"
        "\"sync\":{\"batch_rows\":500,\"ready_lag_s\":0.5},"
        "\"verify\":{\"mode\":\"count\",\"recheck_attempts\":0},"
        "\"cutover\":{\"mode\":\"manual\",\"max_write_pause_ms\":300,"
        "\"retries\":2,\"switch\":[{\"exec\":[\"sh\",\"-c\",\"true\"]}]},"
        "\"schema\":{\"collation\":\"utf8mb4_0900_ai_ci\"},"
        "\"progress\":{\"mode\":\"0600\"}}");

    (void)state;
    assert_int_equal(rb->copy.workers, 8);
    assert_int_equal(rb->copy.chunk_target_ms, 250);
    assert_int_equal(rb->sync.batch_rows, 500);
    assert_true(rb->sync.ready_lag_s == 0.5);
    assert_int_equal(rb->verify.mode, VERIFY_COUNT);
    assert_int_equal(rb->verify.recheck_attempts, 0);
    assert_int_equal(rb->cutover.mode, CUTOVER_MANUAL);
    assert_int_equal(rb->cutover.max_write_pause_ms, 300);
    assert_int_equal(rb->cutover.retries, 2);
    assert_int_equal(rb->cutover.nswitch, 1);
    assert_int_equal(rb->cutover.switch_actions[0].kind, ACTION_EXEC);
    assert_int_equal(rb->cutover.switch_actions[0].argc, 3);
    assert_string_equal(rb->cutover.switch_actions[0].argv[2], "true");
    assert_null(rb->cutover.switch_actions[0].argv[3]);
    assert_string_equal(rb->schema.collation, "utf8mb4_0900_ai_ci");
    assert_int_equal(rb->progress.mode, 0600);
    runbook_free(rb);
}

/* The example of DESIGN §3, verbatim, is a valid runbook. */
static void design_example_runbook_is_valid(void **state)
{
    static const char example[] =
        "{\"version\": 1, \"name\": \"shop\", \"state_dir\": \"state/shop\","
        "\"source\": {\"type\": \"sqlite\", \"path\": \"shop.sqlite3\"},"
        "\"target\": {\"type\": \"mysql\", \"socket\": "
        "\"/run/mysqld/mysqld.sock\", \"host\": \"127.0.0.1\", \"port\": "
        "3306, \"user\": \"migrator\", \"password_env\": "
        "\"CUTOVER_TARGET_PASSWORD\", \"database\": \"shop\", \"tls\": "
        "{\"mode\": \"verify_identity\", \"ca\": \"ca.pem\"}},"
        "\"tables\": {\"include\": [\"*\"], \"exclude\": "
        "[\"django_session\"]},"
        "\"schema\": {\"mode\": \"create\", \"collation\": \"utf8mb4_bin\","
        "\"overrides\": {\"orders_order.total\": \"DECIMAL(12,2)\"}},"
        "\"copy\": {\"workers\": 2, \"chunk_target_ms\": 500, "
        "\"max_rows_per_s\": 0},"
        "\"sync\": {\"batch_rows\": 2000, \"ready_lag_s\": 1},"
        "\"verify\": {\"mode\": \"full\", \"recheck_attempts\": 3},"
        "\"cutover\": {\"mode\": \"auto\", \"max_write_pause_ms\": 1000, "
        "\"retries\": 5,"
        "\"switch\": [{\"exec\": [\"sh\", \"-c\", "
        "\"ln -sfn mysql.env app/db.env\"]}],"
        "\"switch_back\": [{\"exec\": [\"sh\", \"-c\", "
        "\"ln -sfn sqlite.env app/db.env\"]}]},"
        "\"post_validate\": {\"watch_s\": 600, \"interval_s\": 5,"
        "\"checks\": [{\"name\": \"api\", \"http\": {\"url\": "
        "\"http://127.0.0.1:8000/health\", \"expect_status\": [200], "
        "\"timeout_ms\": 1000}},"
        "{\"name\": \"orders\", \"sql\": \"SELECT COUNT(*) FROM "
        "orders_order\", \"min\": 1}]},"
        "\"triggers\": ["
        "{\"name\": \"lag\", \"metric\": \"sync.lag_s\", \"above\": 30, "
        "\"for_s\": 60, \"action\": \"pause\"},"
        "{\"name\": \"mismatch\", \"metric\": \"verify.mismatched_rows\", "
        "\"above\": 0, \"action\": \"abort\"},"
        "{\"name\": \"api\", \"metric\": \"check.api.failures\", \"above\": "
        "2, \"action\": \"rollback\"},"
        "{\"name\": \"pager\", \"alert\": \"*\", \"action\": \"rollback\"}],"
        "\"notify\": [{\"webhook\": {\"url\": \"https://hooks.example.org/x\","
        "\"events\": [\"stage\", \"trigger\", \"completed\", \"failed\", "
        "\"rolled_back\"]}}],"
        "\"progress\": {\"socket\": \"progress.sock\", \"mode\": \"0660\"}}";
    struct co_err err = {0};
    struct runbook *rb = NULL;
    char dir[] = "/tmp/co-unit-rb.XXXXXX", ca[64], expect[96];
    int rc;

    (void)state;
    /* The parser checks that the CA file is readable: give it one. */
    assert_non_null(mkdtemp(dir));
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    fclose(fopen(ca, "w"));
    setenv("CUTOVER_TARGET_PASSWORD", "design-example-pw", 1);
    rc = runbook_parse(example, strlen(example), dir, &rb, &err);
    unsetenv("CUTOVER_TARGET_PASSWORD");
    unlink(ca);
    rmdir(dir);
    if (rc != 0)
        fail_msg("DESIGN §3 example refused: %s", err.msg);
    assert_string_equal(rb->target.user, "migrator");
    assert_string_equal(rb->target.password, "design-example-pw");
    assert_int_equal(rb->target.tls.mode, TLS_VERIFY_IDENTITY);
    assert_string_equal(rb->target.tls.ca, ca);
    assert_int_equal(rb->post_validate.nchecks, 2);
    assert_int_equal(rb->post_validate.checks[0].is_http, 1);
    assert_string_equal(rb->post_validate.checks[1].sql,
                        "SELECT COUNT(*) FROM orders_order");
    assert_int_equal(rb->ntriggers, 4);
    assert_int_equal(rb->triggers[0].action, TRIG_PAUSE);
    assert_true(rb->triggers[0].for_s == 60);
    assert_string_equal(rb->triggers[3].alert, "*");
    assert_int_equal(rb->triggers[3].action, TRIG_ROLLBACK);
    assert_int_equal(rb->nwebhooks, 1);
    assert_int_equal(rb->webhooks[0].nevents, 5);
    snprintf(expect, sizeof expect, "%s/progress.sock", dir);
    assert_string_equal(rb->progress.socket, expect);
    assert_string_equal(runbook_override(rb, "orders_order", "total"),
                        "DECIMAL(12,2)");
    runbook_free(rb);
}

/* ---- cases that are accepted or sit on a boundary ----------------------- */

static void check_failures_metric_for_a_declared_check_is_accepted(
    void **state)
{
    struct runbook *rb = parse_ok(
        "{\"post_validate\":{\"checks\":[{\"name\":\"api\","
        "\"http\":{\"url\":\"http://127.0.0.1:8000/health\"}}]},"
        "\"triggers\":[{\"name\":\"api\",\"metric\":\"check.api.failures\","
        "\"above\":2,\"action\":\"rollback\"}]}");

    (void)state;
    assert_int_equal(rb->ntriggers, 1);
    assert_string_equal(rb->triggers[0].metric, "check.api.failures");
    assert_true(runbook_metric_known(rb, "check.api.failures"));
    assert_false(runbook_metric_known(rb, "check.other.failures"));
    assert_false(runbook_metric_known(rb, "target.replica_lag_s"));
    assert_true(runbook_metric_known(rb, "sync.lag_s"));
    runbook_free(rb);
}

/* "/aaa...a" of total length len. */
static char *socket_patch(size_t len)
{
    char *path = malloc(len + 1), *patch;

    assert_non_null(path);
    path[0] = '/';
    memset(path + 1, 'a', len - 1);
    path[len] = '\0';
    assert_true(asprintf(&patch, "{\"progress\":{\"socket\":\"%s\"}}",
                         path) > 0);
    free(path);
    return patch;
}

static void progress_socket_longer_than_107_bytes_is_refused(void **state)
{
    char *patch = socket_patch(108);

    (void)state;
    expect_error(patch, "progress.socket: path is 108 bytes; unix sockets "
                        "allow 107");
    free(patch);
}

static void progress_socket_of_exactly_107_bytes_is_accepted(void **state)
{
    char *patch = socket_patch(107);
    struct runbook *rb = parse_ok(patch);

    (void)state;
    assert_int_equal(strlen(rb->progress.socket), 107);
    runbook_free(rb);
    free(patch);
}

static void override_types_of_the_documented_forms_are_accepted(void **state)
{
    struct runbook *rb = parse_ok(
        "{\"schema\":{\"overrides\":{\"orders.total\":\"DECIMAL(12,2)\","
        "\"users.email\":\"varchar(191)\",\"users.id\":\"BIGINT UNSIGNED\"}}}");

    (void)state;
    assert_int_equal(rb->schema.noverrides, 3);
    assert_string_equal(runbook_override(rb, "users", "email"),
                        "varchar(191)");
    assert_string_equal(runbook_override(rb, "users", "id"),
                        "BIGINT UNSIGNED");
    runbook_free(rb);
}

/* ---- secrets ------------------------------------------------------------ */

static const char pw_patch[] =
    "{\"target\":{\"password_env\":\"" PW_VAR "\"}}";

static void password_is_read_from_the_named_env_variable(void **state)
{
    struct runbook *rb;

    (void)state;
    setenv(PW_VAR, CANARY, 1);
    rb = parse_ok(pw_patch);
    assert_string_equal(rb->target.password_env, PW_VAR);
    assert_string_equal(rb->target.password, CANARY);
    runbook_free(rb);
}

static void password_never_appears_in_a_later_error(void **state)
{
    const char *msg;

    (void)state;
    setenv(PW_VAR, CANARY, 1);
    msg = expect_error("{\"target\":{\"password_env\":\"" PW_VAR "\"},"
                       "\"verify\":{\"mode\":\"fast\"}}",
                       "verify.mode: \"fast\" is not one of:");
    assert_not_contains(msg, CANARY);
}

/* An error that quotes a runbook value equal to the password must not
 * print the password either (DESIGN §2: secrets never appear in output;
 * cmd_run prints err.msg to stderr as is). */
static void password_is_redacted_from_an_error_quoting_it(void **state)
{
    const char *msg;

    (void)state;
    setenv(PW_VAR, CANARY, 1);
    msg = expect_error("{\"target\":{\"password_env\":\"" PW_VAR "\"},"
                       "\"verify\":{\"mode\":\"" CANARY "\"}}",
                       "verify.mode: ");
    assert_not_contains(msg, CANARY);
}

/* Children (actions, hooks) never inherit a variable that holds a
 * secret: every password_env and the backup key's variable is registered
 * by name, set or not. */
static void secret_variables_are_registered_by_name(void **state)
{
    struct runbook *rb;

    (void)state;
    secret_clear();
    setenv(PW_VAR, CANARY, 1);
    setenv("CUTOVER_UNIT_KEY",
           "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
           1);
    setenv("CUTOVER_UNIT_REPLICA_PW", "r3plica", 1);
    rb = parse_ok("{\"target\":{\"password_env\":\"" PW_VAR "\","
                  "\"replicas\":[{\"socket\":\"/r.sock\","
                  "\"password_env\":\"CUTOVER_UNIT_REPLICA_PW\"}]},"
                  "\"backup\":{\"encrypt_key_env\":\"CUTOVER_UNIT_KEY\"}}");
    assert_true(secret_env_entry(PW_VAR "=x"));
    assert_true(secret_env_entry("CUTOVER_UNIT_REPLICA_PW=x"));
    assert_true(secret_env_entry("CUTOVER_UNIT_KEY=x"));
    assert_false(secret_env_entry("PATH=/bin"));
    runbook_free(rb);
    unsetenv("CUTOVER_UNIT_KEY");
    unsetenv("CUTOVER_UNIT_REPLICA_PW");
}

/* A MySQL source: its server and database, trigger capture, no file
 * backup (a server has its own tools), its password a secret. */
static void mysql_source_is_read_with_its_password(void **state)
{
    struct runbook *rb;

    (void)state;
    secret_clear();
    setenv("CUTOVER_UNIT_SOURCE_PW", CANARY, 1);
    rb = parse_ok("{\"source\":{\"type\":\"mysql\",\"path\":null,"
                  "\"host\":\"db1\",\"port\":3307,\"user\":\"mig\","
                  "\"password_env\":\"CUTOVER_UNIT_SOURCE_PW\","
                  "\"database\":\"shop\",\"capture\":\"triggers\"}}");
    assert_string_equal(rb->source.type, "mysql");
    assert_null(rb->source.path);
    assert_string_equal(rb->source.server.host, "db1");
    assert_int_equal(rb->source.server.port, 3307);
    assert_string_equal(rb->source.server.database, "shop");
    assert_string_equal(rb->source.server.password, CANARY);
    assert_string_equal(rb->source.label, "mysql db1:3307/shop");
    assert_int_equal(rb->source.capture_binlog, 0);
    assert_int_equal(rb->source.server_id, 0);
    assert_int_equal(rb->source.poll_ms, 100);
    assert_int_equal(rb->backup.enabled, 0);
    assert_true(secret_env_entry("CUTOVER_UNIT_SOURCE_PW=x"));
    runbook_free(rb);
    unsetenv("CUTOVER_UNIT_SOURCE_PW");
}

/* ---- table selection and overrides -------------------------------------- */

static void table_selection_applies_include_then_exclude_globs(void **state)
{
    struct runbook *rb = parse_ok(
        "{\"tables\":{\"include\":[\"orders_*\",\"users\"],"
        "\"exclude\":[\"orders_tmp*\"]}}");

    (void)state;
    assert_int_equal(runbook_table_selected(rb, "orders_order"), 1);
    assert_int_equal(runbook_table_selected(rb, "orders_item"), 1);
    assert_int_equal(runbook_table_selected(rb, "users"), 1);
    assert_int_equal(runbook_table_selected(rb, "orders_tmp_2024"), 0);
    assert_int_equal(runbook_table_selected(rb, "users_old"), 0);
    assert_int_equal(runbook_table_selected(rb, "django_session"), 0);
    runbook_free(rb);
}

static void own_and_sqlite_internal_tables_are_never_selected(void **state)
{
    struct runbook *star = parse_ok(NULL);
    struct runbook *named = parse_ok(
        "{\"tables\":{\"include\":[\"_cutover_log_x\",\"sqlite_sequence\","
        "\"x\"]}}");

    (void)state;
    assert_int_equal(runbook_table_selected(star, "x"), 1);
    assert_int_equal(runbook_table_selected(star, "_cutover_log_x"), 0);
    assert_int_equal(runbook_table_selected(star, "sqlite_sequence"), 0);
    assert_int_equal(runbook_table_selected(named, "x"), 1);
    assert_int_equal(runbook_table_selected(named, "_cutover_log_x"), 0);
    assert_int_equal(runbook_table_selected(named, "sqlite_sequence"), 0);
    runbook_free(star);
    runbook_free(named);
}

static void override_lookup_matches_table_and_column_exactly(void **state)
{
    struct runbook *rb = parse_ok(
        "{\"schema\":{\"overrides\":{\"orders_order.total\":"
        "\"DECIMAL(12,2)\",\"users.name\":\"VARCHAR(100)\"}}}");

    (void)state;
    assert_string_equal(runbook_override(rb, "orders_order", "total"),
                        "DECIMAL(12,2)");
    assert_string_equal(runbook_override(rb, "users", "name"),
                        "VARCHAR(100)");
    assert_null(runbook_override(rb, "orders_order", "name"));
    assert_null(runbook_override(rb, "users", "total"));
    assert_null(runbook_override(rb, "orders", "total"));
    assert_null(runbook_override(rb, "orders_order", "Total"));
    runbook_free(rb);
}

/* ---- runbook_load ------------------------------------------------------- */

static void load_resolves_against_the_file_dir_and_hashes_the_file(
    void **state)
{
    char *dir = ut_tempdir(), *file, real[PATH_MAX], *want;
    unsigned char md[32];
    unsigned int mdlen;
    char hex[65];
    struct co_err err = {0};
    struct runbook *rb = NULL;

    (void)state;
    assert_non_null(dir);
    assert_non_null(realpath(dir, real));
    file = ut_path(dir, "shop.json");
    assert_int_equal(ut_write_file(file, minimal, strlen(minimal)), 0);
    assert_int_equal(runbook_load(file, &rb, &err), 0);
    assert_non_null(rb);

    want = ut_path(real, "shop.json");
    assert_string_equal(rb->path, want);
    free(want);
    assert_string_equal(rb->dir, real);
    want = ut_path(real, "a.sqlite3");
    assert_string_equal(rb->source.path, want);
    free(want);
    want = ut_path(real, "s/progress.sock");
    assert_string_equal(rb->progress.socket, want);
    free(want);

    EVP_Digest(minimal, strlen(minimal), md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    assert_string_equal(rb->sha256_hex, hex);
    assert_memory_equal(rb->sha256, md, 32);

    runbook_free(rb);
    free(file);
    ut_rmtree(dir);
}

static void load_error_names_the_file_then_the_json_path(void **state)
{
    char *dir = ut_tempdir(), *file, *text, *want;
    struct co_err err = {0};
    struct runbook *rb = NULL;

    (void)state;
    file = ut_path(dir, "bad.json");
    text = patched("{\"copy\":{\"workers\":0}}");
    assert_int_equal(ut_write_file(file, text, strlen(text)), 0);
    assert_int_equal(runbook_load(file, &rb, &err), CO_ERUNBOOK);
    assert_null(rb);
    assert_true(asprintf(&want, "runbook %s: copy.workers: 0 is out of range",
                         file) > 0);
    assert_prefix(err.msg, want);
    free(want);
    free(text);
    free(file);
    ut_rmtree(dir);
}

static void load_of_a_missing_file_is_an_io_error(void **state)
{
    struct co_err err = {0};
    struct runbook *rb = (struct runbook *)1;

    (void)state;
    assert_int_equal(runbook_load("/nonexistent/cutover/rb.json", &rb, &err),
                     CO_EIO);
    assert_null(rb);
    assert_string_equal(err.msg, "runbook /nonexistent/cutover/rb.json: No "
                                 "such file or directory");
}

/* ---- main --------------------------------------------------------------- */

#define T(f) {#f, f, NULL, NULL, NULL}

static const struct CMUnitTest fixed_tests[] = {
    T(minimal_runbook_gets_documented_defaults),
    T(http_section_is_off_by_default_and_loopback_when_on),
    T(relative_paths_resolve_against_the_runbook_dir),
    T(absolute_paths_are_kept),
    T(explicit_values_override_defaults),
    T(design_example_runbook_is_valid),
    T(check_failures_metric_for_a_declared_check_is_accepted),
    T(progress_socket_longer_than_107_bytes_is_refused),
    T(progress_socket_of_exactly_107_bytes_is_accepted),
    T(override_types_of_the_documented_forms_are_accepted),
    T(password_is_read_from_the_named_env_variable),
    T(password_never_appears_in_a_later_error),
    T(password_is_redacted_from_an_error_quoting_it),
    T(secret_variables_are_registered_by_name),
    T(table_selection_applies_include_then_exclude_globs),
    T(own_and_sqlite_internal_tables_are_never_selected),
    T(override_lookup_matches_table_and_column_exactly),
    T(mysql_source_is_read_with_its_password),
    T(load_resolves_against_the_file_dir_and_hashes_the_file),
    T(load_error_names_the_file_then_the_json_path),
    T(load_of_a_missing_file_is_an_io_error),
};

int main(void)
{
    enum { NFIXED = sizeof fixed_tests / sizeof fixed_tests[0],
           NERR = sizeof error_cases / sizeof error_cases[0] };
    struct CMUnitTest tests[NFIXED + NERR];
    char names[NERR][160];

    unsetenv(UNSET_VAR);
    memcpy(tests, fixed_tests, sizeof fixed_tests);
    for (size_t i = 0; i < NERR; i++) {
        snprintf(names[i], sizeof names[i], "error: %s", error_cases[i].name);
        tests[NFIXED + i] = (struct CMUnitTest){
            names[i], run_error_case, NULL, NULL, (void *)&error_cases[i]};
    }
    return _cmocka_run_group_tests("runbook", tests, NFIXED + NERR, NULL,
                                   NULL);
}
