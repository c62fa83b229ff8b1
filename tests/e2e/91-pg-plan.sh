#!/bin/bash
# `cutover plan` against a PostgreSQL 15 target:
#   1. the type column shows PostgreSQL's types (bigint, varchar(n),
#      numeric(p,s), timestamp(6), boolean, bytea, double precision, text);
#   2. text holding a NUL byte (PostgreSQL cannot store it) is blocking,
#      with the row named, and an override to bytea resolves it;
#   3. a table name and a column name past 63 bytes are blocking, named;
#   4. unique values SQLite keeps apart that PostgreSQL compares equal (two
#      spellings of one datetime in a UNIQUE column) are blocking, with the
#      keys, found by PostgreSQL itself in a temporary table;
#   5. a role whose sessions cannot skip foreign key checks gets a blocking
#      finding for each table with foreign keys, saying what to grant;
#   6. plan changes nothing: no table, no schema on the target;
#   7. a NOCASE column is a finding whose advice offers the three ways
#      (citext, a nondeterministic ICU collation, case-sensitive); kept
#      case-sensitive, 'Ann@x.org' and 'ann@x.org' (distinct under its
#      binary unique index) stay apart, and with the column overridden to
#      citext PostgreSQL finds them equal: a blocking collision with both
#      keys;
#   8. a DATETIME column holding epoch milliseconds past the year 9999 is
#      blocking, with the row named (the copy would stop at it otherwise).
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_pg
LONG_TABLE=t_$(printf 'x%.0s' $(seq 1 62))
LONG_COLUMN=c_$(printf 'y%.0s' $(seq 1 62))
$PY - "$T/shop.sqlite3" "$LONG_TABLE" "$LONG_COLUMN" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript('''
CREATE TABLE author (id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(80) NOT NULL, born DATETIME, active BOOL NOT NULL,
  balance DECIMAL(12,2), score REAL, photo BLOB, bio TEXT);
CREATE TABLE note (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL
  REFERENCES author(id), body TEXT);
''')
db.executemany('INSERT INTO author VALUES (?,?,?,?,?,?,?,?)', [
    (i, 'name %d' % i, '2024-01-%02d 10:00:00.5' % (i % 28 + 1), i % 2,
     '%d.25' % i, i / 3, b'\x00\x01', 'bio') for i in range(1, 51)])
db.executemany('INSERT INTO note VALUES (?,?,?)',
               [(i, i % 50 + 1, 'text %d' % i) for i in range(1, 41)])
db.execute("UPDATE note SET body = 'a' || char(0) || 'b' WHERE id = 7")
db.execute('CREATE TABLE "%s" (id INTEGER PRIMARY KEY)' % sys.argv[2])
db.execute('CREATE TABLE wide (id INTEGER PRIMARY KEY, "%s" TEXT)'
           % sys.argv[3])
db.execute('CREATE TABLE slot (id INTEGER PRIMARY KEY, at DATETIME UNIQUE)')
db.executemany('INSERT INTO slot VALUES (?,?)', [
    (1, '2024-01-01 10:00'), (2, '2024-01-01 10:00:00'),
    (3, '2024-01-02 10:00:00')])
db.execute('CREATE TABLE tick (id INTEGER PRIMARY KEY, at DATETIME)')
db.executemany('INSERT INTO tick VALUES (?,?)', [
    (1, 1700000000000), (2, 9900000000000000), (3, 1700000000123)])
db.commit()
PY
pg_runbook "$T/runbook.json" "{'target': {'schema': 'app'}}"
plan_json 3 "$T/runbook.json" "$T/plan.json"
$PY - "$T/plan.json" "$LONG_TABLE" "$LONG_COLUMN" <<'PY' || fail "plan findings"
import json, sys
plan = json.load(open(sys.argv[1]))
long_table, long_column = sys.argv[2], sys.argv[3]
types = {(t["name"], c["name"]): c["type"]
         for t in plan["tables"] for c in t["columns"]}
want = {("author", "id"): "bigint", ("author", "name"): "varchar(80)",
        ("author", "born"): "timestamp(6)", ("author", "active"): "boolean",
        ("author", "balance"): "numeric(12,2)",
        ("author", "score"): "double precision",
        ("author", "photo"): "bytea", ("note", "body"): "text"}
bad = {k: (v, types.get(k)) for k, v in want.items() if types.get(k) != v}
findings = [(f["severity"], f["code"], f.get("table"), f.get("column"),
             f.get("examples")) for f in plan["findings"]]
for f in findings:
    print(f)
def has(sev, table, column, text=None, examples=None):
    for f in plan["findings"]:
        if (f["severity"], f.get("table"), f.get("column")) != \
                (sev, table, column):
            continue
        if text and text not in f["message"]:
            continue
        if examples is not None and f.get("examples") != examples:
            continue
        return True
    print("missing:", sev, table, column, text, examples)
    return False
ok = not bad
if bad:
    print("types differ:", bad)
ok &= has("blocking", "note", "body", "NUL byte", [[7]])
ok &= has("blocking", long_table, None, "63")
ok &= has("blocking", "wide", long_column, "63")
ok &= has("blocking", "tick", "at", "years 1000 to 9999", [[2]])
coll = [f for f in plan["findings"] if f["code"] == "collision"]
print("collision:", coll)
ok &= len(coll) == 1 and coll[0]["table"] == "slot" and \
    coll[0]["severity"] == "blocking" and \
    sorted(coll[0]["examples"][0]["keys"]) == ["[1]", "[2]"]
sys.exit(0 if ok else 1)
PY
# plan changed nothing
assert_eq "" "$(pg_sql shop "SELECT nspname FROM pg_namespace WHERE nspname = 'app'")" \
    "plan made no schema"

# the override to bytea and the long names left out: nothing blocks
pg_runbook "$T/runbook.json" "{'target': {'schema': 'app'},
    'tables': {'exclude': ['$LONG_TABLE', 'wide', 'slot', 'tick']},
    'schema': {'overrides': {'note.body': 'bytea'}}}"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"

# a role whose sessions cannot skip foreign key checks
postgresql_add_role plain "$CUTOVER_PG_PASSWORD" plain >/dev/null
pg_runbook "$T/runbook.json" "{'target': {'user': 'plain', 'database': 'plain'},
    'tables': {'exclude': ['$LONG_TABLE', 'wide', 'slot', 'tick']},
    'schema': {'overrides': {'note.body': 'bytea'}}}"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "GRANT SET ON PARAMETER session_replication_role" \
    "what to grant"
assert_contains "$OUT" "note" "the table with foreign keys"

# a NOCASE column: the application chooses how PostgreSQL compares it
# (compared without case in SQL, but unique as SQLite stores them)
sqlite3 "$T/nocase.sqlite3" "CREATE TABLE member (id INTEGER PRIMARY KEY,
    email TEXT COLLATE NOCASE);
  CREATE UNIQUE INDEX member_email ON member (email COLLATE BINARY);
  INSERT INTO member VALUES (1, 'Ann@x.org'), (2, 'ann@x.org'), (3, 'bo@x.org')"
pg_runbook "$T/runbook.json" "{'source': {'path': 'nocase.sqlite3'}}"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
for way in citext "deterministic = false" case-sensitive; do
    assert_contains "$OUT" "$way" "the NOCASE advice offers $way"
done
pg_sql shop "CREATE EXTENSION IF NOT EXISTS citext" >/dev/null
pg_runbook "$T/runbook.json" "{'source': {'path': 'nocase.sqlite3'},
    'schema': {'overrides': {'member.email': 'citext'}}}"
plan_json 3 "$T/runbook.json" "$T/nocase.json"
$PY - "$T/nocase.json" <<'PY' || fail "the collision under citext"
import json, sys
plan = json.load(open(sys.argv[1]))
coll = [f for f in plan["findings"] if f["code"] == "collision"]
assert len(coll) == 1 and coll[0]["severity"] == "blocking", coll
keys = sorted(k for g in coll[0]["examples"] for k in g["keys"])
assert keys == ['[1]', '[2]'], keys
PY
echo ok
