#!/bin/bash
# Column defaults carry over: a row inserted on MySQL without those columns
# gets the same values as the same insert into SQLite — Laravel's quoted
# DEFAULT '0' on a boolean, numbers, text with quotes and a backslash,
# defaults on TEXT and BLOB columns, NULL. An expression default cannot be
# carried: plan warns about that one column, and only that one.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_db
sqlite3 "$T/shop.sqlite3" <<'SQL'
PRAGMA journal_mode=WAL;
CREATE TABLE settings (
  id INTEGER PRIMARY KEY,
  is_active tinyint(1) NOT NULL DEFAULT '0',
  retries INTEGER NOT NULL DEFAULT 3,
  ratio REAL DEFAULT -1.5,
  price DECIMAL(8,2) NOT NULL DEFAULT '9.99',
  label VARCHAR(40) NOT NULL DEFAULT 'it''s \ new',
  body TEXT NOT NULL DEFAULT 'long ''text''',
  notes TEXT DEFAULT NULL,
  code TEXT DEFAULT 7,
  raw BLOB DEFAULT x'00ff',
  flag BOOLEAN NOT NULL DEFAULT TRUE,
  made TEXT DEFAULT (lower('NOW')));
INSERT INTO settings (id) VALUES (1);
SQL
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0}}"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
warnings=$(echo "$OUT" | grep -c "default .* is not carried over" || true)
assert_eq 1 "$warnings" "default warnings in plan"
assert_contains "$OUT" "settings.made" "the expression default is named"

assert_exit 0 "$CUTOVER" run "$T/runbook.json"
sql shop -e "INSERT INTO settings (id) VALUES (2)"
got=$(sql shop -e "SELECT is_active, retries, ratio, price, label, body,
        IFNULL(notes, 'NULL'), code, HEX(raw), flag FROM settings WHERE id = 2")
want=$(printf '0\t3\t-1.5\t9.99\tit'"'"'s \\\\ new\tlong '"'"'text'"'"'\tNULL\t7\t00FF\t1')
assert_eq "$want" "$got" "defaults applied by MySQL"
echo "defaults on MySQL: $got"
echo ok
