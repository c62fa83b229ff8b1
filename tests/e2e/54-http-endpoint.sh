#!/bin/bash
# The runbook's HTTP endpoint (runbooks/README.md, "http") during a
# migration, with curl as the client and Debian's promtool as the judge:
#  - a bad http section is refused before anything starts (exit 2, the
#    JSON path named); a token variable that is unset stops `run` (exit 1);
#  - GET /metrics passes `promtool check metrics` (HELP and TYPE for every
#    metric, naming conventions) and has the state, per-table rows and the
#    check metric with their labels;
#  - GET /status while paused is the JSON of `cutover status --json`;
#  - GET /events streams a hello, then the events of events.ndjson with
#    their seq as SSE ids;
#  - POST /alerts: no token or a wrong one → 401, a garbage or wrong-version
#    body → 400, a body over 256 KiB → 413, GET → 405; 1,000 rapid posts of
#    those change nothing: no alert or trigger event, the migration
#    completes and every row is equal on both sides; the token appears in
#    no file of the state dir and no output.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"

command -v promtool >/dev/null || fail "promtool missing (Debian's prometheus package)"
start_db
shop_db "$T/shop.sqlite3" 150000
HP=$(free_port)
URL="http://127.0.0.1:$HP"
export CUTOVER_HTTP_TOKEN=s3cret-token-for-the-test

# -- a bad section is refused with its path --------------------------------
runbook "$T/runbook.json" "{'http': {'listen': 'localhost:$HP'}}"
assert_exit 2 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "http.listen" "bad listen address"
runbook "$T/runbook.json" "{'http': {'listen': '127.0.0.1:$HP', 'tokn_env': 'X'}}"
assert_exit 2 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "http.tokn_env" "unknown key"
runbook "$T/runbook.json" "{'http': {'listen': '127.0.0.1:$HP', 'token_env': 'CUTOVER_NO_SUCH_TOKEN'}}"
assert_exit 1 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "CUTOVER_NO_SUCH_TOKEN is not set" "unset token variable"
rm -rf "$STATE"

runbook "$T/runbook.json" "{'http': {'listen': '127.0.0.1:$HP', 'token_env': 'CUTOVER_HTTP_TOKEN'},
  'copy': {'workers': 1, 'max_rows_per_s': 20000},
  'post_validate': {'watch_s': 2, 'interval_s': 0.5,
    'checks': [{'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order', 'min': 1}]},
  'triggers': [{'name': 'pager', 'alert': '*', 'action': 'rollback'}]}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 60 bulk_copy
wait_for 10 curl -sf "$URL/metrics" -o /dev/null

# -- the event stream ----------------------------------------------------
curl -sN "$URL/events" >"$T/sse.txt" 2>/dev/null &
SSE=$!

# -- /metrics ------------------------------------------------------------
curl -sf -D "$T/metrics.head" "$URL/metrics" >"$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/metrics.head" \
    || fail "content type of /metrics: $(cat "$T/metrics.head")"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 \
    || { cat "$T/promtool.out" >&2; fail "promtool check metrics"; }
grep -q '^cutover_state{state="bulk_copy"} 1$' "$T/metrics.txt" || fail "no state in /metrics"
grep -q '^cutover_table_rows_copied_total{table="shop_order"} ' "$T/metrics.txt" \
    || fail "no per-table rows in /metrics"
$PY - "$T/metrics.txt" <<'PY' || fail "a metric without HELP and TYPE"
import re, sys
helps, types, names = set(), set(), set()
for line in open(sys.argv[1]):
    if line.startswith("# HELP "): helps.add(line.split()[2])
    elif line.startswith("# TYPE "): types.add(line.split()[2])
    elif line.strip():
        n = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        assert n.startswith("cutover_"), n
        names.add(n)
assert names <= helps and names <= types, names - (helps & types)
PY

# -- /alerts refuses what it must, and 1,000 rapid posts change nothing ----
code() { curl -s -o "$T/reply.json" -w '%{http_code}' "$@"; }
GOOD='{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"X","severity":"critical"},"annotations":{}}]}'
assert_eq 401 "$(code -X POST --data "$GOOD" "$URL/alerts")" "POST /alerts without a token"
attack_refused "alert without a token"
assert_eq 401 "$(code -X POST -H 'Authorization: Bearer wrong' --data "$GOOD" "$URL/alerts")" "wrong token"
attack_refused "alert with a wrong token"
assert_eq 401 "$(code -X POST -H "Authorization: Bearer ${CUTOVER_HTTP_TOKEN}x" --data "$GOOD" "$URL/alerts")" "token with a byte more"
AUTH="Authorization: Bearer $CUTOVER_HTTP_TOKEN"
assert_eq 400 "$(code -X POST -H "$AUTH" --data 'garbage{' "$URL/alerts")" "garbage body"
assert_contains "$(cat "$T/reply.json")" "not JSON" "garbage reply"
attack_refused "garbage alert body"
assert_eq 400 "$(code -X POST -H "$AUTH" --data '{"version":"3","alerts":[]}' "$URL/alerts")" "version 3"
assert_eq 400 "$(code -X POST -H "$AUTH" --data '{"version":"4","alerts":[{"status":"firing","labels":{"severity":"x"}}]}' "$URL/alerts")" "no alertname"
assert_contains "$(cat "$T/reply.json")" "alerts[0].labels.alertname" "missing alertname reply"
head -c 300000 /dev/zero | tr '\0' 'a' >"$T/big.txt"
assert_eq 413 "$(code -X POST -H "$AUTH" --data-binary @"$T/big.txt" "$URL/alerts")" "oversized body"
attack_refused "oversized alert body"
assert_eq 405 "$(code "$URL/alerts")" "GET /alerts"
assert_eq 404 "$(code "$URL/nothing")" "unknown path"
$PY - "$URL/alerts" "$CUTOVER_HTTP_TOKEN" "$GOOD" >"$T/flood.txt" <<'PY' || fail "the flood"
import http.client, sys, urllib.parse
url, token, good = sys.argv[1:4]
u = urllib.parse.urlparse(url)
codes = {}
for i in range(1000):
    kind = i % 4
    headers = {"Content-Type": "application/json"}
    body = good
    if kind == 0:
        headers["Authorization"] = "Bearer wrong-%d" % i
    elif kind == 1:
        headers["Authorization"] = "Bearer " + token
        body = good[: i % len(good)]            # truncated JSON
    elif kind == 2:
        headers["Authorization"] = "Bearer " + token
        body = '{"version":"4","alerts":[{"status":"firing","labels":{"alertname":%d}}]}' % i
    else:
        pass                                    # no token at all
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("POST", u.path, body=body, headers=headers)
    r = c.getresponse(); r.read(); c.close()
    codes[r.status] = codes.get(r.status, 0) + 1
print(" ".join("%d:%d" % kv for kv in sorted(codes.items())))
PY
assert_eq "400:500 401:500" "$(cat "$T/flood.txt")" "replies to 1,000 bad posts"
attack_refused "1,000 rapid bad alert posts"
[ -z "$(events alert)" ] || fail "an alert event from a refused post: $(events alert)"
[ -z "$(events trigger)" ] || fail "a rule fired from a refused post"

# -- /status is `status --json` -------------------------------------------
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" pause
wait_state 20 paused
sleep 1
curl -sf "$URL/status" >"$T/status.http"
"$CUTOVER" status "$T/runbook.json" --json >"$T/status.cli"
$PY - "$T/status.http" "$T/status.cli" <<'PY' || fail "/status differs from status --json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("metrics")          # sampled every second: host load, probe time
    for t in d.get("triggers", []):
        t.pop("since", None)
assert a == b, (a, b)
PY
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" resume

wait_run 0 "the migration with refused posts"
kill "$SSE" 2>/dev/null || true
wait "$SSE" 2>/dev/null || true
compare "$T/shop.sqlite3" shop

# the token is a secret: in no file of the state dir and no output
if grep -rqF "$CUTOVER_HTTP_TOKEN" "$STATE" "$T/run.out" "$T/run.err" "$T/sse.txt" "$T/metrics.txt"; then
    fail "the bearer token appears in the state dir or the output"
fi

# -- the event stream had every event, ids = seq ---------------------------
$PY - "$T/sse.txt" "$STATE/events.ndjson" <<'PY' || fail "/events"
import json, sys
msgs, cur = [], {}
for line in open(sys.argv[1]).read().split("\n"):
    if not line:
        if cur: msgs.append(cur); cur = {}
        continue
    if line.startswith(":"): continue
    k, _, v = line.partition(": ")
    cur[k] = v
assert msgs and msgs[0]["event"] == "hello", msgs[:1]
assert json.loads(msgs[0]["data"])["status"]["state"] == "bulk_copy"
file = {e["seq"]: e for e in map(json.loads, open(sys.argv[2]))}
seqs = [int(m["id"]) for m in msgs[1:]]
assert seqs == sorted(seqs) and seqs == list(range(seqs[0], seqs[-1] + 1)), "ids not consecutive"
for m in msgs[1:]:
    assert json.loads(m["data"]) == file[int(m["id"])], m
    assert m["event"] == file[int(m["id"])]["type"]
assert any(m["event"] == "stage" and json.loads(m["data"])["to"] == "completed" for m in msgs[1:]), "no completed stage"
print("sse: %d events" % len(seqs))
PY
echo ok
