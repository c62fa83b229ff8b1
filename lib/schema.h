/*
 * schema.h — the source schema as the migration sees it: tables, columns,
 * the key each table is copied and verified by, indexes, foreign keys, and
 * for every column the decision of what it becomes on the target.
 *
 * The source driver fills everything but `map`; typemap.c decides `map`
 * from the declared type, the value census and the runbook's overrides.
 */
#ifndef CO_SCHEMA_H
#define CO_SCHEMA_H

#include <stdint.h>

#include "lib/ltype.h"

/* What a column's values mean, on both sides. Conversions and the
 * canonical encoding used by verify are chosen by this. */
enum ltype {
    LT_INT,       /* exact integer */
    LT_BOOL,      /* 0/1 integer, TINYINT(1) */
    LT_DECIMAL,   /* exact decimal at map.scale */
    LT_DOUBLE,    /* IEEE double */
    LT_TEXT,      /* UTF-8 text */
    LT_BLOB,      /* bytes */
    LT_DATETIME,  /* YYYY-MM-DD HH:MM:SS.ffffff */
    LT_DATE,      /* YYYY-MM-DD */
    LT_TIME       /* HH:MM:SS.ffffff */
};

/* How the source stores date/time values of a column. */
enum dt_repr {
    DT_TEXT,      /* ISO-8601 text: space or T, optional fraction, optional Z */
    DT_EPOCH_S,   /* integer or real seconds since 1970 (UTC) */
    DT_EPOCH_MS,  /* integer milliseconds since 1970 (UTC) */
    DT_JULIAN     /* real julian day number */
};

struct colmap {
    enum ltype lt;
    char type[96];          /* target column type, e.g. DECIMAL(12,2) */
    struct logical_type logical;   /* what type stands for (lib/ltype.h) */
    int has_logical;        /* 0: the target driver could not tell */
    int precision, scale;   /* LT_DECIMAL */
    enum dt_repr dt;        /* LT_DATETIME / LT_DATE */
    int invalid_utf8;       /* runbook policy for this column */
    int autoinc;            /* AUTO_INCREMENT on the target */
    char collation[64];     /* schema.mode "existing": the target column's
                               own collation, for pre-validation ("" when
                               none, or schema.collation applies) */
    char reason[240];       /* why this type, for the plan report */
};

struct column {
    char *name;
    char *decl;             /* declared type as written ("" when none) */
    char *coll;             /* SQLite collation: BINARY, NOCASE, RTRIM, ... */
    int notnull;
    char *dflt;             /* default as SQL text, NULL when none */
    int pk;                 /* 1-based position in the primary key, or 0 */
    int hidden;             /* generated column: not copied */
    int is_rowid;           /* synthetic: SQLite's rowid as ROWID_COLUMN */
    const char *override;   /* the runbook's schema.overrides type, borrowed;
                               the census looks for its shapes */
    struct colmap map;
};

struct index {
    char *name;
    int unique;
    int partial;            /* has a WHERE clause: cannot move as is */
    int expr;               /* has expression columns: cannot move as is */
    int ncols;
    int *cols;              /* column positions in the table */
    char **colls;           /* collation per column */
    int *desc;
};

struct fkey {
    char *ref_table;
    int ncols;
    char **from;
    char **to;              /* NULL entries: the referenced primary key */
    char *on_update, *on_delete;
};

struct table {
    char *name;
    char *sql;              /* CREATE TABLE as stored in sqlite_schema */
    int ncols;
    struct column *cols;
    int nkey;
    int *key;               /* positions of the key columns */
    int rowid_key;          /* the key is SQLite's rowid (runbook opt-in) */
    int key_from_unique;    /* key is a unique NOT NULL index, not the PK */
    int autoinc;            /* declared AUTOINCREMENT */
    int int_key;            /* single INTEGER PRIMARY KEY (rowid alias) */
    int nidx;
    struct index *idx;
    int nfk;
    struct fkey *fk;
    int64_t rows_estimate;
};

struct schema {
    int ntables;
    struct table *tables;
    char **views;           /* names of views (not migrated) */
    int nviews;
    char **triggers;        /* names of user triggers (not migrated) */
    int ntriggers;
    int64_t schema_version;
};

void schema_free(struct schema *s);
struct table *schema_table(struct schema *s, const char *name);
/* Leave a table out of the schema (freed; a name not there: nothing). */
void schema_drop_table(struct schema *s, const char *name);
/* The index has exactly the table's key columns, in key order. */
int schema_index_is_key(const struct table *t, const struct index *ix);
int table_column(const struct table *t, const char *name);
/* Column ci is one of t's key columns. */
int table_in_key(const struct table *t, int ci);
/* Make the named columns t's key (a unique index the runbook chose):
 * 0, or -1 with the key left empty when one is not a column of t. */
int table_key_by_names(struct table *t, char *const *names, int n);

/* Names of the key columns (rowid keys: "rowid"), for messages. */
const char **table_key_names(const struct table *t);

/* Copy the key values of a full row into a tuple. */
struct tuple;
struct value;
int table_row_key(const struct table *t, const struct value *row,
                  struct tuple *key);

/* Name of the target column that carries a rowid key. */
#define ROWID_COLUMN "cutover_rowid"



/* Names used in checkpoints and reports. */
const char *ltype_name(enum ltype lt);
int ltype_by_name(const char *name);
const char *dt_repr_name(enum dt_repr d);
int dt_repr_by_name(const char *name);
#endif
