#!/bin/bash
# The seed's MySQL → PostgreSQL move without its weekend of downtime: the
# Django shop (tests/lib/django, Debian's Django 3.2 with USE_TZ) whose
# tables `manage.py migrate` made on MariaDB (tinyint(1) booleans,
# datetime(6) holding UTC, smallint unsigned, a unique email, foreign
# keys) moves to PostgreSQL 15 while 2 workers check out orders through
# Django's whole request handler, following the switch file with the
# router and the 503 middleware of the README (shop/cutover.py).
#  - plan: changes captured from the binary log (the default: MariaDB
#    logs ROW with FULL images here), Django's MySQL columns in
#    PostgreSQL's words (boolean, timestamptz under schema.datetimes
#    "utc", integer for smallint unsigned, numeric, varchar), nothing
#    blocks;
#  - migration 1: switched under load, the shop follows to PostgreSQL
#    (orders acknowledged there, their ids from the identity sequences
#    past MySQL's), then `ctl rollback` during post_validate: the shop
#    follows back, and every order it acknowledged on either side is in
#    MariaDB with its total and item; exit 5;
#  - migration 2, into a new database: completes under load; every order
#    acknowledged on either side is in PostgreSQL; no error the customers
#    would see but the 503s of the fences.
# timeout: 300
# long
. "$(dirname "$0")/../lib/common.sh"

LOAD="$PY $ROOT/tests/lib/django/shopload.py"
mariadb_start "$T/src" --log-bin="$T/src/binlog" --server-id=1 \
    --binlog-format=ROW || fail "the source MariaDB did not start"
SRC=$MARIADB_SOCKET
EXTRA_DBS="$T/src"
mariadb --no-defaults -S "$SRC" -uroot -e "CREATE DATABASE shop"
$LOAD seed --mysql-socket "$SRC" --mysql-db shop --customers 500 \
    --products 200 || fail "seeding the shop on MariaDB"
start_pg
postgresql_sql "ALTER ROLE migrator CREATEDB" >/dev/null
export DJSHOP_PG_PASSWORD=$CUTOVER_PG_PASSWORD

cat >"$T/switch.sh" <<'SH'
echo "$1" >"$CUTOVER_STATE_DIR/../switch.new" &&
    mv "$CUTOVER_STATE_DIR/../switch.new" "$CUTOVER_STATE_DIR/../switch"
SH
# migration RUNBOOK STATE-DIR DATABASE WATCH-S
migration() {
    pg_runbook "$1" "{'target': {'database': '$3'}}"
    $PY - "$1" "$2" "$SRC" "$T/switch.sh" "$4" <<'PYEOF'
import json, sys
path, state, src, switch, watch = sys.argv[1:6]
rb = json.load(open(path))
rb["state_dir"] = state
rb["source"] = {"type": "mysql", "socket": src, "user": "root",
                "database": "shop"}
rb["schema"] = {"datetimes": "utc"}
rb["cutover"] = {"mode": "auto", "max_write_pause_ms": 3000,
    "switch": [{"exec": ["sh", switch, "postgresql"]}],
    "switch_back": [{"exec": ["sh", switch, "mysql"]}]}
rb["post_validate"] = {"watch_s": int(watch), "interval_s": 0.5,
    "checks": [{"name": "orders", "sql": "SELECT COUNT(*) FROM shop_order",
                "min": 1}]}
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}
# shop NAME DATABASE: 2 workers at 20 requests/s on the source, following
# the switch file to PostgreSQL's DATABASE
shop() {
    rm -f "$T/stop"
    $LOAD run --source mysql --mysql-socket "$SRC" --mysql-db shop \
        --target postgresql --pg-host "$POSTGRESQL_HOST" \
        --pg-port "$POSTGRESQL_PORT" --pg-db "$2" --pg-user migrator \
        --switch-file "$T/switch" --stop-file "$T/stop" --duration 3600 \
        --workers 2 --rate 20 --out "$T/$1.json" >"$T/$1.out" 2>&1 &
    SHOP=$!
}
shop_stops() {
    touch "$T/stop"
    wait "$SHOP" || { cat "$T/$1.out" >&2; fail "the shop failed"; }
    cat "$T/$1.out"
    [ "$(json_get 'd["other"] + d["deadlock"]' <"$T/$1.out")" = 0 ] ||
        fail "the shop saw errors: $(json_get 'd["other_samples"]' <"$T/$1.out")"
    [ "$(json_get 'd["acked_by_db"]["postgresql"] > 0' <"$T/$1.out")" = True ] ||
        fail "no order was acknowledged on PostgreSQL"
}

# plan: Django's MySQL columns in PostgreSQL's words
migration "$T/rb1.json" "$T/state1" shop 3600
assert_exit 0 "$CUTOVER" plan "$T/rb1.json"
assert_contains "$OUT" "change capture: binlog" "plan names the capture"
assert_exit 0 "$CUTOVER" plan "$T/rb1.json" --json
echo "$OUT" >"$T/plan.json"
$PY - "$T/plan.json" <<'PYEOF' || fail "plan's types"
import json, sys
plan = json.load(open(sys.argv[1]))
types = {(t["name"], c["name"]): c["type"]
         for t in plan["tables"] for c in t["columns"]}
want = {("shop_customer", "is_active"): "boolean",
        ("shop_customer", "joined_at"): "timestamptz(6)",
        ("shop_customer", "email"): "varchar(254)",
        ("shop_product", "price"): "numeric(10,2)",
        ("shop_orderitem", "quantity"): "integer",
        ("shop_order", "id"): "bigint"}
bad = {k: (v, types.get(k)) for k, v in want.items() if types.get(k) != v}
print("types differ:", bad) if bad else None
sys.exit(1 if bad else 0)
PYEOF

# migration 1: switched under load, rolled back under load
echo mysql >"$T/switch"
shop one shop
sleep 1
"$CUTOVER" run "$T/rb1.json" >"$T/run1.out" 2>&1 &
RUN=$!
wait_for 120 grep -q '"to":"post_validate"' "$T/state1/events.ndjson"
# the shop writes on PostgreSQL for a while
sleep 3
assert_exit 0 "$CUTOVER" ctl "$T/rb1.json" rollback
set +e
wait "$RUN"
code=$?
set -e
assert_eq 5 "$code" "exit of the rolled back migration ($(tail -3 "$T/run1.out"))"
sleep 2
shop_stops one
$LOAD check --mysql-socket "$SRC" --mysql-db shop "$T/one.json" ||
    fail "orders acknowledged during migration 1 are missing in MariaDB"

# migration 2: completes under load, into a new database
echo mysql >"$T/switch"
shop two shop2
sleep 1
migration "$T/rb2.json" "$T/state2" shop2 3
"$CUTOVER" run "$T/rb2.json" >"$T/run2.out" 2>&1 ||
    { cat "$T/run2.out" >&2; fail "migration 2"; }
assert_contains "$(cat "$T/run2.out")" "completed" "migration 2"
sleep 2
shop_stops two
$LOAD check --pg-host "$POSTGRESQL_HOST" --pg-port "$POSTGRESQL_PORT" \
    --pg-db shop2 --pg-user migrator "$T/one.json" "$T/two.json" ||
    fail "orders acknowledged are missing in PostgreSQL"
echo ok
