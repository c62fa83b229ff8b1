/*
 * checkpoint_fixtures.h — the golden checkpoint files of tests/unit/files:
 * install one as a state dir's checkpoint, and write one of any format
 * with a correct SHA-256 (as checkpoints/checkpoint.c computes it), so a
 * fixture can stand for a file an older or a future cutover wrote.
 * Header-only like unit_util.h.
 */
#ifndef CO_CHECKPOINT_FIXTURES_H
#define CO_CHECKPOINT_FIXTURES_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoints/checkpoint.h"
#include "tests/unit/unit_util.h"

/* Copy fixture `name` to dir/checkpoint.json; 0 or -1 (no such fixture). */
static inline int ut_install_fixture(const char *dir, const char *name)
{
    char *fdir = ut_fixture_dir(), *src = ut_path(fdir, name),
         *dst = ut_path(dir, CHECKPOINT_FILE), *data;
    size_t len;
    int rc = -1;

    if ((data = ut_read_file(src, &len)))
        rc = ut_write_file(dst, data, len);
    free(data);
    free(src);
    free(dst);
    free(fdir);
    return rc;
}

/* SHA-256 (hex) of the canonical compact form of body. */
static inline void ut_canonical_hash(json_t *body, char hex[65])
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS |
                                      JSON_ENSURE_ASCII |
                                      JSON_REAL_PRECISION(17));
    unsigned char md[32];
    unsigned int mdlen;

    EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    free(text);
}

/* Write body (without "sha256") as format `format` to path, laid out as
 * checkpoint_write lays it out. 0 or -1. */
static inline int ut_checkpoint_forge(json_t *body, int format,
                                      const char *path)
{
    json_t *copy = json_deep_copy(body);
    char hex[65], *text;
    size_t len;
    int rc;

    json_object_set_new(copy, "format", json_integer(format));
    ut_canonical_hash(copy, hex);
    json_object_set_new(copy, "sha256", json_string(hex));
    text = json_dumps(copy, JSON_INDENT(1) | JSON_SORT_KEYS |
                                JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_decref(copy);
    if (!text)
        return -1;
    len = strlen(text);
    text = realloc(text, len + 2);
    memcpy(text + len, "\n", 2);               /* as checkpoint_write does */
    rc = ut_write_file(path, text, len + 1);
    free(text);
    return rc;
}

#endif
