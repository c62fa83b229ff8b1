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

int backup_take(const struct runbook *rb, const struct source_ops *sops,
                struct source *src, struct migration *m, struct co_err *err)
{
    char path[PATH_MAX], hex[65];
    double t0 = mono_s();
    int rc;

    snprintf(path, sizeof path, "%s/source-backup.sqlite3", rb->state_dir);
    if ((rc = sops->backup(src, path, err)) < 0)
        return rc;
    if ((rc = file_sha256(path, hex, err)) < 0)
        return rc;
    pthread_mutex_lock(&m->mu);
    snprintf(m->backup_file, sizeof m->backup_file, "source-backup.sqlite3");
    snprintf(m->backup_sha256, sizeof m->backup_sha256, "%s", hex);
    pthread_mutex_unlock(&m->mu);
    log_info("backup of the source: %s (sha256 %.12s…, %.1f s)", path, hex,
             mono_s() - t0);
    events_emit("log", json_pack("{ss ss ss}", "level", "info", "message",
                                 "source backup taken", "sha256", hex));
    return 0;
}

int backup_restore(const struct runbook *rb, json_t *cp, const char *dest,
                   struct co_err *err)
{
    json_t *b = json_object_get(cp, "backup");
    const char *file = json_string_value(json_object_get(b, "file"));
    const char *want = json_string_value(json_object_get(b, "sha256"));
    char path[PATH_MAX], hex[65], cmd[PATH_MAX * 2];
    int rc;

    if (!file || !*file || !want)
        return co_errf(err, CO_ECHECKPOINT, "the checkpoint records no backup "
                       "(backup.enabled was false, or pre_validate did not "
                       "finish)");
    snprintf(path, sizeof path, "%s/%s", rb->state_dir, file);
    if ((rc = file_sha256(path, hex, err)) < 0)
        return rc;
    if (strcmp(hex, want) != 0)
        return co_errf(err, CO_EIO, "backup %s does not match its recorded "
                       "SHA-256: it was modified or damaged", path);
    if (access(dest, F_OK) == 0)
        return co_errf(err, CO_EEXISTS, "%s already exists; restore into a "
                       "new path", dest);
    FILE *in = fopen(path, "rb"), *out = fopen(dest, "wbx");
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return co_errf(err, CO_EIO, "restoring to %s: %s", dest,
                       strerror(errno));
    }
    size_t n;
    while ((n = fread(cmd, 1, sizeof cmd, in)) > 0)
        if (fwrite(cmd, 1, n, out) != n) {
            fclose(in);
            fclose(out);
            return co_errf(err, CO_EIO, "writing %s: %s", dest,
                           strerror(errno));
        }
    fclose(in);
    if (fclose(out) != 0)
        return co_errf(err, CO_EIO, "writing %s: %s", dest, strerror(errno));
    return 0;
}
