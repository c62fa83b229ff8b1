#!/bin/bash
# MySQL → PostgreSQL types, and SQLite's JSON and UUID columns. A private
# MariaDB (its default time zone +05:00, so reading TIMESTAMPs in UTC
# shows) holds tests/e2e/fixtures/mysql-pg-types.sql: a table of the types
# that move, a table with one pitfall a row, UUID keys, a 64-byte name.
#  - plan: each column's PostgreSQL type (TINYINT(1) of 0/1 boolean,
#    unsigned one wider, ENUM/SET text, TIMESTAMP timestamptz, JSON jsonb,
#    CHAR(36)/CHAR(32) of UUIDs uuid, the CHAR(36) with one non-UUID kept,
#    TEXT text), and each pitfall a finding naming its row: TINYINT(1)
#    holding 5, BIGINT UNSIGNED past 2^63-1, the invalid ENUM '', zero
#    and partial-zero dates, a NUL byte, a JSON \u0000 jsonb refuses, BIT
#    and POINT without a type, the
#    long name, a UUID key in upper case kept text, the _ci columns'
#    NOCASE choice, and under citext (an override) two handles distinct in
#    MySQL found equal by PostgreSQL; exit 3; a text[] override taken by
#    the SET and refused, blocking, for a CHAR(36);
#  - with the row fixed, schema.zero_dates "null", bytea and json overrides,
#    nothing blocks and `cutover run` completes; MySQLdb and psycopg2 find
#    every row of every table equal (jsonb by document, uuid by value,
#    timestamptz as the UTC instant); the ENUM's CHECK refuses a
#    non-member; zero dates arrived as NULL;
#  - verify finds nothing, then one changed member of a jsonb document is
#    reported with its table, key and column;
#  - live, with trigger capture and the SET as text[]: MariaDB's changes
#    during sync (JSON, a UUID, a TIMESTAMP, a zero date, a BIGINT
#    UNSIGNED past 2^63-1, SET members, a delete) arrive as they are;
#    after the switch PostgreSQL's changes come back by a rollback (a uuid
#    into the CHAR(32) without dashes, a timestamptz into the TIMESTAMP as
#    its UTC instant, text[] arrays into the SET, a CHAR(32) UUID key's
#    row deleted and one updated); every row equal after each step;
#  - SQLite: a JSON column holding a \u0000 blocks for jsonb, is copied
#    as json by an override; a JSON column of valid JSON becomes jsonb, UUID and CHAR(36)
#    columns of UUIDs uuid; a JSON and a UUID column holding one value that
#    is not are kept text with the row named; copied, every row equal,
#    verify identical; a UUID key in upper case is kept text.
# timeout: 150
. "$(dirname "$0")/../lib/common.sh"

mariadb_start "$T/src" --default-time-zone=+05:00 ||
    fail "the source MariaDB did not start"
SRC=$MARIADB_SOCKET
EXTRA_DBS="$T/src"
start_pg
src_sql() {
    mariadb --no-defaults -S "$SRC" -uroot -N -B "$@"
}
src_sql -e "CREATE DATABASE types"
src_sql types <"$ROOT/tests/e2e/fixtures/mysql-pg-types.sql"
PG_DSN="host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT user=migrator password=$CUTOVER_PG_PASSWORD dbname=shop"

# mysql_pg_runbook [PY-DICT]: MariaDB's types → PostgreSQL's shop, with
# PY-DICT merged one level deep
mysql_pg_runbook() {
    pg_runbook "$T/runbook.json"
    $PY - "$T/runbook.json" "$SRC" "${1:-{\}}" <<'PYEOF'
import ast, json, sys
rb = json.load(open(sys.argv[1]))
rb["source"] = {"type": "mysql", "socket": sys.argv[2], "user": "root",
                "database": "types", "capture": "triggers"}
for k, v in ast.literal_eval(sys.argv[3]).items():
    if isinstance(v, dict) and isinstance(rb.get(k), dict):
        rb[k].update(v)
    else:
        rb[k] = v
json.dump(rb, open(sys.argv[1], "w"), indent=1)
PYEOF
}

# ---- plan: every type, every pitfall with its row ------------------------
# users.handle (utf8mb4_bin) taken to citext: PostgreSQL finds two equal
pg_sql shop "CREATE EXTENSION IF NOT EXISTS citext" >/dev/null
mysql_pg_runbook "{'schema': {'overrides': {'users.handle': 'citext'}}}"
plan_json 3 "$T/runbook.json" "$T/plan.json"
$PY - "$T/plan.json" <<'PY' || fail "plan types and findings"
import json, sys
plan = json.load(open(sys.argv[1]))
types = {(t["name"], c["name"]): c["type"]
         for t in plan["tables"] for c in t["columns"]}
want_types = {
    "flag": "boolean", "u_small": "integer", "u_int": "bigint",
    "u_big": "numeric(20,0)", "size": "text", "tags": "text",
    "seen": "timestamp(6)", "stamp": "timestamptz(6)", "doc": "jsonb",
    "uid": "uuid", "hex_uid": "uuid", "code": "varchar(36)",
    "yr": "smallint", "wide": "numeric(65,30)", "email": "varchar(100)"}
bad = ["kinds.%s: %s, want %s" % (c, types.get(("kinds", c)), w)
       for c, w in want_types.items() if types.get(("kinds", c)) != w]
for table, col, want in (("pit", "level", "smallint"),
                         ("users", "bio", "text"), ("tokens", "token", "uuid"),
                         ("tickets", "code", "varchar(36)")):
    if types.get((table, col)) != want:
        bad.append("%s.%s: %s, want %s" % (table, col,
                                           types.get((table, col)), want))
long = "a_table_name_that_is_longer_than_sixty_three_bytes_in_postgresql"
want = [  # (severity, code, table, column, words, example keys)
    ("warning", "type", "pit", "level", "holds values other than 0, 1 and NULL", [[100]]),
    ("info", "type", "kinds", "u_big", "values above 2^63-1", [[1]]),
    ("info", "type", "pit", "u_big", "values above 2^63-1", [[101]]),
    ("blocking", "enum_invalid", "pit", "size", "holds ''", [[102]]),
    ("blocking", "zero_date", "pit", "born", "partial-zero dates", [[103], [104]]),
    ("blocking", "zero_date", "pit", "seen", "partial-zero dates", [[105]]),
    ("blocking", "nul_byte", "pit", "note", "NUL bytes", [[106]]),
    ("blocking", "json_nul", "pit", "doc", "the escape \\u0000", [[108]]),
    ("blocking", "type", "pit", "bits", "MySQL bit(4) has no equivalent", None),
    ("blocking", "type", "pit", "place", "MySQL point has no equivalent", None),
    ("blocking", "identifier", long, None, "64 bytes", None),
    ("warning", "collation", "kinds", "email", "utf8mb4_general_ci in MySQL", None),
    ("warning", "collation", "users", "email", "utf8mb4_general_ci in MySQL", None),
    ("blocking", "collision", "users", "handle", "values distinct in MySQL are equal", None),
    ("info", "type", "tickets", "code", "UUIDs, some in upper case", None),
]
found = plan["findings"]
for sev, code, table, col, words, keys in want:
    hits = [f for f in found if f["code"] == code and f.get("table") == table
            and f.get("column") == col and words in f["message"]]
    if len(hits) != 1 or hits[0]["severity"] != sev or \
            (keys and hits[0].get("examples") != keys):
        bad.append("%s %s.%s %r: %s" % (code, table, col, words, hits))
collision = [f for f in found if f["code"] == "collision"]
if collision and collision[0]["examples"] != \
        [{"values": ["Ann"], "keys": ["[1]", "[2]"]}]:
    bad.append("the collision's rows: %s" % collision[0]["examples"])
# a binary collation, a uuid and a JSON column have nothing to choose
for col in ("doc", "uid", "size", "handle"):
    if any(f["code"] == "collation" and f.get("column") == col
           for f in found):
        bad.append("a collation finding for kinds.%s" % col)
if bad:
    sys.exit("\n".join(bad))
PY
echo "plan: every type and pitfall as expected"

# text[] holds a SET's members; a column that is not a SET cannot take it
mysql_pg_runbook "{'schema': {'overrides': {'kinds.tags': 'text[]',
    'kinds.code': 'text[]'}}}"
plan_json 3 "$T/runbook.json" "$T/plan.json"
$PY - "$T/plan.json" <<'PY' || fail "plan of text[] overrides"
import json, sys
plan = json.load(open(sys.argv[1]))
kinds = [t for t in plan["tables"] if t["name"] == "kinds"][0]
types = {c["name"]: c["type"] for c in kinds["columns"]}
assert types["tags"] == "text[]", types
mine = [f for f in plan["findings"] if f.get("table") == "kinds"
        and f.get("column") in ("tags", "code") and "text[]" in f["message"]]
assert [(f["column"], f["severity"]) for f in mine] == \
    [("code", "blocking")], mine
assert "override text[] is for MySQL SET columns, and this one is char(36)" \
    in mine[0]["message"], mine[0]["message"]
PY
echo "plan: text[] for the SET, blocking for a CHAR(36)"

# ---- the opt-ins and overrides, then the copy --------------------------------
src_sql types -e "UPDATE pit SET size = 'm' WHERE id = 102"
mysql_pg_runbook "{'schema': {'zero_dates': 'null', 'overrides': {
    'pit.note': 'bytea', 'pit.bits': 'bytea', 'pit.place': 'bytea',
    'pit.doc': 'json'}},
  'tables': {'exclude': ['a_table_name_*']}}"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "zero and partial-zero dates become NULL" "zero_dates opt-in"
assert_contains "$OUT" "nothing blocks the migration" "plan after the fixes"
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run"
$PY "$ROOT/tests/lib/pg_types_compare.py" mysql "$SRC" types "$PG_DSN" kinds pit users \
    tokens tickets || fail "MariaDB and PostgreSQL rows differ"
assert_eq "2024-03-01 12:00:00.5+00" \
    "$(pg_sql shop "SELECT stamp FROM kinds WHERE id = 1")" "TIMESTAMP read in UTC"
assert_eq "3" "$(pg_sql shop "SELECT count(*) FROM pit WHERE born IS NULL AND id IN (103, 104) OR seen IS NULL AND id = 105")" \
    "zero dates arrived as NULL"
set +e
msg=$(pg_sql shop "INSERT INTO kinds (id, size) VALUES (99, 'xl')" 2>&1)
set -e
assert_contains "$msg" "kinds_size_check" "the ENUM's CHECK refuses a non-member"

# ---- verify: identical, then one jsonb member changed ------------------------
assert_exit 0 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "identical" "verify after the copy"
pg_sql shop "UPDATE kinds SET doc = jsonb_set(doc, '{b}', '1.5') WHERE id = 1" >/dev/null
assert_eq "kinds differs [1] doc" "$(verify_mismatched "$T/runbook.json")" \
    "the changed jsonb member reported"

# ---- live: changes carried both ways -------------------------------------
# the same tables in database live → schema live: MariaDB's changes reach
# PostgreSQL through trigger capture (a zero date among them), then after
# the switch PostgreSQL's come back by the rollback (a uuid into the
# CHAR(32), a timestamptz, numeric past 2^63-1 into BIGINT UNSIGNED)
src_sql -e "CREATE DATABASE live"
src_sql live <"$ROOT/tests/e2e/fixtures/mysql-pg-types.sql"
src_sql live -e "UPDATE pit SET size = 'm' WHERE id = 102"
mysql_pg_runbook "{'state_dir': 'state-live',
  'source': {'database': 'live'}, 'target': {'schema': 'live'},
  'schema': {'zero_dates': 'null', 'overrides': {'kinds.tags': 'text[]',
    'pit.note': 'bytea', 'pit.bits': 'bytea', 'pit.place': 'bytea',
    'pit.doc': 'json'}},
  'tables': {'exclude': ['a_table_name_*']},
  'cutover': {'mode': 'manual'},
  'post_validate': {'watch_s': 120, 'interval_s': 0.5}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 60 cutover
src_sql live -e "SET time_zone = '+00:00', sql_mode = '';
    UPDATE kinds SET doc = '{\"z\": [1, 2], \"a\": 2.50}', flag = 0,
        uid = '11111111-2222-3333-4444-555555555555', tags = 'green,blue',
        stamp = '2030-05-05 05:05:05.25' WHERE id = 1;
    INSERT INTO kinds (id, doc, hex_uid, u_big, size) VALUES
        (5, '{\"k\": true}', 'ABCDEF0123456789ABCDEF0123456789',
         18446744073709551614, 'm');
    INSERT INTO pit (id, level, born, note) VALUES (200, 3, '2022-00-05', 'live');
    DELETE FROM kinds WHERE id = 2"
wait_drained
LIVE="live.kinds live.pit live.users live.tokens live.tickets"
$PY "$ROOT/tests/lib/pg_types_compare.py" mysql "$SRC" live "$PG_DSN" $LIVE ||
    fail "MariaDB's changes did not arrive as they are"
assert_eq "" "$(pg_sql shop "SELECT born FROM live.pit WHERE id = 200")" \
    "a zero date written during sync arrived as NULL"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait_state 60 post_validate
pg_sql shop "UPDATE live.kinds SET doc = '{\"back\": [1.0]}', flag = true,
        hex_uid = '12345678-1234-1234-1234-123456789ABC', tags = '{red,blue}',
        stamp = '2031-01-01 00:00:00+02' WHERE id = 4;
    INSERT INTO live.kinds (id, size, u_big, yr, tags)
        VALUES (7, 'it''s', 18446744073709551613, 1999, '{}');
    DELETE FROM live.pit WHERE id = 103;
    DELETE FROM live.tokens WHERE note = 'b';
    UPDATE live.tokens SET note = 'back' WHERE note = 'a'" >/dev/null
sleep 1
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
wait_run 5 "exit code after the rollback"
$PY "$ROOT/tests/lib/pg_types_compare.py" mysql "$SRC" live "$PG_DSN" $LIVE ||
    fail "PostgreSQL's changes did not come back as they are"
assert_eq "12345678123412341234123456789abc	2030-12-31 22:00:00.000000	red,blue" \
    "$(src_sql live -e "SET time_zone = '+00:00';
        SELECT hex_uid, stamp, tags FROM kinds WHERE id = 4")" \
    "the uuid back in the CHAR(32), the instant back in the TIMESTAMP, the text[] back in the SET"

# ---- SQLite: JSON and UUID columns ------------------------------------------
mkdir "$T/lite"
sqlite3 "$T/lite/app.sqlite3" <<'SQL'
CREATE TABLE doc (id INTEGER PRIMARY KEY, body JSON, meta JSON, token UUID,
                  ref CHAR(36), plain TEXT, bad_uuid UUID);
CREATE TABLE lower_key (id UUID PRIMARY KEY, n INTEGER);
CREATE TABLE nul_doc (id INTEGER PRIMARY KEY, body JSON);
INSERT INTO nul_doc VALUES (1, '{"a": 1}'), (2, '["nul\u0000"]');
CREATE TABLE upper_key (id UUID PRIMARY KEY, n INTEGER);
INSERT INTO lower_key VALUES ('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 1);
INSERT INTO upper_key VALUES ('6BA7B810-9DAD-11D1-80B4-00C04FD430C8', 1);
INSERT INTO doc VALUES
 (1, '{"b": 1.0, "a": [1, {"z": null}], "e": "\u00e9"}', '{"ok": true}',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  'x', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
 (2, '[1, 2, 3]', 'not json {', '00000000-0000-0000-0000-000000000000',
  '6ba7b811-9dad-11d1-80b4-00c04fd430c8', 'y', 'nope'),
 (3, 42, NULL, NULL, NULL, NULL, NULL),
 (4, '"s"', '{"a": 1}', '6ba7b812-9dad-11d1-80b4-00c04fd430c8', NULL, 'z', NULL);
SQL
pg_runbook "$T/lite/runbook.json" "{'source': {'path': 'app.sqlite3'},
    'target': {'schema': 'lite'}}"
plan_json 3 "$T/lite/runbook.json" "$T/lite.json"
$PY - "$T/lite.json" <<'PY' || fail "SQLite JSON \\u0000"
import json, sys
plan = json.load(open(sys.argv[1]))
hits = [f for f in plan["findings"] if f["severity"] == "blocking"]
assert [(f["table"], f["column"], f["code"], f.get("examples"))
        for f in hits] == [("nul_doc", "body", "json_nul", [[2]])], hits
assert "jsonb refuses" in hits[0]["message"], hits[0]["message"]
PY
pg_runbook "$T/lite/runbook.json" "{'source': {'path': 'app.sqlite3'},
    'target': {'schema': 'lite'},
    'schema': {'overrides': {'nul_doc.body': 'json'}}}"
"$CUTOVER" plan "$T/lite/runbook.json" --json >"$T/lite.json" 2>"$T/lite.err" ||
    { cat "$T/lite.err" >&2; fail "SQLite plan"; }
$PY - "$T/lite.json" <<'PY' || fail "SQLite JSON/UUID types"
import json, sys
plan = json.load(open(sys.argv[1]))
types = {(t["name"], c["name"]): c["type"]
         for t in plan["tables"] for c in t["columns"]}
want = {"body": "jsonb", "meta": "text", "token": "uuid", "ref": "uuid",
        "plain": "text", "bad_uuid": "text"}
assert all(types[("doc", c)] == w for c, w in want.items()), types
# a UUID key in upper case stays text (the rollback finds rows by it)
assert types[("lower_key", "id")] == "uuid", types
assert types[("upper_key", "id")] == "text", types
notes = {f["column"]: f for f in plan["findings"] if f.get("table") == "doc"}
assert "not valid JSON" in notes["meta"]["message"], notes
assert notes["meta"]["examples"] == [[2]], notes["meta"]
assert "not UUIDs" in notes["bad_uuid"]["message"], notes
assert notes["bad_uuid"]["examples"] == [[2]], notes["bad_uuid"]
PY
assert_exit 0 "$CUTOVER" run "$T/lite/runbook.json"
assert_contains "$OUT" "completed" "SQLite run"
$PY "$ROOT/tests/lib/pg_types_compare.py" sqlite "$T/lite/app.sqlite3" "$PG_DSN" \
    lite.doc lite.lower_key lite.upper_key lite.nul_doc ||
    fail "SQLite and PostgreSQL rows differ"
assert_exit 0 "$CUTOVER" verify "$T/lite/runbook.json"
assert_contains "$OUT" "identical" "SQLite verify"
echo "ok"
