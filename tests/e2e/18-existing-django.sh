#!/bin/bash
# schema.mode "existing" with a real Django app (tests/lib/django, Debian's
# Django 3.2): `manage.py migrate` makes the schema on MariaDB, the data is
# in the app's SQLite database.
#  1. One planted row (or schema difference) per finding Django's columns
#     can give: plan names each with its table, column, key and value, and
#     blocks; run refuses too, and the schema is untouched.
#  2. With the rows fixed: a live migration to completed while the app's
#     own writer (the README's router) follows the switch; at the switch
#     every row compares equal; SHOW CREATE TABLE of every table is the
#     same as before (AUTO_INCREMENT aside), nothing of cutover's is left,
#     and `manage.py migrate --check` and `manage.py check` pass on MariaDB.
# timeout: 420
. "$(dirname "$0")/../lib/common.sh"

DJ=$ROOT/tests/lib/django
manage() { (cd "$DJ" && $PY manage.py "$@"); }
# in the background ("manage_bg ... &"): $! is then Django's own process
manage_bg() { cd "$DJ" && exec $PY manage.py "$@"; }

start_db
# MariaDB's own default for utf8mb4: case-insensitive, as most servers are
sql -e "CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
export DJSHOP_MYSQL_SOCKET=$SOCK DJSHOP_MYSQL_DB=shop DJSHOP_SQLITE=$T/shop.sqlite3
DJSHOP_DB=mysql manage migrate -v0
DJSHOP_DB=sqlite manage migrate -v0
show_create shop >"$T/schema-before.sql"
echo "Django made $(sql shop -e 'SHOW TABLES' | wc -l) tables on MariaDB"

# the shop's data, written the way Django writes it to SQLite
$PY - "$T/shop.sqlite3" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL")
r = random.Random(7)
db.executemany("INSERT INTO shop_customer VALUES (?, ?, ?, ?, ?)", [
    (i, "Πελάτης %d" % i, "c%d@example.com" % i, i % 5 != 0,
     "2024-%02d-%02d 10:%02d:00.%06d" % (1 + i % 12, 1 + i % 28, i % 60, i))
    for i in range(1, 3001)])
db.executemany("INSERT INTO shop_product VALUES (?, ?, ?, ?, ?)", [
    (i, "SKU-%05d" % i, "Προϊόν %d" % i, r.randint(100, 99999) / 100,
     r.randint(-5, 900)) for i in range(1, 501)])
db.executemany("INSERT INTO shop_order VALUES (?, ?, ?, ?, ?, ?)", [
    (i, r.choice(["new", "paid", "shipped"]), r.randint(100, 999999) / 100,
     "" if i % 3 else "χωρίς κρεμμύδι", "2024-06-%02d 12:00:%02d" % (
         1 + i % 28, i % 60), r.randint(1, 3000)) for i in range(1, 6001)])
items, n = [], 0
for order in range(1, 6001):
    for product in r.sample(range(1, 501), r.randint(1, 3)):
        n += 1
        items.append((n, r.randint(1, 9), r.randint(100, 9999) / 100, order,
                      product))
db.executemany("INSERT INTO shop_orderitem VALUES (?, ?, ?, ?, ?)", items)
db.commit()
PY

# 1. One planted row per finding. The SQLite schema is also two migrations
#    ahead of MariaDB's (0002 added a column, 0003 removed one), as when
#    someone migrated SQLite and not the target.
sqlite3 "$T/shop.sqlite3" <<'SQL'
INSERT INTO django_migrations (app, name, applied) VALUES
  ('shop', '0002_customer_nickname', '2024-07-01 09:00:00'),
  ('shop', '0003_remove_order_status', '2024-07-02 09:00:00');
ALTER TABLE shop_customer ADD COLUMN nickname varchar(40) NULL;
ALTER TABLE shop_order DROP COLUMN status;
-- SQLite ignores lengths: 233 characters in a CharField(max_length=200)
INSERT INTO shop_customer VALUES (90001, printf('%.233c', 'M'), 'long@example.com', 1, '2024-08-01 10:00:00', NULL);
-- 7 fraction digits into datetime(6)
INSERT INTO shop_customer VALUES (90002, 'Frac', 'frac@example.com', 1, '2024-08-01 10:00:00.1234567', NULL);
-- equal to c1@example.com under utf8mb4_general_ci
INSERT INTO shop_customer VALUES (90003, 'Case', 'C1@Example.COM', 1, '2024-08-01 10:00:00', NULL);
-- 9 integer digits into decimal(10,2)
INSERT INTO shop_product VALUES (90001, 'BIG', 'Gold', 123456789.5, 1);
-- 3 fraction digits into decimal(10,2)
INSERT INTO shop_product VALUES (90002, 'FRAC', 'Saffron', 1.255, 1);
-- above int(11)'s 2147483647
INSERT INTO shop_product VALUES (90003, 'MANY', 'Rice', 2, 3000000000);
-- not a number in an IntegerField
INSERT INTO shop_product VALUES (90004, 'TEXT', 'Salt', 2, 'ten');
-- above smallint unsigned's 65535 (PositiveSmallIntegerField)
INSERT INTO shop_orderitem VALUES (90001, 70000, 1, 1, 4);
-- year 999: outside datetime(6)'s 1000-9999
INSERT INTO shop_order VALUES (90001, 1, '', '0999-12-31 23:00:00', 1);
SQL

runbook "$T/runbook.json" "{'schema': {'mode': 'existing'}}"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
echo "$OUT" | sed -n '/^findings/,/^rules/p' | grep -v "^  info"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json" --json
echo "$OUT" >"$T/plan.json"
$PY - "$T/plan.json" <<'PY' || fail "plan did not name every planted row"
import json, sys
plan = json.load(open(sys.argv[1]))
# code, table, column, example key, text in the value excerpt
want = [
    ("too_long", "shop_customer", "name", [90001], "233 characters"),
    ("fraction_digits", "shop_customer", "joined_at", [90002], ".1234567"),
    ("collision", "shop_customer", "email", None, None),
    ("missing_column", "shop_customer", "nickname", None, None),
    ("missing_value", "shop_order", "status", None, None),
    ("not_datetime", "shop_order", "created_at", [90001], "0999-12-31"),
    ("integer_digits", "shop_product", "price", [90001], "123456789.5"),
    ("fraction_digits", "shop_product", "price", [90002], "1.255"),
    ("out_of_range", "shop_product", "stock", [90003], "3000000000"),
    ("not_integer", "shop_product", "stock", [90004], "ten"),
    ("out_of_range", "shop_orderitem", "quantity", [90001], "70000"),
    ("bookkeeping", "django_migrations", None, None, None),
]
blocking = [f for f in plan["findings"] if f["severity"] == "blocking"]
problems = []
for code, table, column, key, value in want:
    hits = [f for f in blocking if f["code"] == code and
            f.get("table") == table and f.get("column") == column]
    if not hits:
        problems.append("no %s finding for %s.%s" % (code, table, column))
        continue
    f = hits[0]
    if key and f.get("examples") != [key]:
        problems.append("%s %s.%s: examples %r" % (code, table, column,
                                                   f.get("examples")))
    if value and value not in (f.get("values") or [""])[0]:
        problems.append("%s %s.%s: values %r" % (code, table, column,
                                                 f.get("values")))
    print("ok  %-16s %s.%s  %s  %s" % (code, table, column or "",
          f.get("examples", ""), (f.get("values") or [""])[0][:50]))
named = {(c, t, col) for c, t, col, _, _ in want}
for f in blocking:
    if (f["code"], f.get("table"), f.get("column")) not in named:
        problems.append("unexpected: %s" % f)
email = [f for f in blocking if f["code"] == "collision"][0]
if email["examples"][0]["keys"] != [[90003], [1]] and \
        email["examples"][0]["keys"] != [[1], [90003]]:
    problems.append("collision keys: %r" % email["examples"])
book = [f for f in blocking if f["code"] == "bookkeeping"][0]
if book["examples"] != {"source_only": ["shop.0002_customer_nickname",
                                        "shop.0003_remove_order_status"],
                        "target_only": []}:
    problems.append("bookkeeping: %r" % book["examples"])
print("\n".join(problems) or "every planted row named")
sys.exit(1 if problems else 0)
PY

# run refuses the same way, and has touched nothing
assert_exit 3 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "blocking findings" "run with planted rows"
show_create shop >"$T/schema-refused.sql"
diff -u "$T/schema-before.sql" "$T/schema-refused.sql" || fail "run changed the schema"
rm -rf "$STATE"

# 2. The rows fixed, the schema brought back to MariaDB's migration state.
sqlite3 "$T/shop.sqlite3" <<'SQL'
DELETE FROM django_migrations WHERE app = 'shop' AND name IN
  ('0002_customer_nickname', '0003_remove_order_status');
ALTER TABLE shop_customer DROP COLUMN nickname;
ALTER TABLE shop_order ADD COLUMN status varchar(16) NOT NULL DEFAULT 'new';
UPDATE shop_customer SET name = 'Μαρία Παπαδοπούλου' WHERE id = 90001;
UPDATE shop_customer SET joined_at = '2024-08-01 10:00:00.123456' WHERE id = 90002;
UPDATE shop_customer SET email = 'c90003@example.com' WHERE id = 90003;
UPDATE shop_product SET price = 12345678.5 WHERE id = 90001;
UPDATE shop_product SET price = 1.25 WHERE id = 90002;
UPDATE shop_product SET stock = 300 WHERE id = 90003;
UPDATE shop_product SET stock = 10 WHERE id = 90004;
UPDATE shop_orderitem SET quantity = 7 WHERE id = 90001;
UPDATE shop_order SET created_at = '1999-12-31 23:00:00' WHERE id = 90001;
SQL
assert_exit 0 "$CUTOVER" plan "$T/runbook.json" --json
echo "$OUT" | json_get '[f for f in d["findings"] if f["code"] == "bookkeeping"]' |
    grep -q "same 16 Django migrations" || fail "django_migrations not kept: $OUT"

# The switch compares every row first (the source is fenced by then, the
# target has everything), then flips the app's flag file.
TABLES=$(sqlite3 "$T/shop.sqlite3" "SELECT group_concat(name) FROM sqlite_master
  WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'django_migrations'")
cat >"$T/switch.sh" <<EOF
$PY $ROOT/tests/lib/compare.py $T/shop.sqlite3 $SOCK shop --tables $TABLES >$T/at-switch.txt 2>&1
echo mysql >$T/flag.new && mv $T/flag.new $T/flag
EOF
runbook "$T/runbook.json" "{'schema': {'mode': 'existing'},
  'source': {'type': 'sqlite', 'path': 'shop.sqlite3', 'app_busy_timeout_ms': 10000},
  'cutover': {'max_write_pause_ms': 3000,
              'switch': [{'exec': ['sh', '$T/switch.sh']}],
              'switch_back': [{'exec': ['sh', '-c', 'echo sqlite >$T/flag']}]},
  'post_validate': {'watch_s': 3, 'interval_s': 0.5}}"

echo sqlite >"$T/flag"
export DJSHOP_SWITCH_FILE=$T/flag
manage_bg shopwriter run --record "$T/record.jsonl" --rate 40 \
    >"$T/writer.out" 2>"$T/writer.err" &
WRITER=$!
sleep 2
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run"
sleep 1
kill -TERM "$WRITER"
wait "$WRITER" || fail "the writer failed: $(tail -5 "$T/writer.err")"
SUMMARY=$(tail -1 "$T/writer.out")
echo "writer: $SUMMARY"
assert_eq mysql "$(echo "$SUMMARY" | json_get 'd["backend"]')" "the writer's database"
assert_eq 1 "$(echo "$SUMMARY" | json_get 'd["switches"]')" "switches"
assert_eq 0 "$(echo "$SUMMARY" | json_get 'd["other_errors"]')" "other errors"
manage shopwriter check --record "$T/record.jsonl" --database mysql ||
    fail "acknowledged writes missing on MariaDB"

cat "$T/at-switch.txt"
assert_contains "$(tail -1 "$T/at-switch.txt")" ": 0 differences" "rows at the switch"

# the application's schema is as Django made it; nothing of ours is left
show_create shop >"$T/schema-after.sql"
echo "SHOW CREATE TABLE of $(grep -c '^CREATE TABLE' "$T/schema-after.sql") tables, before and after (AUTO_INCREMENT aside):"
diff -u "$T/schema-before.sql" "$T/schema-after.sql" && echo "identical" ||
    fail "the migration changed the application's schema"
assert_eq 0 "$(sql -e "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop'")" "triggers left"
assert_eq 0 "$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME LIKE '\\_cutover\\_%'")" "cutover tables left"
# the target's own django_migrations rows were kept, not the source's
assert_eq 16 "$(sql shop -e "SELECT COUNT(*) FROM django_migrations")" "django_migrations rows"

unset DJSHOP_SWITCH_FILE
DJSHOP_DB=mysql manage migrate --check
DJSHOP_DB=mysql manage check
echo ok
