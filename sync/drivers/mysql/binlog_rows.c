/*
 * binlog_rows.c — WRITE/UPDATE/DELETE_ROWS events: the header (table id,
 * flags, v2 extra data, width, column bitmaps), MariaDB's compressed row
 * data (zlib), and the walk over the row images, decoding the columns the
 * caller asked for and skipping the others.
 *
 * A row image: a NULL bitmap with one bit per column present in the image
 * (the event's columns bitmap: all columns with binlog_row_image=FULL,
 * fewer with MINIMAL or NOBLOB), then the values of the present, non-NULL
 * columns in column order. An UPDATE row is a before image (first bitmap)
 * followed by an after image (second bitmap).
 */
#include "sync/drivers/mysql/binlog_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/xalloc.h"

/* Same limit as the table map. */
#define MAX_COLUMNS 4096
/* Largest row data a server writes (max_allowed_packet is at most 1 GiB). */
#define MAX_INFLATED ((size_t)1 << 30)

int binlog_is_rows_event(int t)
{
    return (t >= BINLOG_WRITE_ROWS_V1 && t <= BINLOG_DELETE_ROWS_V1) ||
           (t >= BINLOG_WRITE_ROWS && t <= BINLOG_DELETE_ROWS) ||
           (t >= BINLOG_WRITE_ROWS_COMPRESSED_V1 &&
            t <= BINLOG_DELETE_ROWS_COMPRESSED);
}

const char *binlog_event_name(int t)
{
    switch (t) {
    case BINLOG_TABLE_MAP: return "TABLE_MAP";
    case BINLOG_WRITE_ROWS_V1: return "WRITE_ROWS_V1";
    case BINLOG_UPDATE_ROWS_V1: return "UPDATE_ROWS_V1";
    case BINLOG_DELETE_ROWS_V1: return "DELETE_ROWS_V1";
    case BINLOG_WRITE_ROWS: return "WRITE_ROWS";
    case BINLOG_UPDATE_ROWS: return "UPDATE_ROWS";
    case BINLOG_DELETE_ROWS: return "DELETE_ROWS";
    case BINLOG_WRITE_ROWS_COMPRESSED_V1: return "WRITE_ROWS_COMPRESSED_V1";
    case BINLOG_UPDATE_ROWS_COMPRESSED_V1: return "UPDATE_ROWS_COMPRESSED_V1";
    case BINLOG_DELETE_ROWS_COMPRESSED_V1: return "DELETE_ROWS_COMPRESSED_V1";
    case BINLOG_WRITE_ROWS_COMPRESSED: return "WRITE_ROWS_COMPRESSED";
    case BINLOG_UPDATE_ROWS_COMPRESSED: return "UPDATE_ROWS_COMPRESSED";
    case BINLOG_DELETE_ROWS_COMPRESSED: return "DELETE_ROWS_COMPRESSED";
    }
    return "UNKNOWN";
}

static int is_v2(int t)
{
    return (t >= BINLOG_WRITE_ROWS && t <= BINLOG_DELETE_ROWS) ||
           t >= BINLOG_WRITE_ROWS_COMPRESSED;
}

static int is_compressed(int t)
{
    return t >= BINLOG_WRITE_ROWS_COMPRESSED_V1;
}

static enum binlog_rows_kind kind_of(int t)
{
    switch (t) {
    case BINLOG_UPDATE_ROWS_V1: case BINLOG_UPDATE_ROWS:
    case BINLOG_UPDATE_ROWS_COMPRESSED_V1: case BINLOG_UPDATE_ROWS_COMPRESSED:
        return BINLOG_ROWS_UPDATE;
    case BINLOG_DELETE_ROWS_V1: case BINLOG_DELETE_ROWS:
    case BINLOG_DELETE_ROWS_COMPRESSED_V1: case BINLOG_DELETE_ROWS_COMPRESSED:
        return BINLOG_ROWS_DELETE;
    }
    return BINLOG_ROWS_WRITE;
}

/* The event's name and table for messages. */
static const char *event_label(const struct binlog_rows *r, char *buf,
                               size_t cap)
{
    snprintf(buf, cap, "%s (table id %llu)", binlog_event_name(r->event_type),
             (unsigned long long)r->table_id);
    return buf;
}

/* MariaDB's compressed rows: a header byte (0x80 | bytes of the length),
 * the uncompressed length big-endian, then a zlib stream. */
static int inflate_rows(struct binlog_rows *r, struct blr_cur *c,
                        struct co_err *err)
{
    const unsigned char *h, *lenp;
    size_t in_len;
    uLongf out_len;
    uint64_t want;
    int rc, zrc;

    if ((rc = blr_take(c, 1, "compression header", &h, err)))
        return rc;
    if (!(*h & 0x80) || (*h & 0x07) < 1 || (*h & 0x07) > 4) {
        c->p--;
        return blr_fail(err, c, "compression header 0x%02x", *h);
    }
    if ((rc = blr_take(c, *h & 0x07, "uncompressed length", &lenp, err)))
        return rc;
    want = blr_be(lenp, *h & 0x07);
    in_len = blr_left(c);
    /* zlib cannot expand more than about 1032:1: a larger claim is a lie
     * (and must not make us allocate it). */
    if (want == 0 || want > MAX_INFLATED || want / 1032 > in_len + 1)
        return blr_fail(err, c, "%llu bytes of rows from %zu compressed",
                        (unsigned long long)want, in_len);
    r->inflated = xmalloc((size_t)want);
    out_len = (uLongf)want;
    zrc = uncompress(r->inflated, &out_len, c->p, (uLong)in_len);
    if (zrc != Z_OK || out_len != want)
        return blr_fail(err, c, "compressed rows do not inflate to %llu "
                        "bytes (zlib: %s)", (unsigned long long)want,
                        zrc == Z_OK ? "shorter" : zError(zrc));
    r->rows = r->pos = r->inflated;
    r->end = r->inflated + want;
    r->rows_offset = 0;
    return 0;
}

/* Bits set among the first n of bitmap bm (least significant first). */
static unsigned count_bits(const unsigned char *bm, unsigned n)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++)
        k += (bm[i / 8] >> (i % 8)) & 1;
    return k;
}

int binlog_rows_open(struct binlog_rows *r, int event_type,
                     const unsigned char *body, size_t len,
                     struct co_err *err)
{
    struct blr_cur c = {0};
    char label[96];
    const unsigned char *extra;
    uint64_t v, width;
    int rc;

    memset(r, 0, sizeof *r);
    r->event_type = event_type;
    r->kind = kind_of(event_type);
    r->body = body;
    r->body_len = len;
    c.base = c.p = body;
    c.end = body + len;
    c.event = binlog_event_name(event_type);
    c.where = "";
    if (!binlog_is_rows_event(event_type))
        return co_errf(err, CO_EPROTOCOL, "binlog event type %d is not a "
                       "rows event", event_type);
    if ((rc = blr_uint(&c, 6, "table id", &r->table_id, err)) ||
        (rc = blr_uint(&c, 2, "flags", &v, err)))
        return rc;
    r->flags = (uint16_t)v;
    c.event = event_label(r, label, sizeof label);
    if (is_v2(event_type)) {
        /* The length counts its own two bytes. */
        if ((rc = blr_uint(&c, 2, "extra data length", &v, err)))
            return rc;
        if (v < 2)
            return blr_fail(err, &c, "extra data length %llu",
                            (unsigned long long)v);
        if ((rc = blr_take(&c, (size_t)v - 2, "extra data", &extra, err)))
            return rc;
    }
    if ((rc = blr_packed(&c, "column count", &width, err)))
        return rc;
    if (width == 0 || width > MAX_COLUMNS)
        return blr_fail(err, &c, "%llu columns", (unsigned long long)width);
    r->ncols = (unsigned)width;
    if ((rc = blr_take(&c, (r->ncols + 7) / 8, "columns bitmap",
                       &r->present[0], err)))
        return rc;
    r->present[1] = r->present[0];
    if (r->kind == BINLOG_ROWS_UPDATE &&
        (rc = blr_take(&c, (r->ncols + 7) / 8, "update columns bitmap",
                       &r->present[1], err)))
        return rc;
    /* An image without columns takes no bytes: rows of them would never
     * end. Servers always log at least one column. */
    if (!count_bits(r->present[0], r->ncols) ||
        !count_bits(r->present[1], r->ncols))
        return blr_fail(err, &c, "an image of no columns");
    if (is_compressed(event_type)) {
        if ((rc = inflate_rows(r, &c, err))) {
            binlog_rows_close(r);
            return rc;
        }
        return 0;
    }
    r->rows = r->pos = c.p;
    r->end = c.end;
    r->rows_offset = blr_offset(&c);
    return 0;
}

static void new_image(struct binlog_image *im, int present, unsigned n)
{
    im->present = present;
    im->v = xcalloc(n ? n : 1, sizeof *im->v);
    im->has = xcalloc(n ? n : 1, 1);
}

int binlog_rows_bind(struct binlog_rows *r, const struct binlog_table_map *map,
                     const unsigned *want, unsigned nwant,
                     struct co_err *err)
{
    char label[96];
    int rc;

    event_label(r, label, sizeof label);
    if (map->table_id != r->table_id || map->ncols != r->ncols)
        return co_errf(err, CO_EPROTOCOL, "binlog event %s: %u columns, but "
                       "the table map of table id %llu (%.*s.%.*s) has %u",
                       label, r->ncols, (unsigned long long)map->table_id,
                       (int)map->schema.n, (const char *)map->schema.p,
                       (int)map->table.n, (const char *)map->table.p,
                       map->ncols);
    r->map = map;
    r->nwant = nwant;
    r->want_slot = xmalloc(r->ncols * sizeof *r->want_slot);
    r->bufs = xcalloc(2 * (size_t)nwant + 1, sizeof *r->bufs);
    for (unsigned i = 0; i < r->ncols; i++)
        r->want_slot[i] = -1;
    for (unsigned k = 0; k < nwant; k++) {
        if (want[k] >= r->ncols)
            return co_errf(err, CO_ESCHEMA, "binlog event %s: column %u asked "
                           "of a table of %u", label, want[k] + 1, r->ncols);
        if ((rc = binlog_value_decodable(&map->cols[want[k]], want[k], err))) {
            co_err_prefix(err, "binlog event %s: table %.*s.%.*s", label,
                          (int)map->schema.n, (const char *)map->schema.p,
                          (int)map->table.n, (const char *)map->table.p);
            return rc;
        }
        r->want_slot[want[k]] = (int)k;
    }
    new_image(&r->before, r->kind != BINLOG_ROWS_WRITE, nwant);
    new_image(&r->after, r->kind != BINLOG_ROWS_DELETE, nwant);
    return 0;
}

/* One image at c: its NULL bitmap over the present columns, then values. */
static int read_image(struct binlog_rows *r, struct blr_cur *c,
                      const unsigned char *present, struct binlog_image *im,
                      struct binlog_buf *bufs, struct co_err *err)
{
    const unsigned char *nulls;
    unsigned n_present = count_bits(present, r->ncols), k = 0;
    int rc;

    if ((rc = blr_take(c, (n_present + 7) / 8, "NULL bitmap", &nulls, err)))
        return rc;
    for (unsigned i = 0; i < r->nwant; i++) {
        im->has[i] = 0;
        memset(&im->v[i], 0, sizeof im->v[i]);
    }
    for (unsigned i = 0; i < r->ncols; i++) {
        const struct binlog_column *col = &r->map->cols[i];
        int slot = r->want_slot[i];
        struct value *out = slot >= 0 ? &im->v[slot] : NULL;

        if (!((present[i / 8] >> (i % 8)) & 1))
            continue;
        if (slot >= 0)
            im->has[slot] = 1;
        if ((nulls[k / 8] >> (k % 8)) & 1) {
            k++;
            continue;               /* V_NULL, zeroed above */
        }
        k++;
        rc = binlog_value_walk(col, c, out, slot >= 0 ? &bufs[slot] : NULL,
                               err);
        if (rc) {
            if (col->name.p)
                co_err_prefix(err, "column %u `%.*s` (%s)", i + 1,
                              (int)col->name.n, (const char *)col->name.p,
                              binlog_type_name(col->type));
            else
                co_err_prefix(err, "column %u (%s)", i + 1,
                              binlog_type_name(col->type));
            return rc;
        }
    }
    return 0;
}

int binlog_rows_next(struct binlog_rows *r, struct co_err *err)
{
    struct blr_cur c = {0};
    char label[96];
    int rc;

    if (!r->map)
        return co_errf(err, CO_ESTATE, "binlog rows read before a table map "
                       "was bound");
    if (r->pos == r->end)
        return 0;
    c.base = r->rows;
    c.p = r->pos;
    c.end = r->end;
    c.origin = r->rows_offset;
    c.event = event_label(r, label, sizeof label);
    c.where = r->inflated ? " of the uncompressed rows" : "";
    if (r->before.present &&
        (rc = read_image(r, &c, r->present[0], &r->before, r->bufs, err)))
        goto err;
    if (r->after.present &&
        (rc = read_image(r, &c, r->present[1], &r->after,
                         r->bufs + r->nwant, err)))
        goto err;
    r->pos = c.p;
    r->row++;
    return 1;
err:
    co_err_prefix(err, "row %u", r->row + 1);
    r->pos = r->end;                  /* nothing after a corrupt row */
    return rc;
}

void binlog_rows_close(struct binlog_rows *r)
{
    if (r->bufs)
        for (unsigned k = 0; k < 2 * r->nwant; k++)
            free(r->bufs[k].p);
    free(r->bufs);
    free(r->want_slot);
    free(r->before.v);
    free(r->before.has);
    free(r->after.v);
    free(r->after.has);
    free(r->inflated);
    memset(r, 0, sizeof *r);
}
