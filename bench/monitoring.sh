#!/bin/bash
# monitoring.sh — what the HTTP endpoint costs the bulk copy under real
# monitoring (issue 20; DESIGN §7, §9): Debian's Prometheus scraping
# GET /metrics every second, plus 1,000 rapid refused POST /alerts (wrong
# token, garbage) at the start of the copy.
#
# Migrations of a copy of the bench table (BENCH_ROWS rows, default
# 2,000,000) into one private MariaDB, copy.workers 2, verify.mode count,
# backup.enabled false, post_validate.watch_s 0, each into a fresh
# database. "without": the runbook has no http section (cutover as it was);
# "scraped": http on a loopback port and Prometheus (examples/monitoring/
# prometheus.yml, ports changed) scraping it every second; "posted": the
# same, and the 1,000 posts (sent by a Python client on the same 2 cores).
# A run with http counts only if Prometheus scraped the endpoint through the
# copy (at least one sample per 2 s) and every post was refused.
#
# Prometheus runs through every run (scraping nothing while no migration
# listens); the CPU time it uses during each run is printed beside it,
# since on 2 cores it competes with the copy and the server.
#
# Time = the bulk_copy stage from the `stage` events. BENCH_ROUNDS
# (default 1) rounds, the order reversed every other round; ratios = mean
# scraped (posted) ÷ mean without. Target ≤ 1.05.
#
#   bench/monitoring.sh
#   BENCH_ROWS=200000 bench/monitoring.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${BENCH_ROWS:-2000000}
ROUNDS=${BENCH_ROUNDS:-1}

fixture=$(bench_fixture bench "$ROWS")
bench_start_db
free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
HP=$(free_port)
PP=$(free_port)
sed "s/127.0.0.1:9464/127.0.0.1:$HP/; /^alerting:/,\$d" \
    "$ROOT/examples/monitoring/prometheus.yml" >"$T/prometheus.yml"
cp "$ROOT/examples/monitoring/cutover-rules.yml" "$T/"
bench_spawn prometheus --config.file="$T/prometheus.yml" \
    --storage.tsdb.path="$T/prom-data" --web.listen-address="127.0.0.1:$PP"
PROM_PID=$BENCH_PID
# prom_cpu: CPU seconds Prometheus has used so far (it shares the 2 cores)
prom_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$PROM_PID/stat"
}
for i in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null && break
    sleep 0.1
done
export CUTOVER_HTTP_TOKEN=bench-token

# posts URL OUT: 1,000 refused posts, reply codes counted into OUT
posts() {
    $PY - "$1" >"$2" <<'PY'
import http.client, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
for i in range(200):                     # the endpoint comes up with the run
    try:
        http.client.HTTPConnection(u.hostname, u.port, timeout=1).connect(); break
    except OSError:
        time.sleep(0.05)
codes = {}
for i in range(1000):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    h = {"Authorization": "Bearer " + ("bench-token" if i % 2 else "wrong")}
    c.request("POST", u.path, body="garbage{" * (i % 7), headers=h)
    r = c.getresponse(); r.read(); c.close()
    codes[r.status] = codes.get(r.status, 0) + 1
print(" ".join("%d:%d" % kv for kv in sorted(codes.items())))
PY
}

# one_copy NAME WITH: one migration, WITH 0 (no http), 1 (scraped) or 2
# (scraped and posted); figures in $T/NAME/
one_copy() {
    local name=$1 with=$2 D=$T/$1 rc=0 ppid="" extra="{'verify': {'mode': 'count'}}"
    mkdir -p "$D"
    cp "$fixture" "$D/orders.sqlite3"
    [ "$with" != 0 ] && extra="{'verify': {'mode': 'count'},
        'http': {'listen': '127.0.0.1:$HP', 'token_env': 'CUTOVER_HTTP_TOKEN'}}"
    bench_runbook "$D" "$name" orders.sqlite3 "$extra"
    say "$name: copying $ROWS rows, monitoring $with"
    if [ "$with" = 2 ]; then
        posts "http://127.0.0.1:$HP/alerts" "$D/posts.txt" &
        ppid=$!
    fi
    prom_cpu >"$D/prom_cpu.txt"
    bench_timed "$D/timed.json" "$CUTOVER" run "$D/runbook.json" \
        >"$D/run.out" 2>"$D/run.err" || rc=$?
    prom_cpu >>"$D/prom_cpu.txt"
    bench_check_run "$D" "$rc"
    [ -z "$ppid" ] || wait "$ppid"
    if [ "$with" != 0 ]; then
        curl -sf "http://127.0.0.1:$PP/api/v1/query" --data-urlencode \
            "query=count_over_time(cutover_info{name=\"$name\"}[1h])" \
            >"$D/scrapes.json"
    fi
    sql -e "DROP DATABASE \`$name\`"
}

for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        one_copy "without$r" 0
        one_copy "scraped$r" 1
        one_copy "posted$r" 2
    else
        one_copy "posted$r" 2
        one_copy "scraped$r" 1
        one_copy "without$r" 0
    fi
done

bpy - "$T" "$ROWS" "$ROUNDS" <<'PYEOF'
import os, sys
import benchlib as b
T, rows, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = b.num
copy = lambda name: b.spans('%s/%s/state/events.ndjson' % (T, name))['bulk_copy']['s']
tab = [['round', 'without s', 'scraped s', 'posted s', 'scrapes', 'posts',
        'Prometheus CPU s']]
runs, problems = {'without': [], 'scraped': [], 'posted': []}, []
for r in range(1, rounds + 1):
    row, counts, cpu = [str(r)], [], []
    for kind in runs:
        s = copy('%s%d' % (kind, r))
        c0, c1 = map(float, open('%s/%s%d/prom_cpu.txt' % (T, kind, r)).read().split())
        cpu.append(n(c1 - c0))
        runs[kind].append(s)
        row.append(n(s))
        if kind == 'without':
            continue
        res = b.load('%s/%s%d/scrapes.json' % (T, kind, r))['data']['result']
        scrapes = int(float(res[0]['value'][1])) if res else 0
        counts.append(str(scrapes))
        if scrapes < s / 2:
            problems.append('%s%d: %d scrapes in %.1f s' % (kind, r, scrapes, s))
    posts = open('%s/posted%d/posts.txt' % (T, r)).read().strip()
    if posts != '400:500 401:500':
        problems.append('posted%d: replies %s' % (r, posts))
    tab.append(row + ['/'.join(counts), posts, '/'.join(cpu)])
mean = {k: sum(v) / rounds for k, v in runs.items()}
scraped, posted = mean['scraped'] / mean['without'], mean['posted'] / mean['without']
b.table('bulk copy of `orders`, %s rows: without the http endpoint, with '
        'Prometheus scraping /metrics every second, and with 1,000 refused '
        'POST /alerts too' % n(rows), tab)
b.table('targets', [
    ['figure', 'value', 'target', 'verdict'],
    ['copy scraped ÷ without', n(scraped, 3), '≤ 1.05',
     b.verdict(scraped, '<=', 1.05)],
    ['copy scraped and posted ÷ without', n(posted, 3), '≤ 1.05',
     b.verdict(posted, '<=', 1.05)],
])
if problems:
    print('the monitoring did not run as planned: ' + '; '.join(problems))
b.result('monitoring', {
    'rows': rows, 'runs_s': runs, 'scraped_ratio': round(scraped, 3),
    'posted_ratio': round(posted, 3), 'problems': problems,
    'met': {'scraped': scraped <= 1.05, 'posted': posted <= 1.05}})
sys.exit(1 if problems else 0)
PYEOF
