#!/bin/bash
# Every named crash point of every stage (the list is read from the source,
# so a new point cannot be forgotten; the cutover's sub-steps are crashed in
# 32-cutover-crash-matrix.sh, the MySQL source's fence sequence in
# 98-mysql-source-copy-sync.sh) × SIGKILL → `cutover resume`, with the live
# writer running until the crash. Each migration ends where it should
# (completed, aborted, rolled back), with every row identical (before the
# switch) and no acknowledged write lost.
# timeout: 900
# long
. "$(dirname "$0")/../lib/common.sh"

points=$(grep -rhoE --include="*.c" 'fault_point\("[a-z_]+", "[a-z_]+"\)' "$ROOT"/lib "$ROOT"/orchestrator \
    "$ROOT"/stages "$ROOT"/sync "$ROOT"/checkpoints \
    | sed 's/fault_point("\([a-z_]*\)", "\([a-z_]*\)")/\1:\2/' | sort -u)
covered_elsewhere="$(grep -ho 'for point in .*; do' \
    "$ROOT/tests/e2e/32-cutover-crash-matrix.sh" \
    "$ROOT/tests/e2e/98-mysql-source-copy-sync.sh" \
    | sed 's/for point in //; s/; do//' | tr '\n' ' ')"

start_db
shop_db "$T/base.sqlite3" 6000
n=0

# run_case POINT [ACTION-AT-POST_VALIDATE]: crash there, resume, check.
run_case() {
    local point=$1 action=${2:-} want=completed code
    n=$((n + 1))
    rm -rf "$STATE" "$T/record.jsonl"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    rm -f "$T/shop.sqlite3-wal" "$T/shop.sqlite3-shm"
    runbook "$T/runbook.json" "{'target': {'database': 'm$n'},
      'cutover': {$SWITCH_JSON},
      'post_validate': {'watch_s': ${WATCH:-1}, 'interval_s': 0.3}}"
    writer_start 100
    sleep 0.3
    set +e
    CUTOVER_CRASH_AT="$point" "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1 &
    local pid=$!
    if [ -n "$action" ]; then
        wait_state 120 post_validate
        "$CUTOVER" ctl "$T/runbook.json" "$action" >/dev/null 2>&1
    fi
    wait "$pid"; code=$?
    set -e
    assert_eq 137 "$code" "crash at $point"
    local switched
    switched=$(cat "$T/switch")
    writer_stop
    case "$action" in
        rollback) want=rolled_back ;;
        abort) want=aborted ;;
    esac
    set +e; "$CUTOVER" resume "$T/runbook.json" >"$T/resume.out" 2>&1; code=$?; set -e
    grep -q "$want" "$T/resume.out" || { cat "$T/resume.out"; fail "resume after $point: not $want"; }
    case $want in
        completed)
            writer_check --mysql-socket "$SOCK" --mysql-db "m$n"
            [ "$switched" = mysql ] || compare "$T/shop.sqlite3" "m$n" ;;
        rolled_back)
            writer_check --sqlite "$T/shop.sqlite3" ;;
        aborted)
            left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
            assert_eq 0 "$left" "cutover objects left after abort" ;;
    esac
    echo "crash at $point → resumed → $want"
}

for p in $points; do
    case " $covered_elsewhere " in *" ${p#cutover:} "*) [ "${p%%:*}" = cutover ] && continue ;; esac
    case $p in
        rollback:*) WATCH=60 run_case "$p" rollback ;;
        aborting:*)
            # abort during sync (manual cutover keeps it there)
            n=$((n + 1)); rm -rf "$STATE"; cp "$T/base.sqlite3" "$T/shop.sqlite3"
            runbook "$T/runbook.json" "{'target': {'database': 'm$n'}, 'cutover': {'mode': 'manual'}}"
            set +e
            CUTOVER_CRASH_AT="$p" "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1 &
            pid=$!
            wait_state 120 cutover
            "$CUTOVER" ctl "$T/runbook.json" abort >/dev/null 2>&1
            wait "$pid"; code=$?
            set -e
            assert_eq 137 "$code" "crash at $p"
            set +e; "$CUTOVER" resume "$T/runbook.json" >"$T/resume.out" 2>&1; code=$?; set -e
            assert_eq 4 "$code" "resume after $p ends aborted"
            left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
            assert_eq 0 "$left" "cutover objects left after abort"
            echo "crash at $p → resumed → aborted" ;;
        bulk_copy:chunk) run_case "bulk_copy:chunk:3" ;;
        applier:before_commit) run_case "applier:before_commit:2" ;;
        checkpoint:before_rename) run_case "checkpoint:before_rename:6" ;;
        post_validate:round) run_case "post_validate:round:2" ;;
        *) run_case "$p" ;;
    esac
done
echo "crash points covered here: $(echo $points | wc -w) found in the source"
echo ok
