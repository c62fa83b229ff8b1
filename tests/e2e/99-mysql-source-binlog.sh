#!/bin/bash
# MySQL source with binlog capture (the default on a server logging ROW
# with FULL images): the applier reads the source's binary log; nothing
# but the fence is ever installed on the source.
#  - plan says the capture is the binlog, and nothing blocks;
#  - MySQL → MySQL with the writer (one transaction in ten rolled back)
#    through a manual cutover: while it waits, sync keeps running, no
#    trigger of ours is on the source, and two FLUSH BINARY LOGS are
#    followed; the writer stops at the fence, every row is equal;
#  - SIGKILL mid-stream (the applier about to commit its 5th batch, in
#    sync or in the drain), inside the cutover in the drain under the
#    lock (the binlog being read) and with one table fenced: a resume
#    completes, every row equal, the whole fence up;
#  - the applied position's GTID: what the server says is there
#    (BINLOG_GTID_POS) in the checkpoint and status --json, kept across a
#    kill -9 and a resume with nothing new, then moving on with new writes;
#    a malformed one is refused naming the field, a checkpoint without
#    one is valid;
#  - rollback after the switch, the writer following both ways: every
#    acknowledged order is in the source as it left it, nothing of ours
#    left there, the target fenced;
#  - the migration paused, the binary logs purged past its position: on
#    resume it pauses again, naming the purged file, and applies nothing;
#  - MySQL → PostgreSQL (int keys, varchar, decimal, datetime) with a
#    writer through the cutover: every row equal on both sides.
# timeout: 300
# long
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/mysql_source.sh
. "$ROOT/tests/lib/mysql_source.sh"

binlog_source_start
start_db
shop_db "$T/shop.sqlite3" 3000

# ---- plan -------------------------------------------------------------------
mysql_load shop
mysql_runbook shop 1 manual
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "change capture: binlog" "plan names the capture"
assert_contains "$OUT" "nothing blocks the migration" "plan"

# ---- MySQL → MySQL through a manual cutover ---------------------------------
writer_on shop
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 cutover
assert_eq 0 "$(ours_on_source shop)" "our triggers or tables on the source during sync"
src_sql -e "FLUSH BINARY LOGS"
sleep 1
src_sql -e "FLUSH BINARY LOGS"
sleep 1
assert_eq 0 "$(ours_on_source shop)" "our triggers or tables on the source during sync"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait_run 0 "run ($(tail -3 "$T/run.err"))"
writer_fenced
same_rows shop
assert_eq 18 "$(fence_count shop)" "fence triggers (3 on each of 6 tables)"
assert_eq 18 "$(ours_on_source shop)" "only the fence is left on the source"

# ---- SIGKILL mid-stream and inside the cutover ------------------------------
n=0
for point in cutover:drain cutover:fence_partial applier:before_commit:5; do
    n=$((n + 1))
    mysql_crash_at crash$n $point
    [ -e "$T/switch" ] && fail "$point: switched before the fence"
    assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
    assert_contains "$OUT" "completed" "$point: resume"
    writer_fenced
    same_rows crash$n
    assert_eq 18 "$(fence_count crash$n)" "$point: the whole fence after resume"
    echo "crash at $point: resumed, rows equal"
done

# ---- the applied position's GTID ---------------------------------------------
# FIELD of the first table in the checkpoint ("" when it has none)
checkpointed() {
    $PY -c 'import json, sys
print(json.load(open(sys.argv[1]))["tables"][0].get(sys.argv[2], ""))' \
        "$STATE/checkpoint.json" "$1"
}
# what the server says is the GTID at the first table's applied position
server_gtid_applied() {
    local at
    at=$(checkpointed applied_seq)
    src_sql -e "SELECT BINLOG_GTID_POS('$(printf 'binlog.%06d' \
        $((at >> 32)))', $((at & 0xffffffff)))"
}
gtid_checkpointed() { [ "$(checkpointed applied_gtid)" = "$1" ]; }
# a fresh migration of DB run as $RUN until it waits for `ctl cutover`
run_to_manual_cutover() {
    mysql_load "$1"
    rm -rf "$STATE" "$T/switch" "$T/switch.stop"
    mysql_runbook "$1" 1 manual
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
    RUN=$!
    wait_state 120 cutover
}
run_to_manual_cutover gtid
src_sql gtid -e "UPDATE shop_order SET status = 'gtid 1' ORDER BY id LIMIT 1"
g1=$(src_sql -e "SELECT @@gtid_binlog_pos")
wait_for 30 gtid_checkpointed "$g1"
assert_eq "$g1" "$(server_gtid_applied)" "the server's GTID at the applied position"
assert_eq "$g1" "$(status 'd["tables"][0]["applied_gtid"]')" "status --json"
kill -9 "$RUN"; wait "$RUN" 2>/dev/null || true
assert_eq "$g1" "$(status 'd["tables"][0]["applied_gtid"]')" \
    "status --json from the checkpoint after kill -9"
edit_gtid() {
    $PY "$ROOT/tests/lib/checkpoint_edit.py" "$STATE/checkpoint.json" \
        "cp['tables'][0]$1"
}
edit_gtid "['applied_gtid'] = '0-1'"
for cmd in check-checkpoint resume; do
    assert_exit 1 "$CUTOVER" $cmd "$T/runbook.json"
    assert_contains "$OUT" 'applied_gtid "0-1" is not a GTID' "$cmd of a malformed GTID"
done
edit_gtid ".pop('applied_gtid')"          # as a checkpoint from before GTIDs
assert_exit 0 "$CUTOVER" check-checkpoint "$T/runbook.json"
edit_gtid "['applied_gtid'] = '$g1'"
"$CUTOVER" resume "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 60 cutover
assert_eq "$g1" "$(status 'd["tables"][0]["applied_gtid"]')" \
    "the GTID kept across the resume"
src_sql gtid -e "UPDATE shop_order SET status = 'gtid 2' ORDER BY id LIMIT 1"
g2=$(src_sql -e "SELECT @@gtid_binlog_pos")
[ "$g2" != "$g1" ] || fail "the server's GTID did not move ($g1)"
wait_for 30 gtid_checkpointed "$g2"
assert_eq "$g2" "$(server_gtid_applied)" "the server's GTID at the applied position after the resume"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait_run 0 "run ($(tail -3 "$T/run.err"))"
same_rows gtid
echo "GTID of the applied position: $g1, then $g2 after kill -9 and resume"

# ---- rollback after the switch, the writer following both ways --------------
mysql_load back
rollback_following back

# ---- a purge past the position pauses the migration -------------------------
# (a running applier follows every rotation: the purge happens while
# cutover is down)
run_to_manual_cutover gap
kill -9 "$RUN"; wait "$RUN" 2>/dev/null || true
at=$(checkpointed applied_seq)
file=$(printf 'binlog.%06d' $((at >> 32)))
src_sql gap -e "UPDATE shop_order SET status = 'after-purge' ORDER BY id LIMIT 1"
# MariaDB keeps a file until InnoDB has checkpointed its transactions
for i in $(seq 1 100); do
    src_sql -e "FLUSH BINARY LOGS"
    now=$(src_sql -e "SHOW MASTER STATUS" | cut -f1)
    src_sql -e "PURGE BINARY LOGS TO '$now'"
    src_sql -e "SHOW BINARY LOGS" | cut -f1 | grep -qx "$file" || break
    sleep 0.1
done
src_sql -e "SHOW BINARY LOGS" | cut -f1 | grep -qx "$file" &&
    fail "$file was not purged"
"$CUTOVER" resume "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 30 paused
msg=$(status 'd["last_error"]')
assert_contains "$msg" "is not on the server any more" "pause reason"
assert_contains "$msg" "$file" "pause reason names the file"
events stage 'e["to"] == "paused" and "'"$file"'" in e["reason"]' |
    grep -q . || fail "no event of the pause naming $file"
assert_eq "$at" "$(checkpointed applied_seq)" "nothing applied past the gap"
kill "$RUN"; wait "$RUN" 2>/dev/null || true

# ---- MySQL → PostgreSQL -----------------------------------------------------
start_pg
src_sql -e "CREATE DATABASE plain; CREATE TABLE plain.item (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,
    price DECIMAL(10,2) NOT NULL, seen DATETIME NULL) ENGINE=InnoDB"
$PY - "$SRC" <<'PYEOF'
import sys, pymysql
c = pymysql.connect(unix_socket=sys.argv[1], user="root", database="plain",
                    autocommit=True).cursor()
c.executemany("INSERT INTO item (name, price, seen) VALUES (%s, %s, %s)",
              [("item %d" % i, i * 1.25, "2024-01-02 03:04:05" if i % 3
                else None) for i in range(2000)])
PYEOF
cat >"$T/pg.json" <<EOF
{"version": 1, "name": "plain", "state_dir": "pgstate",
 "source": {"type": "mysql", "socket": "$SRC", "user": "root",
            "database": "plain"},
 "target": {"type": "postgresql", "host": "$POSTGRESQL_HOST",
            "port": $POSTGRESQL_PORT, "user": "migrator",
            "password_env": "CUTOVER_PG_PASSWORD", "database": "shop"},
 "post_validate": {"watch_s": 1, "interval_s": 0.5}}
EOF
$PY - "$SRC" >"$T/pgwriter.out" 2>"$T/pgwriter.err" <<'PYEOF' &
import json, random, sys, time, pymysql
c = pymysql.connect(unix_socket=sys.argv[1], user="root", database="plain",
                    autocommit=True).cursor()
r, n, end = random.Random(), 0, time.time() + 120
while time.time() < end:
    try:
        op = r.random()
        if op < 0.5:
            c.execute("INSERT INTO item (name, price, seen) VALUES "
                      "(%s, %s, NOW())", ("new %d" % n, r.randint(0, 10**6) / 100))
        elif op < 0.9:
            c.execute("UPDATE item SET price = price + 1, name = %s "
                      "WHERE id = %s", ("upd %d" % n, r.randint(1, 2000)))
        else:
            c.execute("DELETE FROM item WHERE id = %s", (r.randint(1, 2000),))
        n += 1
    except pymysql.err.MySQLError as e:
        if "cutover: writes moved to target" not in str(e):
            raise
        print(json.dumps({"committed": n, "fenced": True}))
        sys.exit(0)
    time.sleep(0.002)
print(json.dumps({"committed": n, "fenced": False}))
PYEOF
WRITER=$!
sleep 0.5
assert_exit 0 "$CUTOVER" run "$T/pg.json"
assert_contains "$OUT" "completed" "MySQL → PostgreSQL run"
wait "$WRITER" || { cat "$T/pgwriter.err" >&2; fail "the writer failed"; }
echo "writer: $(cat "$T/pgwriter.out")"
assert_eq True "$(json_get 'd["fenced"]' <"$T/pgwriter.out")" "writer fenced"
$PY - "$SRC" "$POSTGRESQL_HOST" "$POSTGRESQL_PORT" <<'PYEOF' ||
import os, sys, pymysql, psycopg2
my = pymysql.connect(unix_socket=sys.argv[1], user="root", database="plain").cursor()
pg = psycopg2.connect(host=sys.argv[2], port=int(sys.argv[3]), user="migrator",
                      password=os.environ["CUTOVER_PG_PASSWORD"],
                      dbname="shop").cursor()
q = "SELECT id, name, price, seen FROM item ORDER BY id"
my.execute(q)
pg.execute(q)
a, b = my.fetchall(), pg.fetchall()
print("%d rows on MySQL, %d on PostgreSQL" % (len(a), len(b)))
sys.exit(0 if [tuple(map(str, r)) for r in a] == [tuple(map(str, r)) for r in b]
         else 1)
PYEOF
    fail "MySQL and PostgreSQL differ"
echo "ok"
