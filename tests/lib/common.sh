# common.sh — helpers for end-to-end tests. Each test script sources this,
# gets a private temp dir ($T) with a short path (unix sockets), can start
# its own MariaDB (and PostgreSQL: tests/lib/postgresql.sh), and everything
# it started is stopped on exit.
#
#   start_db                      private MariaDB; $SOCK is its socket
#   shop_db PATH [ROWS]           the Django-like fixture
#   runbook PATH [JSON]           a runbook for $T/shop.sqlite3 → $SOCK,
#                                 with JSON merged on top (python dict)
#   compare SQLITE DB             independent row-by-row comparison
#   start_pg                      private PostgreSQL, role migrator owning
#                                 database shop ($CUTOVER_PG_PASSWORD)
#   pg_runbook PATH [JSON]        runbook() with that PostgreSQL as target
#   pg_sql DB SQL                 SQL as migrator, values tab-separated
#   pg_compare SQLITE DB          compare against that PostgreSQL
#   show_create DB                SHOW CREATE TABLE of every table
#   events TYPE                   that type's events from the state dir
#   verify_mismatched RUNBOOK     `cutover verify` must find mismatches
#                                 (exit 3); one "table kind key columns"
#                                 line per mismatched row
#   fail MSG / assert_eq A B MSG / assert_exit CODE CMD...
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CUTOVER=${CUTOVER_BIN:-$ROOT/bin/cutover}
PY=/usr/bin/python3
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"
# shellcheck source=tests/lib/postgresql.sh
. "$ROOT/tests/lib/postgresql.sh"
T=$(mktemp -d /tmp/co.XXXXXX)
SOCK=""
STATE="$T/state"
export CUTOVER_DEBUG=${CUTOVER_DEBUG:-}

cleanup() {
    status=$?
    set +e
    # stop our background jobs (orchestrators, writers) first
    for p in $(jobs -p 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    [ -n "$SOCK" ] && mariadb_stop "$T/db"
    for d in ${EXTRA_DBS:-}; do mariadb_stop "$d"; done
    postgresql_stop_all
    if [ "$status" != 0 ] || [ -n "${KEEP:-}" ]; then
        echo "test files kept in $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$status"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

assert_eq() {
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

assert_contains() {
    case "$1" in *"$2"*) ;; *) fail "$3: '$2' not found in: $1" ;; esac
}

# assert_exit CODE CMD...: run CMD, check its exit status, keep its output
# in $OUT.
assert_exit() {
    want=$1; shift
    set +e
    OUT=$("$@" 2>&1)
    got=$?
    set -e
    [ "$got" = "$want" ] || { echo "$OUT" >&2; fail "$* exited $got, expected $want"; }
}

# plan_json CODE RUNBOOK OUT: `cutover plan RUNBOOK --json` into OUT (its
# stderr in OUT.err), which must exit CODE.
plan_json() {
    local got=0
    "$CUTOVER" plan "$2" --json >"$3" 2>"$3.err" || got=$?
    [ "$got" = "$1" ] || { cat "$3.err" >&2; fail "plan of $2 exited $got, expected $1"; }
}

# crash_resume CRASH: `cutover run $T/runbook.json` killed at the crash
# point CRASH (SIGKILL: exit 137) with its checkpoint in bulk_copy, then
# `cutover resume` to completion.
crash_resume() {
    local code
    set +e
    CUTOVER_CRASH_AT="$1" "$CUTOVER" run "$T/runbook.json" >"$T/run.log" 2>&1
    code=$?
    set -e
    assert_eq 137 "$code" "run with CUTOVER_CRASH_AT=$1 (killed by SIGKILL)"
    assert_exit 0 "$CUTOVER" check-checkpoint "$T/runbook.json"
    assert_contains "$OUT" "state bulk_copy" "checkpoint after the crash"
    assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
    assert_contains "$OUT" "completed" "resume after $1"
}

# source_fenced: how many of cutover's fence triggers $T/shop.sqlite3 has.
source_fenced() {
    sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_fence\_%' ESCAPE '\'"
}

# crash_cutover_at POINT TARGET-WORD: with the live writer running, `cutover
# run` killed at cutover:POINT; no split brain right after (the switch file
# naming the target, TARGET-WORD, while SQLite is not fenced); the writer
# stopped; `cutover resume` to completion, SQLite fenced. The caller then
# compares the rows and checks the writer's record.
crash_cutover_at() {
    local code
    writer_start 200
    sleep 0.5
    set +e
    CUTOVER_CRASH_AT="cutover:$1" "$CUTOVER" run "$T/runbook.json" \
        >"$T/run.log" 2>&1
    code=$?
    set -e
    assert_eq 137 "$code" "crash at cutover:$1 ($(tail -3 "$T/run.log"))"
    if [ "$(cat "$T/switch")" = "$2" ] && [ "$(source_fenced)" = 0 ]; then
        fail "split brain after a crash at $1: switched, source open"
    fi
    echo "crash at cutover:$1: source fenced=$(source_fenced), switch=$(cat "$T/switch")"
    writer_stop
    assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
    assert_contains "$OUT" "completed" "resume after a crash at $1"
    [ "$(source_fenced)" -gt 0 ] || fail "source not fenced after completing"
}

# attack_refused WHAT: a security test tried an attack and it was refused.
# The summary of `make test` counts these lines (fault_summary.py); call it
# only after the assertion that shows the refusal.
attack_refused() {
    echo "attack refused: $*"
}

# free_port: a TCP port nobody listens on right now.
free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_db() {
    mariadb_start "$T/db" "$@" || fail "MariaDB did not start"
    SOCK=$MARIADB_SOCKET
}

sql() {
    mariadb --no-defaults -S "$SOCK" -uroot -N -B "$@"
}

shop_db() {
    $PY "$ROOT/tests/lib/fixtures.py" shop "$1" --rows "${2:-120000}" \
        --seed "${3:-1}"
}

# runbook PATH [PYTHON-DICT]: defaults for a shop migration, overridden by
# the given dict (merged one level deep).
runbook() {
    $PY - "$1" "$SOCK" "${2:-{\}}" <<'PYEOF'
import json, sys, ast
path, sock, extra = sys.argv[1], sys.argv[2], ast.literal_eval(sys.argv[3])
rb = {"version": 1, "name": "test", "state_dir": "state",
      "source": {"type": "sqlite", "path": "shop.sqlite3"},
      "target": {"type": "mysql", "socket": sock, "user": "root",
                 "database": "shop"},
      "copy": {"workers": 2},
      "post_validate": {"watch_s": 1, "interval_s": 0.5}}
for k, v in extra.items():
    if isinstance(v, dict) and isinstance(rb.get(k), dict):
        rb[k].update(v)
    elif v is None:
        rb.pop(k, None)
    else:
        rb[k] = v
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}

# show_create DB: SHOW CREATE TABLE of every table of DB, one after the
# other, AUTO_INCREMENT counters left out (they move with the data).
start_pg() {
    postgresql_start "$T/pg" || fail "PostgreSQL did not start"
    export CUTOVER_PG_PASSWORD="migrator-$$"
    postgresql_add_role migrator "$CUTOVER_PG_PASSWORD" shop ||
        fail "could not add the migrator role"
    # what the copy needs to write rows in key order (README)
    postgresql_sql "GRANT SET ON PARAMETER session_replication_role TO migrator" \
        >/dev/null || fail "could not grant session_replication_role"
}

pg_runbook() {
    runbook "$1" "${2:-{\}}"
    $PY - "$1" "$POSTGRESQL_HOST" "$POSTGRESQL_PORT" "${2:-{\}}" <<'PYEOF'
import json, sys, ast
path, host, port, extra = sys.argv[1], sys.argv[2], sys.argv[3], \
    ast.literal_eval(sys.argv[4])
rb = json.load(open(path))
rb["target"] = {"type": "postgresql", "host": host, "port": int(port),
                "user": "migrator", "password_env": "CUTOVER_PG_PASSWORD",
                "database": "shop"}
rb["target"].update(extra.get("target", {}))
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}

pg_sql() {
    PGPASSWORD=$CUTOVER_PG_PASSWORD postgresql_psql -U migrator -d "$1" \
        -At -F "$(printf '\t')" -c "$2"
}

pg_compare() {
    $PY "$ROOT/tests/lib/compare.py" "$1" \
        "postgresql:host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT user=migrator password=$CUTOVER_PG_PASSWORD" \
        "$2" || fail "data differs"
}

show_create() {
    local t
    for t in $(sql "$1" -e "SHOW TABLES"); do
        sql "$1" -e "SHOW CREATE TABLE \`$t\`" | cut -f2- |
            sed 's/\\n/\n/g; s/ AUTO_INCREMENT=[0-9]*//'
    done
}

compare() {
    $PY "$ROOT/tests/lib/compare.py" "$1" "$SOCK" "$2" || fail "data differs"
}

verify_mismatched() {
    local code=0
    "$CUTOVER" verify "$1" --json >"$T/verify.json" 2>"$T/verify.err" ||
        code=$?
    [ "$code" = 3 ] || { cat "$T/verify.err" >&2; echo "verify exited $code, not 3"; return 1; }
    $PY - "$T/verify.json" <<'PYEOF'
import json, sys
report = json.load(open(sys.argv[1]))
for t, r in sorted(report["tables"].items()):
    for m in r["mismatched"]:
        print(t, m["kind"], json.dumps(m["key"]), ",".join(m.get("columns", [])))
PYEOF
}

# events TYPE [FILTER-PY-EXPR]: matching events, one JSON per line.
events() {
    $PY - "$STATE/events.ndjson" "$1" "${2:-True}" <<'PYEOF'
import json, sys
path, typ, expr = sys.argv[1:4]
for line in open(path):
    line = line.strip()
    if not line:
        continue
    e = json.loads(line)
    if (typ == "*" or e.get("type") == typ) and eval(expr, {}, {"e": e}):
        print(json.dumps(e))
PYEOF
}

# json_get EXPR: print EXPR, a Python expression over d, the JSON document
# on stdin. A plain path such as d["state"] or d["replicas"][0]["lag_s"],
# what the wait loops poll several times a second, is read by awk
# (tests/lib/json_path.awk; mawk starts in a third of the time of gawk
# and a sixth of Python's); whatever awk cannot print exactly as Python
# would goes to Python.
JSON_AWK=$(command -v mawk || command -v awk)
json_get() {
    local doc
    IFS= read -r -d '' doc || true
    if [[ $1 =~ ^d(\[\"[^\"\\]*\"\]|\[\'[^\'\\]*\'\]|\[[0-9]+\])+$ ]] &&
        JSON_PATH=$1 LC_ALL=C "$JSON_AWK" -f "$ROOT/tests/lib/json_path.awk" <<<"$doc"
    then
        return 0
    fi
    $PY -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' \
        "$1" <<<"$doc"
}

wait_for() {
    # wait_for SECONDS CMD...: until CMD succeeds
    local secs=$1 i; shift
    for i in $(seq 1 $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "timed out after $secs s waiting for: $*"
}

# status EXPR: evaluate a python expression over `cutover status --json`
# (d is the status object).
status() {
    local doc
    doc=$("$CUTOVER" status "$T/runbook.json" --json 2>/dev/null) || return 1
    json_get "$1" <<<"$doc"
}

# wait_drained: until status shows an empty change log (at most 10 s), then
# a moment more, for the applier to commit the batch it has taken.
wait_drained() {
    local i
    for i in $(seq 1 100); do
        [ "$(status 'd["sync"]["backlog_rows"]')" = 0 ] && break
        sleep 0.1
    done
    sleep 1.5
}

# wait_run CODE WHAT: wait for the `cutover run` started in the background
# as $RUN, and check its exit code.
wait_run() {
    local code=0
    wait "$RUN" || code=$?
    assert_eq "$1" "$code" "$2"
}

# wait_state SECONDS STATE...: until the migration is in one of STATE
# (fails early on failed/aborted unless asked for).
wait_state() {
    local secs=$1 i st; shift
    for i in $(seq 1 $((secs * 5))); do
        st=$(status 'd["state"]' 2>/dev/null || true)
        for want in "$@"; do
            [ "$st" = "$want" ] && return 0
        done
        case "$st" in failed|aborted|rolled_back|completed)
            "$CUTOVER" status "$T/runbook.json" >&2 || true
            fail "migration is $st, waited for: $*" ;;
        esac
        sleep 0.2
    done
    fail "timed out after $secs s waiting for state $*"
}

# writer_start RATE: the live writer on $T/shop.sqlite3, following the
# switch file $T/switch; its record goes to $T/record.jsonl. Its target is
# MariaDB, or with WRITER_TARGET=postgresql the server of start_pg
# (tests/lib/pg_writer.sh).
writer_start() {
    local target=(--mysql-socket "$SOCK" --mysql-db "${WRITER_DB:-shop}")
    [ "${WRITER_TARGET:-mysql}" = postgresql ] && target=("${PG_WRITER[@]}")
    echo sqlite > "$T/switch"
    "$ROOT/bin/writer" run --sqlite "$T/shop.sqlite3" "${target[@]}" \
        --switch-file "$T/switch" \
        --record "$T/record.jsonl" --rate "$1" --duration 3600 \
        --busy-timeout-ms 10000 >"$T/writer.out" 2>"$T/writer.err" &
    WRITER_PID=$!
}

# writer_stop: SIGTERM, wait, summary in $WRITER_SUMMARY.
writer_stop() {
    kill -TERM "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
    WRITER_SUMMARY=$(tail -1 "$T/writer.out")
    echo "writer: $WRITER_SUMMARY"
}

# run_under_writer RATE: the writer at RATE through a whole `cutover run`,
# which must complete with the writer following the switch to its target.
run_under_writer() {
    writer_start "$1"
    sleep 1
    assert_exit 0 "$CUTOVER" run "$T/runbook.json"
    assert_contains "$OUT" "completed" "run"
    sleep 1
    writer_stop
    [ "$(echo "$WRITER_SUMMARY" | json_get 'd["backend"]')" = "${WRITER_TARGET:-mysql}" ] \
        || fail "the writer did not follow the switch: $WRITER_SUMMARY"
}

# run_switched_under_writer RATE SIDE: the writer at RATE, `cutover run`
# in the background ($RUN, output in $T/run.out and run.err) until the
# migration watches post_validate with the switch file naming SIDE, then
# two seconds of the writer working there.
run_switched_under_writer() {
    writer_start "$1"
    sleep 1
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
    RUN=$!
    wait_state 120 post_validate
    wait_for 10 grep -q "$2" "$T/switch"
    sleep 2
}

writer_check() {
    "$ROOT/bin/writer" check --record "$T/record.jsonl" "$@" \
        || fail "acknowledged writes missing or wrong ($*)"
}

# switch actions that move the writer (and back)
SWITCH_JSON="'switch': [{'exec': ['sh', '-c', 'echo mysql > \$CUTOVER_STATE_DIR/../switch']}],
  'switch_back': [{'exec': ['sh', '-c', 'echo sqlite > \$CUTOVER_STATE_DIR/../switch']}]"

# live_cutover_json SWITCH-JSON: the runbook settings of a whole migration
# under the live writer (30-, 94-): two copy workers, a 2 s write pause
# allowed, 3 s of post-validate checking the orders are there.
live_cutover_json() {
    echo "{'copy': {'workers': 2},
  'cutover': {'max_write_pause_ms': 2000, $1},
  'post_validate': {'watch_s': 3, 'interval_s': 0.5,
    'checks': [{'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order',
                'min': 1}]}}"
}

# http_start NAME [options of http_server.py]: a local HTTP server; its
# URL is in $HTTP_URL, its request log in $T/NAME.log.
http_start() {
    local name=$1; shift
    $PY "$ROOT/tests/lib/http_server.py" "$T/$name.port" "$T/$name.log" "$@" &
    wait_for 10 test -s "$T/$name.port"
    HTTP_URL="http://127.0.0.1:$(cat "$T/$name.port")"
}
