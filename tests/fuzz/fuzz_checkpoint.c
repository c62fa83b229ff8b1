/*
 * fuzz_checkpoint.c — checkpoints/checkpoint.c and the model's reader in
 * checkpoints/migration.c: checkpoint_parse() on arbitrary bytes, and each
 * body it accepts read by migration_from_json() into fresh models.
 *
 * A fuzzer almost never produces a matching SHA-256, so on its own it would
 * stop at the hash check. Each input that is a JSON object is therefore
 * also signed here the way checkpoint_write() does (its format; sha256 of the
 * compact, sorted, ASCII dump without "sha256"; written indented) and
 * parsed again: that must succeed (a checkpoint we wrote must read back),
 * and it lets the fuzzer's mutations reach the model's reader.
 *
 * The model is read twice, once with an empty source schema (only the
 * table-less paths and the validation errors run) and once with one table
 * shaped like the seeds' ("orders": id BIGINT key, total DECIMAL(12,2)),
 * as tests/unit/test_migration.c builds it. A model that loaded must write
 * back (migration_to_json), as every later transition does.
 *
 * The runbook is parsed once; its identity (source, target, collation,
 * schema mode) is the one the seed checkpoints carry.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoints/checkpoint.h"
#include "checkpoints/migration.h"
#include "lib/runbook.h"
#include "sync/drivers/registry.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/lib/orders_schema.h"

/* Identity: source /fuzz/shop.sqlite3, target /fuzz/mysqld.sock/shop. */
static const char runbook_text[] =
    "{\"version\":1,\"name\":\"fuzz\",\"state_dir\":\"state\","
    "\"source\":{\"type\":\"sqlite\",\"path\":\"shop.sqlite3\"},"
    "\"target\":{\"type\":\"mysql\",\"socket\":\"mysqld.sock\","
    "\"database\":\"shop\"}}";

#define DUMP_FLAGS                                                            \
    (JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17))

static struct runbook *fuzz_rb;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct co_err err = {0};

    (void)argc;
    (void)argv;
    fuzz_init_common();
    if (runbook_parse(runbook_text, strlen(runbook_text), "/fuzz", &fuzz_rb,
                      &err) != 0) {
        fprintf(stderr, "fuzz_checkpoint: fixed runbook refused: %s\n",
                err.msg);
        abort();
    }
    return 0;
}

/* Read `body` into a fresh model; a model that loaded must write back. */
static void load_model(json_t *body, int with_table)
{
    struct migration *m = migration_new(fuzz_rb);
    struct co_err err = {0};
    int rc;

    if (with_table) {
        struct schema sc = orders_schema("total", 1);
        if (migration_set_schema(m, &sc) != 0)
            abort();
    }
    /* format 1 bodies fill their logical types as `cutover resume` does */
    m->logical_of_type = driver_target("mysql")->logical_of_type;
    rc = migration_from_json(m, body, &err);
    if (rc == 0) {
        json_t *again = migration_to_json(m);
        if (!again) {
            fprintf(stderr, "fuzz_checkpoint: a model read from a checkpoint "
                    "cannot be written back (migration_to_json NULL)\n");
            abort();
        }
        json_decref(again);
    } else if (rc != err.code || !err.msg[0]) {
        abort();
    }
    migration_free(m);
}

static void load_models(json_t *body)
{
    load_model(body, 0);
    load_model(body, 1);
}

/* The text checkpoint_write() would produce for `obj`, or NULL. */
static char *signed_text(json_t *obj)
{
    unsigned char md[32];
    unsigned int mdlen;
    char hex[65], *canon, *text;

    json_object_set_new(obj, "format", json_integer(CHECKPOINT_FORMAT));
    json_object_del(obj, "sha256");
    canon = json_dumps(obj, JSON_COMPACT | DUMP_FLAGS);
    if (!canon)
        return NULL;
    EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL);
    free(canon);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    json_object_set_new(obj, "sha256", json_string(hex));
    text = json_dumps(obj, JSON_INDENT(1) | DUMP_FLAGS);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct co_err err = {0};
    json_error_t jerr;
    json_t *body = NULL, *obj;
    char *text;
    int rc;

    /* The bytes as they are: every rejection, and seeds that carry a good
     * hash. */
    rc = checkpoint_parse((const char *)data, size, "fuzz input", &body, &err);
    if (rc == 0) {
        load_models(body);
        json_decref(body);
    } else if (body || rc != err.code || !err.msg[0]) {
        abort();
    }

    /* The same content, signed. */
    obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return 0;
    }
    text = signed_text(obj);
    json_decref(obj);
    if (!text)
        return 0;
    memset(&err, 0, sizeof err);
    if (checkpoint_parse(text, strlen(text), "signed fuzz input", &body,
                         &err) != 0) {
        fprintf(stderr, "fuzz_checkpoint: a correctly signed checkpoint was "
                "refused: %s\n", err.msg);
        abort();
    }
    free(text);
    load_models(body);
    json_decref(body);
    return 0;
}
