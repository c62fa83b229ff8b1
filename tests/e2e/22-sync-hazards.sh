#!/bin/bash
# The change-capture hazards of DESIGN §5, each forced at an exact instant:
# the copier is held right after it started reading a chunk (its snapshot
# is taken) while the test changes rows of that very chunk — a key deleted
# and inserted again, a key moved to a new value, an INSERT OR REPLACE
# that deletes a row of the chunk through a secondary UNIQUE index, a
# case-only change of a NOCASE text key — plus rows already copied and
# not yet copied, in tables with composite keys and with quotes, backticks,
# semicolons and unicode in their names. Then the copy resumes; after sync
# every row is identical.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
$PY - "$T/base.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript('''
PRAGMA journal_mode=WAL;
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, v INTEGER);
CREATE TABLE tags (code TEXT NOT NULL PRIMARY KEY COLLATE NOCASE, v INTEGER);
CREATE TABLE pairs (a INTEGER NOT NULL, b TEXT NOT NULL, v REAL, PRIMARY KEY (a, b));
CREATE TABLE "we""ird `t`; DROP TABLE items; --Ω" ("k""ey" INTEGER PRIMARY KEY, "va`l;ue ü" TEXT);
''')
db.executemany('INSERT INTO items VALUES (?,?,?)', ((i, 'n%d' % i, i) for i in range(1, 30001)))
db.executemany('INSERT INTO tags VALUES (?,?)', (('key%05d' % i, i) for i in range(1, 8001)))
db.executemany('INSERT INTO pairs VALUES (?,?,?)', ((i // 3, 'b%d' % (i % 3), i / 7) for i in range(9000)))
db.executemany('INSERT INTO "we""ird `t`; DROP TABLE items; --Ω" VALUES (?,?)', ((i, "v'%d`\";" % i) for i in range(1, 3001)))
db.commit()
PY

run_case() {
    local name=$1 pause=$2 sql=$3
    rm -rf "$STATE" "$T/paused"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    runbook "$T/runbook.json" "{'target': {'database': '$name'},
        'copy': {'workers': 1}, 'cutover': {'mode': 'manual'}}"
    CUTOVER_PAUSE_AT="$pause" CUTOVER_PAUSE_FILE="$T/paused" \
        "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
    RUN=$!
    wait_for 60 test -e "$T/paused"
    sqlite3 "$T/shop.sqlite3" ".timeout 5000" "$sql" \
        || fail "the test's own writes failed"
    rm "$T/paused"
    wait_state 120 cutover
    wait_drained
    compare "$T/shop.sqlite3" "$name"
    kill "$RUN"
    wait "$RUN" 2>/dev/null || true
}

# items is copied first: its second chunk covers ids 2001..6000
run_case items "bulk_copy:chunk_read:2" "
  DELETE FROM items WHERE id = 3000;
  INSERT INTO items VALUES (3000, 'n3000-again', -1);
  UPDATE items SET id = 99999 WHERE id = 4000;
  DELETE FROM items WHERE id = 5500;
  UPDATE items SET id = 5500 WHERE id = 4500;
  INSERT OR REPLACE INTO items (id, name, v) VALUES (5, 'n3500', 7);
  UPDATE items SET v = v + 1 WHERE id IN (10, 2500, 20000);
  DELETE FROM items WHERE id = 25000;
  INSERT INTO items VALUES (30001, 'n30001', 1);"

# tags: a NOCASE text key; first chunk in flight
run_case tags "bulk_copy:chunk_read:3" "
  UPDATE tags SET code = 'KEY00100' WHERE code = 'key00100';
  DELETE FROM tags WHERE code = 'key00200';
  INSERT INTO tags VALUES ('Key00200', 200);
  UPDATE tags SET code = 'zzz-moved' WHERE code = 'key00300';
  UPDATE tags SET v = -v WHERE code IN ('key00001', 'key07999');
  DELETE FROM \"we\"\"ird \`t\`; DROP TABLE items; --Ω\" WHERE \"k\"\"ey\" = 7;
  UPDATE \"we\"\"ird \`t\`; DROP TABLE items; --Ω\" SET \"va\`l;ue ü\" = 'ü''' WHERE \"k\"\"ey\" = 8;
  UPDATE pairs SET b = 'moved' WHERE a = 1 AND b = 'b1';"

# the odd identifiers really are tables and columns on MySQL, and items survived
n=$(sql items -e 'SELECT COUNT(*) FROM `we"ird ``t``; DROP TABLE items; --Ω`')
assert_eq 3000 "$n" "odd table rows"
n=$(sql items -e 'SELECT COUNT(*) FROM items')
assert_eq 29998 "$n" "items rows (one REPLACE removed a second row)"
echo ok
