/*
 * record.c — the record of acknowledged writes, its one format both ways.
 * Once a transaction's COMMIT succeeds `run` appends one JSON line per row
 * the transaction touched, as read back inside it before the COMMIT:
 *
 *   {"n": COMMIT_NUMBER, "table": T, "key": [...], "row": {...} | null}
 *
 * `check` replays the record (the last line per table and key wins) into
 * the state the database must now have.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "tests/lib/writer/writer.h"

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            say("cannot write the record: %s", strerror(errno));
            exit(1); /* without the record the run proves nothing */
        }
        p += k;
        n -= (size_t)k;
    }
}

/* One write(2) per commit on an O_APPEND descriptor: the lines are in the
 * kernel the moment they are written, so they survive a crash of the writer
 * or of anything else short of the machine. */
void record_commit(int fd, long long n, const struct txn *x)
{
    struct sbuf lines;

    sbuf_init(&lines);
    for (int i = 0; i < x->ntouched; i++) {
        const struct touch *tc = &x->touched[i];
        json_t *line = json_pack("{s:I, s:s, s:O, s:O}", "n", (json_int_t)n,
                                 "table", tc->t->name, "key", tc->key, "row",
                                 tc->row);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;

        if (!text)
            die("out of memory");
        sbuf_adds(&lines, text);
        sbuf_addc(&lines, '\n');
        free(text);
        json_decref(line);
    }
    if (lines.oom)
        die("out of memory");
    write_all(fd, lines.p, lines.len);
    sbuf_free(&lines);
}

/* The expected final state: for each table and key, its line (table, key,
 * row) from the last line that touched it. A torn last line (the writer
 * killed in mid-write) is skipped. NULL after saying why. */
json_t *record_replay(const char *path)
{
    json_t *expected = json_object();
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f) {
        say("%s: %s", path, strerror(errno));
        return NULL;
    }
    for (long lineno = 1; (n = getline(&line, &cap, f)) > 0; lineno++) {
        json_t *rec, *key;
        const struct table *t;
        json_error_t err;
        char *id, *key_json;

        if (line[n - 1] != '\n') {
            say("%s:%ld: ignoring a torn last line", path, lineno);
            break;
        }
        if (n == 1)
            continue;
        rec = json_loads(line, 0, &err);
        t = table_by_name(json_string_value(json_object_get(rec, "table")));
        key = json_object_get(rec, "key");
        if (!t || json_array_size(key) != (size_t)t->nkey ||
            !json_object_get(rec, "row")) {
            say("%s:%ld: not a record line: %s", path, lineno,
                rec ? "no table, key or row" : err.text);
            json_decref(rec);
            json_decref(expected);
            expected = NULL;
            break;
        }
        key_json = json_dumps(key, JSON_COMPACT);
        if (!key_json || asprintf(&id, "%s %s", t->name, key_json) < 0)
            die("out of memory");
        json_object_del(expected, id); /* keep the order of the last touch */
        json_object_set_new(expected, id, rec);
        free(id);
        free(key_json);
    }
    free(line);
    fclose(f);
    return expected;
}
