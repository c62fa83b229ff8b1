#!/bin/bash
# `make demo`, small (DEMO_ROWS=3000), the way a newcomer runs it:
#  - it completes, and its summary says completed, verify identical, 0 lost
#    writes, and that the old SQLite refuses writes;
#  - it stopped everything it started (no process left that names its temp
#    dir: MariaDB, the writer, cutover) and removed its temp dir;
#  - when the migration fails (a crash point kills cutover in the copy) it
#    exits non-zero, says where its files are kept, keeps them, and still
#    stops everything;
#  - SIGTERM in the middle of the run does the same.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

# demo_dir FILE: the temp dir the demo announced in its output
demo_dir() {
    sed -n 's/^working in \(\/tmp\/cutover-demo\.[A-Za-z0-9]*\)$/\1/p' "$1" | head -1
}

# left_behind DIR: none of the demo's processes may still run
left_behind() {
    local _
    for _ in $(seq 1 50); do
        pgrep -f "$1" >/dev/null || return 0
        sleep 0.1
    done
    pgrep -af "$1" >&2
    fail "processes of the demo still run after it exited"
}

# 1. the demo as `make demo` runs it
set +e
DEMO_ROWS=3000 make -s -C "$ROOT" demo >"$T/demo.out" 2>&1
code=$?
set -e
cat "$T/demo.out"
assert_eq 0 "$code" "make demo exit code"
dir=$(demo_dir "$T/demo.out")
[ -n "$dir" ] || fail "the demo did not say where it works"
grep -Eq '^  migration +completed in [0-9.]+ s \(5 tables, [0-9,]+ rows copied\)$' "$T/demo.out" \
    || fail "summary: no completed migration"
grep -Eq '^  verify +identical: 5 tables, .* 0 mismatched rows$' "$T/demo.out" \
    || fail "summary: verify is not identical"
grep -Eq '^  lost writes +0 \([0-9,]+ rows the writer acknowledged' "$T/demo.out" \
    || fail "summary: lost writes are not 0"
grep -Eq '^  live writer +[1-9][0-9,]* writes acknowledged, 1 switch to MariaDB' "$T/demo.out" \
    || fail "summary: the writer did not write or did not follow the switch"
grep -Eq '^  write pause +[0-9]+ ms' "$T/demo.out" || fail "summary: no write pause"
grep -q 'refuses writes: "cutover: writes moved to target"' "$T/demo.out" \
    || fail "summary: the old SQLite is not fenced"
grep -q '^watching shop: ' "$T/demo.out" || fail "cutover watch was not shown"
left_behind "$dir"
[ ! -e "$dir" ] || fail "the demo left its temp dir $dir after success"

# 2. a failed migration: files kept, everything stopped
set +e
CUTOVER_CRASH_AT=bulk_copy:chunk:1 DEMO_ROWS=3000 "$ROOT/examples/demo.sh" \
    >"$T/crash.out" 2>&1
code=$?
set -e
cat "$T/crash.out"
[ "$code" != 0 ] || fail "the demo succeeded although cutover was killed"
dir=$(demo_dir "$T/crash.out")
[ -n "$dir" ] || fail "the failed demo did not say where it works"
grep -q "demo files kept in $dir" "$T/crash.out" || fail "the failed demo did not say where its files are"
[ -f "$dir/state/events.ndjson" ] && [ -f "$dir/run.log" ] \
    || fail "the failed demo did not keep its files"
left_behind "$dir"
rm -rf "$dir"

# 3. SIGTERM during the run: files kept, everything stopped
DEMO_ROWS=3000 "$ROOT/examples/demo.sh" >"$T/term.out" 2>&1 &
DEMO=$!
wait_for 60 grep -q '^==> 5/6' "$T/term.out"
sleep 1
kill -TERM "$DEMO"
set +e
wait "$DEMO"
code=$?
set -e
cat "$T/term.out"
assert_eq 143 "$code" "exit code of the demo after SIGTERM"
dir=$(demo_dir "$T/term.out")
grep -q "demo files kept in $dir" "$T/term.out" || fail "the stopped demo did not say where its files are"
[ -d "$dir/state" ] || fail "the stopped demo did not keep its files"
left_behind "$dir"
rm -rf "$dir"
echo ok
