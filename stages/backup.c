/*
 * backup.c — the online backup of the source, hashed and optionally
 * encrypted, and its restore.
 *
 * An encrypted backup is sealed page by page as the source driver writes
 * it (sync/backup_seal.h): the database is never on disk in clear, not
 * even for a moment, not after a kill -9. Backups are written under a
 * ".partial" name and renamed once hashed, so a file with the final name
 * is always complete; what an interrupted run left is removed when the
 * next one starts (backup_remove_leftovers). Everything is created 0600.
 */
#include "stages/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/state_dir.h"
#include "lib/events.h"
#include "lib/faults.h"
#include "lib/log.h"
#include "lib/runbook.h"
#include "sync/backup_seal.h"

#define PARTIAL ".partial"

static int key_from_env(const struct runbook *rb, unsigned char key[32],
                        struct co_err *err)
{
    const char *hex = getenv(rb->backup.encrypt_key_env);

    if (!hex || strlen(hex) != 64)
        return co_errf(err, CO_ECRYPTO, "environment variable %s must hold "
                       "the 64-hex-digit backup key",
                       rb->backup.encrypt_key_env);
    for (int i = 0; i < 32; i++) {
        unsigned int b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return co_errf(err, CO_ECRYPTO, "%s is not hex",
                           rb->backup.encrypt_key_env);
        key[i] = (unsigned char)b;
    }
    return 0;
}

/* ---- hashing and copying the plain database ------------------------------ */

/* Where plain bytes go: a SHA-256, and a file when out >= 0. */
struct plain_sink {
    EVP_MD_CTX *md;
    int out;
    const char *out_name;
};

static int sink_bytes(void *arg, const void *p, size_t n, struct co_err *err)
{
    struct plain_sink *s = arg;
    const char *c = p;

    EVP_DigestUpdate(s->md, p, n);
    while (s->out >= 0 && n > 0) {
        ssize_t w = write(s->out, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return co_errf(err, CO_EIO, "writing %s: %s", s->out_name,
                           strerror(errno));
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static void sink_hex(struct plain_sink *s, char hex[65])
{
    unsigned char md[32];
    unsigned int len;

    EVP_DigestFinal_ex(s->md, md, &len);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
}

/* Feed a plain file to the sink. */
static int read_plain(int fd, struct plain_sink *s, struct co_err *err)
{
    unsigned char buf[1 << 16];
    ssize_t n;
    int rc;

    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return co_errf(err, CO_EIO, "reading the backup: %s",
                           strerror(errno));
        if ((rc = sink_bytes(s, buf, (size_t)n, err)) < 0)
            return rc;
    }
    return 0;
}

/* Backups written by cutover before pages were sealed one by one:
 * "CUTOVERBK1", a 12-byte nonce, one AES-256-GCM stream, a 16-byte tag.
 * Read only, so that such a backup can still be restored. */
#define STREAM_MAGIC "CUTOVERBK1"

static int read_stream(int fd, const unsigned char key[32],
                       struct plain_sink *s, struct co_err *err)
{
    unsigned char head[10 + 12], buf[1 << 16], out[(1 << 16) + 32], tag[16];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    struct stat st;
    off_t left;
    int n, rc = 0;

    if (!c || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof head + 16 ||
        pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        pread(fd, tag, 16, st.st_size - 16) != 16 ||
        !EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, head + 10)) {
        rc = co_errf(err, CO_ECRYPTO, "the backup cannot be read");
        goto out;
    }
    left = st.st_size - (off_t)sizeof head - 16;
    for (off_t at = sizeof head; left > 0 && rc == 0;) {
        ssize_t r = pread(fd, buf, left < (off_t)sizeof buf ? (size_t)left
                                                            : sizeof buf, at);
        if (r <= 0) {
            rc = co_errf(err, CO_EIO, "reading the backup: %s",
                         r < 0 ? strerror(errno) : "truncated");
            break;
        }
        at += r;
        left -= r;
        if (!EVP_DecryptUpdate(c, out, &n, buf, (int)r))
            rc = co_errf(err, CO_ECRYPTO, "cipher update failed");
        else
            rc = sink_bytes(s, out, (size_t)n, err);
    }
    if (rc == 0 && (!EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) ||
                    EVP_DecryptFinal_ex(c, out, &n) <= 0))
        rc = co_errf(err, CO_ECRYPTO, "the backup does not authenticate: "
                     "wrong key, or the file was damaged");
out:
    OPENSSL_cleanse(buf, sizeof buf);
    OPENSSL_cleanse(out, sizeof out);
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* The plain database of the backup file fd (sealed when key is given) to
 * the sink. */
static int read_backup(int fd, const unsigned char *key, struct plain_sink *s,
                       struct co_err *err)
{
    char magic[10] = "";

    if (!key)
        return read_plain(fd, s, err);
    if (pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
        memcmp(magic, STREAM_MAGIC, sizeof magic) == 0)
        return read_stream(fd, key, s, err);
    return seal_read_all(fd, key, sink_bytes, s, err);
}

/* ---- taking the backup ---------------------------------------------------- */

void backup_remove_leftovers(const char *state_dir, const char *keep)
{
    static const char *const names[] = {
        BACKUP_PLAIN, BACKUP_SEALED, BACKUP_PLAIN PARTIAL,
        BACKUP_SEALED PARTIAL, BACKUP_PLAIN "-journal",
        BACKUP_PLAIN PARTIAL "-journal", NULL};
    struct co_err err = {0};

    for (int i = 0; names[i]; i++) {
        if (keep && strcmp(keep, names[i]) == 0)
            continue;
        if (state_file_exists(state_dir, names[i]) &&
            state_file_remove(state_dir, names[i], &err) == 0)
            log_info("removed %s/%s, left by an interrupted run", state_dir,
                     names[i]);
    }
}

int backup_take(const struct runbook *rb, const struct source_ops *sops,
                struct source *src, struct migration *m, struct co_err *err)
{
    const int sealed = rb->backup.encrypt_key_env != NULL;
    const char *name = sealed ? BACKUP_SEALED : BACKUP_PLAIN;
    char partial[64], path[PATH_MAX], hex[65];
    unsigned char key[32];
    struct plain_sink hash = {.out = -1};
    double t0 = mono_s();
    int fd, rc;

    snprintf(partial, sizeof partial, "%s" PARTIAL, name);
    if (!sops->backup)
        return co_errf(err, CO_EUNSUPPORTED, "the %s source driver cannot "
                       "take a backup; set backup.enabled to false",
                       sops->name);
    snprintf(path, sizeof path, "%s/%s", rb->state_dir, partial);
    if (sealed && (rc = key_from_env(rb, key, err)) < 0)
        return rc;
    /* Made here, empty and private: the driver fills it. */
    if ((rc = state_file_remove(rb->state_dir, partial, err)) < 0 ||
        (fd = rc = state_file_open(rb->state_dir, partial,
                                   O_WRONLY | O_CREAT | O_EXCL, err)) < 0)
        goto out;
    close(fd);
    if ((rc = sops->backup(src, path, sealed ? key : NULL, err)) < 0)
        goto out;
    fault_point("backup", "written");
    /* The hash is of the plain database: a restore proves it got back
     * exactly what was backed up. */
    if ((fd = rc = state_file_open(rb->state_dir, partial, O_RDONLY,
                                   err)) < 0)
        goto out;
    hash.md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(hash.md, EVP_sha256(), NULL);
    rc = read_backup(fd, sealed ? key : NULL, &hash, err);
    close(fd);
    sink_hex(&hash, hex);
    if (rc == 0)
        rc = state_file_rename(rb->state_dir, partial, name, err);
out:
    EVP_MD_CTX_free(hash.md);
    OPENSSL_cleanse(key, sizeof key);
    if (rc < 0) {
        state_file_remove(rb->state_dir, partial, NULL);
        return co_err_prefix(err, "backup of the source");
    }
    pthread_mutex_lock(&m->mu);
    snprintf(m->backup_file, sizeof m->backup_file, "%s", name);
    snprintf(m->backup_sha256, sizeof m->backup_sha256, "%s", hex);
    pthread_mutex_unlock(&m->mu);
    log_info("backup of the source: %s/%s (sha256 %.12s…, %.1f s%s)",
             rb->state_dir, name, hex, mono_s() - t0,
             sealed ? ", AES-256-GCM" : "");
    events_emit(EVT_LOG, json_pack("{ss ss ss sb}", "level", "info", "message",
                                 "source backup taken", "sha256", hex,
                                 "encrypted", sealed));
    return 0;
}

/* ---- restoring it ----------------------------------------------------------- */

int backup_restore(const struct runbook *rb, json_t *cp, const char *dest,
                   struct co_err *err)
{
    json_t *b = json_object_get(cp, "backup");
    const char *file = json_string_value(json_object_get(b, "file"));
    const char *want = json_string_value(json_object_get(b, "sha256"));
    const int sealed = file && strcmp(file, BACKUP_SEALED) == 0;
    char tmp[PATH_MAX], hex[65];
    unsigned char key[32];
    struct plain_sink out = {.out = -1, .out_name = tmp};
    struct stat st;
    int in = -1, rc;

    if (!file || !*file || !want)
        return co_errf(err, CO_ECHECKPOINT, "the checkpoint records no backup "
                       "(backup.enabled was false, or pre_validate did not "
                       "finish)");
    if (!state_backup_name_valid(file))
        return co_errf(err, CO_ECHECKPOINT, "the checkpoint's backup.file "
                       "\"%s\" is not a backup cutover writes", file);
    if (lstat(dest, &st) == 0)
        return co_errf(err, CO_EEXISTS, "%s already exists; restore into a "
                       "new path", dest);
    if (sealed && !rb->backup.encrypt_key_env)
        return co_errf(err, CO_ECRYPTO, "the backup is encrypted; set "
                       "backup.encrypt_key_env in the runbook");
    if (sealed && (rc = key_from_env(rb, key, err)) < 0)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.restoring", dest);
    unlink(tmp);
    if ((rc = in = state_file_open(rb->state_dir, file, O_RDONLY, err)) < 0)
        goto out;
    out.out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0600);
    if (out.out < 0) {
        rc = co_errf(err, CO_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    out.md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(out.md, EVP_sha256(), NULL);
    rc = read_backup(in, sealed ? key : NULL, &out, err);
    sink_hex(&out, hex);
    if (rc == 0 && strcmp(hex, want) != 0)
        rc = co_errf(err, CO_EIO, "the restored database does not match the "
                     "SHA-256 recorded when the backup was taken");
    if (rc == 0 && fsync(out.out) < 0)
        rc = co_errf(err, CO_EIO, "%s: %s", tmp, strerror(errno));
    /* Never over a file that appeared meanwhile. */
    if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dest,
                             RENAME_NOREPLACE) < 0)
        rc = co_errf(err, CO_EIO, "%s: %s", dest, strerror(errno));
out:
    OPENSSL_cleanse(key, sizeof key);
    EVP_MD_CTX_free(out.md);
    if (in >= 0)
        close(in);
    if (out.out >= 0)
        close(out.out);
    if (rc < 0 && out.out >= 0)
        unlink(tmp);
    return rc;
}
