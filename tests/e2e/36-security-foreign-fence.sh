#!/bin/bash
# A new migration never undoes a finished one, nor a running one.
#
# 1. Migration A completes: the old SQLite keeps A's fence, and the
#    application writes to MariaDB. A second runbook B for the same
#    databases, with a fresh state dir and schema.mode "existing", is
#    refused by `plan` (A's fence triggers named, with A's id, and the
#    target's rows counted) and by `run`: the fence and the rows written
#    on MariaDB since are untouched.
# 2. Objects of another migration appear on the source while migration C
#    runs (its fence, as a restored copy of a fenced database would bring
#    them): aborting C removes C's capture and nothing else.
# 3. Two migrations started on one source at the same time: E passes its
#    checks before F installs capture; when E's turn to install comes it
#    refuses to share F's triggers and logs, and F carries on untouched.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/base.sqlite3" 6000
cp "$T/base.sqlite3" "$T/shop.sqlite3"

# ours SQLITE PREFIX: the names and definitions of cutover's objects whose
# names start with PREFIX
ours() {
    sqlite3 "$1" "SELECT name || ' ' || sql FROM sqlite_master WHERE name LIKE
                  '$2%' ESCAPE '\\' ORDER BY name"
}
json_field() {   # json_field FILE EXPR
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

# ---- 1. a second migration over a finished one ---------------------------
runbook "$T/a.json" "{'state_dir': 'state-a', 'post_validate': {'watch_s': 0}}"
assert_exit 0 "$CUTOVER" run "$T/a.json"
assert_contains "$OUT" "completed" "migration A"
A_ID=$(json_field "$T/state-a/checkpoint.json" 'd["migration_id"]')
[ ${#A_ID} = 16 ] || fail "migration A has no id: '$A_ID'"
fence_before=$(ours "$T/shop.sqlite3" '\_cutover\_fence\_')
assert_contains "$fence_before" "cutover migration $A_ID" "A's fence carries A's id"
# the application works on MariaDB now
sql shop -e "UPDATE shop_order SET status = 'on-mariadb' WHERE id <= 25"
orders=$(sql shop -e "SELECT COUNT(*) FROM shop_order")

runbook "$T/b.json" "{'state_dir': 'state-b', 'schema': {'mode': 'existing'},
  'post_validate': {'watch_s': 0}}"
plan_json 3 "$T/b.json" "$T/plan-b.json"
$PY - "$T/plan-b.json" "$A_ID" "$orders" <<'PYEOF' || fail "plan of B"
import json, sys
plan, a_id, orders = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
tables = [t['name'] for t in plan['tables']]
foreign = {f['table']: f for f in plan['findings']
           if f['code'] == 'foreign_objects'}
assert sorted(foreign) == sorted(tables), ('fence findings', sorted(foreign))
for t, f in foreign.items():
    assert f['severity'] == 'blocking', f
    assert 'migration ' + a_id in f['message'], f['message']
    for op in 'iud':
        assert 'trigger _cutover_fence_%s_%s' % (op, t) in f['message'], \
            f['message']
full = [f for f in plan['findings'] if f['code'] == 'target_not_empty']
assert sorted(f['table'] for f in full) == sorted(tables), full
counts = {f['table']: f['message'] for f in full}
assert 'holds %s rows' % orders in counts['shop_order'], counts['shop_order']
print('plan of B blocks: the fence of migration %s on %d tables' % (
    a_id, len(foreign)))
PYEOF
attack_refused "plan: a new migration over a finished one is blocked, the old fence named"

assert_exit 3 "$CUTOVER" run "$T/b.json"
assert_contains "$OUT" "this migration did not make (made by migration $A_ID)" "run of B names the fence"
assert_eq "$fence_before" "$(ours "$T/shop.sqlite3" '\_cutover\_fence\_')" \
    "A's fence after B was refused"
assert_eq 25 "$(sql shop -e "SELECT COUNT(*) FROM shop_order WHERE status = 'on-mariadb'")" \
    "rows written on MariaDB after A's switch"
msg=$(sqlite3 "$T/shop.sqlite3" "UPDATE shop_order SET status = 'x' WHERE id = 1" 2>&1 || true)
assert_contains "$msg" "cutover: writes moved to target" "the old database still refuses writes"
attack_refused "run: refuses to copy over a finished migration; its fence and the target's newer rows stay"

# ---- 2. abort removes only what its migration made -------------------------
cp "$T/base.sqlite3" "$T/c.sqlite3"
runbook "$T/c.json" "{'state_dir': 'state-c', 'source': {'path': 'c.sqlite3'},
  'target': {'database': 'shop_c'},
  'copy': {'workers': 1, 'max_rows_per_s': 1500}}"
"$CUTOVER" run "$T/c.json" >"$T/c.out" 2>&1 &
RUN=$!
wait_for 60 sh -c "grep -q '\"type\":\"progress\"' '$T/state-c/events.ndjson'"
[ -n "$(ours "$T/c.sqlite3" '\_cutover\_ai\_')" ] || fail "C installed no capture"
# A's fence on one table, exactly as A made it
sqlite3 "$T/shop.sqlite3" "SELECT sql || ';' FROM sqlite_master WHERE name LIKE
    '\_cutover\_fence\_%\_shop\_product' ESCAPE '\\'" | sqlite3 "$T/c.sqlite3"
foreign=$(ours "$T/c.sqlite3" '\_cutover\_fence\_')
[ "$(echo "$foreign" | wc -l)" = 3 ] || fail "foreign fence not in place: $foreign"
assert_exit 0 "$CUTOVER" ctl "$T/c.json" abort
set +e; wait $RUN; code=$?; set -e
assert_eq 4 "$code" "run of C after the abort"
assert_eq "" "$(ours "$T/c.sqlite3" '\_cutover\_' | grep -v '^_cutover_fence_' || true)" \
    "C's capture and logs after the abort"
assert_eq "$foreign" "$(ours "$T/c.sqlite3" '\_cutover\_fence\_')" \
    "the other migration's fence after C's abort"
attack_refused "abort: removes the capture its migration made, never another migration's fence"

# ---- 3. two migrations started on one source at once -----------------------
cp "$T/base.sqlite3" "$T/e.sqlite3"
runbook "$T/e.json" "{'state_dir': 'state-e', 'source': {'path': 'e.sqlite3'},
  'target': {'database': 'shop_e'}, 'post_validate': {'watch_s': 0}}"
runbook "$T/f.json" "{'state_dir': 'state-f', 'source': {'path': 'e.sqlite3'},
  'target': {'database': 'shop_f'},
  'copy': {'workers': 1, 'max_rows_per_s': 1500}}"
CUTOVER_PAUSE_AT=pre_validate:analyzed:1 CUTOVER_PAUSE_FILE="$T/e-paused" \
    "$CUTOVER" run "$T/e.json" >"$T/e.out" 2>&1 &
RUN_E=$!
wait_for 60 test -f "$T/e-paused"          # E's checks passed: nothing there yet
"$CUTOVER" run "$T/f.json" >"$T/f.out" 2>&1 &
RUN_F=$!
wait_for 60 sh -c "grep -q '\"type\":\"progress\"' '$T/state-f/events.ndjson'"
capture_f=$(ours "$T/e.sqlite3" '\_cutover\_')
rm "$T/e-paused"
set +e; wait $RUN_E; code=$?; set -e
assert_eq 1 "$code" "run of E once F had installed its capture"
assert_contains "$(cat "$T/e.out")" "already has" "E's error"
assert_contains "$(cat "$T/e.out")" "made by migration $(json_field "$T/state-f/checkpoint.json" 'd["migration_id"]')" \
    "E names F's migration"
assert_eq "$capture_f" "$(ours "$T/e.sqlite3" '\_cutover\_')" "F's capture after E's refusal"
attack_refused "run: a second migration of one source refuses to share the first one's capture"
assert_exit 0 "$CUTOVER" ctl "$T/f.json" abort
set +e; wait $RUN_F; code=$?; set -e
assert_eq 4 "$code" "F aborted"
assert_eq "" "$(ours "$T/e.sqlite3" '\_cutover\_')" "source after F's abort"
echo ok
