#!/bin/bash
# copy.sh — bulk copy of the bench table against the expert manual path and
# the naive pipe, in one run against one private MariaDB (DESIGN §9,
# issue 4).
#
# The table: tests/lib/fixtures.py `bench`, BENCH_ROWS rows (default
# 2,000,000) of `orders` (9 columns, Greek text, emoji, NULLs, DECIMAL,
# DATETIME(6); indexes on user_id and (status, created_at)). Measured, in
# this order, each on a fresh database of the same server (the previous one
# dropped so every path starts from an empty buffer pool):
#
#  1. cutover: `cutover run` on a copy of the fixture with copy.workers 2,
#     verify.mode count, backup.enabled false, post_validate.watch_s 0.
#     Time = the bulk_copy stage, from the `stage` event entering bulk_copy
#     to the one leaving it for sync (events.ndjson, ms resolution): change
#     capture install, table creation, every row, the secondary indexes.
#     rows/s = BENCH_ROWS / that time. Peak RSS = ru_maxrss of the whole
#     `cutover run` process (benchlib.py timed: wait4(), the figure GNU
#     time -v prints as "Maximum resident set size").
#  2. expert: sqlite3 CLI export to a TSV file (.mode tabs, text columns
#     with backslash, tab and newline escaped by replace(), NULL as \N),
#     then CREATE TABLE with cutover's column types and only the primary
#     key, LOAD DATA LOCAL INFILE, ALTER TABLE ADD INDEX (user_id), ADD
#     INDEX (status, created_at). Time = export + load + index, wall clock.
#     The DDL is cutover's own (SHOW CREATE TABLE from step 1, secondary
#     keys removed), so both paths write the same column types.
#  3. naive: sqlite3 ".mode insert orders" "SELECT * ... WHERE id <= N" |
#     mariadb, into the same table with both indexes present, on the first
#     N = BENCH_NAIVE_ROWS rows (default BENCH_ROWS/10: 200,000), timed and
#     scaled ×(BENCH_ROWS/N). Linear scaling flatters the naive pipe (its
#     per-row index cost grows with the table), so naive÷cutover is a floor.
#  4. cutover again, on a BENCH_SMALL_ROWS table (default BENCH_ROWS/10:
#     200,000) for its peak RSS: memory must not grow with the table.
#
# Every path's row count on the target is checked before its time counts,
# and its values compared with cutover's table (count and BIT_XOR of CRC32
# over every column, ids ≤ N for the naive slice; printed yes/NO).
# Targets: cutover÷expert ≤ 1.15 (goal ≤ 1.0), naive÷cutover ≥ 15, peak RSS
# ≤ 64 MiB and within 10% between the two sizes.
#
#   bench/copy.sh                       the full size
#   BENCH_ROWS=200000 bench/copy.sh     a quick smoke run
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-2000000}
NAIVE=${BENCH_NAIVE_ROWS:-$((ROWS / 10))}
SMALL=${BENCH_SMALL_ROWS:-$((ROWS / 10))}
[ "$NAIVE" -le "$ROWS" ] || NAIVE=$ROWS

big=$(bench_fixture bench "$ROWS")
small=$(bench_fixture bench "$SMALL")
bench_start_db

# cutover_copy NAME FIXTURE ROWS: one whole migration; $T/NAME/figures.json
cutover_copy() {
    local name=$1 fixture=$2 rows=$3 dir=$T/$1 rc=0
    mkdir -p "$dir"
    cp "$fixture" "$dir/orders.sqlite3"
    bench_runbook "$dir" "$name" orders.sqlite3 \
        "{'verify': {'mode': 'count'}, 'copy': {'workers': 2}}"
    say "cutover: migrating $rows rows into database $name"
    bench_timed "$dir/timed.json" "$CUTOVER" run "$dir/runbook.json" \
        >"$dir/run.out" 2>"$dir/run.err" || rc=$?
    bench_check_run "$dir" "$rc"
    local got
    got=$(sql -e "SELECT COUNT(*) FROM \`$name\`.orders")
    [ "$got" = "$rows" ] || { echo "bench: $name has $got rows, not $rows" >&2; exit 1; }
    bpy -c '
import json, sys
import benchlib as b
d, rows = sys.argv[1], int(sys.argv[2])
sp = b.spans(d + "/state/events.ndjson")
t = b.load(d + "/timed.json")
s = sp["bulk_copy"]["s"]
json.dump({"rows": rows, "copy_s": s, "rows_per_s": rows / s,
           "run_s": t["wall_s"], "rss_mib": t["maxrss_kib"] / 1024},
          open(d + "/figures.json", "w"))
' "$dir" "$rows"
}

# table_sum DB [MAX_ID]: row count and an order-independent checksum of
# every column of DB.orders (ids ≤ MAX_ID), to show each path loaded the
# same values
table_sum() {
    local cols
    cols=$(sql -e "SELECT GROUP_CONCAT(CONCAT('IFNULL(\`', column_name,
        '\`, ''<null>'')') ORDER BY ordinal_position) FROM
        information_schema.columns WHERE table_schema = '$1' AND
        table_name = 'orders'")
    sql -e "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', $cols)))
        FROM \`$1\`.orders WHERE id <= ${2:-9223372036854775807}" | tr '\t' ' '
}

cutover_copy co_big "$big" "$ROWS"
sum_all=$(table_sum co_big)
sum_slice=$(table_sum co_big "$NAIVE")
# cutover's DDL for the baselines: with and without the secondary keys
sql -e "SHOW CREATE TABLE co_big.orders" | cut -f2- | sed 's/\\n/\n/g' \
    | sed 's/ AUTO_INCREMENT=[0-9]*//' >"$T/ddl_full.sql"
$PY -c '
import sys
lines = open(sys.argv[1]).read().rstrip().split("\n")
keep = [l for l in lines if not l.lstrip().startswith(("KEY ", "UNIQUE KEY "))]
# the line before ") ENGINE" must not end with a comma
keep[-2] = keep[-2].rstrip(",")
print("\n".join(keep))
' "$T/ddl_full.sql" >"$T/ddl_pk.sql"
sql -e "DROP DATABASE co_big"

# ---- the expert path -------------------------------------------------------
mkdir -p "$T/expert"
select_list=$($PY -c '
import sqlite3, sys
cols = sqlite3.connect(sys.argv[1]).execute("PRAGMA table_info(orders)").fetchall()
out = []
for c in cols:
    name, decl = c[1], (c[2] or "").upper()
    if any(w in decl for w in ("CHAR", "CLOB", "TEXT")):
        e = "replace(replace(replace(%s, char(92), char(92,92)), char(9), char(92,116)), char(10), char(92,110))" % name
        out.append(e)
    else:
        out.append(name)
print(", ".join(out))
' "$big")
say "expert: sqlite3 TSV export"
bench_timed "$T/expert/export.json" sqlite3 -batch "$big" \
    ".headers off" ".mode tabs" ".nullvalue '\\N'" \
    ".output '$T/expert/orders.tsv'" "SELECT $select_list FROM orders ORDER BY id"
sql -e "CREATE DATABASE expert"
sql expert <"$T/ddl_pk.sql"
say "expert: LOAD DATA LOCAL INFILE"
bench_timed "$T/expert/load.json" mariadb --no-defaults -S "$SOCK" -uroot \
    -N -B --local-infile=1 expert -e "LOAD DATA LOCAL INFILE '$T/expert/orders.tsv'
        INTO TABLE orders CHARACTER SET utf8mb4; SHOW COUNT(*) WARNINGS" \
    >"$T/expert/load.out"
say "expert: ALTER TABLE ADD INDEX"
bench_timed "$T/expert/index.json" mariadb --no-defaults -S "$SOCK" -uroot \
    expert -e "ALTER TABLE orders ADD INDEX (user_id), ADD INDEX (status, created_at)"
got=$(sql -e "SELECT COUNT(*) FROM expert.orders")
[ "$got" = "$ROWS" ] || { echo "bench: expert path loaded $got rows, not $ROWS" >&2; exit 1; }
expert_warnings=$(tail -1 "$T/expert/load.out")
expert_same=no
[ "$(table_sum expert)" = "$sum_all" ] && expert_same=yes
rm -f "$T/expert/orders.tsv"
sql -e "DROP DATABASE expert"

# ---- the naive pipe --------------------------------------------------------
mkdir -p "$T/naive"
sql -e "CREATE DATABASE naive"
sql naive <"$T/ddl_full.sql"
say "naive: sqlite3 .mode insert | mariadb, $NAIVE rows"
bench_timed "$T/naive/pipe.json" bash -o pipefail -c '
    sqlite3 -batch "$1" ".mode insert orders" "SELECT * FROM orders WHERE id <= $2 ORDER BY id" \
        | mariadb --no-defaults --default-character-set=utf8mb4 -S "$3" -uroot naive' naive "$big" "$NAIVE" "$SOCK"
got=$(sql -e "SELECT COUNT(*) FROM naive.orders")
[ "$got" = "$NAIVE" ] || { echo "bench: naive pipe loaded $got rows, not $NAIVE" >&2; exit 1; }
naive_same=no
[ "$(table_sum naive)" = "$sum_slice" ] && naive_same=yes
sql -e "DROP DATABASE naive"

# ---- peak RSS at a tenth of the size ---------------------------------------
cutover_copy co_small "$small" "$SMALL"

bpy - "$T" "$ROWS" "$NAIVE" "$SMALL" "$expert_warnings" "$expert_same" \
    "$naive_same" <<'PYEOF'
import sys
import benchlib as b
T, rows, naive, small, warnings = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
expert_same, naive_same = sys.argv[6] == 'yes', sys.argv[7] == 'yes'
cut, cs = b.load(T + '/co_big/figures.json'), b.load(T + '/co_small/figures.json')
exp = {k: b.load('%s/expert/%s.json' % (T, k))['wall_s']
       for k in ('export', 'load', 'index')}
expert_s = sum(exp.values())
naive_slice_s = b.load(T + '/naive/pipe.json')['wall_s']
naive_s = naive_slice_s * rows / naive
r_exp = cut['copy_s'] / expert_s
r_naive = naive_s / cut['copy_s']
rss_growth = cut['rss_mib'] / cs['rss_mib'] - 1
n = b.num
b.table('bulk copy of `orders`, %s rows — one run, one server' % n(rows), [
    ['path', 'time s', 'rows/s', 'peak RSS MiB'],
    ['cutover bulk_copy stage', n(cut['copy_s']), n(cut['rows_per_s']),
     n(cut['rss_mib'], 1)],
    ['expert: export + LOAD DATA + ADD INDEX', n(expert_s),
     n(rows / expert_s), '-'],
    ['  sqlite3 export to TSV', n(exp['export']), '', ''],
    ['  LOAD DATA LOCAL INFILE', n(exp['load']), '', ''],
    ['  ALTER TABLE ADD INDEX ×2', n(exp['index']), '', ''],
    ['naive: .mode insert | mariadb (scaled)', n(naive_s),
     n(rows / naive_s), '-'],
    ['  measured on %s rows' % n(naive), n(naive_slice_s), '', ''],
    ['cutover at %s rows (whole run %s s)' % (n(small), n(cs['run_s'])),
     n(cs['copy_s']), n(cs['rows_per_s']), n(cs['rss_mib'], 1)],
], note='  expert LOAD DATA warnings: %d; same values as cutover\'s table '
        '(count + CRC32 of every column): expert %s, naive %s'
        % (warnings, 'yes' if expert_same else 'NO',
           'yes' if naive_same else 'NO'))
b.table('ratios and targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['cutover ÷ expert', n(r_exp), '≤ 1.15 (goal ≤ 1.0)',
     b.verdict(r_exp, '<=', 1.15) + (', goal met' if r_exp <= 1.0 else '')],
    ['naive ÷ cutover', n(r_naive, 1), '≥ 15', b.verdict(r_naive, '>=', 15)],
    ['peak RSS at %s rows, MiB' % n(rows), n(cut['rss_mib'], 1), '≤ 64',
     b.verdict(cut['rss_mib'], '<=', 64)],
    ['RSS growth %s → %s rows' % (n(small), n(rows)),
     '%+.1f%%' % (100 * rss_growth), 'within ±10%',
     b.verdict(abs(rss_growth), '<=', 0.10)],
])
b.result('copy', {
    'rows': rows, 'cutover_s': cut['copy_s'],
    'cutover_rows_per_s': round(cut['rows_per_s']),
    'expert_s': round(expert_s, 3), 'expert_export_s': exp['export'],
    'expert_load_s': exp['load'], 'expert_index_s': exp['index'],
    'naive_rows': naive, 'naive_measured_s': naive_slice_s,
    'naive_scaled_s': round(naive_s, 3),
    'cutover_over_expert': round(r_exp, 3),
    'naive_over_cutover': round(r_naive, 2),
    'peak_rss_mib': round(cut['rss_mib'], 1), 'small_rows': small,
    'small_peak_rss_mib': round(cs['rss_mib'], 1),
    'rss_growth': round(rss_growth, 3), 'expert_warnings': warnings,
    'expert_same_data': expert_same, 'naive_same_data': naive_same,
    'met': {'vs_expert': r_exp <= 1.15, 'vs_naive': r_naive >= 15,
            'rss': cut['rss_mib'] <= 64, 'rss_flat': abs(rss_growth) <= 0.10}})
PYEOF
