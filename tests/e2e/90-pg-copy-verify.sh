#!/bin/bash
# SQLite → PostgreSQL 15 with `cutover run` (cutover.mode auto, no writer):
#   1. the Django-like shop reaches `completed`, and an independent reader
#      (psycopg2) finds every row of every table equal to sqlite3's;
#   2. the identity sequences are past the copied keys and the source's
#      counter: an INSERT without id gets the next one; every table was
#      vacuumed and analyzed after its copy (hint bits set and statistics
#      there before the first reads);
#   3. `cutover verify` finds nothing, then one column changed on the
#      target on purpose is reported with its table, key and column;
#   4. the escaping fixture (every byte COPY's text format escapes, NULL vs
#      '' vs 'NULL', 4-byte UTF-8, 1 MiB values, invalid UTF-8 kept as
#      bytea) round-trips byte-exact into a database cutover creates, with
#      the runbook's schema created too, through COPY and through the row
#      path (copy.method "insert") alike;
#   5. with schema.datetimes "utc", datetimes (ISO text with and without
#      'Z', 'T' separators, fractions, epoch seconds) become timestamptz
#      holding the same instants: compared by psycopg2 in UTC, verified,
#      and read by a session in another time zone as that zone's time.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_pg
shop_db "$T/shop.sqlite3" 30000
# the newest order was deleted: its id must not be handed out again
sqlite3 "$T/shop.sqlite3" "DELETE FROM shop_orderitem WHERE order_id = (SELECT max(id) FROM shop_order);
    DELETE FROM shop_order WHERE id = (SELECT max(id) FROM shop_order)"
pg_runbook "$T/runbook.json" "{'post_validate': {'watch_s': 1, 'interval_s': 0.5,
  'checks': [{'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order', 'min': 1}]}}"

assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run summary"
st=$("$CUTOVER" status "$T/runbook.json" --json)
assert_eq completed "$(echo "$st" | json_get 'd["state"]')" "status state"
pg_compare "$T/shop.sqlite3" shop

# the column types are PostgreSQL's own
types=$(pg_sql shop "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'shop_order' ORDER BY ordinal_position")
assert_contains "$types" "id bigint" "identity key type"
assert_contains "$types" "total numeric" "decimal type"
assert_contains "$types" "created_at timestamp without time zone" "datetime type"
assert_contains "$(pg_sql shop "SELECT data_type FROM information_schema.columns WHERE table_name = 'auth_user' AND column_name = 'is_staff'")" \
    boolean "boolean type"
assert_eq YES "$(pg_sql shop "SELECT is_identity FROM information_schema.columns WHERE table_name = 'shop_order' AND column_name = 'id'")" \
    "AUTOINCREMENT key is an identity column"

# indexes and foreign keys came after the copy, the keys validated
assert_eq "3 0" "$(pg_sql shop "SELECT count(*) || ' ' || count(*) FILTER (WHERE NOT convalidated) FROM pg_constraint WHERE contype = 'f'")" \
    "foreign keys made and validated"
assert_contains "$(pg_sql shop "SELECT indexname FROM pg_indexes WHERE tablename = 'shop_order'")" \
    shop_order_status_created "secondary index"
# and every copied table vacuumed and analyzed once its indexes were made
assert_eq 0 "$(pg_sql shop "SELECT count(*) FROM pg_stat_user_tables WHERE
    relname NOT LIKE '\_cutover%' AND (last_vacuum IS NULL OR last_analyze IS NULL)")" \
    "tables not vacuumed and analyzed after the copy"

# identity sequences: past the maximum and past SQLite's own counter
for table in shop_order shop_product; do
    want=$(sqlite3 "$T/shop.sqlite3" "SELECT seq + 1 FROM sqlite_sequence WHERE name='$table'")
    case $table in
    shop_order) got=$(pg_sql shop "INSERT INTO shop_order (user_id, status, total, is_paid, created_at, updated_at) VALUES (1, 'new', 1.00, false, now(), now()) RETURNING id") ;;
    shop_product) got=$(pg_sql shop "INSERT INTO shop_product (sku, name, description, price, stock, created_at) VALUES ('NEW-1', 'n', 'd', 1.00, 1, now()) RETURNING id") ;;
    esac
    assert_eq "$want" "$(echo "$got" | head -1)" "next identity of $table"
done
pg_sql shop "DELETE FROM shop_order WHERE id = (SELECT max(id) FROM shop_order); DELETE FROM shop_product WHERE sku = 'NEW-1'" >/dev/null

# nothing of ours is left on the target but the tables
ours=$(pg_sql shop "SELECT count(*) FROM pg_class WHERE relname LIKE '\_cutover%'")
assert_eq 0 "$ours" "reverse logs left on the target"

# verify: identical, then one changed column is named
assert_exit 0 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "identical" "verify after the migration"
pg_sql shop "UPDATE auth_user SET first_name = 'CORRUPT' WHERE id = 5" >/dev/null
assert_eq "auth_user differs [5] first_name" \
    "$(verify_mismatched "$T/runbook.json")" "the changed column reported"

# the escaping fixture, into a database and schema cutover makes; NUL in
# text (which PostgreSQL cannot store) goes to bytea by an override
$PY "$ROOT/tests/lib/fixtures.py" escaping "$T/esc.sqlite3"
postgresql_sql "ALTER ROLE migrator CREATEDB" >/dev/null
pg_runbook "$T/esc.json" "{'state_dir': 'state-esc', 'source': {'path': 'esc.sqlite3'},
    'target': {'database': 'escaping', 'schema': 'app'},
    'schema': {'invalid_utf8': 'as_blob', 'overrides': {'t.s': 'bytea'}}}"
assert_exit 0 "$CUTOVER" run "$T/esc.json"
$PY "$ROOT/tests/lib/compare.py" "$T/esc.sqlite3" \
    "postgresql:host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT user=migrator password=$CUTOVER_PG_PASSWORD" \
    escaping --schema app || fail "escaping fixture differs"
assert_eq "ff00fe5c09" "$(pg_sql escaping "SELECT encode(s, 'hex') FROM app.bad WHERE id = 1")" \
    "invalid UTF-8 kept byte-exact"
assert_eq "$(sqlite3 "$T/esc.sqlite3" "SELECT hex(s) FROM t WHERE id = 13")" \
    "$(pg_sql escaping "SELECT upper(encode(s, 'hex')) FROM app.t WHERE id = 13")" \
    "NUL in text kept as bytea"
assert_exit 0 "$CUTOVER" verify "$T/esc.json"
assert_contains "$OUT" "identical" "verify of the escaping fixture"

# the row path (copy.method "insert": the applier's upserts) writes the
# same bytes as COPY
$PY "$ROOT/tests/lib/fixtures.py" escaping "$T/esc2.sqlite3"
pg_runbook "$T/esc2.json" "{'state_dir': 'state-esc2', 'source': {'path': 'esc2.sqlite3'},
    'target': {'database': 'escaping_rows', 'schema': 'app'},
    'copy': {'method': 'insert'},
    'schema': {'invalid_utf8': 'as_blob', 'overrides': {'t.s': 'bytea'}}}"
assert_exit 0 "$CUTOVER" run "$T/esc2.json"
digest() {
    pg_sql "$1" "SELECT md5(string_agg(concat_ws('|', id, encode(s, 'hex'), encode(b, 'hex'), encode(raw, 'hex')), ';' ORDER BY id)) FROM app.t"
}
a=$(digest escaping)
[ -n "$a" ] && [ "$a" = "$(digest escaping_rows)" ] || fail "COPY and row paths differ"

# datetimes that are UTC instants become timestamptz
sqlite3 "$T/utc.sqlite3" "CREATE TABLE visit (id INTEGER PRIMARY KEY,
    at DATETIME NOT NULL, seen TIMESTAMP, day DATE);
  INSERT INTO visit VALUES (1, '2024-03-31 00:30:00', 1711845000, '2024-03-31'),
    (2, '2024-03-31T01:30:00.25Z', 1711848600.5, NULL),
    (3, '1999-12-31 23:59:59.999999', NULL, '1999-12-31')"
pg_runbook "$T/utc.json" "{'state_dir': 'state-utc', 'source': {'path': 'utc.sqlite3'},
    'target': {'database': 'instants'}, 'schema': {'datetimes': 'utc'}}"
assert_exit 0 "$CUTOVER" run "$T/utc.json"
assert_eq "at timestamp with time zone
day date
seen timestamp with time zone" \
    "$(pg_sql instants "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'visit' AND column_name <> 'id' ORDER BY column_name")" \
    "datetimes as timestamptz"
$PY "$ROOT/tests/lib/compare.py" "$T/utc.sqlite3" \
    "postgresql:host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT user=migrator password=$CUTOVER_PG_PASSWORD" \
    instants || fail "instants differ"
assert_exit 0 "$CUTOVER" verify "$T/utc.json"
assert_contains "$OUT" "identical" "verify of timestamptz columns"
assert_eq "2024-03-31 03:30:00.25+02" \
    "$(pg_sql instants "SET TimeZone = 'Europe/Paris'; SELECT at FROM visit WHERE id = 2" | tail -1)" \
    "the instant read in another zone"
echo ok
