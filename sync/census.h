/*
 * census.h — what the values of a column actually are, gathered in one
 * streaming pass per table (DESIGN §5 pre_validate). SQLite's declared
 * types are advice; the census is the truth the type decision relies on.
 */
#ifndef CO_CENSUS_H
#define CO_CENSUS_H

#include <stdint.h>

/* Date/time shapes of text values (bit flags counted separately). */
struct dt_census {
    int64_t date_only;      /* YYYY-MM-DD */
    int64_t space;          /* YYYY-MM-DD HH:MM[:SS] */
    int64_t t_sep;          /* YYYY-MM-DDTHH:MM[:SS] */
    int64_t fraction;       /* with .f{1,6} */
    int64_t fraction_long;  /* with more than 6 fraction digits */
    int64_t utc_suffix;     /* Z or +00:00 */
    int64_t time_of_day;    /* H[H[H]]:MM[:SS], in TIME columns */
    int64_t not_datetime;   /* text that is not one of the above (in TIME
                               columns: not a time) */
    int max_fraction_digits;
    int64_t nonzero_time;   /* date/time text with a time of day other than
                               midnight */
    char min[32], max[32];  /* earliest and latest date/time text, in
                               codec's canonical form ("" when none) */
};

struct col_census {
    int64_t rows, nulls, ints, reals, texts, blobs;
    int64_t int_min, int_max;         /* over integer values */
    double real_min, real_max;        /* over real values */
    int64_t reals_whole;              /* reals with no fraction */
    int64_t reals_unsafe_us;          /* reals not exact at microseconds */
    int max_int_digits;               /* over reals and numeric text */
    int max_frac_digits;              /* shortest exact form of reals/text */
    int64_t numeric_texts;            /* texts that read as a number */
    int64_t max_bytes, max_chars;     /* over text and blob values */
    int64_t empty;                    /* '' */
    int64_t invalid_utf8;             /* text or blob values */
    int64_t nul_bytes;
    int64_t neg_zero;                 /* -0.0 reals */
    int64_t nonfinite;                /* +-Infinity reals */
    int64_t leading_trailing_space;   /* text with trailing spaces */
    int64_t mb4_texts;                /* text with characters beyond the
                                         Basic Multilingual Plane (4 bytes
                                         in UTF-8: emoji, rare CJK) */
    int64_t reals_not_float;          /* reals a single-precision FLOAT
                                         would change */
    int64_t uuids;                    /* texts that are UUIDs (32 hex
                                         digits, dashed 8-4-4-4-12 or not) */
    int64_t uuids_lower;              /* ... of them, in lower case (as
                                         PostgreSQL's uuid prints them) */
    int64_t json_texts;               /* texts that are valid JSON */
    struct dt_census dt;
};

#endif
