/* checkpoint.c — atomic, self-checking checkpoint files. */
#include "checkpoints/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/faults.h"
#include "orchestrator/log.h"

/* System calls go through these wrappers so tests can make any of them
 * fail (CUTOVER_FAULT_IO) the way a full disk or a dying device would. */
static ssize_t io_write(int fd, const void *p, size_t n)
{
    int e = fault_io("write");
    if (e) {
        errno = e;
        return -1;
    }
    return write(fd, p, n);
}

static int io_fsync(int fd)
{
    int e = fault_io("fsync");
    if (e) {
        errno = e;
        return -1;
    }
    return fsync(fd);
}

static int io_rename(const char *from, const char *to)
{
    int e = fault_io("rename");
    if (e) {
        errno = e;
        return -1;
    }
    return rename(from, to);
}

static int fsync_dir_of(const char *path)
{
    char buf[PATH_MAX];
    int fd, rc;

    snprintf(buf, sizeof buf, "%s", path);
    fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = io_fsync(fd);
    close(fd);
    return rc;
}

int atomic_write_file(const char *path, const void *data, size_t len,
                      struct co_err *err)
{
    char tmp[PATH_MAX];
    const char *p = data;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (unlink(tmp) < 0 && errno != ENOENT)
        return co_errf(err, CO_EIO, "%s: cannot remove stale temp file: %s",
                       tmp, strerror(errno));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return co_errf(err, CO_EIO, "%s: %s", tmp, strerror(errno));
    while (len > 0) {
        ssize_t n = io_write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return co_errf(err, CO_EIO, "writing %s: %s (the previous file "
                           "is intact)", tmp, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    if (io_fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return co_errf(err, CO_EIO, "fsync %s: %s (the previous file is "
                       "intact)", tmp, strerror(e));
    }
    close(fd);
    fault_point("checkpoint", "before_rename");
    if (io_rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return co_errf(err, CO_EIO, "rename %s: %s (the previous file is "
                       "intact)", tmp, strerror(e));
    }
    /* The rename already made the new file the current one; failing here
     * would make the caller believe the old one still is. A directory that
     * cannot be synced only weakens durability across a power loss. */
    if (fsync_dir_of(path) < 0)
        log_warn("fsync of the directory of %s (the file is written; it may "
                 "not survive a power loss)", path);
    return 0;
}

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
    char path[PATH_MAX], hex[65];
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
    snprintf(path, sizeof path, "%s/%s", state_dir, CHECKPOINT_FILE);
    size_t len = strlen(text);
    text[len] = '\0';
    char *withnl = realloc(text, len + 2);
    if (!withnl) {
        free(text);
        return co_errf(err, CO_ENOMEM, "out of memory");
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    rc = atomic_write_file(path, withnl, len + 1, err);
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
    if (json_integer_value(fmt) != CHECKPOINT_FORMAT) {
        long long f = (long long)json_integer_value(fmt);
        json_decref(root);
        return co_errf(err, CO_ECHECKPOINT, "%s has format %lld; this "
                       "cutover reads format %d (use the cutover version that "
                       "wrote it)", what, f, CHECKPOINT_FORMAT);
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
    FILE *f;
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    int rc;

    *body = NULL;
    snprintf(path, sizeof path, "%s/%s", state_dir, CHECKPOINT_FILE);
    f = fopen(path, "rb");
    if (!f)
        return co_errf(err, CO_ECHECKPOINT, "checkpoint %s: %s", path,
                       strerror(errno));
    do {
        if (len == cap) {
            char *grown = realloc(text, cap + 65536);
            if (!grown) {
                free(text);
                fclose(f);
                return co_errf(err, CO_ENOMEM, "out of memory");
            }
            text = grown;
            cap += 65536;
        }
        n = fread(text + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    char what[PATH_MAX + 16];
    snprintf(what, sizeof what, "checkpoint %s", path);
    rc = checkpoint_parse(text, len, what, body, err);
    free(text);
    return rc;
}

int checkpoint_exists(const char *state_dir)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", state_dir, CHECKPOINT_FILE);
    return stat(path, &st) == 0;
}

int state_dir_create(const char *state_dir, struct co_err *err)
{
    char buf[PATH_MAX];

    snprintf(buf, sizeof buf, "%s", state_dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return co_errf(err, CO_EIO, "state dir %s: %s", buf,
                           strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return co_errf(err, CO_EIO, "state dir %s: %s", buf, strerror(errno));
    return 0;
}
