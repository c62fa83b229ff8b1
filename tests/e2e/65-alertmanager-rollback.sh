#!/bin/bash
# Rollback on a real alert: Debian's Prometheus and Alertmanager, started
# privately on loopback ports with the configuration files the README
# documents (examples/monitoring/, only the addresses and the token file
# changed). Prometheus scrapes GET /metrics every second and evaluates
# CutoverCheckFailing; after the switch an application write on MariaDB
# makes the runbook's post_validate check fail, Prometheus fires,
# Alertmanager delivers the alert to POST /alerts with the bearer token, and
# the runbook's alert rule rolls back — no command from anyone. The live
# writer follows back to SQLite; every row is equal on both sides at the
# moment of the rollback (the probe row written on MariaDB included), and
# every write the writer had acknowledged is in SQLite.
# README.md shows the three files exactly as they are.
# Prints the time from the alert firing (Prometheus' activeAt) to
# `rolling_back`.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"

# The README shows these files as they are.
for f in prometheus.yml cutover-rules.yml alertmanager.yml; do
    $PY -c 'import sys; sys.exit(open(sys.argv[2]).read() not in open(sys.argv[1]).read())' \
        "$ROOT/README.md" "$ROOT/examples/monitoring/$f" \
        || fail "README.md does not show examples/monitoring/$f as it is"
done
for p in prometheus prometheus-alertmanager; do
    command -v $p >/dev/null || fail "$p missing (Debian's $p package)"
done
start_db
shop_db "$T/shop.sqlite3" 20000
HP=$(free_port); PP=$(free_port); AP=$(free_port)
export CUTOVER_HTTP_TOKEN=alertmanager-token-$$
M="$T/monitoring"
mkdir -p "$M"
printf '%s' "$CUTOVER_HTTP_TOKEN" >"$M/token"
chmod 600 "$M/token"
sed "s/127.0.0.1:9464/127.0.0.1:$HP/; s/127.0.0.1:9093/127.0.0.1:$AP/" \
    "$ROOT/examples/monitoring/prometheus.yml" >"$M/prometheus.yml"
cp "$ROOT/examples/monitoring/cutover-rules.yml" "$M/"
sed "s#127.0.0.1:9464#127.0.0.1:$HP#; s#/etc/prometheus/cutover-http-token#$M/token#" \
    "$ROOT/examples/monitoring/alertmanager.yml" >"$M/alertmanager.yml"
prometheus --config.file="$M/prometheus.yml" --storage.tsdb.path="$M/prom-data" \
    --web.listen-address="127.0.0.1:$PP" >"$T/prometheus.log" 2>&1 &
prometheus-alertmanager --config.file="$M/alertmanager.yml" \
    --storage.path="$M/am-data" --web.listen-address="127.0.0.1:$AP" \
    --cluster.listen-address= >"$T/alertmanager.log" 2>&1 &
wait_for 30 curl -sf "http://127.0.0.1:$PP/-/ready"
wait_for 30 curl -sf "http://127.0.0.1:$AP/-/ready"

# switch_back names no backend: the writer waits at the MariaDB fence, so
# both sides can be compared whole before it writes to SQLite again.
runbook "$T/runbook.json" "{'http': {'listen': '127.0.0.1:$HP', 'token_env': 'CUTOVER_HTTP_TOKEN'},
  'cutover': {'switch': [{'exec': ['sh', '-c', 'echo mysql > \$CUTOVER_STATE_DIR/../switch']}],
              'switch_back': [{'exec': ['sh', '-c', 'echo hold > \$CUTOVER_STATE_DIR/../switch']}]},
  'post_validate': {'watch_s': 120, 'interval_s': 0.5,
    'checks': [{'name': 'probe', 'sql': \"SELECT COUNT(*) FROM shop_product WHERE sku = 'alert-probe'\", 'max': 0}]},
  'triggers': [{'name': 'prometheus', 'alert': 'CutoverCheckFailing', 'action': 'rollback'}]}"
writer_start 200
sleep 0.5
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 120 post_validate
# Prometheus scrapes the endpoint
target_up() {
    curl -sf "http://127.0.0.1:$PP/api/v1/targets" | json_get \
        '[t["health"] for t in d["data"]["activeTargets"]] == ["up"]' | grep -q True
}
wait_for 20 target_up

# An application write on MariaDB that the check does not accept.
sql shop -e "INSERT INTO shop_product (sku, name, description, price, stock, created_at)
             VALUES ('alert-probe', 'Δοκιμή', 'written after the switch', 9.99, 1, NOW(6))"
# Remember when Prometheus says the alert fired (it resolves once cutover
# has exited and the target is gone).
ACTIVE=""
for i in $(seq 1 300); do
    ACTIVE=$(curl -sf "http://127.0.0.1:$PP/api/v1/alerts" | json_get \
        '[a["activeAt"] for a in d["data"]["alerts"] if a["labels"]["alertname"] == "CutoverCheckFailing" and a["state"] == "firing"][:1]' \
        2>/dev/null | tr -d "[]'")
    [ -n "$ACTIVE" ] && break
    kill -0 "$RUN" 2>/dev/null || break
    sleep 0.1
done
[ -n "$ACTIVE" ] || fail "Prometheus never fired CutoverCheckFailing"
wait_run 5 "exit code after the alert from Alertmanager"
grep -qx hold "$T/switch" || fail "switch_back did not run"

events alert 'e["name"] == "CutoverCheckFailing" and e["severity"] == "critical" and e.get("source") == "alertmanager" and e["status"] == "firing" and e["labels"]["check"] == "probe" and "probe" in e["annotations"]["summary"]' \
    | grep -q . || fail "no alert event from Alertmanager: $(events alert)"
events trigger 'e["rule"] == "prometheus" and e["alert"] == "CutoverCheckFailing" and e["action"] == "rollback"' \
    | grep -q . || fail "the rule did not fire"
[ -z "$(events trigger 'e["rule"] != "prometheus"')" ] || fail "another rule fired"

# Every row, both sides, at the rollback; the probe row came back.
compare "$T/shop.sqlite3" shop
assert_eq 1 "$(sqlite3 "$T/shop.sqlite3" "SELECT COUNT(*) FROM shop_product WHERE sku = 'alert-probe'")" "probe row in SQLite"

# The writer goes on on SQLite; nothing it had acknowledged is lost.
echo sqlite >"$T/switch"
sleep 1
writer_stop
[ "$(echo "$WRITER_SUMMARY" | json_get 'd["backend"]')" = sqlite ] \
    || fail "the writer did not follow back: $WRITER_SUMMARY"
writer_check --sqlite "$T/shop.sqlite3"

$PY - "$ACTIVE" "$STATE/events.ndjson" <<'PY'
import datetime, json, re, sys
def t(s):      # RFC 3339 in UTC, any number of fraction digits
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", s)
    frac = float(m.group(2) or 0)
    return datetime.datetime.fromisoformat(m.group(1)).timestamp() + frac
active = t(sys.argv[1])
ev = [json.loads(l) for l in open(sys.argv[2])]
alert = next(e for e in ev if e["type"] == "alert")
rb = next(e for e in ev if e["type"] == "stage" and e["to"] == "rolling_back")
print("alert firing (Prometheus activeAt %s) -> delivered to /alerts %.2f s -> rolling_back %.2f s"
      % (sys.argv[1], t(alert["ts"]) - active,
         t(rb["ts"]) - active))
PY
echo ok
