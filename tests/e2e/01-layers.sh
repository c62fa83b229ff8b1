#!/bin/bash
# 01-layers.sh — the floors of DESIGN §1 hold (tests/lib/check_layers.sh),
# and the check proves itself: in a copy of the tree it fails, naming the
# file and the include, on an include planted uphill, on an engine's
# client header outside its driver folder and on a driver's private
# header included from outside its folder.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

CHECK=$ROOT/tests/lib/check_layers.sh

assert_exit 0 "$CHECK" "$ROOT"
assert_contains "$OUT" "layers: ok" "the tree"

# plant FILE LINE: a copy of the tree with LINE added to FILE; the check
# must fail and name FILE and what LINE includes.
plant() {
    local file=$1 line=$2 copy=$T/tree
    rm -rf "$copy"
    mkdir -p "$copy"
    (cd "$ROOT" && cp -r lib checkpoints sync stages orchestrator "$copy/")
    assert_exit 0 "$CHECK" "$copy"
    printf '%s\n' "$line" >>"$copy/$file"
    assert_exit 1 "$CHECK" "$copy"
    assert_contains "$OUT" "layers: $file:" "$line in $file"
    assert_contains "$OUT" "$(echo "$line" | sed 's/^#include //')" \
        "the message names the include"
    echo "planted in $file: $OUT"
}

plant lib/log.c '#include "checkpoints/checkpoint.h"'
assert_contains "$OUT" "from floor 1" "floor of lib"
plant sync/copier.c '#include "stages/stage.h"'
plant stages/plan/report.c '#include "orchestrator/triggers.h"'
plant sync/applier.c '#include <mysql.h>'
assert_contains "$OUT" "outside sync/drivers/mysql/" "mysql.h"
plant stages/verify.c '#include <sqlite3.h>'
plant sync/drivers/mysql/target.c '#include <sqlite3.h>'
plant orchestrator/cmd_plan.c '#include <libpq-fe.h>'
plant sync/copier.c '#include "sync/drivers/sqlite/sqlite_priv.h"'
assert_contains "$OUT" "private to sync/drivers/sqlite/" "driver folder"
echo "01-layers: ok"
