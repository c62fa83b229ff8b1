#!/bin/bash
# status, ctl and metrics.prom against a running migration, and the
# progress socket's life cycle (DESIGN §2, §7):
#  - status with no migration fails clearly; while running it comes over
#    the socket (running: true, the same as the hello); when nothing runs
#    it comes from the checkpoint (running: false);
#  - ctl pause → state paused (in bulk_copy), the copy stops advancing, a
#    stage event names the command; a second pause is refused; ctl resume
#    → bulk_copy again and rows advance; ctl throttle 1000 → a log event
#    with rows_per_s 1000 and a slower copy; bad ctl usage exits 2;
#  - state_dir/metrics.prom is valid Prometheus text with the state (paused
#    while paused) and the rows copied per table;
#  - kill -9 leaves a stale socket file: status falls back to the
#    checkpoint, ctl says nothing runs, resume replaces the stale socket;
#    SIGTERM (exit 6) and completion both remove the socket file.
# timeout: 150
# exclusive: copy rates measured before and after a throttle
. "$(dirname "$0")/../lib/common.sh"

FAILED=0
soft_fail() {
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}
rows() { status 'sum(t["rows"] for t in d["tables"])'; }
now() { date +%s.%N; }
# rate_over SECONDS: rows/s copied over that many seconds (from status)
rate_over() {
    local r0 t0 r1 t1
    r0=$(rows); t0=$(now)
    sleep "$1"
    r1=$(rows); t1=$(now)
    $PY -c "print(int(($r1 - $r0) / ($t1 - $t0)))"
}

# prom_check FILE: Prometheus text exposition format; prints
# "state=S" and "rows TABLE N" lines
prom_check() {
    $PY - "$1" <<'PY'
import re, sys
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^(%s)(\{(%s(?:,%s)*)?\})? (\S+)( -?\d+)?$" % (name, lab, lab))
num = re.compile(r"^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|Inf|NaN)$")
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "no final newline"
typed, seen, states, rows = {}, set(), [], {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, n, t = line.split(" ", 3)
        assert t in ("gauge", "counter", "untyped", "summary", "histogram"), line
        assert n not in typed, "TYPE twice for " + n
        typed[n] = t
        continue
    if line.startswith("#"):
        assert line.startswith("# HELP "), line
        continue
    m = sample.match(line)
    assert m, "not a Prometheus sample line: %r" % line
    assert m.group(1) in typed, "sample before its TYPE: %r" % line
    assert num.match(m.group(4)), "bad value: %r" % line
    key = (m.group(1), m.group(3))
    assert key not in seen, "duplicate series: %r" % line
    seen.add(key)
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if m.group(1) == "cutover_state" and float(m.group(4)) == 1:
        states.append(labels["state"])
    if m.group(1) == "cutover_rows_copied":
        rows[labels["table"]] = int(float(m.group(4)))
assert len(states) == 1, "cutover_state is 1 for %s" % states
print("state=" + states[0])
for t in sorted(rows):
    print("rows", t, rows[t])
PY
}

start_db
shop_db "$T/shop.sqlite3" 40000
runbook "$T/runbook.json" "{'copy': {'workers': 2, 'max_rows_per_s': 3000}}"
SP="$STATE/progress.sock"

# nothing there yet
assert_exit 1 "$CUTOVER" status "$T/runbook.json"
assert_contains "$OUT" "no orchestrator is running" "status before any run"
assert_exit 1 "$CUTOVER" ctl "$T/runbook.json" pause
assert_contains "$OUT" "no orchestrator is running" "ctl before any run"

"$CUTOVER" run "$T/runbook.json" >"$T/run1.out" 2>"$T/run1.err" &
RUN=$!
wait_for 30 test -S "$SP"
wait_state 30 bulk_copy
wait_for 30 sh -c "[ \$('$CUTOVER' status '$T/runbook.json' --json | $PY -c 'import json,sys; print(sum(t[\"rows\"] for t in json.load(sys.stdin)[\"tables\"]))') -gt 0 ]"

# live status over the socket
"$CUTOVER" status "$T/runbook.json" --json >"$T/st-live.json"
$PY - "$T/st-live.json" <<'PY' || fail "live status"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["running"] is True, d
assert d["state"] == "bulk_copy" and d["resume_state"] == "bulk_copy", d
names = sorted(t["name"] for t in d["tables"])
assert names == ["auth_user", "django_session", "shop_order",
                 "shop_orderitem", "shop_product"], names
for t in d["tables"]:
    for k in ("rows", "total", "rows_per_s", "eta_s"):
        assert isinstance(t[k], (int, float)), (k, t)
for k in ("lag_s", "backlog_rows", "applied_per_s"):
    assert k in d["sync"], d["sync"]
assert "last_error" in d, d
PY
"$CUTOVER" status "$T/runbook.json" >"$T/st-live.txt"
grep -q '^migration test: bulk_copy$' "$T/st-live.txt" || fail "status text: $(cat "$T/st-live.txt")"
grep -q '^  shop_orderitem ' "$T/st-live.txt" || fail "no table lines in status: $(cat "$T/st-live.txt")"

# pause: the copy stops
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" pause
assert_eq "pause: ok" "$OUT" "ctl pause output"
assert_eq paused "$(status 'd["state"]')" "state after ctl pause"
assert_eq bulk_copy "$(status 'd["resume_state"]')" "resume_state while paused"
ev=$(events stage 'e["to"] == "paused"' | tail -1)
[ -n "$ev" ] || fail "no stage event to paused"
assert_eq bulk_copy "$(echo "$ev" | json_get 'd["from"]')" "paused from"
assert_contains "$(echo "$ev" | json_get 'd["reason"]')" "pause" "reason of the pause event"
"$CUTOVER" status "$T/runbook.json" >"$T/st-paused.txt"
grep -q '^migration test: paused (in bulk_copy)$' "$T/st-paused.txt" \
    || fail "status text while paused: $(cat "$T/st-paused.txt")"
r0=$(rows)
sleep 2      # absence of progress can only be watched for a while
r1=$(rows)
assert_eq "$r0" "$r1" "rows copied while paused"
wait_for 10 sh -c "grep -q 'state=\"paused\"} 1' '$STATE/metrics.prom'"
prom_check "$STATE/metrics.prom" >"$T/prom-paused.txt" || fail "metrics.prom while paused is not valid Prometheus text"
grep -q '^state=paused$' "$T/prom-paused.txt" || fail "metrics.prom state while paused: $(cat "$T/prom-paused.txt")"
promrows=$(awk '$1 == "rows" {s += $3} END {print s}' "$T/prom-paused.txt")
assert_eq "$r1" "$promrows" "rows in metrics.prom while paused"
assert_exit 1 "$CUTOVER" ctl "$T/runbook.json" pause
assert_contains "$OUT" "cannot pause while paused" "second pause"

# resume: the copy goes on
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" resume
assert_eq "resume: ok" "$OUT" "ctl resume output"
assert_eq bulk_copy "$(status 'd["state"]')" "state after ctl resume"
[ -n "$(events stage 'e["from"] == "paused" and e["to"] == "bulk_copy"')" ] \
    || fail "no stage event paused → bulk_copy"
wait_for 20 sh -c "[ \$('$CUTOVER' status '$T/runbook.json' --json | $PY -c 'import json,sys; print(sum(t[\"rows\"] for t in json.load(sys.stdin)[\"tables\"]))') -gt $r1 ]"

# throttle: visible as an event, and slower
before=$(rate_over 2)
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" throttle 1000
assert_eq "throttle: ok" "$OUT" "ctl throttle output"
ev=$(events log '"throttle" in e.get("message", "")' | tail -1)
[ -n "$ev" ] || fail "no event for the throttle"
assert_eq 1000.0 "$(echo "$ev" | json_get 'float(d["rows_per_s"])')" "throttle event rows_per_s"
sleep 0.5    # let the chunk in flight settle to the new limit
after=$(rate_over 4)
echo "copy rate: $before rows/s before the throttle, $after rows/s at 1000"
[ "$after" -le 1300 ] || soft_fail "copy rate $after rows/s after throttle 1000"
[ "$after" -lt $((before * 7 / 10)) ] || soft_fail "throttle 1000 did not slow the copy ($before → $after rows/s)"
m=$(status 'd["metrics"].get("copy.max_rows_per_s")')
assert_eq 1000.0 "$m" "copy.max_rows_per_s metric"

# bad ctl usage
assert_exit 2 "$CUTOVER" ctl "$T/runbook.json" throttle fast
assert_exit 2 "$CUTOVER" ctl "$T/runbook.json" throttle -5
assert_exit 2 "$CUTOVER" ctl "$T/runbook.json" frobnicate
assert_exit 2 "$CUTOVER" ctl "$T/runbook.json" pause now
assert_eq bulk_copy "$(status 'd["state"]')" "state after bad ctl usage"

# kill -9: a stale socket file stays behind
kill -9 "$RUN"
wait "$RUN" 2>/dev/null || true
test -S "$SP" || fail "expected the killed run's socket file to be left behind"
assert_exit 0 "$CUTOVER" status "$T/runbook.json" --json
assert_eq False "$(echo "$OUT" | json_get 'd["running"]')" "status after kill -9 (from the checkpoint)"
assert_eq bulk_copy "$(echo "$OUT" | json_get 'd["state"]')" "state after kill -9"
assert_exit 0 "$CUTOVER" status "$T/runbook.json"
assert_contains "$OUT" "(not running)" "status text after kill -9"
assert_exit 1 "$CUTOVER" ctl "$T/runbook.json" pause
assert_contains "$OUT" "no orchestrator is running" "ctl after kill -9"
assert_exit 1 "$CUTOVER" watch "$T/runbook.json"

# resume replaces the stale socket; SIGTERM stops it and removes the socket
"$CUTOVER" resume "$T/runbook.json" >"$T/run2.out" 2>"$T/run2.err" &
RUN=$!
wait_for 30 sh -c "'$CUTOVER' status '$T/runbook.json' --json 2>/dev/null | grep -q '\"running\": true'"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" throttle 3000
kill -TERM "$RUN"
set +e
wait "$RUN"; code=$?
set -e
assert_eq 6 "$code" "resume stopped by SIGTERM"
[ ! -e "$SP" ] || soft_fail "socket file left after SIGTERM (exit 6)"
assert_eq False "$(status 'd["running"]')" "status after SIGTERM"

# resume to the end
"$CUTOVER" resume "$T/runbook.json" >"$T/run3.out" 2>"$T/run3.err" &
RUN=$!
wait_for 30 sh -c "'$CUTOVER' status '$T/runbook.json' --json 2>/dev/null | grep -q '\"running\": true'"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" throttle 0
set +e
wait "$RUN"; code=$?
set -e
[ "$code" = 0 ] || { cat "$T/run3.out" "$T/run3.err" >&2; fail "final resume exited $code"; }
grep -q completed "$T/run3.out" || fail "not completed: $(cat "$T/run3.out")"
[ ! -e "$SP" ] || fail "socket file left after the run completed"
compare "$T/shop.sqlite3" shop

# status from the checkpoint after the end, and the final metrics.prom
assert_exit 0 "$CUTOVER" status "$T/runbook.json" --json
echo "$OUT" >"$T/st-end.json"
$PY - "$T/st-end.json" "$T/shop.sqlite3" <<'PY' || fail "status after completion"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
assert d["running"] is False and d["state"] == "completed", d
for t in d["tables"]:
    n = db.execute('SELECT count(*) FROM "%s"' % t["name"]).fetchone()[0]
    assert t["rows"] == t["total"] == n, (t, n)
PY
prom_check "$STATE/metrics.prom" >"$T/prom-end.txt" || fail "final metrics.prom is not valid Prometheus text"
grep -q '^state=completed$' "$T/prom-end.txt" || fail "final metrics.prom state: $(cat "$T/prom-end.txt")"
for t in auth_user django_session shop_order shop_orderitem shop_product; do
    n=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM $t")
    assert_eq "rows $t $n" "$(grep "^rows $t " "$T/prom-end.txt")" "metrics.prom rows of $t"
done
grep -q '^cutover_metric{name="test",metric="copy.rows_per_s"} ' "$STATE/metrics.prom" \
    || fail "no copy.rows_per_s metric in metrics.prom"
[ "$FAILED" = 0 ] || fail "$FAILED check(s) failed (see above)"
echo ok
