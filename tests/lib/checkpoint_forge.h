/*
 * checkpoint_forge.h — write a checkpoint file of any format with a correct
 * SHA-256 (as checkpoints/checkpoint.c computes it), so a test can stand for
 * a file an older or a future cutover wrote. Header-only: the unit tests
 * and the checkpoint-format1 tool include it.
 */
#ifndef CO_CHECKPOINT_FORGE_H
#define CO_CHECKPOINT_FORGE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    FILE *f;
    int rc;

    json_object_set_new(copy, "format", json_integer(format));
    ut_canonical_hash(copy, hex);
    json_object_set_new(copy, "sha256", json_string(hex));
    text = json_dumps(copy, JSON_INDENT(1) | JSON_SORT_KEYS |
                                JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_decref(copy);
    if (!text || !(f = fopen(path, "w"))) {
        free(text);
        return -1;
    }
    rc = fprintf(f, "%s\n", text) < 0;          /* as checkpoint_write does */
    rc |= fclose(f) != 0;
    free(text);
    return rc ? -1 : 0;
}

#endif
