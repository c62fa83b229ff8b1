#!/bin/bash
# A table big enough to be split into key ranges copied by two workers in
# parallel, killed with SIGKILL mid-copy (several times, at different
# chunks) and resumed: identical data, each range resumed from its own
# frontier (the events show both ranges progressing, at most one chunk per
# range copied twice).
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_db
$PY "$ROOT/tests/lib/fixtures.py" bench "$T/shop.sqlite3" --rows 400000
runbook "$T/runbook.json" "{'target': {'database': 'par'},
    'copy': {'workers': 2, 'chunk_target_ms': 100},
    'verify': {'mode': 'full'}}"
for n in 3 7 12; do
    set +e
    CUTOVER_CRASH_AT=bulk_copy:chunk:$n \
        "$CUTOVER" $( [ -d "$STATE" ] && echo resume || echo run ) \
        "$T/runbook.json" >>"$T/run.log" 2>&1
    code=$?
    set -e
    assert_eq 137 "$code" "crash at chunk $n"
done
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume"
compare "$T/shop.sqlite3" par
$PY - "$STATE/events.ndjson" <<'PY' || fail "ranges"
import json, sys, collections
ranges = collections.Counter()
again = collections.Counter()
seen = collections.defaultdict(set)
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") == "progress" and "range" in e:
        k = e["range"]
        ranges[k] += 1
        span = json.dumps(e["from"])
        if span in seen[k]:
            again[k] += 1
        seen[k].add(span)
print("chunks per range:", dict(ranges), "copied twice:", dict(again))
assert len(ranges) == 2, "expected two key ranges"
assert all(n <= 3 for n in again.values()), "too many re-copies"
PY
echo ok
