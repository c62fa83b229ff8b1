/* backup.c — online backup of the source, hashed and optionally encrypted. */
#include "stages/backup.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/events.h"
#include "orchestrator/log.h"
#include "orchestrator/runbook.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <sys/stat.h>

static int copy_file(const char *from, const char *to, struct co_err *err)
{
    char buf[1 << 16];
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wbx") : NULL;
    size_t n;
    int rc = 0;

    if (!in || !out)
        rc = co_errf(err, CO_EIO, "copying %s: %s", from, strerror(errno));
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = co_errf(err, CO_EIO, "writing %s: %s", to, strerror(errno));
    if (in)
        fclose(in);
    if (out && fclose(out) != 0 && rc == 0)
        rc = co_errf(err, CO_EIO, "writing %s: %s", to, strerror(errno));
    return rc;
}

int file_sha256(const char *path, char hex[65], struct co_err *err)
{
    unsigned char buf[1 << 16], md[32];
    unsigned int mdlen;
    EVP_MD_CTX *ctx;
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return co_errf(err, CO_EIO, "%s: %s", path, strerror(errno));
    ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(ctx, buf, n);
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    return 0;
}

/* Encrypted backups: "CUTOVERBK1" magic, a 12-byte random nonce, the
 * ciphertext, then the 16-byte GCM tag. The key is 64 hex digits from the
 * environment variable backup.encrypt_key_env names. */
#define MAGIC "CUTOVERBK1"
#define NONCE_LEN 12
#define TAG_LEN 16

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

/* Stream in → out through the cipher; returns 0 or CO_ECRYPTO/CO_EIO. */
static int crypt_stream(EVP_CIPHER_CTX *c, int enc, FILE *in, FILE *out,
                        size_t limit, struct co_err *err)
{
    unsigned char buf[1 << 16], obuf[(1 << 16) + 32];
    size_t left = limit;
    int n, olen;

    while (left > 0 && (n = (int)fread(buf, 1, left < sizeof buf ? left
                                                               : sizeof buf,
                                       in)) > 0) {
        left -= (size_t)n;
        if (!(enc ? EVP_EncryptUpdate(c, obuf, &olen, buf, n)
                  : EVP_DecryptUpdate(c, obuf, &olen, buf, n)))
            return co_errf(err, CO_ECRYPTO, "cipher update failed");
        if (fwrite(obuf, 1, (size_t)olen, out) != (size_t)olen)
            return co_errf(err, CO_EIO, "write: %s", strerror(errno));
    }
    return 0;
}

static int encrypt_file(const char *plain, const char *enc_path,
                        const unsigned char key[32], struct co_err *err)
{
    unsigned char nonce[NONCE_LEN], tag[TAG_LEN], fin[32];
    FILE *in = fopen(plain, "rb"), *out = fopen(enc_path, "wb");
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int olen, rc = 0;

    if (!in || !out || !c) {
        rc = co_errf(err, CO_EIO, "encrypting the backup: %s",
                     strerror(errno));
        goto out;
    }
    if (RAND_bytes(nonce, NONCE_LEN) != 1 ||
        !EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce)) {
        rc = co_errf(err, CO_ECRYPTO, "cannot start AES-256-GCM");
        goto out;
    }
    fwrite(MAGIC, 1, strlen(MAGIC), out);
    fwrite(nonce, 1, NONCE_LEN, out);
    if ((rc = crypt_stream(c, 1, in, out, SIZE_MAX, err)) < 0)
        goto out;
    if (!EVP_EncryptFinal_ex(c, fin, &olen) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag)) {
        rc = co_errf(err, CO_ECRYPTO, "AES-256-GCM finalization failed");
        goto out;
    }
    fwrite(tag, 1, TAG_LEN, out);
out:
    EVP_CIPHER_CTX_free(c);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0 && rc == 0)
        rc = co_errf(err, CO_EIO, "writing %s: %s", enc_path, strerror(errno));
    return rc;
}

static int decrypt_file(const char *enc_path, const char *plain,
                        const unsigned char key[32], struct co_err *err)
{
    unsigned char nonce[NONCE_LEN], tag[TAG_LEN], fin[32];
    char magic[16] = "";
    FILE *in = fopen(enc_path, "rb"), *out = NULL;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    long size;
    int olen, rc = 0;

    if (!in || fseek(in, 0, SEEK_END) < 0 || (size = ftell(in)) < 0 ||
        fseek(in, 0, SEEK_SET) < 0) {
        rc = co_errf(err, CO_EIO, "%s: %s", enc_path, strerror(errno));
        goto out;
    }
    if (size < (long)(strlen(MAGIC) + NONCE_LEN + TAG_LEN) ||
        fread(magic, 1, strlen(MAGIC), in) != strlen(MAGIC) ||
        memcmp(magic, MAGIC, strlen(MAGIC)) != 0 ||
        fread(nonce, 1, NONCE_LEN, in) != NONCE_LEN) {
        rc = co_errf(err, CO_ECRYPTO, "%s is not an encrypted cutover backup",
                     enc_path);
        goto out;
    }
    if (!(out = fopen(plain, "wbx"))) {
        rc = co_errf(err, CO_EIO, "%s: %s", plain, strerror(errno));
        goto out;
    }
    if (!EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce)) {
        rc = co_errf(err, CO_ECRYPTO, "cannot start AES-256-GCM");
        goto out;
    }
    rc = crypt_stream(c, 0, in, out, (size_t)size - strlen(MAGIC) - NONCE_LEN
                      - TAG_LEN, err);
    if (rc == 0 && (fread(tag, 1, TAG_LEN, in) != TAG_LEN ||
                    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                                         tag) ||
                    EVP_DecryptFinal_ex(c, fin, &olen) <= 0))
        rc = co_errf(err, CO_ECRYPTO, "the backup does not authenticate: "
                     "wrong key, or the file was damaged");
out:
    EVP_CIPHER_CTX_free(c);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    if (rc < 0 && out)
        unlink(plain);
    return rc;
}

int backup_take(const struct runbook *rb, const struct source_ops *sops,
                struct source *src, struct migration *m, struct co_err *err)
{
    char path[PATH_MAX], enc[PATH_MAX + 8], hex[65];
    unsigned char key[32];
    const char *name = "source-backup.sqlite3";
    double t0 = mono_s();
    int rc;

    snprintf(path, sizeof path, "%s/source-backup.sqlite3", rb->state_dir);
    if (rb->backup.encrypt_key_env && (rc = key_from_env(rb, key, err)) < 0)
        return rc;
    if ((rc = sops->backup(src, path, err)) < 0)
        return rc;
    chmod(path, 0600);
    /* The hash is of the plain database: a restore proves it got back
     * exactly what was backed up. */
    if ((rc = file_sha256(path, hex, err)) < 0)
        return rc;
    if (rb->backup.encrypt_key_env) {
        snprintf(enc, sizeof enc, "%s.enc", path);
        rc = encrypt_file(path, enc, key, err);
        OPENSSL_cleanse(key, sizeof key);
        unlink(path);
        if (rc < 0)
            return rc;
        chmod(enc, 0600);
        name = "source-backup.sqlite3.enc";
    }
    pthread_mutex_lock(&m->mu);
    snprintf(m->backup_file, sizeof m->backup_file, "%s", name);
    snprintf(m->backup_sha256, sizeof m->backup_sha256, "%s", hex);
    pthread_mutex_unlock(&m->mu);
    log_info("backup of the source: %s/%s (sha256 %.12s…, %.1f s%s)",
             rb->state_dir, name, hex, mono_s() - t0,
             rb->backup.encrypt_key_env ? ", AES-256-GCM" : "");
    events_emit("log", json_pack("{ss ss ss sb}", "level", "info", "message",
                                 "source backup taken", "sha256", hex,
                                 "encrypted", rb->backup.encrypt_key_env != NULL));
    return 0;
}

int backup_restore(const struct runbook *rb, json_t *cp, const char *dest,
                   struct co_err *err)
{
    json_t *b = json_object_get(cp, "backup");
    const char *file = json_string_value(json_object_get(b, "file"));
    const char *want = json_string_value(json_object_get(b, "sha256"));
    char path[PATH_MAX], tmp[PATH_MAX + 16], hex[65];
    unsigned char key[32];
    size_t flen;
    int rc;

    if (!file || !*file || !want)
        return co_errf(err, CO_ECHECKPOINT, "the checkpoint records no backup "
                       "(backup.enabled was false, or pre_validate did not "
                       "finish)");
    if (access(dest, F_OK) == 0)
        return co_errf(err, CO_EEXISTS, "%s already exists; restore into a "
                       "new path", dest);
    snprintf(path, sizeof path, "%s/%s", rb->state_dir, file);
    snprintf(tmp, sizeof tmp, "%s.restoring", dest);
    unlink(tmp);
    flen = strlen(file);
    if (flen > 4 && strcmp(file + flen - 4, ".enc") == 0) {
        if (!rb->backup.encrypt_key_env)
            return co_errf(err, CO_ECRYPTO, "the backup is encrypted; set "
                           "backup.encrypt_key_env in the runbook");
        if ((rc = key_from_env(rb, key, err)) < 0)
            return rc;
        rc = decrypt_file(path, tmp, key, err);
        OPENSSL_cleanse(key, sizeof key);
    } else {
        rc = copy_file(path, tmp, err);
    }
    if (rc == 0 && (rc = file_sha256(tmp, hex, err)) == 0 &&
        strcmp(hex, want) != 0)
        rc = co_errf(err, CO_EIO, "the restored database does not match the "
                     "SHA-256 recorded when the backup was taken");
    if (rc == 0 && rename(tmp, dest) < 0)
        rc = co_errf(err, CO_EIO, "%s: %s", dest, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    return rc;
}
