#!/bin/bash
# schema.mode "existing" into a Laravel-shaped schema: the MySQL DDL that
# `php artisan migrate` makes (fixtures/laravel-app-mysql.sql: unsigned
# BIGINT ids, VARCHAR(255), TIMESTAMP NULL, TINYINT(1), ENUM and SET,
# utf8mb4_unicode_ci, one old utf8mb3 table), the data in the app's SQLite
# database (fixtures/laravel-app.sql).
#  1. One planted row (or schema difference) per finding Laravel's columns
#     can give: plan names each with its table, column, key and value.
#  2. Fixed step by step (a column added without its values is a finding
#     too), then migrated: a value the target refuses during the copy (a
#     CHECK constraint plan does not evaluate) and one written during sync
#     stop the run naming table, key and column, never a row number of
#     ours; fixed, resume completes; SHOW CREATE TABLE is unchanged and
#     every row compares equal.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

# plan_findings FILE CODE:TABLE:COLUMN:KEY:VALUE...: each blocking finding
# is there (KEY a JSON example key, VALUE text of its value excerpt; empty
# parts are not checked) and there is no other.
plan_findings() {
    $PY - "$@" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
blocking = [f for f in plan["findings"] if f["severity"] == "blocking"]
problems, named = [], set()
for spec in sys.argv[2:]:
    code, table, column, key, value = spec.split(":", 4)
    named.add((code, table, column or None))
    hits = [f for f in blocking if f["code"] == code and f.get("table") ==
            table and f.get("column") == (column or None)]
    if not hits:
        problems.append("no %s finding for %s.%s" % (code, table, column))
        continue
    f = hits[0]
    if key and json.loads(key) not in (f.get("examples") or []):
        problems.append("%s: examples %r" % (spec, f.get("examples")))
    if value and value not in " ".join(f.get("values") or []):
        problems.append("%s: values %r" % (spec, f.get("values")))
    print("ok  %-16s %s.%s  %s  %s" % (code, table, column, json.dumps(
        f.get("examples"), ensure_ascii=False)[:60],
        " ".join(f.get("values") or [])[:50]))
for f in blocking:
    if (f["code"], f.get("table"), f.get("column")) not in named:
        problems.append("unexpected: %s" % f)
print("\n".join(problems) or "every planted row named")
sys.exit(1 if problems else 0)
PY
}

start_db
sql -e "CREATE DATABASE dixis CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
sql dixis <"$ROOT/tests/e2e/fixtures/laravel-app-mysql.sql"
show_create dixis >"$T/schema-before.sql"
sql dixis -e "SELECT id, migration, batch FROM migrations" >"$T/migrations-before.txt"

sqlite3 "$T/shop.sqlite3" <"$ROOT/tests/e2e/fixtures/laravel-app.sql" >/dev/null
# the migration both sides ran, and a pivot whose SQLite twin has an id key
sqlite3 "$T/shop.sqlite3" <<'SQL'
ALTER TABLE products ADD COLUMN badges varchar;
INSERT INTO migrations (migration, batch) VALUES ('2025_01_10_000000_add_badges_to_products', 3);
CREATE TABLE product_tag (id integer primary key autoincrement not null, product_id integer not null, tag varchar not null);
CREATE UNIQUE INDEX product_tag_product_id_tag_unique ON product_tag (product_id, tag);
INSERT INTO product_tag (product_id, tag) VALUES (1, 'μέλι'), (1, 'κρήτη'), (2, 'λάδι');
UPDATE products SET badges = 'organic,local' WHERE id = 1;
SQL

# 1. One planted row per finding (MySQL lacks the currency migration on
#    the source side: orders.currency is NOT NULL there, with no default).
sqlite3 "$T/shop.sqlite3" <<'SQL'
-- equal to maria@example.gr under utf8mb4_unicode_ci
INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES
  (10, 'Maria P.', 'Maria@Example.GR', 'x', '2024-12-04 10:00:00', '2024-12-04 10:00:00');
-- after TIMESTAMP's 2038-01-19 03:14:07
INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES
  (11, 'Future', 'future@example.gr', 'x', '2040-01-01 00:00:00', '2024-12-04 10:00:00');
-- a fraction of a second into TIMESTAMP (no fraction digits)
INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES
  (12, 'Half', 'half@example.gr', 'x', '2024-12-04 10:00:00', '2024-12-04 10:00:00.5');
-- above TINYINT UNSIGNED's 255
INSERT INTO jobs (id, queue, payload, attempts, available_at, created_at) VALUES
  (2, 'default', '{}', 256, 1734681600, 1734681600);
-- an emoji into the utf8mb3 table
INSERT INTO producers (id, user_id, business_name, created_at, updated_at) VALUES
  (2, 1, 'Μέλι 🍯 Κρήτης', '2024-12-05 10:00:00', '2024-12-05 10:00:00');
-- 35,000 Greek letters: under TEXT's 65,535 characters, over its bytes
INSERT INTO producers (id, user_id, business_name, description, created_at, updated_at) VALUES
  (3, 2, 'Ελαιώνες', printf('%.35000c', 'μ'), '2024-12-05 10:00:00', '2024-12-05 10:00:00');
-- not one of the ENUM's values (SQLite's CHECK bypassed, as raw SQL can)
PRAGMA ignore_check_constraints = ON;
INSERT INTO orders (id, user_id, status, subtotal, total_tax, total) VALUES (3, 2, 'refunded', 1, 0, 1);
PRAGMA ignore_check_constraints = OFF;
-- members of the SET out of its order (MySQL would reorder them)
UPDATE products SET badges = 'vegan,organic' WHERE id = 2;
-- CHAR(2) drops a trailing space
INSERT INTO shipping_zones (id, country, region, rate) VALUES (3, 'G ', 'Γαύδος', 9.5);
SQL

runbook "$T/runbook.json" "{'target': {'type': 'mysql', 'socket': '$SOCK', 'user': 'root', 'database': 'dixis'},
  'schema': {'mode': 'existing'}, 'tables': {'keys': {'password_resets': 'rowid'}}}"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
echo "$OUT" | sed -n '/^findings/,/^rules/p' | grep -v "^  info"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json" --json
echo "$OUT" >"$T/plan1.json"
plan_findings "$T/plan1.json" \
    "collision:users:email::" \
    "out_of_range:users:created_at:[11]:2040-01-01" \
    "fraction_digits:users:updated_at:[12]:10:00:00.5" \
    "out_of_range:jobs:attempts:[2]:256" \
    "mb4:producers:business_name:[2]:🍯" \
    "too_long:producers:description:[3]:70000 bytes" \
    "not_member:orders:status:[3]:refunded" \
    "not_member:products:badges:[2]:vegan,organic" \
    "trailing_space:shipping_zones:country:[3]:'G '" \
    "missing_value:orders:currency::" \
    "bookkeeping:migrations:::" \
    "target_key:product_tag:::" \
    "missing_column:password_resets:cutover_rowid::" \
    "target_key:password_resets:::" ||
    fail "plan did not name every planted row"
echo "$OUT" | json_get '[f["hint"] for f in d["findings"] if f["code"] == "target_key" and f["table"] == "product_tag"][0]' |
    grep -q 'set tables.keys {"product_tag": \["product_id", "tag"\]}' ||
    fail "no tables.keys hint for product_tag"

# 2. Fixed: the rows, the key choice, the old table left out, the currency
#    migration run on the source too -- at first without its values.
sqlite3 "$T/shop.sqlite3" <<'SQL'
UPDATE users SET email = 'maria.p@example.gr' WHERE id = 10;
UPDATE users SET created_at = '2030-01-01 00:00:00' WHERE id = 11;
UPDATE users SET updated_at = '2024-12-04 10:00:01' WHERE id = 12;
UPDATE jobs SET attempts = 255 WHERE id = 2;
UPDATE producers SET business_name = 'Μέλι Κρήτης' WHERE id = 2;
UPDATE producers SET description = printf('%.30000c', 'μ') WHERE id = 3;
UPDATE orders SET status = 'cancelled' WHERE id = 3;
UPDATE products SET badges = 'organic,vegan' WHERE id = 2;
UPDATE shipping_zones SET country = 'GR' WHERE id = 3;
ALTER TABLE orders ADD COLUMN currency varchar;
INSERT INTO migrations (migration, batch) VALUES ('2025_01_15_000000_add_currency_to_orders', 4);
SQL
runbook "$T/runbook.json" "{'target': {'type': 'mysql', 'socket': '$SOCK', 'user': 'root', 'database': 'dixis'},
  'schema': {'mode': 'existing'},
  'tables': {'exclude': ['password_resets'], 'keys': {'product_tag': ['product_id', 'tag']}},
  'post_validate': {'watch_s': 1, 'interval_s': 0.5}}"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json" --json
echo "$OUT" >"$T/plan2.json"
plan_findings "$T/plan2.json" "null:orders:currency:[1]:" ||
    fail "the column added without values is not named"
sqlite3 "$T/shop.sqlite3" "UPDATE orders SET currency = 'EUR'"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json" --json
echo "$OUT" | json_get '[f["message"] for f in d["findings"] if f["code"] in ("bookkeeping", "check_constraint")]'

# A CHECK constraint added by a migration's raw statement: plan names it
# but does not evaluate it; the copy meets a price it refuses, and the
# error names the row by its key (the server's error names no row).
sql dixis -e "ALTER TABLE products ADD CONSTRAINT products_price_positive CHECK (price >= 0)"
show_create dixis >"$T/schema-before.sql"
sqlite3 "$T/shop.sqlite3" "UPDATE products SET price = -9.9 WHERE id = 2"
assert_exit 1 "$CUTOVER" run "$T/runbook.json"
echo "$OUT" | tail -2
assert_contains "$OUT" "failed in bulk_copy: table products, key id=2" "copy refusal"
assert_contains "$OUT" "products_price_positive" "copy refusal"
case "$OUT" in *"at row"*) fail "a row number of ours in: $OUT" ;; esac
sqlite3 "$T/shop.sqlite3" "UPDATE products SET price = 9.9 WHERE id = 2"

# A value written during sync that the target refuses: the applier names
# its key and column.
(rc=0; CUTOVER_PAUSE_AT=sync:ready:1 CUTOVER_PAUSE_FILE=$T/pause \
    "$CUTOVER" resume "$T/runbook.json" >"$T/resume.out" 2>&1 || rc=$?
 echo $rc >"$T/resume.rc") &
wait_for 120 test -e "$T/pause"
sqlite3 "$T/shop.sqlite3" "INSERT INTO users (id, name, email, password) VALUES (20, printf('%.300c', 'Ω'), 'omega@example.gr', 'x')"
rm "$T/pause"
wait_for 120 test -s "$T/resume.rc"
assert_eq 1 "$(cat "$T/resume.rc")" "resume with a refused value"
OUT=$(cat "$T/resume.out")
echo "$OUT" | tail -2
assert_contains "$OUT" "table users, key id=20, column name: the target refuses the value (Data too long for column 'name')" "sync refusal"
case "$OUT" in *"at row"*) fail "a row number of ours in: $OUT" ;; esac
sqlite3 "$T/shop.sqlite3" "UPDATE users SET name = 'Ωμέγα' WHERE id = 20"

assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume"

show_create dixis >"$T/schema-after.sql"
diff -u "$T/schema-before.sql" "$T/schema-after.sql" ||
    fail "the migration changed the application's schema"
sql dixis -e "SELECT id, migration, batch FROM migrations" >"$T/migrations-after.txt"
diff -u "$T/migrations-before.txt" "$T/migrations-after.txt" ||
    fail "the target's migrations table changed"
assert_eq 0 "$(sql -e "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'dixis'")" "triggers left"
assert_eq 0 "$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'dixis' AND TABLE_NAME LIKE '\\_cutover\\_%'")" "cutover tables left"
TABLES=$(sqlite3 "$T/shop.sqlite3" "SELECT group_concat(name) FROM sqlite_master
  WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\_cutover\_%' ESCAPE '\'
  AND name NOT IN ('migrations', 'password_resets')")
$PY "$ROOT/tests/lib/compare.py" "$T/shop.sqlite3" "$SOCK" dixis --tables "$TABLES" ||
    fail "rows differ"
echo ok
