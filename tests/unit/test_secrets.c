/*
 * test_secrets.c — lib/secrets.c: redaction of registered
 * secrets in text and in JSON before it is serialized, URLs as messages
 * show them, and the variables children never inherit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/secrets.h"
#include "tests/unit/unit_util.h"

static int reset(void **state)
{
    (void)state;
    secret_clear();
    return 0;
}

static void redact_text(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in);
    redact(out, cap);
}

static void every_occurrence_is_replaced(void **state)
{
    char buf[256];

    (void)state;
    secret_add("hunter22");
    redact_text("pw hunter22, again hunter22hunter22.", buf, sizeof buf);
    assert_string_equal(buf, "pw ***, again ******.");
}

/* The replacement is never scanned again: a password that is "***" (or
 * holds it) leaves the text as it is instead of looping forever. */
static void a_secret_equal_to_the_replacement_terminates(void **state)
{
    char buf[256];

    (void)state;
    secret_add("***");
    secret_add("x***");
    redact_text("value *** and x*** and ****", buf, sizeof buf);
    assert_string_equal(buf, "value *** and *** and ****");
}

static void secrets_shorter_than_three_bytes_are_not_redacted(void **state)
{
    char buf[64];

    (void)state;
    secret_add("ab");
    redact_text("abc ab", buf, sizeof buf);
    assert_string_equal(buf, "abc ab");
}

/* In JSON the secret is looked for in the values, not in their escaped
 * serialized form (a quote or a backslash in a password would hide it
 * there), and the document stays valid. */
static void json_strings_are_redacted_before_serialization(void **state)
{
    json_t *j;
    char *text;

    (void)state;
    secret_add("pa\"ss\\wd");
    j = json_pack("{ss s[s{ss}] s{si}}", "message", "login pa\"ss\\wd failed",
                  "list", "pa\"ss\\wd", "k", "no secret here",
                  "pa\"ss\\wd-key", "n", 1);
    redact_json(j);
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"***-key\":{\"n\":1},\"list\":[\"***\",{\"k\":"
                              "\"no secret here\"}],\"message\":\"login *** "
                              "failed\"}");
    free(text);
    json_decref(j);
}

struct url_case {
    const char *url;
    int flags;
    const char *shown;
};

static const struct url_case url_cases[] = {
    {"https://hooks.example.org/health", 0, "https://hooks.example.org/health"},
    {"https://user:pw@h.example:8443/p?token=abc#frag", 0,
     "https://***@h.example:8443/p?***#***"},
    {"http://127.0.0.1:9/services/T0/B1/secretpath", URL_HIDE_PATH,
     "http://127.0.0.1:9/***"},
    {"http://127.0.0.1:9/", URL_HIDE_PATH, "http://127.0.0.1:9/"},
    {"http://h/a@b?x=1", 0, "http://h/a@b?***"},
    {"http://u@h", 0, "http://***@h"},
};

static void urls_are_shown_without_their_secrets(void **state)
{
    char out[256];

    (void)state;
    for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
        url_for_message(url_cases[i].url, url_cases[i].flags, out, sizeof out);
        assert_string_equal(out, url_cases[i].shown);
    }
}

static void url_credentials_and_query_become_secrets(void **state)
{
    char buf[256];

    (void)state;
    secret_add_url("https://deploy:Url-pw-77@ci.example/hook?sig=Qs-99x");
    redact_text("curl: deploy:Url-pw-77 / Url-pw-77 / sig=Qs-99x", buf,
                sizeof buf);
    assert_string_equal(buf, "curl: *** / *** / ***");
}

static void secret_variables_are_recognized_by_name(void **state)
{
    (void)state;
    secret_env_add("DB_PW");
    assert_true(secret_env_entry("DB_PW=x"));
    assert_true(secret_env_entry("DB_PW="));
    assert_false(secret_env_entry("DB_PW2=x"));
    assert_false(secret_env_entry("DB_P=x"));
    assert_false(secret_env_entry("PATH=/bin"));
}

#define T(f) cmocka_unit_test_setup(f, reset)
static const struct CMUnitTest tests[] = {
    T(every_occurrence_is_replaced),
    T(a_secret_equal_to_the_replacement_terminates),
    T(secrets_shorter_than_three_bytes_are_not_redacted),
    T(json_strings_are_redacted_before_serialization),
    T(urls_are_shown_without_their_secrets),
    T(url_credentials_and_query_become_secrets),
    T(secret_variables_are_recognized_by_name),
};

int main(void)
{
    return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
