/*
 * checkpoint_format1.c — rewrite a state dir's checkpoint as format 1, the
 * form cutover wrote before it kept logical types (each column's type
 * only), so an end-to-end test can resume a migration an older cutover
 * left behind.
 *
 *     bin/checkpoint_format1 STATE_DIR
 */
#include <stdio.h>

#include "checkpoints/checkpoint.h"
#include "tests/lib/checkpoint_forge.h"

int main(int argc, char **argv)
{
    struct co_err err = {0};
    json_t *body, *table, *col;
    char path[4096];
    size_t i, j;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: checkpoint_format1 STATE_DIR\n");
        return 2;
    }
    if (checkpoint_read(argv[1], &body, &err) < 0) {
        fprintf(stderr, "checkpoint_format1: %s\n", err.msg);
        return 1;
    }
    json_array_foreach(json_object_get(body, "tables"), i, table)
        json_array_foreach(json_object_get(table, "columns"), j, col)
            json_object_del(col, "logical");
    snprintf(path, sizeof path, "%s/%s", argv[1], CHECKPOINT_FILE);
    rc = ut_checkpoint_forge(body, 1, path);
    json_decref(body);
    if (rc < 0)
        perror(path);
    return rc < 0;
}
