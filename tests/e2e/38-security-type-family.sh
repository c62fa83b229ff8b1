#!/bin/bash
# A type decision never leaves the declared type's family behind the
# application's back. SQLite lets an INTEGER column hold 'ten' and 2.5, a
# REAL 'n/a', a DATETIME 'soon', a TIME 'closed', a BOOL 'yes', a BLOB
# text; widening such a column to LONGTEXT or DOUBLE would hand the
# application's model (an integer field, a date field) strings or floats
# on the target. `plan` blocks each one with the rows named, `run` refuses
# before anything changes, and only schema.overrides makes it move —
# after which every value arrives as it was. Columns declared without a
# type, or ANY, keep today's behaviour: widened with a warning.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_db
sqlite3 "$T/shop.sqlite3" <<'SQL'
PRAGMA journal_mode=WAL;
CREATE TABLE inventory (
  id INTEGER PRIMARY KEY,
  qty INTEGER,
  score INTEGER,
  price REAL,
  shipped DATETIME,
  opens TIME,
  active BOOL,
  photo BLOB,
  note,
  extra ANY);
INSERT INTO inventory VALUES
  (1, 1,     7,   1.5,   '2024-01-01 10:00:00', 'closed', 0,     x'4142', 1,   2),
  (2, 'ten', 8,   2.25,  '2024-01-02 11:00:00', '09:00',  1,     x'01',   'a', 'b'),
  (3, 2.5,   0.5, 3,     'soon',                '10:30',  'yes', 'text',  2.5, 3.5),
  (4, 4,     9,   'n/a', NULL,                  NULL,     NULL,  NULL,    NULL, NULL);
SQL
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0}}"

plan_json 3 "$T/runbook.json" "$T/plan.json"
# column: the rows whose values leave the family; a column absent here must
# have no blocking finding
$PY - "$T/plan.json" <<'PYEOF' || fail "plan findings"
import json, sys
plan = json.load(open(sys.argv[1]))
want = {'qty': [[2], [3]], 'score': [[3]], 'price': [[4]], 'shipped': [[3]],
        'opens': [[1]], 'active': [[3]], 'photo': [[3]]}
got = {}
for f in plan['findings']:
    if f['severity'] == 'blocking':
        assert f['code'] == 'type', f
        assert 'schema.overrides' in f['message'], f['message']
        got[f['column']] = f.get('examples')
problems = ['%s: blocking rows %s, expected %s' % (c, got.get(c), want.get(c))
            for c in sorted(set(want) | set(got)) if got.get(c) != want.get(c)]
# no declared type and ANY: widened as before, a warning and no more
for col in ('note', 'extra'):
    sev = [f['severity'] for f in plan['findings'] if f.get('column') == col]
    if sev != ['warning']:
        problems.append('%s: findings %s, expected one warning' % (col, sev))
types = {c['name']: c['type'] for c in plan['tables'][0]['columns']}
if (types['note'], types['extra']) != ('LONGTEXT', 'LONGTEXT'):
    problems.append('untyped columns: %s %s' % (types['note'], types['extra']))
assert not problems, '\n'.join(problems)
print('plan blocks', ', '.join(sorted(got)))
PYEOF
attack_refused "plan: an INTEGER column holding text or reals does not become LONGTEXT or DOUBLE"
attack_refused "plan: a DATETIME or TIME column holding other text does not become LONGTEXT"
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "inventory.qty type:" "the human report names the column"
assert_contains "$OUT" 'examples: [[2],[3]]' "and its rows"

assert_exit 3 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "inventory.qty" "run names the column"
assert_eq 0 "$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES
                       WHERE TABLE_SCHEMA = 'shop'")" "tables made by a refused run"
assert_eq 0 "$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master
               WHERE name LIKE '\_cutover\_%' ESCAPE '\'")" "capture on the source"
attack_refused "run: refuses the same type decisions before anything changes"

# the runbook says what the columns become: they move, every value intact
rm -rf "$STATE"
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0},
  'schema': {'overrides': {'inventory.qty': 'LONGTEXT',
    'inventory.score': 'DOUBLE', 'inventory.price': 'VARCHAR(10)',
    'inventory.shipped': 'LONGTEXT', 'inventory.opens': 'VARCHAR(10)',
    'inventory.active': 'VARCHAR(3)', 'inventory.photo': 'LONGBLOB'}}}"
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run with the overrides"
compare "$T/shop.sqlite3" shop
assert_eq "ten" "$(sql shop -e "SELECT qty FROM inventory WHERE id = 2")" \
    "an overridden value arrives as it was"
echo ok
