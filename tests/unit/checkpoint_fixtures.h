/*
 * checkpoint_fixtures.h — the golden checkpoint files of tests/unit/files:
 * install one as a state dir's checkpoint, or forge one of any format
 * (tests/lib/checkpoint_forge.h). Header-only like unit_util.h.
 */
#ifndef CO_CHECKPOINT_FIXTURES_H
#define CO_CHECKPOINT_FIXTURES_H

#include <stdlib.h>

#include "checkpoints/checkpoint.h"
#include "tests/lib/checkpoint_forge.h"
#include "tests/unit/unit_util.h"

/* Copy fixture `name` to dir/checkpoint.json; 0 or -1 (no such fixture). */
static inline int ut_install_fixture(const char *dir, const char *name)
{
    char *fdir = ut_fixture_dir(), *src = ut_path(fdir, name),
         *dst = ut_path(dir, CHECKPOINT_FILE), *data;
    size_t len;
    int rc = -1;

    if ((data = ut_read_file(src, &len)))
        rc = ut_write_file(dst, data, len);
    free(data);
    free(src);
    free(dst);
    free(fdir);
    return rc;
}

#endif
