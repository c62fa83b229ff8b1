/*
 * sealed.c — a SQLite VFS whose database files are sealed page by
 * page (sync/backup_seal.h): the destination of an encrypted backup.
 *
 * SQLite writes a database file in whole pages at page-aligned offsets;
 * each page written here is sealed on its way to the file and opened on
 * its way back, so the backup API can write pages in any order (its cache
 * spills pages as it pleases) and the disk only ever sees ciphertext. It wraps the default VFS for everything
 * else (locks, sync, names). Only main database files open through it:
 * the backup's destination runs with journal_mode OFF, so no journal, WAL
 * or temp file (which would hold plain pages) is ever needed, and asking
 * for one fails. No shared memory: a sealed file is never in WAL mode.
 */
#include "sync/drivers/sqlite/sqlite_priv.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "sync/backup_seal.h"

struct sealed_vfs {
    sqlite3_vfs vfs;            /* first: SQLite sees this */
    sqlite3_vfs *real;
    unsigned char key[32];
    char name[48];
};

struct sealed_file {
    sqlite3_file base;          /* first: pMethods */
    sqlite3_file *real;         /* the default VFS's file, right after us */
    struct seal seal;
    unsigned char *record;      /* one sealed page */
    unsigned char *plain;       /* one plain page */
};

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct sealed_file *)f)->real;
}

static int sf_buffers(struct sealed_file *f)
{
    if (f->record)
        return SQLITE_OK;
    f->record = xmalloc(f->seal.page_size + SEAL_OVERHEAD);
    f->plain = xmalloc(f->seal.page_size);
    return f->record && f->plain ? SQLITE_OK : SQLITE_NOMEM;
}

static int sf_close(sqlite3_file *file)
{
    struct sealed_file *f = (struct sealed_file *)file;
    int rc = f->real->pMethods->xClose(f->real);

    if (f->plain)
        OPENSSL_cleanse(f->plain, f->seal.page_size);
    OPENSSL_cleanse(f->seal.key, sizeof f->seal.key);
    free(f->plain);
    free(f->record);
    f->plain = f->record = NULL;
    return rc;
}

/* A page never written, between pages that were (the cache spills pages
 * in any order): zeros on disk, which SQLite would have read as zeros. */
static int is_hole(const unsigned char *record, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (record[i])
            return 0;
    return 1;
}

static int sf_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    struct sealed_file *f = (struct sealed_file *)file;
    uint32_t size = f->seal.page_size;
    sqlite3_int64 i, within;
    int rc;

    if (size == 0) {                   /* nothing written yet */
        memset(buf, 0, (size_t)amt);
        return SQLITE_IOERR_SHORT_READ;
    }
    i = off / size;
    within = off % size;
    if (within + amt > size)
        return SQLITE_IOERR_READ;      /* SQLite reads within one page */
    if ((rc = sf_buffers(f)) != SQLITE_OK)
        return rc;
    rc = f->real->pMethods->xRead(f->real, f->record,
                                  (int)(size + SEAL_OVERHEAD),
                                  (sqlite3_int64)seal_offset(&f->seal,
                                                             (uint64_t)i));
    if (rc == SQLITE_IOERR_SHORT_READ) {
        memset(buf, 0, (size_t)amt);
        return rc;
    }
    if (rc != SQLITE_OK)
        return rc;
    if (is_hole(f->record, size + SEAL_OVERHEAD))
        memset(f->plain, 0, size);
    else if (seal_open_page(&f->seal, (uint64_t)i, f->record, f->plain) < 0)
        return SQLITE_IOERR_READ;
    memcpy(buf, f->plain + within, (size_t)amt);
    return SQLITE_OK;
}

static int sf_write(sqlite3_file *file, const void *buf, int amt,
                    sqlite3_int64 off)
{
    struct sealed_file *f = (struct sealed_file *)file;
    unsigned char header[SEAL_HEADER];
    sqlite3_int64 i;
    int rc;

    if (f->seal.page_size == 0) {      /* the first page fixes the size */
        if (amt < 512 || amt > SEAL_MAX_PAGE || (amt & (amt - 1)) ||
            seal_start(&f->seal, (uint32_t)amt) < 0)
            return SQLITE_IOERR_WRITE;
        seal_header(&f->seal, header);
        rc = f->real->pMethods->xWrite(f->real, header, SEAL_HEADER, 0);
        if (rc != SQLITE_OK)
            return rc;
    }
    if ((uint32_t)amt != f->seal.page_size || off % amt != 0)
        return SQLITE_IOERR_WRITE;     /* whole pages only */
    if ((rc = sf_buffers(f)) != SQLITE_OK)
        return rc;
    i = off / amt;
    if (seal_page(&f->seal, (uint64_t)i, buf, f->record) < 0)
        return SQLITE_IOERR_WRITE;
    return f->real->pMethods->xWrite(f->real, f->record,
                                     amt + SEAL_OVERHEAD,
                                     (sqlite3_int64)seal_offset(&f->seal,
                                                                (uint64_t)i));
}

static int sf_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct sealed_file *f = (struct sealed_file *)file;

    if (f->seal.page_size == 0 || size == 0)
        return f->real->pMethods->xTruncate(f->real, size ? SEAL_HEADER : 0);
    return f->real->pMethods->xTruncate(
        f->real, (sqlite3_int64)seal_offset(&f->seal, (uint64_t)(
                     (size + f->seal.page_size - 1) / f->seal.page_size)));
}

static int sf_sync(sqlite3_file *file, int flags)
{
    return real_of(file)->pMethods->xSync(real_of(file), flags);
}

static int sf_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    struct sealed_file *f = (struct sealed_file *)file;
    sqlite3_int64 real;
    int rc = f->real->pMethods->xFileSize(f->real, &real);

    *size = 0;
    if (rc == SQLITE_OK && f->seal.page_size && real > SEAL_HEADER)
        *size = (real - SEAL_HEADER) /
                (f->seal.page_size + SEAL_OVERHEAD) * f->seal.page_size;
    return rc;
}

static int sf_lock(sqlite3_file *file, int level)
{
    return real_of(file)->pMethods->xLock(real_of(file), level);
}

static int sf_unlock(sqlite3_file *file, int level)
{
    return real_of(file)->pMethods->xUnlock(real_of(file), level);
}

static int sf_check_reserved(sqlite3_file *file, int *out)
{
    return real_of(file)->pMethods->xCheckReservedLock(real_of(file), out);
}

static int sf_file_control(sqlite3_file *file, int op, void *arg)
{
    (void)file;
    (void)op;
    (void)arg;
    return SQLITE_NOTFOUND;
}

static int sf_sector_size(sqlite3_file *file)
{
    return real_of(file)->pMethods->xSectorSize(real_of(file));
}

static int sf_device_characteristics(sqlite3_file *file)
{
    (void)file;
    return 0;
}

static const sqlite3_io_methods sealed_io = {
    .iVersion = 1,
    .xClose = sf_close,
    .xRead = sf_read,
    .xWrite = sf_write,
    .xTruncate = sf_truncate,
    .xSync = sf_sync,
    .xFileSize = sf_file_size,
    .xLock = sf_lock,
    .xUnlock = sf_unlock,
    .xCheckReservedLock = sf_check_reserved,
    .xFileControl = sf_file_control,
    .xSectorSize = sf_sector_size,
    .xDeviceCharacteristics = sf_device_characteristics,
};

static sqlite3_vfs *real_vfs(sqlite3_vfs *vfs)
{
    return ((struct sealed_vfs *)vfs)->real;
}

static int sv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                   int flags, int *out_flags)
{
    struct sealed_vfs *sv = (struct sealed_vfs *)vfs;
    struct sealed_file *f = (struct sealed_file *)file;
    unsigned char header[SEAL_HEADER];
    int rc;

    memset(f, 0, sizeof *f);
    if (!(flags & SQLITE_OPEN_MAIN_DB))
        return SQLITE_CANTOPEN;        /* a journal would hold plain pages */
    f->real = (sqlite3_file *)&f[1];
    rc = sv->real->xOpen(sv->real, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK)
        return rc;
    memcpy(f->seal.key, sv->key, sizeof sv->key);
    /* An existing file tells its page size and id. */
    if (f->real->pMethods->xRead(f->real, header, SEAL_HEADER, 0) ==
            SQLITE_OK &&
        seal_parse_header(&f->seal, header) < 0) {
        f->real->pMethods->xClose(f->real);
        return SQLITE_NOTADB;
    }
    f->base.pMethods = &sealed_io;
    return SQLITE_OK;
}

static int sv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}

static int sv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}

static int sv_full_pathname(sqlite3_vfs *vfs, const char *name, int n,
                            char *out)
{
    return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}

static int sv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
}

static int sv_sleep(sqlite3_vfs *vfs, int us)
{
    return real_vfs(vfs)->xSleep(real_vfs(vfs), us);
}

static int sv_current_time(sqlite3_vfs *vfs, double *out)
{
    return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
}

static int sv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out);
}

const char *sqlite_sealed_register(const unsigned char key[32])
{
    static int serial;
    struct sealed_vfs *sv = xcalloc(1, sizeof *sv);
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);

    if (!sv || !real) {
        free(sv);
        return NULL;
    }
    sv->real = real;
    memcpy(sv->key, key, sizeof sv->key);
    snprintf(sv->name, sizeof sv->name, "cutover-sealed-%d",
             __atomic_add_fetch(&serial, 1, __ATOMIC_SEQ_CST));
    sv->vfs = (sqlite3_vfs){
        .iVersion = 1,
        .szOsFile = (int)sizeof(struct sealed_file) + real->szOsFile,
        .mxPathname = real->mxPathname,
        .zName = sv->name,
        .pAppData = sv,
        .xOpen = sv_open,
        .xDelete = sv_delete,
        .xAccess = sv_access,
        .xFullPathname = sv_full_pathname,
        .xRandomness = sv_randomness,
        .xSleep = sv_sleep,
        .xCurrentTime = sv_current_time,
        .xGetLastError = sv_last_error,
    };
    if (sqlite3_vfs_register(&sv->vfs, 0) != SQLITE_OK) {
        OPENSSL_cleanse(sv->key, sizeof sv->key);
        free(sv);
        return NULL;
    }
    return sv->name;
}

void sqlite_sealed_unregister(const char *name)
{
    sqlite3_vfs *vfs = name ? sqlite3_vfs_find(name) : NULL;
    struct sealed_vfs *sv;

    if (!vfs)
        return;
    sv = (struct sealed_vfs *)vfs;
    sqlite3_vfs_unregister(vfs);
    OPENSSL_cleanse(sv->key, sizeof sv->key);
    free(sv);
}
