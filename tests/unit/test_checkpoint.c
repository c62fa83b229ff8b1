/*
 * test_checkpoint.c — checkpoints/checkpoint.c and checkpoints/lock.c: the
 * checkpoint file store (DESIGN §8) and the state dir lock (§4).
 *
 * Fixtures in tests/unit/files/ (golden and deliberately corrupt files, as
 * mosquitto keeps them) were made once by this program:
 *     build/tests/test_checkpoint --write-fixtures tests/unit/files
 * checkpoint_good.json          written by checkpoint_write (format 2)
 * checkpoint_truncated.json     its first half (a torn write)
 * checkpoint_bad_hash.json      one value changed after writing
 * checkpoint_wrong_version.json format 7 with a correct hash (a future
 *                               cutover's file)
 * checkpoint_format1.json       written by checkpoint_write of format 1
 *                               (before logical types); never regenerated
 *
 * I/O failures are injected with CUTOVER_FAULT_IO, whose call counters are
 * per process: each case runs checkpoint_write in a fresh child, so "the
 * 1st fsync" means the 1st fsync of that write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sys/wait.h>

#include "checkpoints/checkpoint.h"
#include "checkpoints/lock.h"
#include "tests/unit/checkpoint_fixtures.h"
#include "tests/unit/unit_util.h"

/* ---- helpers ------------------------------------------------------------ */

/* What the golden fixture holds (before "format"/"sha256" are added). */
static json_t *golden_body(void)
{
    return json_pack(
        "{ss ss sb s[{ss s[s] s[{s[i] sI sb}] sI}] s{ss si} sf ss}",
        "state", "sync", "resume_state", "sync", "switched", 0, "tables",
        "name", "orders", "key", "id", "ranges", "frontier", 42, "rows",
        (json_int_t)42, "done", 0, "applied_seq", (json_int_t)7, "cutover",
        "step", "ready", "attempt", 0, "started_at", 1700000000.5, "note",
        "golden fixture: caf\xc3\xa9");
}

/* Copy fixture `name` to dir/checkpoint.json. */
static void install_fixture(const char *dir, const char *name)
{
    if (ut_install_fixture(dir, name) < 0)
        fail_msg("fixture %s is missing or cannot be copied", name);
}

static void expect_parse_error(const char *text, size_t len,
                               const char *prefix)
{
    struct co_err err = {0};
    json_t *body = (json_t *)1;

    assert_int_equal(checkpoint_parse(text, len, "test-input", &body, &err),
                     CO_ECHECKPOINT);
    assert_null(body);
    assert_int_equal(err.code, CO_ECHECKPOINT);
    assert_prefix(err.msg, prefix);
}

/* Read dir's checkpoint; must fail with CO_ECHECKPOINT whose message is
 * "checkpoint DIR/checkpoint.json " + rest. */
static void expect_read_error(const char *dir, const char *rest)
{
    struct co_err err = {0};
    json_t *body = (json_t *)1;
    char *want;

    assert_int_equal(checkpoint_read(dir, &body, &err), CO_ECHECKPOINT);
    assert_null(body);
    assert_true(asprintf(&want, "checkpoint %s/%s %s", dir, CHECKPOINT_FILE,
                         rest) > 0);
    assert_prefix(err.msg, want);
    free(want);
}

/* Read dir's checkpoint; must succeed and equal `want` + `format`. */
static void expect_checkpoint_format(const char *dir, json_t *want,
                                     int format)
{
    struct co_err err = {0};
    json_t *body = NULL, *expected = json_deep_copy(want);
    char *a, *b;

    if (checkpoint_read(dir, &body, &err) != 0)
        fail_msg("checkpoint_read: %s", err.msg);
    json_object_set_new(expected, "format", json_integer(format));
    json_object_del(expected, "sha256");
    assert_null(json_object_get(body, "sha256"));
    if (!json_equal(body, expected)) {
        a = json_dumps(body, JSON_SORT_KEYS);
        b = json_dumps(expected, JSON_SORT_KEYS);
        fail_msg("checkpoint read back as\n  %s\nexpected\n  %s", a, b);
    }
    json_decref(body);
    json_decref(expected);
}

static void expect_checkpoint(const char *dir, json_t *want)
{
    expect_checkpoint_format(dir, want, CHECKPOINT_FORMAT);
}

static void write_ok(const char *dir, json_t *body)
{
    struct co_err err = {0};

    if (checkpoint_write(dir, body, &err) != 0)
        fail_msg("checkpoint_write: %s", err.msg);
}

/* ---- round trip --------------------------------------------------------- */

static void write_then_read_returns_the_same_object(void **state)
{
    char *dir = ut_tempdir(), *path, *text;
    json_t *body = json_pack(
        "{ss si sI sf sf sb sn s[i s] s{s{ss}} ss}", "state", "bulk_copy",
        "small", -3, "big", (json_int_t)9007199254740993LL, "tenth", 0.1,
        "huge", 1e300, "flag", 1, "nothing", "list", 1, "two", "nested",
        "deep", "k", "v", "unicode", "\xe2\x82\xac \xf0\x9f\x98\x80");
    json_t *want = json_deep_copy(body);

    (void)state;
    write_ok(dir, body);
    expect_checkpoint(dir, want);

    /* On disk: the hash is there, 64 hex digits, and the file ends with a
     * newline; the caller's object has no "sha256" left in it. */
    path = ut_path(dir, CHECKPOINT_FILE);
    text = ut_read_file(path, NULL);
    assert_non_null(text);
    assert_contains(text, "\"sha256\": \"");
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_null(json_object_get(body, "sha256"));
    assert_int_equal(json_integer_value(json_object_get(body, "format")),
                     CHECKPOINT_FORMAT);
    free(text);
    free(path);
    path = ut_path(dir, CHECKPOINT_FILE ".tmp");
    assert_false(ut_exists(path));
    free(path);
    json_decref(body);
    json_decref(want);
    ut_rmtree(dir);
}

static void write_replaces_a_stale_temp_file(void **state)
{
    char *dir = ut_tempdir(), *tmp;
    json_t *body = json_pack("{ss}", "state", "sync");

    (void)state;
    tmp = ut_path(dir, CHECKPOINT_FILE ".tmp");
    assert_int_equal(ut_write_file(tmp, "{half", 5), 0);
    write_ok(dir, body);
    assert_false(ut_exists(tmp));
    expect_checkpoint(dir, body);
    free(tmp);
    json_decref(body);
    ut_rmtree(dir);
}

static void missing_checkpoint_is_reported_not_treated_as_new(void **state)
{
    char *dir = ut_tempdir();
    struct co_err err = {0};
    json_t *body = (json_t *)1;
    char *want;

    (void)state;
    assert_false(checkpoint_exists(dir));
    assert_int_equal(checkpoint_read(dir, &body, &err), CO_ECHECKPOINT);
    assert_null(body);
    assert_true(asprintf(&want, "checkpoint %s/%s: No such file or "
                                "directory", dir, CHECKPOINT_FILE) > 0);
    assert_string_equal(err.msg, want);
    free(want);
    ut_rmtree(dir);
}

/* ---- checkpoint_parse on corrupt bytes ---------------------------------- */

static void parse_refuses_empty_input(void **state)
{
    (void)state;
    expect_parse_error("", 0, "test-input is empty (truncated by a failed "
                              "write?); it cannot be resumed from");
}

static void parse_refuses_truncated_json(void **state)
{
    static const char text[] = "{\"format\": 1, \"state\": \"sy";

    (void)state;
    expect_parse_error(text, strlen(text),
                       "test-input is truncated or not JSON (line 1, column ");
}

static void parse_refuses_a_value_that_is_not_an_object(void **state)
{
    (void)state;
    expect_parse_error("[1, 2]", 6, "test-input is not a JSON object");
}

static void parse_refuses_a_missing_format(void **state)
{
    static const char text[] = "{\"state\": \"sync\", \"sha256\": \"00\"}";

    (void)state;
    expect_parse_error(text, strlen(text), "test-input has no \"format\" "
                                           "field: not a cutover checkpoint");
}

static void parse_refuses_format_7(void **state)
{
    static const char text[] = "{\"format\": 7, \"sha256\": \"00\"}";

    (void)state;
    expect_parse_error(text, strlen(text), "test-input has format 7; this "
                                           "cutover reads formats 1 to 2 (a "
                                           "newer cutover wrote it: use that "
                                           "version)");
}

static void parse_refuses_format_0(void **state)
{
    static const char text[] = "{\"format\": 0, \"sha256\": \"00\"}";

    (void)state;
    expect_parse_error(text, strlen(text), "test-input has format 0; this "
                                           "cutover reads formats 1 to 2 (not "
                                           "a format any cutover wrote)");
}

static void parse_refuses_a_missing_sha256(void **state)
{
    static const char text[] = "{\"format\": 1, \"state\": \"sync\"}";

    (void)state;
    expect_parse_error(text, strlen(text),
                       "test-input has no \"sha256\" field");
}

static void parse_refuses_a_body_modified_after_writing(void **state)
{
    char *dir = ut_tempdir(), *path, *text, *at;
    json_t *body = json_pack("{ss sI}", "state", "sync", "rows",
                             (json_int_t)41);
    size_t len;

    (void)state;
    write_ok(dir, body);
    path = ut_path(dir, CHECKPOINT_FILE);
    text = ut_read_file(path, &len);
    at = strstr(text, "41");
    assert_non_null(at);
    at[1] = '2';                       /* rows: 41 → 42 */
    expect_parse_error(text, len, "test-input fails its SHA-256 check: the "
                                  "content was modified or damaged after it "
                                  "was written");
    free(text);
    free(path);
    json_decref(body);
    ut_rmtree(dir);
}

/* ---- the committed fixtures --------------------------------------------- */

static void golden_fixture_reads_back(void **state)
{
    char *dir = ut_tempdir();
    json_t *want = golden_body();

    (void)state;
    install_fixture(dir, "checkpoint_good.json");
    expect_checkpoint(dir, want);
    json_decref(want);
    ut_rmtree(dir);
}

/* A file the previous format's writer made is still read, as it is (the
 * migration model fills in what format 1 did not keep). */
static void format1_fixture_reads_back(void **state)
{
    char *dir = ut_tempdir();
    json_t *want = golden_body();

    (void)state;
    install_fixture(dir, "checkpoint_format1.json");
    expect_checkpoint_format(dir, want, 1);
    json_decref(want);
    ut_rmtree(dir);
}

static void truncated_fixture_is_refused(void **state)
{
    char *dir = ut_tempdir();

    (void)state;
    install_fixture(dir, "checkpoint_truncated.json");
    expect_read_error(dir, "is truncated or not JSON (line ");
    ut_rmtree(dir);
}

static void bad_hash_fixture_is_refused(void **state)
{
    char *dir = ut_tempdir();

    (void)state;
    install_fixture(dir, "checkpoint_bad_hash.json");
    expect_read_error(dir, "fails its SHA-256 check");
    ut_rmtree(dir);
}

static void wrong_version_fixture_is_refused(void **state)
{
    char *dir = ut_tempdir();

    (void)state;
    install_fixture(dir, "checkpoint_wrong_version.json");
    expect_read_error(dir, "has format 7; this cutover reads formats 1 to 2 "
                           "(a newer cutover wrote it: use that version)");
    ut_rmtree(dir);
}

/* ---- atomic write under injected I/O failure ---------------------------- */

struct fault_case {
    const char *spec;       /* CUTOVER_FAULT_IO */
    const char *step;       /* expected after "checkpoint: " */
    const char *reason;     /* strerror of the injected errno */
};

/* Run checkpoint_write(dir, body) in a child with CUTOVER_FAULT_IO=spec;
 * returns its rc and message. */
static int write_in_child(const char *dir, json_t *body, const char *spec,
                          char *msg, size_t cap)
{
    int fds[2], status, rc = 0;
    pid_t pid;
    ssize_t n;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct co_err err = {0};
        close(fds[0]);
        setenv("CUTOVER_FAULT_IO", spec, 1);
        rc = checkpoint_write(dir, body, &err);
        if (write(fds[1], &rc, sizeof rc) != sizeof rc ||
            write(fds[1], err.msg, strlen(err.msg) + 1) < 0)
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &rc, sizeof rc), sizeof rc);
    n = read(fds[0], msg, cap - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return rc;
}

static void failed_write_keeps_the_previous_checkpoint(
    const struct fault_case *fc)
{
    char *dir = ut_tempdir(), *tmp, msg[1024], *want;
    json_t *before = json_pack("{ss sI}", "state", "sync", "rows",
                               (json_int_t)1);
    json_t *after = json_pack("{ss sI}", "state", "verify", "rows",
                              (json_int_t)2);

    write_ok(dir, before);
    assert_int_equal(write_in_child(dir, after, fc->spec, msg, sizeof msg),
                     CO_EIO);
    assert_true(asprintf(&want, "checkpoint: %s", fc->step) > 0);
    assert_prefix(msg, want);
    assert_contains(msg, fc->reason);
    assert_contains(msg, "(the previous file is intact)");
    expect_checkpoint(dir, before);
    tmp = ut_path(dir, CHECKPOINT_FILE ".tmp");
    assert_false(ut_exists(tmp));
    free(tmp);
    free(want);
    json_decref(before);
    json_decref(after);
    ut_rmtree(dir);
}

static void fsync_enospc_keeps_the_previous_checkpoint(void **state)
{
    static const struct fault_case fc = {"fsync:1:ENOSPC", "fsync ",
                                         "No space left on device"};
    (void)state;
    failed_write_keeps_the_previous_checkpoint(&fc);
}

static void write_enospc_keeps_the_previous_checkpoint(void **state)
{
    static const struct fault_case fc = {"write:1:ENOSPC", "writing ",
                                         "No space left on device"};
    (void)state;
    failed_write_keeps_the_previous_checkpoint(&fc);
}

static void rename_eio_keeps_the_previous_checkpoint(void **state)
{
    static const struct fault_case fc = {"rename:1:EIO", "rename ",
                                         "Input/output error"};
    (void)state;
    failed_write_keeps_the_previous_checkpoint(&fc);
}

/* The 2nd fsync is the directory's, after the rename: it is reported, and
 * whatever is on disk is a complete, valid checkpoint (old or new). */
/* After the rename the new file is the current one: a directory that
 * cannot be fsynced only weakens durability, so the write succeeds (with a
 * warning) and reads back as the new state, never the old one. */
static void directory_fsync_failure_keeps_the_new_file_current(void **state)
{
    char *dir = ut_tempdir(), msg[1024];
    json_t *before = json_pack("{ss}", "state", "sync");
    json_t *after = json_pack("{ss}", "state", "verify");
    json_t *body = NULL;
    struct co_err err = {0};

    (void)state;
    write_ok(dir, before);
    assert_int_equal(write_in_child(dir, after, "fsync:2:EIO", msg,
                                    sizeof msg), 0);
    assert_int_equal(checkpoint_read(dir, &body, &err), 0);
    assert_string_equal(json_string_value(json_object_get(body, "state")),
                        "verify");
    json_decref(body);
    json_decref(before);
    json_decref(after);
    ut_rmtree(dir);
}

/* ---- state dir ---------------------------------------------------------- */

static void state_dir_create_makes_parents_private(void **state)
{
    char *dir = ut_tempdir(), *deep;
    struct co_err err = {0};
    struct stat st;

    (void)state;
    deep = ut_path(dir, "a/b/c");
    assert_int_equal(state_dir_create(deep, &err), 0);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(state_dir_create(deep, &err), 0);   /* exists: fine */
    free(deep);
    ut_rmtree(dir);
}

static void second_lock_on_a_state_dir_fails_naming_the_holder(void **state)
{
    char *dir = ut_tempdir(), pid[32], *lockfile, *text;
    struct co_err err = {0};
    int first, second, third;

    (void)state;
    first = state_dir_lock(dir, &err);
    assert_true(first >= 0);
    lockfile = ut_path(dir, "lock");
    text = ut_read_file(lockfile, NULL);
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    assert_string_equal(text, pid);

    second = state_dir_lock(dir, &err);
    assert_int_equal(second, CO_ELOCKED);
    assert_int_equal(err.code, CO_ELOCKED);
    snprintf(pid, sizeof pid, "(pid %ld)", (long)getpid());
    assert_contains(err.msg, pid);
    assert_contains(err.msg, dir);

    close(first);
    third = state_dir_lock(dir, &err);
    assert_true(third >= 0);
    close(third);
    free(text);
    free(lockfile);
    ut_rmtree(dir);
}

/* ---- fixture generator -------------------------------------------------- */

static int write_fixtures(const char *out)
{
    char *good = ut_path(out, "checkpoint_good.json"), *text, *at;
    char *path;
    size_t len;
    struct co_err err = {0};
    json_t *body = golden_body(), *future;

    if (checkpoint_write(out, body, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    path = ut_path(out, CHECKPOINT_FILE);
    if (rename(path, good) < 0 || chmod(good, 0644) < 0)
        return 1;
    free(path);
    text = ut_read_file(good, &len);

    path = ut_path(out, "checkpoint_truncated.json");
    ut_write_file(path, text, len / 2);
    free(path);

    at = strstr(text, "\"rows\": 42");
    at[9] = '3';                                  /* 42 → 43 */
    path = ut_path(out, "checkpoint_bad_hash.json");
    ut_write_file(path, text, len);
    free(path);
    free(text);

    future = golden_body();
    path = ut_path(out, "checkpoint_wrong_version.json");
    ut_checkpoint_forge(future, 7, path);
    free(path);
    free(good);
    json_decref(body);
    json_decref(future);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_then_read_returns_the_same_object),
        cmocka_unit_test(write_replaces_a_stale_temp_file),
        cmocka_unit_test(missing_checkpoint_is_reported_not_treated_as_new),
        cmocka_unit_test(parse_refuses_empty_input),
        cmocka_unit_test(parse_refuses_truncated_json),
        cmocka_unit_test(parse_refuses_a_value_that_is_not_an_object),
        cmocka_unit_test(parse_refuses_a_missing_format),
        cmocka_unit_test(parse_refuses_format_7),
        cmocka_unit_test(parse_refuses_format_0),
        cmocka_unit_test(parse_refuses_a_missing_sha256),
        cmocka_unit_test(parse_refuses_a_body_modified_after_writing),
        cmocka_unit_test(golden_fixture_reads_back),
        cmocka_unit_test(format1_fixture_reads_back),
        cmocka_unit_test(truncated_fixture_is_refused),
        cmocka_unit_test(bad_hash_fixture_is_refused),
        cmocka_unit_test(wrong_version_fixture_is_refused),
        cmocka_unit_test(fsync_enospc_keeps_the_previous_checkpoint),
        cmocka_unit_test(write_enospc_keeps_the_previous_checkpoint),
        cmocka_unit_test(rename_eio_keeps_the_previous_checkpoint),
        cmocka_unit_test(
            directory_fsync_failure_keeps_the_new_file_current),
        cmocka_unit_test(state_dir_create_makes_parents_private),
        cmocka_unit_test(second_lock_on_a_state_dir_fails_naming_the_holder),
    };

    if (argc == 3 && strcmp(argv[1], "--write-fixtures") == 0)
        return write_fixtures(argv[2]);
    unsetenv("CUTOVER_FAULT_IO");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
