#!/bin/bash
# Watchers cannot lock the owner out of a running migration. The
# orchestrator runs with a descriptor limit of 1024 (soft and hard) and a
# progress socket anyone may open (mode 0666). User nobody opens 1500
# connections and holds them without reading. Meanwhile:
#  - the owner (root) still gets `status`, `ctl pause`, `ctl resume` and
#    `ctl cutover` through the socket, and the migration — checkpoint
#    writes included — runs to completed;
#  - nobody got at most the watcher slots that fit the limit, the rest of
#    its connections an error line saying there are too many watchers;
#  - a client that leaves half a command line unfinished is dropped.
# timeout: 300
# long
. "$(dirname "$0")/../lib/common.sh"

as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }

start_db
shop_db "$T/shop.sqlite3" 20000
chmod 711 "$T"
mkdir -m 755 "$T/pub" "$T/nobody"
chown nobody "$T/nobody"             # where nobody's flood reports
SP="$T/pub/p.sock"
runbook "$T/runbook.json" "{'cutover': {'mode': 'manual'},
  'progress': {'socket': 'pub/p.sock', 'mode': '0666'}}"
prlimit --nofile=1024:1024 "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1 &
RUN=$!
wait_for 60 test -S "$SP"

# nobody's flood: N connections, each kept once it got the hello
as_nobody $PY - "$SP" 1500 "$T/nobody/flood.json" "$T/flood.stop" <<'PYEOF' &
import json, os, socket, sys, time
path, n, out, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
held, refused, failed = [], {}, 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(path)
        first = s.recv(200)
    except OSError:
        failed += 1
        s.close()
        continue
    if first.startswith(b'{"type":"hello"'):
        held.append(s)
    else:
        key = first.decode("utf-8", "replace").strip() or "(closed)"
        refused[key] = refused.get(key, 0) + 1
        s.close()
json.dump({"held": len(held), "refused": refused, "failed": failed},
          open(out + ".tmp", "w"))
os.rename(out + ".tmp", out)
while not os.path.exists(stop):
    time.sleep(0.2)
PYEOF
FLOOD=$!
wait_for 120 test -e "$T/nobody/flood.json"
cat "$T/nobody/flood.json"; echo

# the owner is not locked out
"$CUTOVER" status "$T/runbook.json" --json >"$T/status.json" || fail "status by the owner failed"
assert_eq True "$(json_get 'd["running"]' <"$T/status.json")" "status is live"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" pause
wait_state 60 paused
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" resume

# half a command, then nothing: dropped (the owner's client here: nobody's
# slots are full)
$PY - "$SP" <<'PYEOF' || fail "a client with an unfinished command was not dropped"
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"sta')
s.settimeout(120)
t0 = time.time()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
print("the unfinished client was dropped after %.0f s" % (time.time() - t0))
PYEOF

wait_state 180 cutover
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
touch "$T/flood.stop"
wait "$FLOOD" || true
wait "$RUN" || { tail -20 "$T/run.out" >&2; fail "the run failed under the flood"; }
grep -q completed "$T/run.out" || fail "the run did not complete"
compare "$T/shop.sqlite3" shop

$PY - "$T/nobody/flood.json" <<'PYEOF' || fail "the flood was not capped"
import json, sys
r = json.load(open(sys.argv[1]))
refused = sum(r["refused"].values())
assert r["held"] <= 1024 - 512 - 16, "nobody holds %d connections" % r["held"]
assert refused >= 1500 - 512, r
assert all("too many watchers" in k for k in r["refused"]), r["refused"]
print("nobody: %d connections held, %d refused with an error line" % (r["held"], refused))
PYEOF
grep -q "refused a client of uid 65534" "$T/run.out" || fail "no warning about the refused clients"
attack_refused "1500 idle watcher connections do not lock the owner out (fd limit 1024)"
attack_refused "a client that leaves a command unfinished is dropped"
echo ok
