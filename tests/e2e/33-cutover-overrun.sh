#!/bin/bash
# A large backlog forced at the cutover lock (a 20k-row UPDATE lands while
# the first attempt is held just before BEGIN IMMEDIATE) makes the drain
# overrun max_write_pause_ms: the attempt rolls back without a fence, goes
# back to sync, retries with backoff, and succeeds. Data identical.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 40000
runbook "$T/runbook.json" "{'cutover': {'max_write_pause_ms': 150,
  'retries': 3, $SWITCH_JSON}, 'post_validate': {'watch_s': 1}}"
CUTOVER_DELAY_AT=cutover:lock:1:3000 "$CUTOVER" run "$T/runbook.json" \
    >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 120 grep -q '"step":"lock"' "$STATE/events.ndjson"
sqlite3 "$T/shop.sqlite3" "UPDATE shop_orderitem SET quantity = quantity + 1"
wait "$RUN" || fail "run exited $?: $(tail -5 "$T/run.err")"
grep -q completed "$T/run.out" || fail "not completed"
retry=$(events cutover 'e.get("step") == "retry"')
assert_contains "$retry" "overran" "the first attempt overran"
echo "retry: $retry"
pause=$(events cutover 'e.get("step") == "retry"' | json_get 'd["write_pause_ms"]')
echo "abandoned attempt paused writes for $pause ms"
events stage 'e["from"] == "cutover" and e["to"] == "sync"' | grep -q . \
    || fail "no transition back to sync"
n=$(events cutover 'e.get("step") == "switched"' | wc -l)
assert_eq 1 "$n" "one successful switch"
compare "$T/shop.sqlite3" shop
echo ok
