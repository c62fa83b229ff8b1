#!/bin/bash
# 05-writer-selftest.sh — the live writer (tests/lib/writer/) proves itself
# before it is trusted to prove cutover. Without cutover, by hand:
#   1. SQLite alone, the write lock held for 700 ms meanwhile: busy errors,
#      a stall as long as the lock, and `check` finds every recorded row.
#   2. `check` catches a corrupted, a deleted and a resurrected row.
#   3. An order id handed out twice (the counter set back) is reported.
#   4. A cutover and a rollback played by hand: fence SQLite, copy it to
#      MySQL, switch; fence MySQL, copy it back, switch back. The writer
#      follows both fences, and each part of its record matches the side
#      that held the data, across both normalizations.
#   5. The same with PostgreSQL (a private server, tables made by hand as
#      cutover makes them, the fence raising cutover's SQLSTATE 25006);
#      then `check` against PostgreSQL reports a deleted acknowledged row
#      lost and a changed one different, and compare.py (equal rows at
#      the rollback) names both differences.
# WRITER_BIN picks another build of the writer (a sanitizer build, say).
# timeout: 180
. "$(dirname "$0")/../lib/common.sh"

W=${WRITER_BIN:-$ROOT/bin/writer}
[ -x "$W" ] || fail "$W missing: run make tools"
TABLES="auth_user shop_product shop_order shop_orderitem django_session"
DB=$T/shop.sqlite3

summary() { json_get "d['$2']" <"$1"; }

# check_ok RECORD ARGS...: `writer check` finds every key as recorded.
check_ok() {
    local rec=$1; shift
    assert_exit 0 "$W" check --record "$rec" "$@"
    assert_contains "$OUT" '"lost": 0, "unexpected": 0, "different": 0' \
        "check of $(basename "$rec")"
}

lines_where() { # lines_where RECORD PY-EXPR: record lines r matching
    $PY -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if eval(sys.argv[2], {}, {"r": json.loads(l)})))' "$@"
}

hold_sqlite_lock() { # hold_sqlite_lock PATH SECONDS
    $PY -c 'import sqlite3, sys, time
# a long busy timeout: the writer at 300 transactions/s can keep the
# busy handler waiting for seconds on a loaded machine
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=120)
c.execute("BEGIN IMMEDIATE"); time.sleep(float(sys.argv[2])); c.execute("COMMIT")' "$@"
}

# fence_statements MESSAGE BODY-FORMAT: one fence trigger per table and verb.
fence_statements() {
    local t op
    for t in $TABLES; do
        for op in INSERT UPDATE DELETE; do
            # shellcheck disable=SC2059
            printf "CREATE TRIGGER fence_${op,,}_$t BEFORE $op ON $t $2;\n" "$1"
        done
    done
}

fence_sqlite() {
    { echo ".timeout 30000"; echo "BEGIN IMMEDIATE;"
      fence_statements 'cutover: writes moved to target' \
          "BEGIN SELECT RAISE(ABORT, '%s'); END"
      echo "COMMIT;"; } | sqlite3 "$DB" >/dev/null
}

fence_mysql() {
    fence_statements 'cutover: writes moved back to source' \
        "FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '%s'" | sql shop
}

# shop_copy ENGINE schema|to_target|to_sqlite: what cutover does, done
# crudely, with ENGINE mysql ($SOCK) or postgresql (the server of
# postgresql_start, database shop, as the superuser: it may switch foreign
# keys off while it copies).
shop_copy() {
    $PY - "$1" "$2" "$DB" "$SOCK" "${POSTGRESQL_HOST:-}" "${POSTGRESQL_PORT:-}" \
        "$POSTGRESQL_SUPERPASS" <<'PYEOF'
import datetime, decimal, sqlite3, sys
engine, mode, path, sock, pg_host, pg_port, pg_pass = sys.argv[1:8]
TABLES = ['auth_user', 'shop_product', 'shop_order', 'shop_orderitem',
          'django_session']
MYSQL_SCHEMA = [
 '''CREATE TABLE auth_user (id BIGINT AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(150) NOT NULL UNIQUE, email VARCHAR(254) NOT NULL,
    first_name VARCHAR(150) NOT NULL, is_staff TINYINT(1) NOT NULL,
    is_active TINYINT(1) NOT NULL, date_joined DATETIME(6) NOT NULL,
    last_login DATETIME(6) NULL)''',
 '''CREATE TABLE shop_product (id BIGINT AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(32) NOT NULL UNIQUE, name VARCHAR(200) NOT NULL,
    description TEXT NOT NULL, price DECIMAL(10,2) NOT NULL,
    stock BIGINT NOT NULL, image LONGBLOB NULL,
    created_at DATETIME(6) NOT NULL)''',
 '''CREATE TABLE shop_order (id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL, status VARCHAR(16) NOT NULL,
    total DECIMAL(12,2) NOT NULL, is_paid TINYINT(1) NOT NULL, note TEXT NULL,
    created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL,
    KEY (user_id), KEY (status, created_at),
    FOREIGN KEY (user_id) REFERENCES auth_user (id))''',
 '''CREATE TABLE shop_orderitem (order_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL, quantity BIGINT NOT NULL,
    unit_price DECIMAL(10,2) NOT NULL, PRIMARY KEY (order_id, product_id),
    FOREIGN KEY (order_id) REFERENCES shop_order (id),
    FOREIGN KEY (product_id) REFERENCES shop_product (id))''',
 '''CREATE TABLE django_session (session_key VARCHAR(40) NOT NULL PRIMARY KEY,
    session_data TEXT NOT NULL, expire_date DATETIME(6) NOT NULL,
    KEY (expire_date))''']
# The same tables as cutover makes them on PostgreSQL (DESIGN §10): identity
# keys, boolean, numeric, timestamp(6), bytea, and timestamptz where the
# runbook says the values are UTC instants (Django's USE_TZ).
PG_SCHEMA = [
 '''CREATE TABLE auth_user (id bigint GENERATED BY DEFAULT AS IDENTITY
    PRIMARY KEY, username varchar(150) NOT NULL UNIQUE,
    email varchar(254) NOT NULL, first_name varchar(150) NOT NULL,
    is_staff boolean NOT NULL, is_active boolean NOT NULL,
    date_joined timestamp(6) NOT NULL, last_login timestamp(6) NULL)''',
 '''CREATE TABLE shop_product (id bigint GENERATED BY DEFAULT AS IDENTITY
    PRIMARY KEY, sku varchar(32) NOT NULL UNIQUE, name varchar(200) NOT NULL,
    description text NOT NULL, price numeric(10,2) NOT NULL,
    stock bigint NOT NULL, image bytea NULL,
    created_at timestamp(6) NOT NULL)''',
 '''CREATE TABLE shop_order (id bigint GENERATED BY DEFAULT AS IDENTITY
    PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user (id),
    status varchar(16) NOT NULL, total numeric(12,2) NOT NULL,
    is_paid boolean NOT NULL, note text NULL,
    created_at timestamptz(6) NOT NULL, updated_at timestamptz(6) NOT NULL)''',
 '''CREATE TABLE shop_orderitem (order_id bigint NOT NULL
    REFERENCES shop_order (id), product_id bigint NOT NULL
    REFERENCES shop_product (id), quantity bigint NOT NULL,
    unit_price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, product_id))''',
 '''CREATE TABLE django_session (session_key varchar(40) NOT NULL
    PRIMARY KEY, session_data text NOT NULL,
    expire_date timestamptz(6) NOT NULL)''',
 'CREATE INDEX ON django_session (expire_date)']

def sqlite_value(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        return v.strftime('%Y-%m-%d %H:%M:%S.%f')
    if isinstance(v, memoryview):
        return bytes(v)
    return v

def insert(t, n):
    return 'INSERT INTO %s VALUES (%s)' % (t, ', '.join(['%s'] * n))

if engine == 'mysql':
    import pymysql
    my = pymysql.connect(unix_socket=sock, user='root', charset='utf8mb4')
    cur = my.cursor()
    if mode == 'schema':
        cur.execute('CREATE DATABASE shop')
    cur.execute('USE shop')
    schema, keys_off = MYSQL_SCHEMA, 'SET FOREIGN_KEY_CHECKS = 0'
    target_row = tuple
    def set_next_id(t, seq):
        cur.execute('ALTER TABLE %s AUTO_INCREMENT = %d' % (t, seq + 1))
    def last_ids():
        cur.execute("SELECT TABLE_NAME, AUTO_INCREMENT - 1 FROM "
                    "information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' "
                    "AND AUTO_INCREMENT IS NOT NULL")
        return cur.fetchall()
else:
    import psycopg2
    my = psycopg2.connect(host=pg_host, port=pg_port, user='postgres',
                          password=pg_pass, dbname='shop',
                          options='-c TimeZone=UTC')
    cur = my.cursor()
    # triggers (foreign keys, a fence) do not fire in a replica's session
    schema, keys_off = PG_SCHEMA, 'SET session_replication_role = replica'
    # numbers as literals the column's type reads (SQLite's 0/1 for a
    # boolean): PostgreSQL casts no integer to boolean on its own
    def target_row(r):
        return tuple(str(v) if isinstance(v, (int, float)) else v for v in r)
    def set_next_id(t, seq):
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    (t, seq))
    def last_ids():
        ids = []
        for t in ('auth_user', 'shop_product', 'shop_order'):
            cur.execute("SELECT coalesce(pg_sequence_last_value("
                        "pg_get_serial_sequence(%s, 'id')::regclass), 0)", (t,))
            ids.append((t, cur.fetchone()[0]))
        return ids
if mode == 'schema':
    if engine == 'postgresql':
        cur.execute('SET ROLE shop')  # the application's role owns its tables
    for ddl in schema:
        cur.execute(ddl)
    my.commit()
    sys.exit(0)
lite = sqlite3.connect(path, isolation_level=None, timeout=10)
lite.execute('BEGIN IMMEDIATE')
if mode == 'to_target':
    cur.execute(keys_off)
    for t in TABLES:
        rows = [target_row(r) for r in lite.execute('SELECT * FROM ' + t)]
        cur.execute('DELETE FROM ' + t)
        cur.executemany(insert(t, len(rows[0])), rows)
    for t, seq in lite.execute('SELECT name, seq FROM sqlite_sequence'):
        set_next_id(t, seq)
    my.commit()
    lite.execute('ROLLBACK')
else:  # to_sqlite, dropping the SQLite fence in the same transaction
    for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE "
                                "type = 'trigger' AND name LIKE 'fence%'").fetchall():
        lite.execute('DROP TRIGGER ' + name)
    for t in TABLES:
        cur.execute('SELECT * FROM ' + t)
        rows = [tuple(sqlite_value(v) for v in r) for r in cur.fetchall()]
        lite.execute('DELETE FROM ' + t)
        lite.executemany(insert(t, len(rows[0])).replace('%s', '?'), rows)
    for t, last_id in last_ids():
        lite.execute('UPDATE sqlite_sequence SET seq = ? WHERE name = ?',
                     (last_id, t))
    lite.execute('COMMIT')
PYEOF
}

# writer_ends_after PID SECONDS: let the writer run that much longer, then
# stop it (on SIGTERM it prints its summary). The runs below end this way,
# not with --duration: what the test does to the database meanwhile takes
# as long as the machine makes it, and must happen while the writer runs.
writer_ends_after() {
    sleep "$2"
    kill -TERM "$1"
    wait "$1" || fail "writer run exited $?"
}

record_prefix() { # record_prefix RECORD OUT: the record as it is now
    head -c "$(stat -c %s "$1")" "$1" >"$2"
}

shop_db "$DB" 3000
echo sqlite >"$T/switch"
RUN=("$W" run --sqlite "$DB" --switch-file "$T/switch" --rate 300)

# 1. SQLite alone, with a lock held longer than the busy timeout.
"${RUN[@]}" --duration 3600 --busy-timeout-ms 200 --seed 1 --record "$T/rec1" \
    >"$T/sum1" &
pid=$!
sleep 1.5
hold_sqlite_lock "$DB" 0.7
writer_ends_after $pid 1
cat "$T/sum1"
# about 1000 at full pace; a busy machine slows the writer (two tests at a
# time and other work: 204/s seen), a stuck one writes next to nothing
[ "$(summary "$T/sum1" acknowledged)" -ge 400 ] || fail "too few writes"
assert_eq sqlite "$(summary "$T/sum1" backend)" "backend"
assert_eq 0 "$(summary "$T/sum1" other_errors)" "other errors"
assert_eq 0 "$(summary "$T/sum1" reused_ids)" "reused ids"
[ "$(summary "$T/sum1" busy_errors)" -gt 0 ] || fail "no busy error seen"
$PY -c "import sys; sys.exit(not $(summary "$T/sum1" longest_stall_ms) >= 500)" ||
    fail "the 700 ms lock did not show as a stall"
for t in $TABLES; do
    [ "$(lines_where "$T/rec1" "r['table'] == '$t'")" -gt 0 ] ||
        fail "no $t in the record"
done
for t in auth_user shop_order shop_orderitem django_session; do
    [ "$(lines_where "$T/rec1" "r['table'] == '$t' and r['row'] is None")" -gt 0 ] ||
        fail "no $t row removed in the record"
done
check_ok "$T/rec1" --sqlite "$DB"

# 2. check catches each kind of loss, on a copy.
sqlite3 "$DB" ".backup $T/corrupt.sqlite3"
$PY - "$T/rec1" "$T/corrupt.sqlite3" <<'PYEOF'
import json, sqlite3, sys
final = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    final[(r['table'], tuple(r['key']))] = r['row']
def some(table, present):
    return next(k for (t, k), row in final.items()
                if t == table and (row is not None) == present)
db = sqlite3.connect(sys.argv[2])
db.execute('UPDATE shop_order SET total = total + 1 WHERE id = ?',
           some('shop_order', True))
db.execute('DELETE FROM django_session WHERE session_key = ?',
           some('django_session', True))
db.execute("INSERT INTO django_session VALUES (?, 'e30:', '2030-01-01 00:00:00')",
           some('django_session', False))
db.commit()
PYEOF
assert_exit 1 "$W" check --record "$T/rec1" --sqlite "$T/corrupt.sqlite3"
assert_contains "$OUT" '"lost": 1, "unexpected": 1, "different": 1' "corrupt check"
assert_contains "$OUT" 'different shop_order' "corrupt check examples"

# 3. The order counter set back: ids handed out again are counted.
sqlite3 "$DB" ".backup $T/reuse.sqlite3"
"$W" run --sqlite "$T/reuse.sqlite3" --switch-file "$T/switch" --rate 300 \
    --duration 3600 --record "$T/rec3" >"$T/sum3" &
pid=$!
sleep 1
# one transaction: an order the writer adds between the statements would
# move the counter past the deleted ids again
sqlite3 "$T/reuse.sqlite3" ".timeout 5000" "BEGIN IMMEDIATE;
    DELETE FROM shop_orderitem WHERE order_id > (SELECT MAX(id) - 20 FROM shop_order);
    DELETE FROM shop_order WHERE id > (SELECT MAX(id) - 20 FROM shop_order);
    UPDATE sqlite_sequence SET seq = (SELECT MAX(id) FROM shop_order)
     WHERE name = 'shop_order';
    COMMIT;"
writer_ends_after $pid 1
[ "$(summary "$T/sum3" reused_ids)" -gt 0 ] || fail "reused ids not detected"

# by_hand ENGINE N TARGET-OPTIONS...: a cutover to ENGINE and its rollback,
# by hand (parts 4 and 5), under the writer (record $T/recN, summary
# $T/sumN): fence SQLite, copy it to the target, switch; fence the target,
# copy it back, switch back. The record's prefix at each fence is checked
# against the side that held the data then.
by_hand() {
    local engine=$1 n=$2; shift 2
    local rec=$T/rec$n sum=$T/sum$n n1 n2 n3
    "${RUN[@]}" --duration 3600 --seed "$n" "$@" --record "$rec" >"$sum" &
    pid=$!
    sleep 1.5
    fence_sqlite
    shop_copy "$engine" to_target
    record_prefix "$rec" "$rec.sqlite"
    check_ok "$rec.sqlite" --sqlite "$DB"    # SQLite is frozen by its fence
    echo "$engine" >"$T/switch"
    sleep 2.5
    "fence_$engine"
    shop_copy "$engine" to_sqlite
    # both sides hold the same rows until the switch file names SQLite
    sqlite3 "$DB" ".backup $T/back-from-$engine.sqlite3"
    "compare_$engine" "$T/back-from-$engine.sqlite3" || fail "data differs"
    record_prefix "$rec" "$rec.$engine"
    check_ok "$rec.$engine" --target "$engine" "$@"
    echo sqlite >"$T/switch"
    writer_ends_after $pid 1.5
    cat "$sum"
    check_ok "$rec" --sqlite "$DB"

    n1=$(wc -l <"$rec.sqlite"); n2=$(wc -l <"$rec.$engine"); n3=$(wc -l <"$rec")
    [ "$n1" -gt 100 ] && [ $((n2 - n1)) -gt 100 ] && [ $((n3 - n2)) -gt 100 ] ||
        fail "too few writes on some side: $n1 / $((n2 - n1)) / $((n3 - n2)) lines"
    tail -n +$((n1 + 1)) "$rec.$engine" >"$rec.on-$engine"
    [ "$(lines_where "$rec.on-$engine" "r['table'] == 'auth_user' and r['row'] is None")" -gt 0 ] ||
        fail "no REPLACE on $engine"
    assert_eq sqlite "$(summary "$sum" backend)" "backend after the rollback"
    assert_eq 2 "$(summary "$sum" switches)" "switches"
    assert_eq 0 "$(summary "$sum" other_errors)" "other errors"
    assert_eq 0 "$(summary "$sum" reused_ids)" "reused ids"
    [ "$(summary "$sum" fence_errors)" -ge 2 ] || fail "fences not seen"
}

# 4. Cutover to MySQL and rollback by hand.
start_db
compare_mysql() { $PY "$ROOT/tests/lib/compare.py" "$1" "$SOCK" shop; }
shop_copy mysql schema
by_hand mysql 4 --mysql-socket "$SOCK" --mysql-db shop

# 5. The same with PostgreSQL, the writer logging in with a password as the
# application's role. Its fence is cutover's: SQLSTATE 25006 and the text.
postgresql_start "$T/pg" || fail "PostgreSQL did not start"
postgresql_add_role shop 'shop pw' shop || fail "no role for the shop"
export PGPASSWORD='shop pw'
shop_copy postgresql schema
pg_super() { PGPASSWORD=$POSTGRESQL_SUPERPASS postgresql_psql -U postgres -d shop "$@"; }
fence_postgresql() {
    { echo "BEGIN; CREATE FUNCTION fence() RETURNS trigger LANGUAGE plpgsql AS
        \$\$ BEGIN RAISE EXCEPTION USING ERRCODE = '25006',
        MESSAGE = 'cutover: writes moved back to source'; END \$\$;"
      for t in $TABLES; do
          echo "CREATE TRIGGER fence BEFORE INSERT OR UPDATE OR DELETE ON $t
                FOR EACH ROW EXECUTE FUNCTION fence();"
      done
      echo "COMMIT;"; } | pg_super
}
PG=(--pg-host "$POSTGRESQL_HOST" --pg-port "$POSTGRESQL_PORT" --pg-user shop
    --pg-db shop --pg-schema public)
compare_postgresql() {
    $PY "$ROOT/tests/lib/compare.py" "$1" \
        "postgresql:host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT user=shop" shop
}
by_hand postgresql 5 "${PG[@]}"

# `check` against PostgreSQL fails when it must: an acknowledged row
# deleted and another changed behind the writer's back (the fence and the
# foreign keys let a replica's session through).
$PY - "$T/rec5.postgresql" "$POSTGRESQL_HOST" "$POSTGRESQL_PORT" \
    "$POSTGRESQL_SUPERPASS" <<'PYEOF'
import json, sys
import psycopg2
final = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    final[(r['table'], tuple(r['key']))] = r['row']
def some(table):
    return next(k for (t, k), row in final.items()
                if t == table and row is not None)
db = psycopg2.connect(host=sys.argv[2], port=sys.argv[3], user='postgres',
                      password=sys.argv[4], dbname='shop')
cur = db.cursor()
cur.execute('SET session_replication_role = replica')
cur.execute('DELETE FROM django_session WHERE session_key = %s',
            some('django_session'))
cur.execute('UPDATE shop_order SET is_paid = NOT is_paid WHERE id = %s',
            some('shop_order'))
db.commit()
PYEOF
assert_exit 1 "$W" check --record "$T/rec5.postgresql" "${PG[@]}"
assert_contains "$OUT" '"lost": 1, "unexpected": 0, "different": 1' \
    "check of a damaged PostgreSQL"
assert_contains "$OUT" 'lost django_session' "lost row named"
assert_contains "$OUT" 'different shop_order' "different row named"
assert_exit 1 compare_postgresql "$T/back-from-postgresql.sqlite3"
assert_contains "$OUT" ": 2 differences" "compare.py of a damaged PostgreSQL"
assert_contains "$OUT" "django_session: row missing on" "compare.py"
assert_contains "$OUT" "column is_paid: sqlite" "compare.py"
echo "ok: writer self-test"
