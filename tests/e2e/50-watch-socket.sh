#!/bin/bash
# The progress socket under load and abuse (DESIGN §7).
#  A. 50 watchers attached during a throttled copy each get a hello with the
#     status, then the same gap-free event sequence, byte for byte the lines
#     of events.ndjson, ending with `completed`.
#  B. With watchers attached to a second migration:
#     - a client running as `nobody` (socket mode 0666) may watch and ask for
#       status, but every command that changes anything is refused, through
#       the raw socket and through `cutover ctl`; nothing changes;
#     - garbage, non-object JSON, unknown commands and fields, bad
#       arguments, invalid UTF-8, a NUL, a 100 KiB and a 1 MiB line each get
#       {"type":"reply","ok":false,"error":...} and the same connection then
#       answers {"cmd":"status"};
#     - a watcher that never reads is dropped (last line {"type":"dropped"})
#       once its bounded buffer fills, while readers are not, and the
#       migration completes;
#     - a watcher lagging behind (within its bound) when the migration ends
#       and reading again half a second later still gets every event up to
#       `completed`;
#     - the socket file is removed on exit.
# timeout: 150
. "$(dirname "$0")/../lib/common.sh"

SC="$PY $ROOT/tests/lib/sockclient.py"

# checks that do not stop the test: all are reported, the test fails at the end
FAILED=0
soft_fail() {
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}

# run a command as nobody:nogroup with no supplementary groups
as_nobody() {
    if command -v setpriv >/dev/null 2>&1; then
        setpriv --reuid nobody --regid nogroup --clear-groups "$@"
    else
        runuser -u nobody -- "$@"
    fi
}

chmod 755 "$T"          # nobody must reach the socket inside $T
start_db
shop_db "$T/base.sqlite3" 20000

# ---- A: 50 watchers, one gap-free sequence ---------------------------------
cp "$T/base.sqlite3" "$T/a.sqlite3"
runbook "$T/a.json" "{'state_dir': 'state_a', 'source': {'path': 'a.sqlite3'},
  'target': {'database': 'shop_a'},
  'copy': {'workers': 2, 'max_rows_per_s': 4000},
  'progress': {'socket': 'pa.sock', 'mode': '0666'}}"
"$CUTOVER" run "$T/a.json" >"$T/a.out" 2>"$T/a.err" &
RUN=$!
$SC watch "$T/pa.sock" "$T/w" --count 50 --ready "$T/w.ready" &
WATCHERS=$!
wait_for 30 test -e "$T/w.ready"
set +e
wait "$RUN"; code=$?
set -e
[ "$code" = 0 ] || { cat "$T/a.out" "$T/a.err" >&2; fail "run A exited $code"; }
grep -q completed "$T/a.out" || fail "run A did not complete: $(cat "$T/a.out")"
wait "$WATCHERS" || fail "the 50 watchers' client failed"
$SC check "$T/state_a/events.ndjson" "$T"/w.{0..49} --final completed \
    --min-progress 3 --hello-states new,pre_validate,bulk_copy \
    >"$T/w.check" || soft_fail "watchers of run A (see above)"
tail -2 "$T/w.check" || true
# every one saw the copy end
for i in $(seq 0 49); do
    grep -q '"to":"sync"' "$T/w.$i" || fail "watcher $i did not see bulk_copy → sync"
done
[ ! -e "$T/pa.sock" ] || fail "socket file $T/pa.sock left after run A"

# ---- B: permissions, bad input, slow watchers ------------------------------
cp "$T/base.sqlite3" "$T/shop.sqlite3"
runbook "$T/runbook.json" "{'target': {'database': 'shop_b'},
  'copy': {'workers': 2, 'max_rows_per_s': 4000},
  'cutover': {'mode': 'manual'},
  'progress': {'socket': 'p.sock', 'mode': '0666'}}"
SP="$T/p.sock"
"$CUTOVER" run "$T/runbook.json" >"$T/b.out" 2>"$T/b.err" &
RUN=$!
$SC watch "$SP" "$T/r" --count 4 --ready "$T/r.ready" &
READERS=$!
$SC watch "$SP" "$T/idle" --hold "$T/idle.go" --ready "$T/idle.ready" &
IDLE=$!
wait_for 30 test -e "$T/r.ready"
wait_for 30 test -e "$T/idle.ready"
assert_eq 666 "$(stat -c %a "$SP")" "progress.mode of the socket"

# nobody: watching and status yes, changes no
as_nobody $PY "$ROOT/tests/lib/sockclient.py" request "$SP" \
    '{"cmd":"pause"}' '{"cmd":"abort"}' '{"cmd":"rollback"}' \
    '{"cmd":"cutover"}' '{"cmd":"resume"}' \
    '{"cmd":"throttle","rows_per_s":1}' \
    '{"cmd":"alert","name":"nobody-was-here","severity":"page"}' \
    '{"cmd":"status"}' >"$T/nobody.out" || fail "nobody's client failed"
$PY - "$T/nobody.out" <<'PY' || fail "replies to nobody"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 8, r
for x in r[:7]:
    assert x["type"] == "reply" and x["ok"] is False, x
    assert "not permitted" in x["error"], x
st = r[7]
assert st["ok"] is True and st["status"]["state"], st
assert st["status"]["running"] is True, st
PY
assert_exit 1 as_nobody "$CUTOVER" ctl "$T/runbook.json" pause
assert_contains "$OUT" "not permitted" "ctl pause as nobody"
assert_exit 1 as_nobody "$CUTOVER" ctl "$T/runbook.json" abort
assert_contains "$OUT" "not permitted" "ctl abort as nobody"
as_nobody "$CUTOVER" status "$T/runbook.json" --json >"$T/nobody.status" \
    || fail "status as nobody"
assert_eq True "$(json_get 'd["running"]' <"$T/nobody.status")" "status as nobody is live"
# the owner (root here) is allowed
$SC request "$SP" '{"cmd":"alert","name":"owner-ok"}' >"$T/owner.out"
assert_eq True "$(json_get 'd["ok"]' <"$T/owner.out")" "alert from the owner"
wait_for 10 grep -q '"name":"owner-ok"' "$STATE/events.ndjson"

# bad input: an error reply each, and the connection stays usable
$PY - "$SP" <<'PY' || fail "bad input handling"
import json, socket, sys, time
sp = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sp)
    s.settimeout(30)
    return s, s.makefile("rb")

def reply(f):
    while True:
        line = f.readline()
        assert line, "connection closed by the orchestrator"
        m = json.loads(line)
        if m.get("type") == "reply":
            return m

s, f = conn()
assert json.loads(f.readline())["type"] == "hello"
bad = [
    (b"garbage", "not JSON"),
    (b"[1,2,3]", "object"),
    (b'"just a string"', ""),
    (b"42", ""),
    (b"null", ""),
    (b'{"cmd":"frobnicate"}', "unknown command"),
    (b'{"nocmd":1}', "cmd"),
    (b'{"cmd":42}', "cmd"),
    (b'{"cmd":"status","extra":1}', "extra"),
    (b'{"cmd":"throttle","rows_per_s":-5}', "rows_per_s"),
    (b'{"cmd":"throttle","rows_per_s":"fast"}', "rows_per_s"),
    (b'{"cmd":"throttle"}', "rows_per_s"),
    (b'{"cmd":"alert"}', "name"),
    (b'{"cmd":"alert","name":"' + b"n" * 500 + b'"}', "name"),
    (b'{"cmd":"pause","cmd":"resume"}', ""),
    (b'{"cmd":', ""),
    (b'\xff\xfe{"cmd":"status"}', ""),
    (b'{"cmd":"sta\x00tus"}', ""),
    (b'{"cmd":"status","pad":"' + b"a" * 102400 + b'"}', "too long"),
    (b"x" * (1 << 20), "too long"),
]
for line, want in bad:
    s.sendall(line + b"\n")
    r = reply(f)
    assert r["ok"] is False, (line[:60], r)
    assert isinstance(r.get("error"), str) and r["error"], (line[:60], r)
    assert want in r["error"], (line[:60], r["error"], want)
    # the same connection still answers
    s.sendall(b'{"cmd":"status"}\r\n')
    r = reply(f)
    assert r["ok"] is True and r["status"]["state"], r
    print("%-40r -> %s" % (line[:40], r and "error reply, then status ok"))
# all at once in one write, replies in order
s.sendall(b"".join(l + b"\n" for l, _ in bad[:6]) + b'{"cmd":"status"}\n')
rs = [reply(f) for _ in range(7)]
assert [r["ok"] for r in rs] == [False] * 6 + [True], rs
s.close()
# clients that vanish mid-line or after megabytes without a newline
s, f = conn(); s.sendall(b'{"cmd":"pau'); s.close()
s, f = conn(); s.sendall(b"y" * (5 << 20)); s.close()
s, f = conn()
assert json.loads(f.readline())["type"] == "hello"
s.sendall(b'{"cmd":"status"}\n')
assert reply(f)["ok"] is True
s.close()
PY
kill -0 "$RUN" 2>/dev/null || fail "the orchestrator died on bad input"

# nothing above changed the migration
[ -z "$(events stage 'e["to"] in ("paused", "aborting", "rolling_back")')" ] \
    || fail "a refused or malformed command changed the state"
[ -z "$(events alert 'e["name"] == "nobody-was-here"')" ] || fail "nobody's alert was accepted"
[ -z "$(events log '"throttle" in e.get("message", "")')" ] || fail "nobody's throttle was applied"

# a watcher that never reads: flood it with events (alerts from a reading
# client) until its bounded buffer fills; it is dropped, the readers are not
sent=$($SC alerts "$SP" 10000 --batch 200 --name-len 90)
assert_eq 10000 "$sent" "alerts accepted"
wait_for 30 grep -q 'dropped a watcher' "$STATE/events.ndjson"
touch "$T/idle.go"
wait "$IDLE" || fail "idle watcher's client failed"
ls -l "$T/idle.0" | awk '{print "idle watcher received", $5, "bytes"}'
$SC check "$STATE/events.ndjson" "$T/idle.0" --dropped \
    || soft_fail "the non-reading watcher's stream (expected a final dropped line)"
kill -0 "$RUN" 2>/dev/null || fail "the orchestrator died"

# a watcher that lags (within its bound) when the migration ends, and
# reads again half a second after the `completed` stage event: the queued
# final events are still delivered (the orchestrator flushes before closing)
$SC watch "$SP" "$T/lag" --hold "$T/lag.go" --ready "$T/lag.ready" &
LAG=$!
wait_for 30 test -e "$T/lag.ready"
sent=$($SC alerts "$SP" 2500 --batch 200 --name-len 90)
assert_eq 2500 "$sent" "alerts accepted"
wait_state 90 cutover
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait_for 60 grep -q '"to":"completed"' "$STATE/events.ndjson"
sleep 0.5
touch "$T/lag.go"
set +e
wait "$RUN"; code=$?
set -e
[ "$code" = 0 ] || { cat "$T/b.out" "$T/b.err" >&2; fail "run B exited $code"; }
grep -q completed "$T/b.out" || fail "run B did not complete"
[ ! -e "$SP" ] || fail "socket file $SP left after run B"
wait "$READERS" || fail "readers' client failed"
$SC check "$STATE/events.ndjson" "$T"/r.{0..3} --final completed \
    || soft_fail "reading watchers of run B"
assert_eq 1 "$(events log '"dropped a watcher" in e.get("message", "")' | wc -l)" \
    "watchers dropped (only the one that never read)"
wait "$LAG" || fail "lagging watcher's client failed"
ls -l "$T/lag.0" | awk '{print "lagging watcher received", $5, "bytes"}'
$SC check "$STATE/events.ndjson" "$T/lag.0" --final completed \
    || soft_fail "a watcher lagging within its bound lost the end of the stream"
[ "$FAILED" = 0 ] || fail "$FAILED check(s) failed (see above)"
echo ok
