#!/bin/bash
# sigterm.sh — SIGTERM at random moments of a MySQL → MySQL migration with
# binlog capture, a writer running, then `cutover resume`, ROUNDS times
# (default 40), under the ASan build: every stop must end with the
# paused exit code (6) and no sanitizer report. Found a probe thread
# started after shutdown reading the freed runbook (9 reports in about
# 200 stops before the fix).
#
#   make stress                  (ROUNDS=100 make stress for more)
# Not part of `make test`: a round takes about 10 s.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/tests/lib/mysql_source.sh"

ROUNDS=${ROUNDS:-40}
cc -shared -fPIC -o "$T/slow_exit.so" "$ROOT/tests/stress/slow_exit.c" ||
    fail "cannot build slow_exit.so"
cat >"$T/cutover" <<SH
#!/bin/sh
LD_PRELOAD=$T/slow_exit.so exec $ROOT/bin/cutover-asan "\$@"
SH
chmod +x "$T/cutover"
CUTOVER=$T/cutover
export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:log_path=$T/asan

binlog_source_start
start_db
shop_db "$T/shop.sqlite3" 3000
mysql_load shop
mysql_runbook shop 1 manual
$PY "$ROOT/tests/lib/mysql_source.py" write "$SRC" shop $((ROUNDS * 20)) \
    >"$T/writer.out" 2>"$T/writer.err" &
WRITER=$!
for i in $(seq 1 "$ROUNDS"); do
    cmd=resume
    [ "$i" = 1 ] && cmd=run
    "$CUTOVER" $cmd "$T/runbook.json" >"$T/run$i.out" 2>"$T/run$i.err" &
    RUN=$!
    sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.5 + rand() * 5 }')"
    kill -TERM "$RUN" 2>/dev/null || true
    rc=0
    wait "$RUN" || rc=$?
    if ls "$T"/asan.* >/dev/null 2>&1; then
        cat "$T"/asan.* >&2
        fail "round $i: a sanitizer report (above)"
    fi
    # 0: it completed (cannot: the cutover is manual); 6: paused
    [ "$rc" = 6 ] || { tail -20 "$T/run$i.err" >&2; fail "round $i: exit $rc"; }
done
kill "$WRITER" 2>/dev/null || true
echo "ok: $ROUNDS stops by SIGTERM, each paused, no sanitizer report"
