#!/bin/bash
# The pre-validation torture fixture (tests/lib/torture.py: one table per
# edge case). `cutover plan --json` is checked table by table against the
# expected findings (severity, code, column, example keys) and the chosen
# target types, under a binary target collation, under a case- and
# accent-insensitive one, and with the runbook knobs that resolve every
# blocking finding (tables.keys rowid, schema.overrides,
# schema.invalid_utf8 as_blob, utf8mb4_nopad_bin, tables.exclude for what
# cannot move; a TIME column holding other text keeps it as LONGTEXT only by
# override). Views and user triggers are listed, not migrated. Then
# `cutover run` completes, every migrated table is compared row by row with
# the independent compare.py, the AUTOINCREMENT counter and the foreign key
# are on the target, and `cutover verify` reports 0 mismatches (and does see
# a text and a TIME changed on purpose afterwards, by table, key, column).
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
$PY "$ROOT/tests/lib/torture.py" "$T/torture.sqlite3"
SRC=$T/torture.sqlite3
BASE="'source': {'path': 'torture.sqlite3', 'app_busy_timeout_ms': 200},
  'target': {'database': 'torture'}"
# What cannot move as it is: names MySQL rejects, a key longer than an
# index, unique values equal on the target index's prefix.
EXCLUDE="['t_ident_long_x*', 't_ident_long_column', 't_ident_trailing_space',
  't_key_text_long', 't_unique_prefix_dup']"
RUN_KNOBS="$BASE,
  'tables': {'exclude': $EXCLUDE, 'keys': {'t_no_key': 'rowid'}},
  'schema': {'collation': 'utf8mb4_nopad_bin', 'invalid_utf8': 'as_blob',
             'overrides': {'t_datetime_ns.at': 'VARCHAR(40)',
                           't_time_unique_dup.slot': 'VARCHAR(20)',
                           't_real_infinity.r': 'VARCHAR(40)',
                           't_time_not_times.at': 'LONGTEXT'}}"

# check_plan PHASE PLAN.json EXIT: the table-driven checker. Prints every
# difference (missing or unexpected findings, wrong types) and fails if any.
check_plan() {
    $PY - "$ROOT/tests/lib" "$@" <<'PYEOF'
import json, sys
sys.path.insert(0, sys.argv[1])
import torture as tt
phase, path, code = sys.argv[2], sys.argv[3], int(sys.argv[4])
plan = json.load(open(path))

ANY = object()      # examples not checked
NONE = None         # the finding carries no examples

def F(sev, code, col=None, ex=NONE):
    return (sev, code, col, ex)

def collision(keys, values):
    """One colliding group: these keys (any order), first value one of."""
    def ok(ex):
        return (isinstance(ex, list) and len(ex) == 1 and
                sorted(map(json.dumps, ex[0].get('keys') or [])) ==
                sorted(map(json.dumps, keys)) and
                len(ex[0].get('values') or []) == 1 and
                ex[0]['values'][0] in values)
    ok.__name__ = 'collision(keys=%s, values in %s)' % (keys, sorted(values))
    return ok

TEXT, BLOB, BIG = 'LONGTEXT', 'LONGBLOB', 'BIGINT'
V255 = 'VARCHAR(255)'
KEY_SHAPE = F('info', 'key_shape')

# table: ({column: target type} in column order, [expected findings]);
# F(severity, code, column, examples): examples as the JSON shows them,
# NONE when the finding has none, ANY when not checked.
# Findings of the database (journal mode, busy timeout) are under None,
# views and triggers under their own names.
E = {
    # keys (None: no type decided, not checked)
    't_no_key': ({'a': None, 'b': None}, [F('blocking', 'no_key')]),
    't_unique_notnull_key': ({'code': V255, 'v': BIG},
                             [F('info', 'unique_key'), KEY_SHAPE]),
    't_without_rowid': ({'k': V255, 'v': BIG},
                        [F('info', 'without_rowid'), KEY_SHAPE]),
    't_key_negative_zero': ({'id': BIG, 'v': TEXT},
                            [F('info', 'key_values', 'id')]),
    't_key_composite': ({'a': BIG, 'b': V255, 'v': TEXT},
                        [F('info', 'key_values', 'a'), KEY_SHAPE]),
    't_key_text': ({'code': V255, 'v': BIG}, [KEY_SHAPE]),
    't_key_blob': ({'k': 'VARBINARY(2)', 'v': BIG}, [KEY_SHAPE]),
    't_key_text_long': ({'k': 'VARCHAR(%d)' % tt.LONG_KEY_CHARS, 'v': BIG},
                        [F('blocking', 'type', 'k',
                           [['L' * tt.LONG_KEY_CHARS]]),
                         F('blocking', 'type', 'k'),   # the key's bytes
                         KEY_SHAPE]),
    't_unique_long_text': ({'id': BIG, 'body': TEXT},
                           [F('warning', 'type', 'body', [[1], [2]])]),
    # distinct in SQLite, equal on the 255-character prefix the target's
    # unique index gets: `run` fails creating that index
    't_unique_prefix_dup': ({'id': BIG, 'body': TEXT},
                            [F('warning', 'type', 'body', [[1], [2]]),
                             F('blocking', 'collision', 'body', ANY)]),
    't_nocase_key': ({'code': V255, 'v': BIG},
                     [F('warning', 'collation', 'code'), KEY_SHAPE]),
    't_int64_extremes': ({'id': BIG, 'v': BIG},
                         [F('info', 'key_values', 'id')]),
    # identifiers
    tt.LONG_TABLE: ({'id': BIG, 'v': TEXT}, [F('blocking', 'identifier')]),
    't_ident_long_column': ({'id': BIG, tt.LONG_COLUMN: TEXT},
                            [F('blocking', 'identifier', tt.LONG_COLUMN)]),
    tt.TABLE_64: ({'id': BIG, 'v': TEXT}, []),
    # 64 characters (128 bytes): MySQL's limit is in characters
    't_ident_multibyte_64': ({'id': BIG, tt.MB_COLUMN: TEXT}, []),
    tt.QUOTED_TABLE: (dict([('id', BIG)] +
                           [(c, TEXT) for c in tt.QUOTED_COLUMNS]), []),
    't_ident_trailing_space': ({'id': BIG, tt.TRAILING_SPACE_COLUMN: TEXT},
                               [F('blocking', 'identifier',
                                  tt.TRAILING_SPACE_COLUMN)]),
    tt.RESERVED_TABLE: (dict([('id', BIG)] +
                             [(c, TEXT) for c in tt.RESERVED_COLUMNS]), []),
    # defaults, collations, counters, references
    't_default_expr': ({'id': BIG, 'created': 'DATETIME(6)',
                        'stamped': 'DATETIME(6)', 'n': BIG, 'label': TEXT},
                       [F('warning', 'default', 'created'),   # (datetime('now'))
                        F('warning', 'default', 'stamped')]), # CURRENT_TIMESTAMP
    't_collate_nocase': ({'id': BIG, 'name': TEXT},
                         [F('warning', 'collation', 'name')]),
    't_collate_custom': ({'id': BIG, 'name': TEXT},
                         [F('warning', 'collation', 'name')]),
    't_trigger_host': ({'id': BIG, 'v': TEXT, 'changes': BIG}, []),
    't_autoincrement': ({'id': BIG, 'v': TEXT}, [F('info', 'autoincrement')]),
    't_fk_parent': ({'id': BIG, 'name': TEXT}, []),
    't_fk_child': ({'id': BIG, 'parent_id': BIG, 'v': TEXT},
                   [F('warning', 'orphans', 'parent_id', [[3]])]),
    # values that do not fit their declared type
    't_int_2pow62': ({'id': BIG, 'v': BIG, 'i': BIG, 'small': BIG,
                      'n': 'DECIMAL(20,1)'},
                     [F('warning', 'type', 'small')]),
    't_untyped_mixed': ({'id': BIG, 'v': TEXT, 'w': BLOB},
                        [F('warning', 'type', 'v'), F('warning', 'type', 'w')]),
    't_epoch_s': ({'id': BIG, 'at': 'DATETIME(6)'}, [F('warning', 'type', 'at')]),
    't_epoch_ms': ({'id': BIG, 'at': 'DATETIME(6)'},
                   [F('warning', 'type', 'at')]),
    't_datetime_ns': ({'id': BIG, 'at': 'DATETIME(6)'},
                      [F('blocking', 'type', 'at', [[2], [3]])]),
    't_time': ({'id': BIG, 'opens': 'TIME(6)', 'closes': 'TIME(6)'}, []),
    # a TIME column the application reads times from would hand it text:
    # blocking until an override says so (RUN_KNOBS: LONGTEXT)
    't_time_not_times': ({'id': BIG, 'at': TEXT},
                         [F('blocking', 'type', 'at', [[2], [4]])]),
    't_time_unique_dup': ({'id': BIG, 'slot': 'TIME(6)'},
                          [F('blocking', 'collision', 'slot',
                             collision([[1], [2]], {'12:30:00.000000'}))]),
    't_decimal_overflow': ({'id': BIG, 'price': 'DECIMAL(10,5)'},
                           [F('warning', 'type', 'price')]),
    't_decimal_small_fraction': ({'id': BIG, 'price': 'DECIMAL(10,2)'}, []),
    't_invalid_utf8': ({'id': BIG, 's': TEXT},
                       [F('blocking', 'type', 's', [[1], [3], [4]])]),
    't_nul_bytes': ({'id': BIG, 's': TEXT, 'b': BLOB}, []),
    # u (no declared type) holds -0.0, which the target reads back as 0:
    # the same note REAL columns get
    't_real_special': ({'id': BIG, 'r': 'DOUBLE', 'u': 'DOUBLE'},
                       [F('info', 'type', 'u')]),
    # ±Infinity: no MySQL numeric type holds it
    't_real_infinity': ({'id': BIG, 'r': 'DOUBLE'},
                        [F('blocking', 'type', 'r', ANY)]),
    # collisions (utf8mb4_bin: only trailing spaces, PAD SPACE)
    't_collide_case': ({'id': BIG, 'email': V255}, []),
    't_collide_accent': ({'id': BIG, 'name': V255}, []),
    't_collide_trailing_space': (
        {'id': BIG, 'code': V255},
        [F('blocking', 'collision', 'code',
           collision([[1], [2]], {'abc', 'abc '}))]),
    't_collide_key_case': ({'k': V255, 'v': BIG}, [KEY_SHAPE]),
    # values that must survive unchanged
    't_utf8_4byte': ({'id': BIG, 's': TEXT}, []),
    't_rtl_text': ({'id': BIG, 's': TEXT}, []),
    't_blob_1mib': ({'id': BIG, 'b': BLOB}, []),
    't_empty_vs_null': ({'id': BIG, 's': TEXT, 'b': BLOB, 'n': BIG}, []),
}
OTHER = {   # not tables: listed, not migrated; the database itself
    'v_user_report': [F('warning', 'view')],
    'tr_user_count_changes': [F('warning', 'trigger')],
    None: [F('warning', 'journal_mode'), F('warning', 'busy_timeout'),
           F('info', 'target_database'),      # `run` creates it, not plan
           F('warning', 'app_transactions')],
}

if phase == 'ci':           # schema.collation utf8mb4_unicode_ci
    E['t_collide_case'] = (E['t_collide_case'][0], [F(
        'blocking', 'collision', 'email',
        collision([[1], [2]], {'Bob@example.org', 'bob@example.org'}))])
    E['t_collide_accent'] = (E['t_collide_accent'][0], [F(
        'blocking', 'collision', 'name',
        collision([[1], [2]], {'resume', 'résumé'}))])
    E['t_collide_key_case'] = (E['t_collide_key_case'][0], [KEY_SHAPE, F(
        'blocking', 'collision', 'k', collision([['A'], ['a']], {'A', 'a'}))])
elif phase == 'run':        # the knobs of RUN_KNOBS
    for t in (tt.LONG_TABLE, 't_ident_long_column', 't_ident_trailing_space',
              't_key_text_long', 't_unique_prefix_dup'):
        del E[t]
    E['t_no_key'] = ({'a': TEXT, 'b': BIG, 'cutover_rowid': BIG},
                     [F('warning', 'rowid_key')])
    E['t_invalid_utf8'] = ({'id': BIG, 's': BLOB}, [F('warning', 'type', 's')])
    E['t_datetime_ns'] = ({'id': BIG, 'at': 'VARCHAR(40)'}, [])
    E['t_time_unique_dup'] = ({'id': BIG, 'slot': 'VARCHAR(20)'}, [])
    E['t_real_infinity'] = ({'id': BIG, 'r': 'VARCHAR(40)'}, [])
    E['t_time_not_times'] = ({'id': BIG, 'at': TEXT}, [])
    E['t_collide_trailing_space'] = (E['t_collide_trailing_space'][0], [])
else:
    assert phase == 'bin', phase

problems = []
got_code = int(sys.argv[5])
if got_code != code:
    problems.append('plan exited %d, expected %d' % (got_code, code))

# types
tables = {t['name']: t for t in plan['tables']}
for name in sorted(set(tables) - set(E)):
    problems.append('%s: in the plan but not expected (excluded?)' % name)
for name, (types, _) in E.items():
    t = tables.get(name)
    if t is None:
        problems.append('%s: missing from the plan\'s tables' % name)
        continue
    got = [(c['name'], c['type']) for c in t['columns']]
    want = [(c, ty if ty is not None else dict(got).get(c))
            for c, ty in types.items()]
    if got != want:
        problems.append('%s: column types %s, expected %s' % (
            name, got, want))

# findings, matched per table as multisets
def ex_ok(want, got):
    if want is ANY:
        return True
    if callable(want):
        return want(got)
    return got == want

def show(f):
    sev, code, col, ex = f
    exs = '' if ex is None else ' examples=%s' % (
        'any' if ex is ANY else ex.__name__ if callable(ex) else
        json.dumps(ex, ensure_ascii=False)[:120])
    return '%s %s%s%s' % (sev, code, ' column=%r' % col if col else '', exs)

expected = {t: list(fs) for t, (_, fs) in E.items()}
expected.update({t: list(fs) for t, fs in OTHER.items()})
actual = {}
for f in plan['findings']:
    actual.setdefault(f.get('table'), []).append(f)
for table in sorted(set(expected) | set(actual), key=lambda x: x or ''):
    want = list(expected.get(table, []))
    left = []
    for f in actual.get(table, []):
        for i, w in enumerate(want):
            if (w[0], w[1], w[2]) == (f['severity'], f['code'],
                                      f.get('column')) and \
                    ex_ok(w[3], f.get('examples')):
                del want[i]
                break
        else:
            left.append(f)
    for w in want:
        problems.append('%s: MISSING finding %s' % (table, show(w)))
    for f in left:
        problems.append('%s: UNEXPECTED finding %s %s%s: %s%s' % (
            table, f['severity'], f['code'],
            ' column=%r' % f['column'] if 'column' in f else '',
            f['message'], ' examples=%s' % json.dumps(
                f['examples'], ensure_ascii=False)[:120]
            if 'examples' in f else ''))

blocking = sum(f['severity'] == 'blocking' for f in plan['findings'])
if plan['blocking'] != blocking:
    problems.append('"blocking" is %d but %d findings are blocking' % (
        plan['blocking'], blocking))
if problems:
    print('plan (%s) differs from the expected findings:' % phase)
    for p in problems:
        print('  ' + p)
    sys.exit(1)
print('plan (%s): %d tables, %d findings as expected' % (
    phase, len(E), len(plan['findings'])))
PYEOF
}

PLAN_FAILS=""
# plan PHASE EXPECTED-EXIT: run `cutover plan --json`, check it
plan() {
    local rc
    set +e
    "$CUTOVER" plan "$T/runbook.json" --json >"$T/plan-$1.json" 2>"$T/plan-$1.err"
    rc=$?
    set -e
    [ -s "$T/plan-$1.json" ] || { cat "$T/plan-$1.err" >&2; fail "plan ($1) printed no JSON (exit $rc)"; }
    check_plan "$1" "$T/plan-$1.json" "$2" "$rc" || PLAN_FAILS="$PLAN_FAILS $1"
}

# 1. binary target collation (the default utf8mb4_bin), no knobs
runbook "$T/runbook.json" "{$BASE}"
plan bin 3
# the human report lists the same, with the blocking count
assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "view v_user_report will not be migrated" "plan lists the view"
assert_contains "$OUT" "trigger tr_user_count_changes will not be migrated" "plan lists the trigger"
assert_contains "$OUT" "blocking findings: \`cutover run\` refuses" "plan summary"

# 2. case- and accent-insensitive target collation: more collisions
runbook "$T/runbook.json" "{$BASE, 'schema': {'collation': 'utf8mb4_unicode_ci'}}"
plan ci 3

# plan changed nothing on either side
left=$(sqlite3 "$SRC" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
assert_eq 0 "$left" "objects of ours left in the source by plan"
tables=$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'torture'")
assert_eq 0 "$tables" "tables created on the target by plan"

# 3. the knobs that resolve every blocking finding
runbook "$T/runbook.json" "{$RUN_KNOBS}"
plan run 0

assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run with the knobs"

# every table that migrates is on the target, nothing else is
$PY - "$T/plan-run.json" "$SOCK" >"$T/migrated.txt" <<'PYEOF' || fail "target tables"
import json, sys, pymysql
want = sorted(t['name'] for t in json.load(open(sys.argv[1]))['tables'])
db = pymysql.connect(unix_socket=sys.argv[2], user='root', database='torture',
                     charset='utf8mb4')
cur = db.cursor()
cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
            "TABLE_SCHEMA = 'torture' AND TABLE_TYPE = 'BASE TABLE'")
got = sorted(r[0] for r in cur.fetchall())
assert got == want, ('target tables', set(got) ^ set(want))
cur.execute("SELECT COUNT(*) FROM information_schema.VIEWS WHERE "
            "TABLE_SCHEMA = 'torture'")
assert cur.fetchone()[0] == 0, 'a view was created on the target'
cur.execute("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE "
            "TRIGGER_SCHEMA = 'torture'")
assert cur.fetchall() == (), 'triggers left on the target'
print('\n'.join(want))
PYEOF

# row by row, independent of cutover: compare.py keys tables without a
# primary key by rowid; t_unique_notnull_key is keyed by its unique
# column instead, compared here with compare.py's own value rules.
$PY "$ROOT/tests/lib/compare.py" "$SRC" "$SOCK" torture --tables \
    "$(grep -v '^t_unique_notnull_key$' "$T/migrated.txt" | paste -sd,)" \
    || fail "data differs"
$PY - "$ROOT/tests/lib" "$SRC" "$SOCK" <<'PYEOF' || fail "t_unique_notnull_key differs"
import sqlite3, sys, pymysql
sys.path.insert(0, sys.argv[1])
from compare import equal
src = {r[0]: r for r in sqlite3.connect(sys.argv[2]).execute(
    'SELECT code, v FROM t_unique_notnull_key')}
cur = pymysql.connect(unix_socket=sys.argv[3], user='root', database='torture',
                      charset='utf8mb4').cursor()
cur.execute('SELECT code, v FROM t_unique_notnull_key')
dst = {r[0]: r for r in cur.fetchall()}
assert sorted(src) == sorted(dst), (sorted(src), sorted(dst))
for k in src:
    assert all(equal(a, b, None) for a, b in zip(src[k], dst[k])), (src[k], dst[k])
print('t_unique_notnull_key: %d rows identical' % len(src))
PYEOF

# the AUTOINCREMENT counter (3, the last id was deleted) was carried over
next_id=$(sql -e "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'torture' AND TABLE_NAME = 't_autoincrement'")
[ "$next_id" -ge 4 ] || fail "t_autoincrement: next id on the target is $next_id, SQLite's counter is 3"
# the foreign key exists despite the orphan
fk=$(sql -e "SELECT REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'torture' AND TABLE_NAME = 't_fk_child'")
assert_eq t_fk_parent "$fk" "foreign key of t_fk_child"
# the source keeps its view and trigger
assert_eq "tr_user_count_changes v_user_report" \
    "$(sqlite3 "$SRC" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type IN ('view', 'trigger') AND name NOT LIKE '\_cutover\_%' ESCAPE '\' ORDER BY name)")" \
    "view and trigger on the source"

# standalone verify: zero false mismatches
assert_exit 0 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "0 mismatched rows" "verify after the run"
echo "$OUT" | tail -1
# ...and the same verify does see a real difference
sql torture -e "UPDATE t_rtl_text SET s = 'changed' WHERE id = 1"
assert_exit 3 "$CUTOVER" verify "$T/runbook.json"
assert_contains "$OUT" "t_rtl_text" "verify names the changed table"
# a TIME one microsecond off, on the row SQLite holds as '9:05'
assert_eq "09:05:00.000000" "$(sql torture -e "SELECT opens FROM t_time WHERE id = 2")" \
    "t_time.opens on the target"
sql torture -e "UPDATE t_time SET opens = '09:05:00.000001' WHERE id = 2"
set +e
"$CUTOVER" verify "$T/runbook.json" --json >"$T/verify.json" 2>"$T/verify.err"
assert_eq 3 "$?" "verify exit code with mismatches"
set -e
found=$($PY -c '
import json, sys
report = json.load(sys.stdin)
print(" ".join("%s %s %s %s" % (t, m["kind"], json.dumps(m["key"]), ",".join(m.get("columns", [])))
               for t, r in sorted(report["tables"].items()) for m in r["mismatched"]))' <"$T/verify.json")
assert_eq "t_rtl_text differs [1] s t_time differs [2] opens" "$found" \
    "verify names the table, key and column of each change"

[ -z "$PLAN_FAILS" ] || fail "plan findings differ from the expected ones (phase:$PLAN_FAILS; see above)"
echo ok
