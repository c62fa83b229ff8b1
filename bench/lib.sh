# shellcheck shell=bash
# lib.sh — common setup of the benchmarks (bench/*.sh source it).
#
#   $T                       this run's temp dir (bench/out/run.XXXXXX, or
#                            /tmp when that path is too long for sockets);
#                            removed on exit unless KEEP=1 or the run failed
#   bench_start_db           private MariaDB (tests/lib/mariadb.sh, the same
#                            server settings every run); sets $SOCK
#   bench_start_target       the server BENCH_TARGET names (mysql, the
#                            default, or postgresql): bench_start_db or
#                            bench_start_pg
#   bench_start_pg           private PostgreSQL (tests/lib/postgresql.sh,
#                            the same settings every run) with a role
#                            `bench` (CREATEDB) and its database `bench`;
#                            sets PGHOST,
#                            PGPORT, PGUSER, PGPASSWORD, PGDATABASE, so
#                            psql and libpq clients reach it with no options
#   bench_beside_pgloader    BENCH_TARGET postgresql; pgloader must be there
#   bench_start_mysql_source a second private MariaDB with a ROW binary
#                            log, for a MySQL source; its socket in $SRC
#   bench_cutover_under DIR N APP_PID STOP_FILE SECS   `cutover run` of
#                            DIR/runbook.json under a running application,
#                            1 s before and after; then the application
#                            stopped
#   bench_fixture KIND ROWS  path of a cached fixture (tests/lib/fixtures.py
#                            bench|shop) under bench/out/fixtures/, built once
#                            per generator version and size; never modified:
#                            copy it before a migration touches it
#   bench_runbook DIR DB SOURCE [PY-DICT]   DIR/runbook.json: SOURCE (a file
#                            in DIR) → database DB on the BENCH_TARGET
#                            server (made first on PostgreSQL), state in
#                            DIR/state, with PY-DICT merged one level deep
#   bench_spawn CMD...       start CMD in the background in its own session
#                            (so it and its children can be killed as a
#                            group); its pid in $BENCH_PID
#   bench_run CMD...         bench_spawn, then wait; returns CMD's status
#                            (a trapped signal interrupts the wait at once)
#   bench_stop PID           TERM the group, wait (KILL it after 10 s);
#                            its exit status in $BENCH_RC
#   bench_wait_exit PID SECS give PID SECS to exit on its own, then
#                            bench_stop it; its exit status in $BENCH_RC
#   bench_timed OUT CMD...   bench_run through benchlib.py timed: OUT gets
#                            {rc, wall_s, maxrss_kib}
#   sql ...                  the mariadb client as root on $SOCK (-N -B)
#   psql_q ...               psql on bench_start_pg's server, quiet,
#                            unaligned, stopping at the first error
#   table_sum DB             rows and an order-independent checksum of
#                            every column of DB's bench table `orders`,
#                            each normalized (pgloader picks its own types)
#                            so equal data sums equal
#   bench_pgloader DIR       pgloader DIR/load.cmd (into database
#                            pgloader) timed into DIR/run.json; fails the
#                            bench on its errors or a row count other than
#                            $ROWS; sets $pgloader_types, $pgloader_indexes
#                            and $sum_pgloader (table_sum)
#   pg_orders_types DB       "column type, ..." of DB's `orders`
#   jget EXPR < JSON         a value out of JSON (python over d)
#   bpy ARGS...              python3 that can `import benchlib`
#   say MSG                  progress line on stderr, with elapsed time
#
# Every process started with bench_spawn and the server are stopped on exit,
# normal or not (EXIT, INT, TERM). Results go to stdout: a table per bench
# and a last line `RESULT {json}`; progress goes to stderr. Environment:
# BENCH_OUT (default bench/out), CUTOVER_BIN (default bin/cutover),
# WRITER_BIN (default bin/writer), KEEP=1
# (keep $T), BENCH_TARGET (mysql or postgresql, for the scripts that say
# so) and each script's own BENCH_* sizes (see its header).
set -eu -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=${BENCH_OUT:-$BENCH/out}
CUTOVER=${CUTOVER_BIN:-$ROOT/bin/cutover}
WRITER=${WRITER_BIN:-$ROOT/bin/writer}
PY=/usr/bin/python3
BLIB=$BENCH/benchlib.py   # executable: setsid can run it
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"
# shellcheck source=tests/lib/postgresql.sh
. "$ROOT/tests/lib/postgresql.sh"

for f in "$CUTOVER" "$WRITER"; do
    [ -x "$f" ] || { echo "bench: $f is missing: run 'make'" >&2; exit 1; }
done
mkdir -p "$OUT/fixtures"
T=$(mktemp -d "$OUT/run.XXXXXX")
# the longest socket path we make is $T/<name>/state/progress.sock
if [ ${#T} -gt 70 ]; then
    rmdir "$T"
    T=$(mktemp -d /tmp/cb.XXXXXX)
fi
SOCK=""
BENCH_PIDS=""
BENCH_T0=$(date +%s)
export CUTOVER_DEBUG=${CUTOVER_DEBUG:-}

say() {
    echo "[$(($(date +%s) - BENCH_T0))s] $*" >&2
}

bench_stop() {
    local pid=$1 dog
    BENCH_RC=0
    kill -TERM -- "-$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || BENCH_RC=$?; return 0; }
    # a watchdog KILLs the group if it has not exited in 10 s
    setsid sh -c 'sleep 10; kill -KILL -- "-$1" 2>/dev/null' sh "$pid" &
    dog=$!
    wait "$pid" 2>/dev/null || BENCH_RC=$?
    kill -KILL -- "-$dog" 2>/dev/null || true
    wait "$dog" 2>/dev/null || true
}

bench_wait_exit() {
    local pid=$1 secs=$2 i
    for i in $(seq 1 $((secs * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    bench_stop "$pid"
}

bench_cleanup() {
    local status=$? pid
    trap - EXIT
    trap "" INT TERM   # finish cleaning up whatever arrives
    set +e
    for pid in $BENCH_PIDS; do bench_stop "$pid"; done
    wait 2>/dev/null
    [ -n "$SOCK" ] && mariadb_stop "$T/db"
    postgresql_stop_all
    if [ "$status" != 0 ] || [ -n "${KEEP:-}" ]; then
        echo "bench files kept in $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$status"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_spawn() {
    setsid "$@" &
    BENCH_PID=$!
    BENCH_PIDS="$BENCH_PIDS $BENCH_PID"
}

bench_run() {
    local rc=0
    bench_spawn "$@"
    wait "$BENCH_PID" || rc=$?
    return "$rc"
}

bench_timed() {
    local out=$1; shift
    bench_run "$BLIB" timed "$out" "$@"
}

bench_start_db() {
    mariadb_start "$T/db" || { echo "bench: MariaDB did not start" >&2; exit 1; }
    SOCK=$MARIADB_SOCKET
}

BENCH_TARGET=${BENCH_TARGET:-mysql}
export BENCH_TARGET

bench_start_target() {
    case $BENCH_TARGET in
    mysql) bench_start_db ;;
    postgresql) bench_start_pg ;;
    *) echo "bench: BENCH_TARGET is mysql or postgresql, not $BENCH_TARGET" >&2
       exit 2 ;;
    esac
}

# bench_beside_pgloader: a PostgreSQL target, measured beside pgloader
# (a Debian package `make deps` installs)
bench_beside_pgloader() {
    BENCH_TARGET=postgresql
    command -v pgloader >/dev/null ||
        { echo "bench: pgloader is missing: run 'make deps'" >&2; exit 1; }
}

bench_start_pg() {
    postgresql_start "$T/pg" ||
        { echo "bench: PostgreSQL did not start" >&2; exit 1; }
    PGPASSWORD=bench-$$-$RANDOM
    # the role cutover's PostgreSQL target wants (README): it creates
    # databases and may skip foreign key checks while it loads
    postgresql_add_role bench "$PGPASSWORD" bench >/dev/null &&
        postgresql_sql "ALTER ROLE bench CREATEDB" >/dev/null &&
        postgresql_sql "GRANT SET ON PARAMETER session_replication_role TO
                        bench" >/dev/null ||
        { echo "bench: could not make the bench role" >&2; exit 1; }
    PGHOST=$POSTGRESQL_HOST PGPORT=$POSTGRESQL_PORT PGUSER=bench
    PGDATABASE=bench
    export PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
}

# bench_start_mysql_source: a second private MariaDB, keeping a ROW binary
# log (so a MySQL source's capture is binlog capture), stopped on exit;
# its socket in $SRC
bench_start_mysql_source() {
    trap bench_source_cleanup EXIT
    mariadb_start "$T/src" --log-bin="$T/src/binlog" --server-id=1 \
        --binlog-format=ROW >/dev/null ||
        { echo "bench: the source MariaDB did not start" >&2; exit 1; }
    SRC=$MARIADB_SOCKET
}

bench_source_cleanup() {
    local status=$?
    mariadb_stop "$T/src" >/dev/null 2>&1
    (exit "$status")
    bench_cleanup
}

# bench_cutover_under DIR N APP_PID STOP_FILE SECS: `cutover run` of DIR's
# runbook (the Nth) while the application APP_PID writes, from 1 s before
# to 1 s after; then STOP_FILE made and the application given SECS to end.
# Exits when the migration fails.
bench_cutover_under() {
    local rc=0
    bench_run sleep 1
    bench_run "$CUTOVER" run "$1/runbook.json" >"$1/run.out" 2>"$1/run.err" ||
        rc=$?
    [ "$rc" = 0 ] || { echo "bench: cutover $2 exited $rc" >&2; tail "$1/run.err" >&2; exit 1; }
    bench_run sleep 1
    touch "$4"
    bench_wait_exit "$3" "$5"
}

sql() {
    mariadb --no-defaults -S "$SOCK" -uroot -N -B "$@"
}

psql_q() {
    psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}

table_sum() {
    psql_q -d "$1" -c "SELECT count(*) || ' ' || sum(hashtextextended(
        concat_ws('|', id, user_id, status, total::numeric(10,2),
                  address, coalesce(notes, '<null>'), is_paid::text::boolean,
                  created_at::timestamp, updated_at::timestamp), 0)::numeric)
        FROM orders"
}

bench_pgloader() {
    local rc=0
    bench_timed "$1/run.json" pgloader --no-ssl-cert-verification \
        "$1/load.cmd" >"$1/run.out" 2>&1 || rc=$?
    if [ "$rc" != 0 ] || grep -q "FATAL\|ERROR" "$1/run.out"; then
        tail -30 "$1/run.out" >&2
        echo "bench: pgloader failed" >&2
        exit 1
    fi
    pgloader_types=$(pg_orders_types pgloader)
    pgloader_indexes=$(psql_q -d pgloader -c "SELECT count(*) FROM
        pg_indexes WHERE tablename = 'orders'")
    sum_pgloader=$(table_sum pgloader)
    [ "${sum_pgloader%% *}" = "$ROWS" ] || { echo "bench: pgloader loaded" \
        "${sum_pgloader%% *} rows, not $ROWS" >&2; exit 1; }
}

pg_orders_types() {
    psql_q -d "$1" -c "SELECT string_agg(column_name || ' ' || data_type,
        ', ' ORDER BY ordinal_position) FROM information_schema.columns
        WHERE table_name = 'orders'"
}

jget() {
    "$BLIB" get "$1"
}

# bpy ARGS...: python3 with benchlib importable (the report steps)
bpy() {
    PYTHONPATH="$BENCH${PYTHONPATH:+:$PYTHONPATH}" $PY "$@"
}

bench_fixture() {
    local kind=$1 rows=$2 ver path
    ver=$(sha256sum "$ROOT/tests/lib/fixtures.py" | cut -c1-8)
    path=$OUT/fixtures/$kind-$rows-$ver.sqlite3
    if [ ! -f "$path" ]; then
        say "building the $kind fixture, $rows rows (cached as $path)"
        local tmp=$T/fixture.sqlite3
        rm -f "$tmp" "$tmp-wal" "$tmp-shm"
        $PY "$ROOT/tests/lib/fixtures.py" "$kind" "$tmp" --rows "$rows" >&2
        # one self-contained file: no WAL left beside it
        sqlite3 "$tmp" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
        rm -f "$tmp-wal" "$tmp-shm"
        # the final name appears whole (T may be on another file system)
        mv "$tmp" "$path.$$" && mv "$path.$$" "$path"
    fi
    echo "$path"
}

bench_runbook() {
    if [ "$BENCH_TARGET" = postgresql ]; then
        psql -X -q -c "CREATE DATABASE \"$2\"" -d bench >/dev/null ||
            { echo "bench: could not create database $2" >&2; exit 1; }
    fi
    $PY - "$1/runbook.json" "$SOCK" "$2" "$3" "${4:-{\}}" <<'PYEOF'
import ast, json, os, sys
path, sock, db, source, extra = sys.argv[1:6]
if os.environ["BENCH_TARGET"] == "postgresql":
    target = {"type": "postgresql", "host": os.environ["PGHOST"],
              "port": int(os.environ["PGPORT"]), "user": "bench",
              "password_env": "PGPASSWORD", "database": db}
else:
    target = {"type": "mysql", "socket": sock, "user": "root",
              "database": db}
rb = {"version": 1, "name": db, "state_dir": "state",
      "source": {"type": "sqlite", "path": source},
      "target": target,
      "copy": {"workers": 2},
      "backup": {"enabled": False},
      "post_validate": {"watch_s": 0}}
for k, v in ast.literal_eval(extra).items():
    if isinstance(v, dict) and isinstance(rb.get(k), dict):
        rb[k].update(v)
    else:
        rb[k] = v
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}

# bench_wait_state RUNBOOK SECONDS STATE...: until `status` shows one of the
# states; fails on failed/aborted/rolled_back, or on timeout.
bench_wait_state() {
    local rb=$1 secs=$2 i st want; shift 2
    for i in $(seq 1 $((secs * 5))); do
        st=$("$CUTOVER" status "$rb" --json 2>/dev/null | jget 'd["state"]' \
             2>/dev/null || true)
        for want in "$@"; do
            [ "$st" = "$want" ] && return 0
        done
        case "$st" in failed|aborted|rolled_back)
            "$CUTOVER" status "$rb" >&2 || true
            echo "bench: migration is $st, waited for: $*" >&2
            return 1 ;;
        esac
        sleep 0.2
    done
    echo "bench: timed out after $secs s waiting for state $*" >&2
    return 1
}

# bench_check_run DIR RC: a migration run that did not exit 0 is reported
# with its output and stops the bench.
bench_check_run() {
    [ "$2" = 0 ] && return 0
    echo "bench: cutover run in $1 exited $2:" >&2
    tail -20 "$1/run.out" "$1/run.err" >&2 2>/dev/null || true
    exit 1
}
