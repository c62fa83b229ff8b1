#!/bin/bash
# kill -9 of the orchestrator at random moments during bulk copy and during
# sync, with the live writer running at several hundred writes/s, then
# `cutover resume` each time. When the writer stops and the logs drain,
# every row is identical on both sides and no acknowledged write is lost.
# timeout: 400
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 60000
runbook "$T/runbook.json" "{'copy': {'workers': 2, 'chunk_target_ms': 50,
    'max_rows_per_s': 25000}, 'cutover': {'mode': 'manual'}}"
writer_start 300
sleep 0.5
kills=0
start=run
for round in 1 2 3 4 5; do
    "$CUTOVER" $start "$T/runbook.json" >>"$T/run.out" 2>>"$T/run.err" &
    pid=$!
    start=resume
    # a random moment: 0.5 to 2.5 s into this run
    sleep "$($PY -c 'import random; print(round(random.uniform(0.5, 2.5), 2))')"
    st=$(status 'd["state"]' || true)
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null || true
    echo "round $round: killed in $st"
done
"$CUTOVER" resume "$T/runbook.json" >>"$T/run.out" 2>>"$T/run.err" &
RUN=$!
wait_state 240 cutover
writer_stop
wait_drained
compare "$T/shop.sqlite3" shop
writer_check --sqlite "$T/shop.sqlite3"
kill "$RUN"; wait "$RUN" 2>/dev/null || true
[ "$kills" -ge 4 ] || fail "only $kills kills landed"
echo ok
