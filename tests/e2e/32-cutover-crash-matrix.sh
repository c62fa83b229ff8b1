#!/bin/bash
# A crash (SIGKILL) at every cutover sub-step with the live writer running,
# then `cutover resume`. Right after each crash there is no split brain
# (never the source open while traffic is switched to the target); the
# resumed migration completes; every row is identical on both sides and no
# acknowledged write is lost.
# timeout: 600
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/base.sqlite3" 8000

fenced() {
    sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_fence\_%' ESCAPE '\'"
}

n=0
for point in prepare lock drain reverify fence before_fence_commit fenced switch; do
    n=$((n + 1))
    rm -rf "$STATE" "$T/record.jsonl"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    runbook "$T/runbook.json" "{'target': {'database': 'crash$n'},
      'cutover': {$SWITCH_JSON}, 'post_validate': {'watch_s': 1}}"
    writer_start 200
    sleep 0.5
    set +e
    CUTOVER_CRASH_AT="cutover:$point" "$CUTOVER" run "$T/runbook.json" \
        >"$T/run.log" 2>&1
    code=$?
    set -e
    assert_eq 137 "$code" "crash at cutover:$point"
    # no split brain: if traffic was switched, the source is fenced
    if [ "$(cat "$T/switch")" = mysql ] && [ "$(fenced)" = 0 ]; then
        fail "split brain after a crash at $point: switched, source open"
    fi
    echo "crash at cutover:$point: source fenced=$(fenced), switch=$(cat "$T/switch")"
    writer_stop
    assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
    assert_contains "$OUT" "completed" "resume after a crash at $point"
    [ "$(fenced)" -gt 0 ] || fail "source not fenced after completing"
    compare "$T/shop.sqlite3" "crash$n"
    writer_check --mysql-socket "$SOCK" --mysql-db "crash$n"
done
echo ok
