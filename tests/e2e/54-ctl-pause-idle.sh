#!/bin/bash
# ctl pause while the running stage has nothing to do: a manual cutover
# waiting for `ctl cutover` (the conductor idles between steps on its
# condition variable, and a command wakes it):
#  - ctl pause is acknowledged ("pause: ok") and the very next status says
#    paused in cutover, with a stage event cutover → paused naming the
#    command; nothing was locked or switched (the sub-step is still ready);
#  - ctl resume → cutover again, still waiting at ready;
#  - ctl cutover → completed, data identical.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 5000
runbook "$T/runbook.json" "{'cutover': {'mode': 'manual', $SWITCH_JSON}}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 120 grep -q '"waiting_for":"ctl cutover"' "$STATE/events.ndjson"
assert_eq cutover "$(status 'd["state"]')" "state while waiting for ctl"

assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" pause
assert_eq "pause: ok" "$OUT" "ctl pause while the stage idles"
"$CUTOVER" status "$T/runbook.json" --json >"$T/st-paused.json"
$PY - "$T/st-paused.json" <<'PY' || fail "status right after the pause"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["running"] is True, d
assert d["state"] == "paused" and d["resume_state"] == "cutover", d
assert d["switched"] is False, d
assert d["cutover"]["step"] == "ready", d["cutover"]
PY
ev=$(events stage 'e["to"] == "paused"')
assert_eq 1 "$(echo "$ev" | grep -c .)" "one stage event to paused"
assert_eq cutover "$(echo "$ev" | json_get 'd["from"]')" "paused from"
assert_contains "$(echo "$ev" | json_get 'd["reason"]')" "pause" "reason"
events cutover 'e.get("step") == "lock"' | grep -q . \
    && fail "the pause took the source lock"

assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" resume
assert_eq "resume: ok" "$OUT" "ctl resume"
assert_eq cutover "$(status 'd["state"]')" "state after resume"
assert_eq ready "$(status 'd["cutover"]["step"]')" "still waiting for ctl"

assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait "$RUN" || fail "run exited $?: $(tail -5 "$T/run.err")"
grep -q completed "$T/run.out" || fail "not completed: $(cat "$T/run.out")"
compare "$T/shop.sqlite3" shop
echo ok
