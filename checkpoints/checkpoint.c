/* checkpoint.c — atomic, self-checking checkpoint files. */
#include "checkpoints/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/file_read.h"
#include "lib/xalloc.h"

/* SHA-256 of the canonical compact dump of body without "sha256". */
static int body_hash(json_t *body, char hex[65])
{
    json_t *copy = json_copy(body);
    unsigned char md[32];
    unsigned int mdlen;
    char *text;

    json_object_del(copy, "sha256");
    text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS |
                                JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_decref(copy);
    if (!text)
        return -1;
    EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
    free(text);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    return 0;
}

int checkpoint_write(const char *state_dir, json_t *body, struct co_err *err)
{
    char hex[65];
    char *text;
    int rc;

    json_object_set_new(body, "format", json_integer(CHECKPOINT_FORMAT));
    if (body_hash(body, hex) < 0)
        return co_errf(err, CO_ENOMEM, "cannot serialize the checkpoint");
    json_object_set_new(body, "sha256", json_string(hex));
    text = json_dumps(body, JSON_INDENT(1) | JSON_SORT_KEYS |
                                JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_object_del(body, "sha256");
    if (!text)
        return co_errf(err, CO_ENOMEM, "cannot serialize the checkpoint");
    size_t len = strlen(text);
    text[len] = '\0';
    char *withnl = xrealloc(text, len + 2);
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    rc = state_file_write(state_dir, CHECKPOINT_FILE, withnl, len + 1, err);
    free(withnl);
    if (rc < 0)
        co_err_prefix(err, "checkpoint");
    return rc;
}

int checkpoint_parse(const char *text, size_t len, const char *what,
                     json_t **body, struct co_err *err)
{
    json_error_t jerr;
    json_t *root, *fmt, *sum;
    char hex[65];

    *body = NULL;
    if (len == 0)
        return co_errf(err, CO_ECHECKPOINT, "%s is empty (truncated by a "
                       "failed write?); it cannot be resumed from", what);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return co_errf(err, CO_ECHECKPOINT, "%s is truncated or not JSON "
                       "(line %d, column %d: %s); refusing to guess the "
                       "migration's state", what, jerr.line, jerr.column,
                       jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return co_errf(err, CO_ECHECKPOINT, "%s is not a JSON object", what);
    }
    fmt = json_object_get(root, "format");
    if (!json_is_integer(fmt)) {
        json_decref(root);
        return co_errf(err, CO_ECHECKPOINT, "%s has no \"format\" field: "
                       "not a cutover checkpoint", what);
    }
    if (json_integer_value(fmt) < CHECKPOINT_FORMAT_OLDEST ||
        json_integer_value(fmt) > CHECKPOINT_FORMAT) {
        long long f = (long long)json_integer_value(fmt);
        json_decref(root);
        return co_errf(err, CO_ECHECKPOINT, "%s has format %lld; this "
                       "cutover reads formats %d to %d (%s)", what, f,
                       CHECKPOINT_FORMAT_OLDEST, CHECKPOINT_FORMAT,
                       f > CHECKPOINT_FORMAT
                           ? "a newer cutover wrote it: use that version"
                           : "not a format any cutover wrote");
    }
    sum = json_object_get(root, "sha256");
    if (!json_is_string(sum)) {
        json_decref(root);
        return co_errf(err, CO_ECHECKPOINT, "%s has no \"sha256\" field",
                       what);
    }
    if (body_hash(root, hex) < 0 || strcmp(hex, json_string_value(sum))) {
        json_decref(root);
        return co_errf(err, CO_ECHECKPOINT, "%s fails its SHA-256 check: the "
                       "content was modified or damaged after it was written",
                       what);
    }
    json_object_del(root, "sha256");
    *body = root;
    return 0;
}

int checkpoint_read(const char *state_dir, json_t **body, struct co_err *err)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    struct co_err why = {0};
    int rc, dfd, fd;

    *body = NULL;
    snprintf(path, sizeof path, "%s/%s", state_dir, CHECKPOINT_FILE);
    if ((dfd = state_dir_open(state_dir, &why)) < 0 &&
        access(state_dir, F_OK) < 0)     /* no state dir: no checkpoint */
        return co_errf(err, CO_ECHECKPOINT, "checkpoint %s: %s", path,
                       strerror(ENOENT));
    if (dfd < 0)
        return co_errf(err, CO_ECHECKPOINT, "checkpoint: %s", why.msg);
    fd = state_file_openat(dfd, state_dir, CHECKPOINT_FILE, O_RDONLY, &why);
    close(dfd);
    if (fd < 0)
        return co_errf(err, CO_ECHECKPOINT, "checkpoint %s", why.msg);
    rc = file_read_fd(fd, 0, &text, &len);
    close(fd);
    if (rc < 0)
        return co_errf(err, rc == -ENOMEM ? CO_ENOMEM : CO_ECHECKPOINT,
                       "checkpoint %s: %s", path, strerror(-rc));
    char what[PATH_MAX + 16];
    snprintf(what, sizeof what, "checkpoint %s", path);
    rc = checkpoint_parse(text, len, what, body, err);
    free(text);
    return rc;
}

int checkpoint_exists(const char *state_dir)
{
    return state_file_exists(state_dir, CHECKPOINT_FILE);
}
