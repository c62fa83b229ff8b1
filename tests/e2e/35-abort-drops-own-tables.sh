#!/bin/bash
# An abort with schema.on_abort "drop" drops the target tables this
# migration created and nothing else: an empty table that was already on
# the target (plan said it would be used as it is) survives, and the source
# is left exactly as before the run (no capture triggers or logs).
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 20000
sql -e "CREATE DATABASE shop; CREATE TABLE shop.shop_product (
          id BIGINT PRIMARY KEY, sku VARCHAR(32) NOT NULL UNIQUE,
          name VARCHAR(200) NOT NULL, description LONGTEXT NOT NULL,
          price DECIMAL(10,2) NOT NULL, stock BIGINT NOT NULL,
          image LONGBLOB NULL, created_at DATETIME(6) NOT NULL)
          COMMENT 'the team made this one'"
runbook "$T/runbook.json" "{'schema': {'on_abort': 'drop'},
  'copy': {'workers': 1, 'max_rows_per_s': 3000}}"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "already exists (empty); it is used as it is" "plan"

"$CUTOVER" run "$T/runbook.json" > "$T/run.out" 2>&1 &
RUN=$!
wait_for 60 sh -c "grep -q '\"type\":\"progress\"' '$STATE/events.ndjson'"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" abort
set +e; wait $RUN; code=$?; set -e
assert_eq 4 "$code" "run exit code after an abort"

tables=$(sql -e "SELECT table_name FROM information_schema.tables
                 WHERE table_schema = 'shop' ORDER BY 1" | tr '\n' ' ')
assert_eq "shop_product " "$tables" "tables left on the target"
assert_eq "the team made this one" \
    "$(sql -e "SELECT table_comment FROM information_schema.tables
               WHERE table_schema = 'shop' AND table_name = 'shop_product'")" \
    "the pre-existing table is the same table"
assert_eq "" "$(sqlite3 "$T/shop.sqlite3" "SELECT name FROM sqlite_master
                WHERE name LIKE '%cutover%'")" "cutover objects left in the source"
echo ok
