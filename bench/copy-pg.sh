#!/bin/bash
# copy-pg.sh — bulk copy of the bench table SQLite → PostgreSQL: the two
# baselines of DESIGN §9/§10, in one run against one private PostgreSQL
# (tests/lib/postgresql.sh), each into a fresh database of that server.
#
# The table: tests/lib/fixtures.py `bench`, BENCH_ROWS rows (default
# 2,000,000) of `orders` (9 columns, Greek text, NULLs, DECIMAL, BOOL,
# DATETIME; indexes on user_id and (status, created_at)). Measured:
#
#  1. expert: sqlite3 CLI export to CSV (.mode csv: NULL as an empty
#     field, empty text as ""), CREATE TABLE with the primary key only and
#     the types the PostgreSQL driver gives these columns (bigint,
#     varchar(16), numeric(10,2), text, boolean, timestamp(6)), psql
#     `\copy ... (FORMAT csv)`, then CREATE INDEX (user_id) and CREATE
#     INDEX (status, created_at). Time = export + \copy + indexes, wall
#     clock.
#  2. pgloader (Debian's package) reading the same SQLite file into an
#     empty database: its own defaults (creates the tables, loads, creates
#     the indexes after). Time = wall clock of pgloader; peak RSS too.
#  3. cutover: `cutover run` on a copy of the fixture (copy.workers 2,
#     verify.mode count) into a fresh database it creates. Time = the
#     bulk_copy stage, from the `stage` event entering it to the one
#     leaving it (rows streamed through COPY, indexes built after); peak
#     RSS of the whole `cutover run` process.
#
# Every path's table is checked before its time counts: row count, and
# an order-independent checksum over every column normalized the same way
# on both (sum of hashtextextended of the row's text), printed yes/NO.
#
#   bench/copy-pg.sh                        the full size
#   BENCH_ROWS=200000 bench/copy-pg.sh      a quick smoke run
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-2000000}
bench_beside_pgloader
big=$(bench_fixture bench "$ROWS")
bench_start_pg

# ---- the expert path -------------------------------------------------------
mkdir -p "$T/expert"
psql_q -c "CREATE DATABASE expert"
psql_q -d expert -c "CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    status varchar(16) NOT NULL,
    total numeric(10,2) NOT NULL,
    address text NOT NULL,
    notes text,
    is_paid boolean NOT NULL,
    created_at timestamp(6) NOT NULL,
    updated_at timestamp(6) NOT NULL)"
say "expert: sqlite3 CSV export"
bench_timed "$T/expert/export.json" sqlite3 -batch "$big" \
    ".headers off" ".mode csv" ".output '$T/expert/orders.csv'" \
    "SELECT * FROM orders ORDER BY id"
say "expert: psql \\copy"
bench_timed "$T/expert/load.json" psql -X -q -v ON_ERROR_STOP=1 -d expert \
    -c "\\copy orders FROM '$T/expert/orders.csv' WITH (FORMAT csv)"
say "expert: CREATE INDEX ×2"
bench_timed "$T/expert/index.json" psql -X -q -v ON_ERROR_STOP=1 -d expert \
    -c "CREATE INDEX ON orders (user_id)" \
    -c "CREATE INDEX ON orders (status, created_at)"
sum_expert=$(table_sum expert)
got=${sum_expert%% *}
[ "$got" = "$ROWS" ] || { echo "bench: expert path loaded $got rows, not $ROWS" >&2; exit 1; }
rm -f "$T/expert/orders.csv"

# ---- cutover -----------------------------------------------------------------
mkdir -p "$T/cutover"
cp "$big" "$T/cutover/orders.sqlite3"
bench_runbook "$T/cutover" cutover orders.sqlite3 \
    "{'verify': {'mode': 'count'}, 'copy': {'workers': 2}}"
say "cutover: migrating $ROWS rows into database cutover"
rc=0
bench_timed "$T/cutover/timed.json" "$CUTOVER" run "$T/cutover/runbook.json" \
    >"$T/cutover/run.out" 2>"$T/cutover/run.err" || rc=$?
bench_check_run "$T/cutover" "$rc"
sum_cutover=$(table_sum cutover)
got=${sum_cutover%% *}
[ "$got" = "$ROWS" ] || { echo "bench: cutover loaded $got rows, not $ROWS" >&2; exit 1; }
[ "$sum_cutover" = "$sum_expert" ] || same_cutover=NO

# ---- pgloader --------------------------------------------------------------
mkdir -p "$T/pgloader"
psql_q -c "CREATE DATABASE pgloader"
cp "$big" "$T/pgloader/orders.sqlite3"
# The password goes through PGPASSWORD, not the URL (no escaping, not on
# the command line); the host is the socket directory.
cat >"$T/pgloader/load.cmd" <<EOF
LOAD DATABASE
  FROM sqlite://$T/pgloader/orders.sqlite3
  INTO postgresql://bench@unix:$PGHOST:$PGPORT/pgloader
WITH include drop, create tables, create indexes, reset sequences;
EOF
say "pgloader: sqlite → postgresql"
bench_pgloader "$T/pgloader"
same=no
[ "$sum_pgloader" = "$sum_expert" ] && same=yes

bpy - "$T" "$ROWS" "$same" "$pgloader_indexes" "$pgloader_types" \
    "${same_cutover:-yes}" <<'PYEOF'
import sys
import benchlib as b
T, rows, same, nidx, types = sys.argv[1], int(sys.argv[2]), \
    sys.argv[3] == 'yes', int(sys.argv[4]), sys.argv[5]
same_cutover = sys.argv[6] == 'yes'
cut = b.load(T + '/cutover/timed.json')
cut_s = b.spans(T + '/cutover/state/events.ndjson')['bulk_copy']['s']
cut_rss = cut['maxrss_kib'] / 1024
exp = {k: b.load('%s/expert/%s.json' % (T, k))['wall_s']
       for k in ('export', 'load', 'index')}
expert_s = sum(exp.values())
pgl = b.load(T + '/pgloader/run.json')
pgl_s, pgl_rss = pgl['wall_s'], pgl['maxrss_kib'] / 1024
n = b.num
b.table('bulk copy of `orders` into PostgreSQL, %s rows — one run, one '
        'server' % n(rows), [
    ['path', 'time s', 'rows/s', 'peak RSS MiB'],
    ['cutover bulk_copy stage', n(cut_s), n(rows / cut_s), n(cut_rss, 1)],
    ['  whole `cutover run`', n(cut['wall_s']), '', ''],
    ['expert: CSV export + \\copy + CREATE INDEX', n(expert_s),
     n(rows / expert_s), '-'],
    ['  sqlite3 export to CSV', n(exp['export']), '', ''],
    ['  psql \\copy (FORMAT csv)', n(exp['load']), '', ''],
    ['  CREATE INDEX ×2', n(exp['index']), '', ''],
    ['pgloader (its own types, indexes after)', n(pgl_s), n(rows / pgl_s),
     n(pgl_rss, 1)],
], note='  same values in all three tables (count + hash of every column, '
        'normalized): pgloader %s, cutover %s; pgloader made %d indexes and '
        'the types: %s' % ('yes' if same else 'NO',
                           'yes' if same_cutover else 'NO', nidx, types))
r_pgl, r_exp = cut_s / pgl_s, cut_s / expert_s
b.table('cutover against its targets', [
    ['figure', 'value', 'target', ''],
    ['cutover ÷ pgloader', n(r_pgl), '≤ 1.0', b.verdict(r_pgl, '<=', 1.0)],
    ['cutover ÷ expert', n(r_exp), '≤ 1.15', b.verdict(r_exp, '<=', 1.15)],
    ['peak RSS, MiB', n(cut_rss, 1), '≤ 64', b.verdict(cut_rss, '<=', 64)],
])
b.result('copy-pg', {
    'rows': rows, 'cutover_s': cut_s, 'cutover_run_s': cut['wall_s'],
    'cutover_peak_rss_mib': round(cut_rss, 1),
    'cutover_over_pgloader': round(r_pgl, 3),
    'cutover_over_expert': round(r_exp, 3), 'cutover_same_data': same_cutover,
    'expert_s': round(expert_s, 3), 'expert_export_s': exp['export'],
    'expert_load_s': exp['load'], 'expert_index_s': exp['index'],
    'pgloader_s': pgl_s, 'pgloader_peak_rss_mib': round(pgl_rss, 1),
    'same_data': same})
PYEOF
