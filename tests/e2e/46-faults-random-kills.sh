#!/bin/bash
# kill -9 at random instants of a whole migration — copy, sync, verify,
# cutover, post-validate — with the live writer running and following the
# switch, repeated until the migration completes. After every kill: no
# split brain (traffic switched ⇒ source fenced). At the end no
# acknowledged write is lost.
# timeout: 600
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 30000
runbook "$T/runbook.json" "{'copy': {'workers': 2, 'max_rows_per_s': 30000},
  'cutover': {$SWITCH_JSON}, 'post_validate': {'watch_s': 3}}"
fenced() {
    sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_fence\_%' ESCAPE '\'"
}
writer_start 200
cmd=run
kills=0
for round in $(seq 1 30); do
    "$CUTOVER" $cmd "$T/runbook.json" >"$T/run.out" 2>>"$T/run.err" &
    pid=$!
    cmd=resume
    sleep "$($PY -c 'import random; print(round(random.uniform(0.2, 1.5), 2))')"
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" || true
        grep -q completed "$T/run.out" && break
        continue
    fi
    st=$(status 'd["state"] + "/" + d["cutover"]["step"]' || echo "?")
    if ! kill -9 "$pid" 2>/dev/null; then
        # it ended between the look and the kill
        wait "$pid" || true
        grep -q completed "$T/run.out" && break
        continue
    fi
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    if [ "$(cat "$T/switch")" = mysql ] && [ "$(fenced)" = 0 ]; then
        fail "split brain after a kill in $st"
    fi
    echo "kill $kills in $st (switch: $(cat "$T/switch"), fenced: $(fenced))"
done
if ! grep -q completed "$T/run.out"; then
    assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
fi
sleep 1
writer_stop
[ "$kills" -ge 3 ] || fail "only $kills kills"
writer_check --mysql-socket "$SOCK" --mysql-db shop
echo ok
