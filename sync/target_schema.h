/*
 * target_schema.h — a table that already exists on the target
 * (schema.mode "existing": made by the application's framework), as its
 * server describes it: every column's type, size, signedness, nullability,
 * default, character set and collation, and the table's primary and unique
 * keys. The target driver fills it (target_ops.describe_table);
 * pre-validation decides each column's map from it and checks every source
 * value against it. Nothing here is ever used to change the table.
 */
#ifndef CO_TARGET_SCHEMA_H
#define CO_TARGET_SCHEMA_H

#include <stdint.h>

/* What kind of values a target column holds, engine-neutral. */
enum tcol_kind {
    TK_INT,        /* integers within [int_min, int_max] (YEAR included) */
    TK_DECIMAL,    /* exact, precision and scale */
    TK_FLOAT,      /* single precision */
    TK_DOUBLE,
    TK_CHAR,       /* CHAR/VARCHAR: max_chars characters */
    TK_TEXT,       /* TINYTEXT..LONGTEXT: max_bytes bytes */
    TK_BINARY,     /* BINARY/VARBINARY: max_bytes bytes */
    TK_BLOB,       /* TINYBLOB..LONGBLOB: max_bytes bytes */
    TK_DATE,
    TK_DATETIME,
    TK_TIMESTAMP,
    TK_TIME,
    TK_ENUM,       /* one of values[] */
    TK_SET,        /* a comma-separated subset of values[] */
    TK_JSON,       /* a JSON type of its own (MySQL's; MariaDB's is text) */
    TK_OTHER       /* BIT, spatial and anything else cutover cannot write */
};

struct tcolumn {
    char *name;
    char *type;               /* as the server shows it: "smallint(5) unsigned" */
    enum tcol_kind kind;
    int is_unsigned;
    int is_bool;              /* TINYINT(1): what frameworks make of booleans */
    int64_t int_min, int_max; /* TK_INT (an unsigned BIGINT's top is cut to
                                 INT64_MAX: no source value is larger) */
    int64_t max_chars;        /* TK_CHAR */
    int64_t max_bytes;        /* TK_TEXT, TK_BINARY, TK_BLOB */
    int precision, scale;     /* TK_DECIMAL; TK_FLOAT/TK_DOUBLE with (p,s),
                                 otherwise scale -1 */
    int fsp;                  /* fraction digits of DATETIME, TIMESTAMP, TIME */
    char dt_min[32], dt_max[32]; /* date/time range the server accepts,
                                 "YYYY-MM-DD HH:MM:SS.ffffff" */
    int notnull;
    int has_default;          /* a DEFAULT (NULL counts only when nullable) */
    int autoinc;
    int generated;            /* VIRTUAL/STORED: cannot be written */
    char *charset;            /* text types; NULL otherwise */
    char *collation;
    int char_bytes;           /* at most this many bytes per character:
                                 4 utf8mb4, 3 utf8mb3, 1 latin1 */
    int nvalues;              /* TK_ENUM, TK_SET */
    char **values;
};

/* The primary key or a unique index. */
struct tkey {
    char *name;
    int primary;
    int ncols;
    int *cols;                /* positions in ttable.cols */
    int *prefix;              /* characters indexed, 0 for the whole value */
};

struct ttable {
    char *name;
    int ncols;
    struct tcolumn *cols;
    int nkeys;
    struct tkey *keys;        /* the primary key first, when there is one */
    int nchecks;
    char **checks;            /* names of its CHECK constraints */
};

void ttable_free(struct ttable *t);
/* Position of the column (MySQL column names ignore case), or -1. */
int ttable_column(const struct ttable *t, const char *name);
/* The primary key, or NULL. */
const struct tkey *ttable_primary(const struct ttable *t);

#endif
