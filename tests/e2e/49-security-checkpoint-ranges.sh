#!/bin/bash
# Values read from a checkpoint are range-checked before they are used,
# and a tiny copy throttle never stalls inside a transaction.
#  1. A migration killed at its first switch action; its checkpoint is
#     edited (with a matching SHA-256, tests/lib/checkpoint_edit.py) to
#     say cutover.switch_done is -1, then 2000000000: `resume` refuses
#     with the field named, exit 1, and runs no switch action (so do
#     `check-checkpoint` and `status`); with the
#     true value back, `resume` completes and the action runs.
#  2. backup.file set to a path outside the state dir (with that file's
#     SHA-256): `restore-backup` and `check-checkpoint` refuse, nothing
#     is written.
#  3. copy.max_rows_per_s 0.01 (one row every 100 s): the copy commits
#     what it has and waits between chunks, so the source (rollback
#     journal, where an open read blocks writers) takes a write meanwhile;
#     `ctl throttle 0` lets the copy finish and the data is equal. The
#     server's net_read_timeout is 5 s: a sleep inside LOAD DATA would
#     also kill the load.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"

edit() { $PY "$ROOT/tests/lib/checkpoint_edit.py" "$STATE/checkpoint.json" "$1"; }

start_db
shop_db "$T/shop.sqlite3" 2000

# ---- 1. cutover.switch_done ---------------------------------------------------
runbook "$T/runbook.json" "{'cutover': {'switch': [{'exec': ['sh', '-c',
  'echo ran >> \$CUTOVER_STATE_DIR/../switched']}]}}"
set +e
CUTOVER_CRASH_AT=cutover:switch "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1
code=$?
set -e
[ "$code" = 137 ] || { cat "$T/run.out" >&2; fail "not killed at the switch (exit $code)"; }
assert_eq 0 "$(json_get 'd["cutover"]["switch_done"]' <"$STATE/checkpoint.json")" "switch_done at the kill"
for bad in -1 2000000000; do
    edit "cp['cutover']['switch_done'] = $bad"
    assert_exit 1 "$CUTOVER" resume "$T/runbook.json"
    assert_contains "$OUT" "cutover.switch_done is $bad; it must be from 0 to 1" "resume with switch_done $bad"
    [ ! -e "$T/switched" ] || fail "a switch action ran with switch_done $bad"
    for cmd in check-checkpoint status; do
        assert_exit 1 "$CUTOVER" $cmd "$T/runbook.json"
        assert_contains "$OUT" "cutover.switch_done" "$cmd with switch_done $bad"
    done
    echo "switch_done $bad: refused: $OUT"
    attack_refused "a checkpoint whose cutover.switch_done is $bad"
done
edit "cp['cutover']['switch_done'] = 0"
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume with the true checkpoint"
assert_eq ran "$(cat "$T/switched")" "the switch action, once"

# ---- 2. backup.file outside the state dir ---------------------------------------
echo "not yours" >"$T/secret.txt"
sum=$(sha256sum "$T/secret.txt" | cut -d' ' -f1)
edit "cp['backup']['file'] = '../secret.txt'; cp['backup']['sha256'] = '$sum'"
assert_exit 1 "$CUTOVER" restore-backup "$T/runbook.json" "$T/stolen.txt"
assert_contains "$OUT" "backup.file \"../secret.txt\" is not a backup cutover writes" "restore-backup"
[ ! -e "$T/stolen.txt" ] || fail "restore-backup copied a file from outside the state dir"
assert_exit 1 "$CUTOVER" check-checkpoint "$T/runbook.json"
assert_contains "$OUT" "backup.file" "check-checkpoint"
attack_refused "a checkpoint whose backup.file is a path outside the state dir"

# ---- 3. a tiny throttle ------------------------------------------------------------
rm -rf "$STATE" "$T/switched"
sql -e "DROP DATABASE shop; SET GLOBAL net_read_timeout = 5"
rm -f "$T/shop.sqlite3"*
shop_db "$T/shop.sqlite3" 2000 2
sqlite3 "$T/shop.sqlite3" "PRAGMA journal_mode = DELETE" >/dev/null
runbook "$T/runbook.json" "{'copy': {'workers': 1, 'method': 'load_data',
  'max_rows_per_s': 0.01}}"
"$CUTOVER" run "$T/runbook.json" >"$T/throttled.out" 2>&1 &
RUN=$!
copied() { [ -n "$(events progress 2>/dev/null)" ]; }
wait_for 60 copied
sleep 6        # longer than net_read_timeout: an open LOAD DATA would die
set +e
werr=$(sqlite3 "$T/shop.sqlite3" ".timeout 10000" \
    "UPDATE auth_user SET first_name = 'throttled' WHERE id = 1" 2>&1)
wcode=$?
set -e
[ "$wcode" = 0 ] || fail "the source refused a write while the copy was throttled: $werr"
assert_eq bulk_copy "$(status 'd["state"]')" "state while throttled"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" throttle 0
wait "$RUN" || { cat "$T/throttled.out" >&2; fail "the throttled run failed"; }
compare "$T/shop.sqlite3" shop
attack_refused "a copy throttle of 0.01 rows/s holds no transaction while it waits"
echo ok
