#!/bin/bash
# MySQL → MySQL live, with trigger capture. A private MariaDB (with a
# binary log) is the source, holding the shop fixture in MySQL's own types
# plus what a MySQL application has besides (ENUM, SET, BIGINT UNSIGNED
# past 2^63-1, YEAR, BIT, JSON, a _ci key, a generated column, a CHECK;
# a view, a trigger, a procedure, a function, an event); a second private
# MariaDB is the target.
#  - plan lists by name what will not move, and nothing blocks; for a
#    user that may only read, the privileges it lacks block and the
#    binary log's trigger rule is named;
#  - `cutover run` with a writer on the source (one transaction in ten
#    rolled back, leaving holes in the change logs) through the cutover:
#    exit 0, the writer stops at the fence, every row of every table is
#    equal on both sides, the fence refuses a write with its message, the
#    source keeps only the fence;
#  - SIGKILL at every step of the fence sequence (lock, drain, reverify,
#    fence, one table fenced, all fenced before the unlock, fenced, the
#    switch): never a switch without the whole fence; a partial fence is
#    removed on resume and the attempt given up; every resumed migration
#    completes with every row equal and the source fenced;
#  - rollback during post_validate with a writer that followed the switch
#    to the target: its writes there are carried back, it follows back,
#    every order it acknowledged anywhere is in the source as it left it,
#    exit 5, the target refuses writes, the source has nothing of ours.
# timeout: 300
# long
. "$(dirname "$0")/../lib/common.sh"

mariadb_start "$T/src" --log-bin="$T/src/binlog" --server-id=1 \
    || fail "the source MariaDB did not start"
SRC=$MARIADB_SOCKET
EXTRA_DBS="$T/src"
start_db
shop_db "$T/shop.sqlite3" 20000
for db in shop back; do
    $PY "$ROOT/tests/lib/mysql_source.py" load "$T/shop.sqlite3" "$SRC" $db
done
src_sql() {
    mariadb --no-defaults -S "$SRC" -uroot -N -B "$@"
}

# mysql_runbook DB: the source's DB → the target's DB, the switch writing
# "target" where the test can see it
mysql_runbook() {
    runbook "$T/runbook.json" "{'source': {'type': 'mysql', 'socket': '$SRC',
        'user': 'root', 'database': '$1', 'capture': 'triggers'},
      'target': {'database': '$1'},
      'cutover': {'max_write_pause_ms': 3000,
        'switch': [{'exec': ['sh', '-c', 'echo target > \$CUTOVER_STATE_DIR/../switch']}]},
      'post_validate': {'watch_s': ${2:-1}, 'interval_s': 0.5}}"
    $PY - "$T/runbook.json" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["source"].pop("path", None)
json.dump(rb, open(sys.argv[1], "w"), indent=1)
PYEOF
}

writer_on() {
    $PY "$ROOT/tests/lib/mysql_source.py" write "$SRC" "$1" 120 \
        >"$T/writer.out" 2>"$T/writer.err" &
    WRITER=$!
}

writer_fenced() {
    wait "$WRITER" || { cat "$T/writer.err" >&2; fail "the writer failed"; }
    echo "writer: $(cat "$T/writer.out")"
    [ "$(json_get 'd["fenced"]' <"$T/writer.out")" = True ] \
        || fail "the writer never met the fence: $(cat "$T/writer.out")"
    [ "$(json_get 'd["committed"] > 0' <"$T/writer.out")" = True ] \
        || fail "the writer committed nothing"
}

same_rows() {
    $PY "$ROOT/tests/lib/mysql_source.py" compare "$SRC" "$SOCK" "$1" \
        || fail "source and target differ ($1)"
}

fence_refuses() {
    set +e
    msg=$(src_sql "$1" -e "DELETE FROM shop_order ORDER BY id LIMIT 1" 2>&1)
    set -e
    assert_contains "$msg" "cutover: writes moved to target" "fence on $1"
}

# ---- plan: the inventory of what stays behind ------------------------------
mysql_runbook shop
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
for what in "view paid_orders" "trigger shop_product_touch" \
            "procedure close_old_orders" "function order_count" \
            "event purge_sessions"; do
    assert_contains "$OUT" "$what will not be migrated" "plan inventory"
done
assert_contains "$OUT" "CHECK constraint big_or_null" "plan inventory"
assert_contains "$OUT" "generated column qty2 AS" "plan inventory"
assert_contains "$OUT" "enum('s','m','l')" "plan keeps ENUM"
assert_contains "$OUT" "json             → json" "MariaDB's JSON stays JSON"
assert_contains "$OUT" "nothing blocks the migration" "plan"
# a user that may only read: what it lacks blocks; with a binary log and
# no SUPER, creating triggers needs log_bin_trust_function_creators
src_sql -e "CREATE USER 'reader'@'localhost' IDENTIFIED BY 'r-pw';
    GRANT SELECT ON shop.* TO 'reader'@'localhost'"
$PY - "$T/runbook.json" "$T/reader.json" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["source"].update(user="reader", password_env="CUTOVER_SOURCE_PW")
json.dump(rb, open(sys.argv[2], "w"), indent=1)
PYEOF
CUTOVER_SOURCE_PW=r-pw assert_exit 3 "$CUTOVER" plan "$T/reader.json"
assert_contains "$OUT" "the source user reader lacks LOCK TABLES, TRIGGER, \
CREATE, DROP, INSERT, UPDATE, DELETE on database shop" "plan privileges"
assert_contains "$OUT" "log_bin_trust_function_creators is off" "plan settings"

# ---- a live run through the cutover ------------------------------------------
writer_on shop
sleep 1
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run"
writer_fenced
same_rows shop
fence_refuses shop
[ "$(cat "$T/switch")" = target ] || fail "the switch action did not run"
left=$(src_sql shop -e "SELECT COUNT(*) FROM information_schema.TABLES
    WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME LIKE '\\_cutover\\_%'")
assert_eq 0 "$left" "change logs left on the source"
fences=$(src_sql shop -e "SELECT COUNT(*) FROM information_schema.TRIGGERS
    WHERE TRIGGER_SCHEMA = 'shop' AND TRIGGER_NAME LIKE '\\_cutover\\_f%'")
assert_eq 18 "$fences" "fence triggers on the source (3 on each of 6 tables)"

# ---- SIGKILL at every step of the fence sequence -----------------------------
fence_count() {
    src_sql "$1" -e "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE
        TRIGGER_SCHEMA = '$1' AND TRIGGER_NAME LIKE '\\_cutover\\_f%'"
}
n=0
# (one line: 40-faults-crash-matrix.sh reads it as covered here)
for point in lock drain reverify fence fence_partial before_fence_commit fenced switch; do
    n=$((n + 1))
    db=crash$n
    $PY "$ROOT/tests/lib/mysql_source.py" load "$T/shop.sqlite3" "$SRC" $db
    rm -rf "$STATE" "$T/switch"
    mysql_runbook $db
    writer_on $db
    sleep 0.5
    set +e
    CUTOVER_CRASH_AT="cutover:$point" "$CUTOVER" run "$T/runbook.json" \
        >"$T/crash.log" 2>&1
    code=$?
    set -e
    [ "$code" = 137 ] || { cat "$T/crash.log" >&2; fail "$point: no crash: exit $code"; }
    # never a switch without the whole fence
    fences=$(fence_count $db)
    if [ -e "$T/switch" ]; then
        assert_eq 18 "$fences" "$point: switched with only $fences fence triggers"
    fi
    # the lock went with the connection: the fence (one table of it at
    # fence_partial; all of it once the last trigger is made, each
    # CREATE TRIGGER commits on its own) is what refuses writes now
    case $point in
    fence_partial) assert_eq 3 "$fences" "$point: a partial fence" ;;
    before_fence_commit|fenced|switch)
        assert_eq 18 "$fences" "$point: the whole fence" ;;
    *) assert_eq 0 "$fences" "$point: no fence" ;;
    esac
    assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
    assert_contains "$OUT" "completed" "$point: resume"
    case $point in
    before_fence_commit|fenced|switch) ;;   # the fence stands: switch
    *) assert_contains "$(events cutover 'e.get("step") == "retry"')" \
           "resumed after an interruption inside the write pause" \
           "$point: the attempt given up" ;;
    esac
    writer_fenced
    same_rows $db
    fence_refuses $db
    echo "crash at $point: resumed, $(fence_count $db) fence triggers, rows equal"
done

# ---- rollback after the switch, the writer following both ways -------------
rm -rf "$STATE" "$T/switch"
mysql_runbook back 120
$PY - "$T/runbook.json" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["cutover"]["switch_back"] = [{"exec": ["sh", "-c",
    "echo source > $CUTOVER_STATE_DIR/../switch"]}]
json.dump(rb, open(sys.argv[1], "w"), indent=1)
PYEOF
$PY "$ROOT/tests/lib/mysql_source.py" follow "$SRC" "$SOCK" back 300 \
    "$T/switch" "$T/record.json" >"$T/writer.out" 2>"$T/writer.err" &
WRITER=$!
sleep 1
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
wait_for 10 grep -q target "$T/switch"
sleep 2     # the writer works on the target for a while
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
wait_run 5 "exit code after rollback"
wait_for 10 grep -q source "$T/switch"
sleep 1.5   # and on the source again
touch "$T/switch.stop"
wait "$WRITER" || { cat "$T/writer.err" >&2; fail "the writer failed"; }
echo "writer: $(cat "$T/writer.out")"
assert_eq "2 source" "$(json_get '"%d %s" % (d["switches"], d["side"])' \
    <"$T/writer.out")" "the writer went to the target and back"
$PY "$ROOT/tests/lib/mysql_source.py" check "$SRC" back "$T/record.json" \
    || fail "acknowledged writes missing or wrong on the source"
left=$(src_sql back -e "SELECT (SELECT COUNT(*) FROM information_schema.TABLES
    WHERE TABLE_SCHEMA = 'back' AND TABLE_NAME LIKE '\\_cutover\\_%') +
    (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA
    = 'back' AND TRIGGER_NAME LIKE '\\_cutover\\_%')")
assert_eq 0 "$left" "cutover objects left on the source"
set +e
msg=$(sql back -e "DELETE FROM shop_order ORDER BY id LIMIT 1" 2>&1)
set -e
assert_contains "$msg" "cutover: writes moved back to source" "target fence"
assert_eq rolled_back "$(status 'd["state"]')" "state"
echo "ok"
