#!/bin/bash
# A rule on copy.rows_per_s throttles the bulk copy on its own: after the
# firing the copy rate seen in the progress events drops under the new
# limit.
# timeout: 200
# exclusive: the copy must reach 15000 rows/s for the rule to fire
. "$(dirname "$0")/../lib/common.sh"

start_db
$PY "$ROOT/tests/lib/fixtures.py" bench "$T/shop.sqlite3" --rows 60000
runbook "$T/runbook.json" "{'copy': {'workers': 1, 'chunk_target_ms': 200,
                  'max_rows_per_s': 20000},
  'post_validate': {'watch_s': 0},
  'triggers': [{'name': 'too-fast', 'metric': 'copy.rows_per_s',
                'above': 15000, 'action': 'throttle', 'rows_per_s': 5000}]}"
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
fired=$(events trigger 'e["rule"] == "too-fast"')
[ -n "$fired" ] || fail "the throttle rule never fired"
echo "$fired"
$PY - "$STATE/events.ndjson" <<'PY' || fail "the copy did not slow down"
import json, sys, datetime
ev = [json.loads(l) for l in open(sys.argv[1])]
t = lambda e: datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
fire = next(e for e in ev if e["type"] == "trigger")
chunks = [e for e in ev if e["type"] == "progress" and "chunk_rows" in e]
after = [e for e in chunks if e["seq"] > fire["seq"] + 1]
assert len(after) >= 3, "too few chunks after the firing"
span = (t(after[-1]) - t(after[0])).total_seconds()
rate = sum(e["chunk_rows"] for e in after[1:]) / span
print("rate before: %.0f rows/s (rule value), after: %.0f rows/s" % (fire["value"], rate))
assert rate < 5000 * 1.2, rate
PY
echo ok
