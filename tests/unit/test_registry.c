/*
 * test_registry.c — sync/drivers/registry.c: drivers found by the
 * runbook's source.type and target.type, the registry and the runbook
 * reader knowing the same engines, every registered driver having each
 * member the stages call without asking, and the members a runbook needs
 * that a driver leaves out reported as plan findings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/registry.h"
#include "tests/unit/unit_runbook.h"
#include "tests/unit/unit_util.h"

static const char runbook_text[] =
    "{\"version\":1,\"name\":\"t\",\"state_dir\":\"s\","
    "\"source\":{\"type\":\"sqlite\",\"path\":\"a.sqlite3\"},"
    "\"target\":{\"type\":\"mysql\",\"socket\":\"/tmp/x.sock\","
    "\"database\":\"d\"}}";

static struct runbook *parse(const char *text)
{
    return ut_runbook(text, "/base");
}

static void types_are_kept_and_find_their_drivers(void **state)
{
    struct runbook *rb = parse(runbook_text);
    const struct source_ops *sops = NULL;
    const struct target_ops *tops = NULL;
    struct co_err err = {0};

    (void)state;
    assert_string_equal(rb->source.type, "sqlite");
    assert_string_equal(rb->target.type, "mysql");
    assert_int_equal(driver_pair(rb, &sops, &tops, &err), 0);
    assert_ptr_equal(sops, driver_source("sqlite"));
    assert_ptr_equal(tops, driver_target("mysql"));
    assert_string_equal(sops->name, "sqlite");
    assert_string_equal(tops->name, "mysql");
    assert_string_equal(driver_source("mysql")->name, "mysql");
    assert_null(driver_source("oracle"));
    assert_null(driver_target("oracle"));
    assert_null(driver_source(NULL));
    runbook_free(rb);
}

/* A runbook names only engines the registry has, and the other way
 * round: the two lists cannot drift apart. */
static void the_runbook_and_the_registry_know_the_same_engines(void **state)
{
    const char *const *st = runbook_source_types();
    const char *const *tt = runbook_target_types();
    const struct source_ops *const *so = driver_sources();
    const struct target_ops *const *to = driver_targets();
    int n = 0, m = 0;

    (void)state;
    for (; st[n]; n++)
        assert_non_null(driver_source(st[n]));
    for (; so[m]; m++)
        ;
    assert_int_equal(n, m);
    for (n = 0; tt[n]; n++)
        assert_non_null(driver_target(tt[n]));
    for (m = 0; to[m]; m++)
        ;
    assert_int_equal(n, m);
}

static void every_driver_has_the_members_stages_call(void **state)
{
    (void)state;
    for (const struct source_ops *const *s = driver_sources(); *s; s++)
        if (driver_source_incomplete(*s))
            fail_msg("source %s lacks %s", (*s)->name,
                     driver_source_incomplete(*s));
    for (const struct target_ops *const *t = driver_targets(); *t; t++)
        if (driver_target_incomplete(*t))
            fail_msg("target %s lacks %s", (*t)->name,
                     driver_target_incomplete(*t));
}

struct seen {
    char members[512];
    int blocking;
};

static void note(void *arg, const char *side, const char *member,
                 const char *needed_for, int blocking)
{
    struct seen *s = arg;

    assert_non_null(needed_for);
    strncat(s->members, side, sizeof s->members - strlen(s->members) - 1);
    strncat(s->members, ".", sizeof s->members - strlen(s->members) - 1);
    strncat(s->members, member, sizeof s->members - strlen(s->members) - 1);
    strncat(s->members, " ", sizeof s->members - strlen(s->members) - 1);
    s->blocking += blocking;
}

static void a_member_left_out_is_reported_when_the_runbook_needs_it(
    void **state)
{
    struct runbook *rb = parse(runbook_text);
    struct source_ops sops = *driver_source("sqlite");
    struct target_ops tops = *driver_target("mysql");
    struct seen seen = {0};

    (void)state;
    /* today's drivers support everything this runbook needs */
    assert_int_equal(driver_unsupported(rb, &sops, &tops, note, &seen), 0);

    /* a target without replication and existing-schema support: fine
     * until the runbook asks for them */
    tops.describe_table = NULL;
    tops.position_wait = NULL;
    sops.backup = NULL;
    assert_false(driver_replicas_supported(&tops));
    rb->backup.enabled = 0;
    assert_int_equal(driver_unsupported(rb, &sops, &tops, note, &seen), 0);

    rb->backup.enabled = 1;
    rb->schema.mode = SCHEMA_EXISTING;
    rb->nreplicas = 1;
    assert_int_equal(driver_unsupported(rb, &sops, &tops, note, &seen), 3);
    assert_string_equal(seen.members, "source.backup target.describe_table "
                                      "target.position_wait ");
    assert_int_equal(seen.blocking, 3);
    rb->nreplicas = 0;

    /* what a migration can do without is reported, not blocking */
    memset(&seen, 0, sizeof seen);
    rb->schema.mode = SCHEMA_CREATE;
    tops.find_collisions = NULL;
    sops.next_autoinc = NULL;
    assert_int_equal(driver_unsupported(rb, &sops, &tops, note, &seen), 3);
    assert_string_equal(seen.members, "source.backup source.next_autoinc "
                                      "target.find_collisions ");
    assert_int_equal(seen.blocking, 1);
    runbook_free(rb);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(types_are_kept_and_find_their_drivers),
        T(the_runbook_and_the_registry_know_the_same_engines),
        T(every_driver_has_the_members_stages_call),
        T(a_member_left_out_is_reported_when_the_runbook_needs_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
