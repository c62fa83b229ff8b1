#!/bin/bash
# copy-mysql-pg.sh — bulk copy of the bench table MySQL/MariaDB →
# PostgreSQL: cutover beside pgloader (Debian's package, reading
# mysql://), in one run, from one private MariaDB into one private
# PostgreSQL (tests/lib/mariadb.sh, tests/lib/postgresql.sh), each into a
# fresh database of that server.
#
# The table: tests/lib/fixtures.py `bench`, BENCH_ROWS rows (default
# 2,000,000) of `orders`, loaded into MariaDB (not timed) as a MySQL
# application would have it: INT AUTO_INCREMENT key, VARCHAR(16),
# DECIMAL(10,2), TEXT, TINYINT(1), DATETIME(6); indexes on user_id and
# (status, created_at). Measured:
#
#  1. cutover: `cutover run` (source.type mysql, trigger capture,
#     copy.workers 2, verify.mode count) into a database it creates. Time
#     = the bulk_copy stage, from the `stage` event entering it to the one
#     leaving it (rows read in key order and streamed through COPY,
#     indexes built after); the whole run's wall clock beside it; peak RSS
#     of the `cutover run` process.
#  2. pgloader reading the same MariaDB database over TCP into an empty
#     PostgreSQL database: its own defaults (creates the tables, loads,
#     creates the indexes after). Time = wall clock of pgloader; peak RSS.
#
# Both tables are checked before their time counts: row count, and an
# order-independent checksum over every column normalized the same way
# (pgloader picks its own types), printed yes/NO.
#
#   bench/copy-mysql-pg.sh                        the full size
#   BENCH_ROWS=200000 bench/copy-mysql-pg.sh      a quick smoke run
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-2000000}
bench_beside_pgloader
big=$(bench_fixture bench "$ROWS")
# pgloader reads MySQL over TCP only: the server listens on a free port
MARIADB_TCP_PORT=$($PY -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export MARIADB_TCP_PORT
bench_start_db
bench_start_pg

# ---- the source: the bench table in MariaDB ----------------------------------
say "loading $ROWS rows into MariaDB (not timed)"
sql -e "CREATE DATABASE shop; CREATE USER loader@'127.0.0.1' IDENTIFIED BY
    'loader-pw'; GRANT ALL ON shop.* TO loader@'127.0.0.1'"
sql shop -e "CREATE TABLE orders (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    status VARCHAR(16) NOT NULL,
    total DECIMAL(10,2) NOT NULL,
    address TEXT NOT NULL,
    notes TEXT NULL,
    is_paid TINYINT(1) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL) ENGINE=InnoDB"
sqlite3 -batch "$big" ".headers off" ".mode tabs" ".nullvalue \\N" \
    ".output '$T/orders.tsv'" "SELECT * FROM orders ORDER BY id"
sql --local-infile=1 shop -e "LOAD DATA LOCAL INFILE '$T/orders.tsv' INTO
    TABLE orders FIELDS TERMINATED BY '\t';
    ALTER TABLE orders ADD INDEX orders_user_id (user_id),
    ADD INDEX orders_status_created (status, created_at)"
rm -f "$T/orders.tsv"
got=$(sql shop -e "SELECT COUNT(*) FROM orders")
[ "$got" = "$ROWS" ] || { echo "bench: MariaDB holds $got rows, not $ROWS" >&2; exit 1; }

# ---- cutover -----------------------------------------------------------------
mkdir -p "$T/cutover"
bench_runbook "$T/cutover" cutover unused.sqlite3 \
    "{'verify': {'mode': 'count'}, 'copy': {'workers': 2}}"
$PY - "$T/cutover/runbook.json" "$SOCK" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["source"] = {"type": "mysql", "socket": sys.argv[2], "user": "root",
                "database": "shop", "capture": "triggers"}
json.dump(rb, open(sys.argv[1], "w"), indent=1)
PYEOF
say "cutover: migrating $ROWS rows MariaDB → PostgreSQL database cutover"
rc=0
bench_timed "$T/cutover/timed.json" "$CUTOVER" run "$T/cutover/runbook.json" \
    >"$T/cutover/run.out" 2>"$T/cutover/run.err" || rc=$?
bench_check_run "$T/cutover" "$rc"
sum_cutover=$(table_sum cutover)
got=${sum_cutover%% *}
[ "$got" = "$ROWS" ] || { echo "bench: cutover loaded $got rows, not $ROWS" >&2; exit 1; }
cutover_types=$(pg_orders_types cutover)
# the source keeps cutover's fence (BEFORE triggers refusing writes):
# pgloader only reads it

# ---- pgloader --------------------------------------------------------------
mkdir -p "$T/pgloader"
psql_q -c "CREATE DATABASE pgloader"
cat >"$T/pgloader/load.cmd" <<EOF
LOAD DATABASE
  FROM mysql://loader:loader-pw@127.0.0.1:$MARIADB_TCP_PORT/shop
  INTO postgresql://bench@unix:$PGHOST:$PGPORT/pgloader
WITH include drop, create tables, create indexes, reset sequences;
EOF
say "pgloader: mysql → postgresql"
# pgloader puts a MySQL database's tables in a schema named after it
psql_q -d pgloader -c "ALTER DATABASE pgloader SET search_path = shop, public"
bench_pgloader "$T/pgloader"
same=no
[ "$sum_pgloader" = "$sum_cutover" ] && same=yes

bpy - "$T" "$ROWS" "$same" "$pgloader_indexes" "$pgloader_types" \
    "$cutover_types" <<'PYEOF'
import sys
import benchlib as b
T, rows, same, nidx = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'yes', \
    int(sys.argv[4])
pgl_types, cut_types = sys.argv[5], sys.argv[6]
cut = b.load(T + '/cutover/timed.json')
cut_s = b.spans(T + '/cutover/state/events.ndjson')['bulk_copy']['s']
cut_rss = cut['maxrss_kib'] / 1024
pgl = b.load(T + '/pgloader/run.json')
pgl_s, pgl_rss = pgl['wall_s'], pgl['maxrss_kib'] / 1024
n = b.num
b.table('bulk copy of `orders` MariaDB → PostgreSQL, %s rows — one run, '
        'one pair of servers' % n(rows), [
    ['path', 'time s', 'rows/s', 'peak RSS MiB'],
    ['cutover bulk_copy stage', n(cut_s), n(rows / cut_s), n(cut_rss, 1)],
    ['  whole `cutover run` (plan census, capture, verify count)',
     n(cut['wall_s']), '', ''],
    ['pgloader (its own types, indexes after)', n(pgl_s), n(rows / pgl_s),
     n(pgl_rss, 1)],
], note='  same values in both tables (count + hash of every column, '
        'normalized): %s; pgloader made %d indexes and the types: %s; '
        'cutover: %s' % ('yes' if same else 'NO', nidx, pgl_types, cut_types))
r_pgl = cut_s / pgl_s
b.table('cutover against its target', [
    ['figure', 'value', 'target', ''],
    ['cutover ÷ pgloader', n(r_pgl), '≤ 1.0', b.verdict(r_pgl, '<=', 1.0)],
])
b.result('copy-mysql-pg', {
    'rows': rows, 'cutover_s': cut_s, 'cutover_run_s': cut['wall_s'],
    'cutover_peak_rss_mib': round(cut_rss, 1),
    'cutover_over_pgloader': round(r_pgl, 3),
    'pgloader_s': pgl_s, 'pgloader_peak_rss_mib': round(pgl_rss, 1),
    'same_data': same})
PYEOF
