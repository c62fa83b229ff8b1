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
# shellcheck source=tests/lib/mysql_source.sh
. "$ROOT/tests/lib/mysql_source.sh"
MYSQL_CAPTURE=triggers

mariadb_start "$T/src" --log-bin="$T/src/binlog" --server-id=1 \
    || fail "the source MariaDB did not start"
SRC=$MARIADB_SOCKET
EXTRA_DBS="$T/src"
start_db
shop_db "$T/shop.sqlite3" 20000
for db in shop back; do
    mysql_load $db
done

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
n=0
# (one line: 40-faults-crash-matrix.sh reads it as covered here)
for point in lock drain reverify fence fence_partial before_fence_commit fenced switch; do
    n=$((n + 1))
    db=crash$n
    mysql_crash_at $db "cutover:$point"
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
rollback_following back
echo "ok"
