#!/bin/bash
# What the application sees of a migration. The Django shop
# (tests/lib/django, Debian's Django 3.2) runs under load: 2 workers with
# Django's default settings (deferred transactions, OPTIONS.timeout 10 s,
# each request one atomic() that reads and then writes), 2 workers with
# the BEGIN IMMEDIATE backend of the README, and a PHP PDO worker with the
# README's ImmediatePDO. All follow the switch file and retry a request
# that meets a fence on the other database.
# Migration 1 copies, syncs (held APP_ERRORS_SYNC_S), switches, runs on
# MariaDB (APP_ERRORS_WATCH_S) and is rolled back; migration 2 switches
# again and completes while the shop runs on MariaDB. A baseline shop does
# the same on a copy of the database at the same time, without cutover.
# (bench/app-errors.sh runs it longer, several times, and sums the table;
# APP_ERRORS_REPORT=FILE gets it as JSON.)
# Asserts: nothing acknowledged is lost; no deadlock and no unexpected
# error anywhere; no "database is locked" for the IMMEDIATE workers; the
# change logs are not trimmed and the schema not touched while synced;
# the rollback leaves nothing to remove once the shop is back on SQLite;
# the default workers' "database is locked" outside the switches stays
# near the baseline's. Prints the errors by kind and phase.
# timeout: 400
# long
. "$(dirname "$0")/../lib/common.sh"

LOAD="$PY $ROOT/tests/lib/django/shopload.py"
COPY_RATE=${APP_ERRORS_COPY_ROWS_PER_S:-800}  # the copy takes some seconds
SYNC=${APP_ERRORS_SYNC_S:-4}      # synced on SQLite before the switch
WATCH=${APP_ERRORS_WATCH_S:-8}    # on MariaDB after each switch
AFTER=${APP_ERRORS_AFTER_S:-4}    # back on SQLite after the rollback
RATE=${APP_ERRORS_RATE:-20}       # requests/s of each kind of Django worker

start_db --innodb-print-all-deadlocks=1
$LOAD seed --sqlite "$T/shop.sqlite3"
cp "$T/shop.sqlite3" "$T/baseline.sqlite3"
# The switch actions rewrite the switch file the shop follows; switch_back
# first notes how many change logs SQLite still has.
cat >"$T/switch.sh" <<'SH'
cd "$CUTOVER_STATE_DIR/.."
if [ "$1" = sqlite ]; then
    sqlite3 shop.sqlite3 "SELECT count(*) FROM sqlite_master
        WHERE name LIKE '\_cutover\_log\_%' ESCAPE '\'" >logs-at-switch-back
fi
echo "$1" >switch.new && mv switch.new switch
SH
migration() {   # migration RUNBOOK STATE-DIR CUTOVER-MODE WATCH-S COPY-ROWS/S
    runbook "$1" "{
  'state_dir': '$2',
  'source': {'type': 'sqlite', 'path': 'shop.sqlite3',
             'app_busy_timeout_ms': 10000},
  'schema': {'overrides': {'shop_order.total': 'DECIMAL(12,2)',
    'shop_product.price': 'DECIMAL(10,2)',
    'shop_orderitem.unit_price': 'DECIMAL(10,2)'}},
  'copy': {'workers': 1, 'max_rows_per_s': $5},
  'cutover': {'mode': '$3',
    'switch': [{'exec': ['sh', '$T/switch.sh', 'mysql']}],
    'switch_back': [{'exec': ['sh', '$T/switch.sh', 'sqlite']}]},
  'post_validate': {'watch_s': $4, 'interval_s': 1,
    'checks': [{'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order',
                'min': 1}]}}"
}

shop() {    # shop NAME DB SWITCH-FILE: the three kinds of workers
    local common="--sqlite $2 --switch-file $3 --mysql-socket $SOCK --mysql-db shop --stop-file $T/stop --duration 3600"
    $LOAD run $common --workers 2 --rate "$RATE" --begin deferred \
        --out "$T/$1-default.json" >"$T/$1-default.out" 2>&1 &
    $LOAD run $common --workers 2 --rate "$RATE" --begin immediate \
        --out "$T/$1-immediate.json" >"$T/$1-immediate.out" 2>&1 &
    php "$ROOT/tests/lib/pdo/shopload.php" $common --rate 5 \
        --begin immediate --out "$T/$1-php.json" >"$T/$1-php.out" 2>&1 &
}
echo sqlite > "$T/switch"
echo sqlite > "$T/baseline.switch"
shop baseline "$T/baseline.sqlite3" "$T/baseline.switch"
shop cutover "$T/shop.sqlite3" "$T/switch"
sleep 1

# Migration 1: a throttled copy (2,561 rows), synced and held, switched,
# rolled back.
migration "$T/runbook.json" state manual 3600 "$COPY_RATE"
# plan warns about deferred transactions and names the recipes, unless the
# runbook says the application begins them IMMEDIATE
assert_exit 0 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "warning  app_transactions" "plan"
assert_contains "$OUT" "sqlite_immediate backend" "plan names the Django recipe"
assert_contains "$OUT" "ImmediatePDO" "plan names the Laravel recipe"
$PY - "$T/runbook.json" "$T/immediate.json" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["source"]["app_transactions"] = "immediate"
json.dump(rb, open(sys.argv[2], "w"))
PYEOF
"$CUTOVER" plan "$T/immediate.json" --json | json_get \
    '[f for f in d["findings"] if f["code"] == "app_transactions"]' \
    | grep -qx '\[\]' || fail "app_transactions warned about with immediate"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 120 grep -q '"waiting_for"' "$STATE/events.ndjson"
src() { sqlite3 "$T/shop.sqlite3" "$@"; }
untrimmed() {   # every change log still starts at its first entry
    local log
    for log in $(src "SELECT name FROM sqlite_master WHERE name LIKE '\_cutover\_log\_%' ESCAPE '\'"); do
        case "$(src "SELECT ifnull(min(seq), 1) FROM \"$log\"")" in
        1) ;;
        *) fail "$log was trimmed while the shop wrote: a commit on its database" ;;
        esac
    done
}
untrimmed
version=$(src "PRAGMA schema_version")
entries=$(src "SELECT count(*) FROM _cutover_log_shop_order")
sleep "$SYNC"
untrimmed
assert_eq "$version" "$(src "PRAGMA schema_version")" \
    "the source schema changed while synced"
[ "$(src "SELECT count(*) FROM _cutover_log_shop_order")" -gt "$entries" ] \
    || fail "the shop wrote nothing while synced"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait_state 60 post_validate
wait_for 10 grep -q mysql "$T/switch"
sleep "$WATCH"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
wait_run 5 "exit code after rollback"
wait_for 10 grep -q sqlite "$T/switch"
assert_eq 0 "$(cat "$T/logs-at-switch-back")" \
    "change logs left on SQLite when the shop came back (one more commit)"
sleep "$AFTER"

# Migration 2: switched again, completes while the shop runs on MariaDB
# (the reverse capture leaves the shop's tables under its load).
sql -e "DROP DATABASE shop"
migration "$T/runbook2.json" state2 auto "$WATCH" 0
assert_exit 0 "$CUTOVER" run "$T/runbook2.json"
assert_contains "$OUT" "completed" "second migration"
sleep 2
touch "$T/stop"
wait
for kind in default immediate php; do
    for run in cutover baseline; do
        echo "$run-$kind: $(tail -1 "$T/$run-$kind.out")"
        [ -s "$T/$run-$kind.json" ] || fail "the $run-$kind workers failed"
    done
    [ "$(json_get 'd["acked_by_db"]["mysql"] > 0' <"$T/cutover-$kind.json")" = True ] \
        || fail "the cutover-$kind workers never wrote to MariaDB"
done

$LOAD check --mysql-socket "$SOCK" --mysql-db shop "$T"/cutover-*.json \
    || fail "acknowledged orders missing on MariaDB"
$LOAD check --sqlite "$T/baseline.sqlite3" "$T"/baseline-*.json \
    || fail "acknowledged orders missing in the baseline"
$LOAD phases --events "$STATE/events.ndjson" --events "$T/state2/events.ndjson" \
    "$T"/cutover-*.json "$T"/baseline-*.json >"$T/phases.json"
[ -z "${APP_ERRORS_REPORT:-}" ] || cp "$T/phases.json" "$APP_ERRORS_REPORT"
$PY - "$T/phases.json" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))
runs = [k for k in t["on SQLite"] if k != "seconds"]
print("%-12s %6s  %s" % ("phase", "s", "  ".join("%-18s" % r for r in runs)))
print("%-12s %6s  %s" % ("", "", "  ".join("%-18s" % "lock/dl/fence/oth"
                                          for r in runs)))
for phase, row in t.items():
    print("%-12s %6.1f  %s" % (phase, row["seconds"], "  ".join(
        "%-18s" % "/".join(str(row[r][k]) for k in
                           ("locked", "deadlock", "fence", "other"))
        for r in runs)))
problems = []
for phase, row in t.items():
    for run in runs:
        if row[run]["deadlock"] or row[run]["other"]:
            problems.append("%s, %s: %s" % (run, phase, row[run]))
        if not run.endswith("default") and row[run]["locked"]:
            problems.append("%s (BEGIN IMMEDIATE), %s: %d database is locked"
                            % (run, phase, row[run]["locked"]))
# Outside the switches the default workers meet the shop's own
# collisions; cutover may add its capture installation and nothing else.
# Same seconds, same machine: a generous bound for a noisy count.
ours = sum(t[p]["cutover-default"]["locked"] for p in ("on SQLite",))
base = sum(t[p]["baseline-default"]["locked"] for p in ("on SQLite",))
print("default workers on SQLite outside the switches: %d database is "
      "locked (baseline %d)" % (ours, base))
if ours > 1.5 * base + 10:
    problems.append("default workers: %d database is locked on SQLite, "
                    "baseline %d" % (ours, base))
if problems:
    sys.exit("FAIL: " + "; ".join(problems))
PYEOF
grep -qi "deadlock" "$T/db/error.log" && fail "InnoDB deadlocks: $(grep -i -A30 deadlock "$T/db/error.log" | head -60)"
echo ok
