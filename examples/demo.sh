#!/bin/bash
# demo.sh — a whole live migration of a sample shop, SQLite → MariaDB, in
# one command (`make demo`).
#
# It makes a Django-like shop database (tests/lib/fixtures.py: users,
# products, orders, order items, sessions; Greek text, prices,
# timestamps), starts a private MariaDB in a temp dir (unix socket only,
# tests/lib/mariadb.sh), starts a live writer on the SQLite file (bin/writer,
# the stand-in for the shop's web workers), runs
# `cutover run examples/shop/runbook.json` while showing `cutover watch`,
# and at the switch the writer follows to MariaDB. Then it checks that
# every write the writer had acknowledged is on MariaDB and prints a
# summary.
#
#   DEMO_ROWS    rows in the sample shop (default 200000)
#   DEMO_RATE    the writer's transactions per second (default 200)
#   DEMO_KEEP=1  keep the temp dir even when the demo succeeds
#
# Everything it starts is stopped on every exit path; the temp dir is
# removed on success and kept (and named) on failure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CUTOVER=${CUTOVER_BIN:-$ROOT/bin/cutover}
WRITER=$ROOT/bin/writer
PY=/usr/bin/python3
ROWS=${DEMO_ROWS:-200000}
RATE=${DEMO_RATE:-200}
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

case "$ROWS$RATE" in *[!0-9]*) die "DEMO_ROWS and DEMO_RATE must be numbers" ;; esac
[ "$ROWS" -ge 100 ] || die "DEMO_ROWS must be at least 100"
for f in "$CUTOVER" "$WRITER"; do
    [ -x "$f" ] || die "$f is missing: run 'make demo' (or 'make' first)"
done

# A short path: unix socket paths are limited to 107 bytes.
DIR=$(mktemp -d /tmp/cutover-demo.XXXXXX)
RB=$DIR/runbook.json
RUN_PID="" WATCH_PID="" WRITER_PID="" DB_STARTED=""

# stop_process PID: TERM, up to 10 s to finish (cutover writes its
# checkpoint, the writer its summary), then KILL.
stop_process() {
    local pid=$1 _
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    stop_process "$WATCH_PID"
    # a watch view stopped mid-draw leaves the cursor hidden
    [ -n "$WATCH_PID" ] && [ -t 1 ] && printf '\033[?25h\n'
    stop_process "$RUN_PID"
    stop_process "$WRITER_PID"
    [ -n "$DB_STARTED" ] && mariadb_stop "$DIR/db"
    if [ "$status" = 0 ] && [ -z "${DEMO_KEEP:-}" ]; then
        rm -rf "$DIR"
    else
        [ "$status" = 0 ] || echo "demo: FAILED (exit $status)" >&2
        echo "demo files kept in $DIR (runbook.json, state/events.ndjson," \
             "run.log, writer.err, db/error.log)" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# seconds since T0 with one decimal
T0=$(date +%s.%N)
elapsed() { $PY -c "import sys,time; print('%.1f' % (time.time() - float(sys.argv[1])))" "${1:-$T0}"; }

echo "cutover demo: a live migration of a sample shop from SQLite to MariaDB"
echo "working in $DIR"

step "1/6  a sample Django shop in SQLite: about $ROWS rows (Greek text, prices, timestamps)"
t=$(date +%s.%N)
$PY "$ROOT/tests/lib/fixtures.py" shop "$DIR/shop.sqlite3" --rows "$ROWS"
info "$DIR/shop.sqlite3 ($(du -h "$DIR/shop.sqlite3" | cut -f1), $(elapsed "$t") s):"
for table in auth_user shop_product shop_order shop_orderitem django_session; do
    info "$(printf '%-16s %8s rows' "$table" \
        "$(sqlite3 "$DIR/shop.sqlite3" "SELECT COUNT(*) FROM $table")")"
done

step "2/6  a private MariaDB server (its own data dir, unix socket only)"
t=$(date +%s.%N)
DB_STARTED=1
mariadb_start "$DIR/db" || die "MariaDB did not start (log: $DIR/db/error.log)"
SOCK=$MARIADB_SOCKET
info "$(mariadb --no-defaults -S "$SOCK" -uroot -N -B -e 'SELECT VERSION()') on $SOCK ($(elapsed "$t") s)"

# The example runbook, copied beside the database (its relative paths
# resolve against its own directory) and pointed at this server's socket.
$PY - "$ROOT/examples/shop/runbook.json" "$RB" "$SOCK" <<'PY'
import json, sys
src, dst, sock = sys.argv[1:4]
rb = json.load(open(src))
rb["target"]["socket"] = sock
json.dump(rb, open(dst, "w"), indent=2)
PY
info "runbook: examples/shop/runbook.json, target.socket set to this server"

step "3/6  cutover plan: what will happen (read-only)"
plan_rc=0
"$CUTOVER" plan "$RB" || plan_rc=$?
[ "$plan_rc" = 0 ] || die "cutover plan exited $plan_rc"

step "4/6  the live writer: $RATE transactions/s on SQLite (busy timeout 10 s)"
# The writer reads db-backend (the runbook's switch actions rewrite it)
# when SQLite refuses a write with the cutover fence, then retries there.
echo sqlite > "$DIR/db-backend"
"$WRITER" run --sqlite "$DIR/shop.sqlite3" --mysql-socket "$SOCK" \
    --mysql-db shop --switch-file "$DIR/db-backend" \
    --record "$DIR/record.jsonl" --rate "$RATE" --duration 3600 \
    --busy-timeout-ms 10000 >"$DIR/writer.out" 2>"$DIR/writer.err" &
WRITER_PID=$!
sleep 1
kill -0 "$WRITER_PID" 2>/dev/null || die "the writer stopped: $(tail -3 "$DIR/writer.err")"
info "writing orders, order items, users and sessions (log: writer.err)"

step "5/6  cutover run, watched live with cutover watch"
# run's own output goes to files so that only watch draws on the terminal.
"$CUTOVER" run "$RB" >"$DIR/run.out" 2>"$DIR/run.log" &
RUN_PID=$!
# watch attaches once the orchestrator answers on its progress socket
answering() {
    case "$("$CUTOVER" status "$RB" --json 2>/dev/null)" in
    *'"running": true'*) return 0 ;;
    esac
    return 1
}
while kill -0 "$RUN_PID" 2>/dev/null && ! answering; do
    sleep 0.2
done
# In the background so that a signal reaches our trap at once; it still
# draws on this terminal (a full-screen view on a tty, lines otherwise).
"$CUTOVER" watch "$RB" &
WATCH_PID=$!
wait "$WATCH_PID" || true
WATCH_PID=""
run_rc=0
wait "$RUN_PID" || run_rc=$?
RUN_PID=""
echo
cat "$DIR/run.out"
if [ "$run_rc" != 0 ]; then
    tail -15 "$DIR/run.log" | sed 's/^/    /' >&2
    die "cutover run exited $run_rc"
fi

step "6/6  stopping the writer; every write it acknowledged must be on MariaDB"
stop_process "$WRITER_PID"
WRITER_PID=""
check_rc=0
"$WRITER" check --record "$DIR/record.jsonl" --mysql-socket "$SOCK" \
    --mysql-db shop >"$DIR/check.json" 2>"$DIR/check.err" || check_rc=$?
[ "$check_rc" = 0 ] || head -20 "$DIR/check.err" | sed 's/^/    /' >&2

step "summary"
$PY - "$DIR" "$(elapsed)" <<'PY'
import json, sqlite3, sys

d, demo_s = sys.argv[1], sys.argv[2]
events = [json.loads(l) for l in open(d + "/state/events.ndjson") if l.strip()]
done = [e for e in events if e["type"] == "completed"]
switched = [e for e in events if e["type"] == "cutover" and e.get("step") == "switched"]
verify = json.load(open(d + "/state/verify.json"))
rb = json.load(open(d + "/runbook.json"))
writer = json.loads(open(d + "/writer.out").read().strip().splitlines()[-1])
check = json.loads(open(d + "/check.json").read().strip() or "{}")

ok = bool(done) and bool(switched)
if done:
    c = done[-1]
    print("  migration      completed in %.1f s (%d tables, %s rows copied)"
          % (c["elapsed_s"], c["tables"], format(c["rows_copied"], ",")))
else:
    print("  migration      NOT completed (see state/events.ndjson)")
bad = verify.get("mismatched_rows", -1)
ok &= bad == 0
print("  verify         %s: %d tables, every row hashed on both sides, %d mismatched rows"
      % ("identical" if bad == 0 else "DIFFERENT", len(verify.get("tables", {})), bad))
if switched:
    print("  write pause    %.0f ms (writers waited on SQLite's lock; the runbook allows %d ms)"
          % (switched[-1]["write_pause_ms"],
             rb.get("cutover", {}).get("max_write_pause_ms", 1000)))
print("  live writer    %s writes acknowledged, %d switch to MariaDB, longest stall %.0f ms"
      % (format(writer["acknowledged"], ","), writer["switches"], writer["longest_stall_ms"]))
ok &= writer["backend"] == "mysql" and writer["switches"] == 1
lost = check.get("lost", -1)
wrong = check.get("unexpected", 0) + check.get("different", 0)
ok &= lost == 0 and wrong == 0
print("  lost writes    %d (%s rows the writer acknowledged, checked on MariaDB%s)"
      % (lost, format(check.get("keys", 0), ","),
         "" if wrong == 0 else "; %d more differ" % wrong))
try:
    db = sqlite3.connect(d + "/shop.sqlite3", timeout=5)
    # A row that still exists: the writer deletes orders, and an UPDATE that
    # matches no row fires no trigger, so it would prove nothing.
    db.execute("UPDATE shop_order SET status = status"
               " WHERE id = (SELECT MIN(id) FROM shop_order)")
    db.commit()
    fence = "STILL WRITABLE"
    ok = False
except sqlite3.DatabaseError as e:
    fence = 'refuses writes: "%s"' % e
print("  old SQLite     " + fence)
print("  demo time      %s s" % demo_s)
sys.exit(0 if ok else 1)
PY
[ "$check_rc" = 0 ] || die "the writer's check found differences ($DIR/check.err)"
echo
echo "demo: done. Its runbook is examples/shop/runbook.json; README.md tells how"
echo "to run your own migration, runbooks/README.md describes every runbook key."
