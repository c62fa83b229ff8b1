#!/bin/bash
# The CLI believes only a progress socket served by the right user, and the
# read-only commands need no secret.
#  1. Without the target password and the backup key in the environment,
#     `status`, `status --json` and `watch` (live through the socket),
#     `ctl pause`/`ctl resume`, and `check-checkpoint` work during a run,
#     and `status` and `check-checkpoint` after it.
#  2. User nobody serves a fake progress socket at the runbook's
#     progress.socket (a directory anyone may write, no orchestrator
#     running): its hello claims a completed migration and it accepts any
#     command. `status` and `watch` refuse to believe it (exit 1, the uid
#     named), `ctl abort` sends it nothing.
# timeout: 150
. "$(dirname "$0")/../lib/common.sh"

as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }

PW='Peer-canary-pw-39d0aa71'
KEY=$($PY -c 'import secrets; print(secrets.token_hex(32))')
start_db
sql -e "CREATE USER 'migrator'@'localhost' IDENTIFIED BY '$PW';
        GRANT ALL PRIVILEGES ON *.* TO 'migrator'@'localhost'"
shop_db "$T/shop.sqlite3" 2000
chmod 711 "$T"
mkdir -m 1777 "$T/pub"
runbook "$T/runbook.json" "{'target': {'user': 'migrator', 'password_env': 'MIG_PW'},
  'backup': {'encrypt_key_env': 'BACKUP_KEY'}, 'cutover': {'mode': 'manual'},
  'progress': {'socket': 'pub/p.sock', 'mode': '0666'}}"

# bare CMD...: cutover without the secrets in its environment
bare() { env -u MIG_PW -u BACKUP_KEY "$CUTOVER" "$@"; }

# ---- 1. no secrets needed to look -------------------------------------------
MIG_PW="$PW" BACKUP_KEY="$KEY" "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1 &
RUN=$!
wait_state 60 cutover
assert_exit 0 bare status "$T/runbook.json"
assert_contains "$OUT" "cutover" "status without secrets"
assert_exit 0 bare status "$T/runbook.json" --json
assert_eq True "$(echo "$OUT" | json_get 'd["running"]')" "status --json without secrets is live"
set +e
timeout 3 env -u MIG_PW -u BACKUP_KEY "$CUTOVER" watch "$T/runbook.json" </dev/null >"$T/watch.txt" 2>&1
set -e
grep -q "cutover" "$T/watch.txt" || fail "watch without secrets: $(cat "$T/watch.txt")"
assert_exit 0 bare ctl "$T/runbook.json" pause
wait_state 30 paused
assert_exit 0 bare ctl "$T/runbook.json" resume
assert_exit 0 bare check-checkpoint "$T/runbook.json"
assert_exit 0 bare ctl "$T/runbook.json" cutover
wait "$RUN" || { cat "$T/run.out" >&2; fail "the run failed"; }
assert_exit 0 bare status "$T/runbook.json" --json
assert_eq completed "$(echo "$OUT" | json_get 'd["state"]')" "status from the checkpoint without secrets"
assert_exit 0 bare check-checkpoint "$T/runbook.json"
# the commands that need them still say so
assert_exit 2 bare plan "$T/runbook.json"
assert_contains "$OUT" "MIG_PW is not set" "plan without the password"
echo "status, watch, ctl and check-checkpoint work without MIG_PW and BACKUP_KEY"

# ---- 2. a fake progress socket served by nobody --------------------------------
rm -f "$T/pub/p.sock"
mkdir -m 0777 "$T/fake"
as_nobody $PY - "$T/pub/p.sock" "$T/fake/received" <<'PYEOF' &
import json, os, socket, sys, threading
path, log = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
os.chmod(path, 0o666)
srv.listen(8)
open(log, "w").close()
hello = {"type": "hello", "version": 1, "status": {
    "name": "FAKE-STATUS", "state": "completed", "resume_state": "completed",
    "running": True, "tables": [], "sync": {}}}
def serve(c):
    try:
        c.sendall((json.dumps(hello) + "\n").encode())
        for line in c.makefile():
            with open(log, "a") as f:
                f.write(line)
            c.sendall(b'{"type":"reply","ok":true}\n')
    except OSError:
        pass            # the client hung up
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
FAKE=$!
wait_for 10 test -S "$T/pub/p.sock"
for cmd in "status" "status --json" "watch"; do
    set -- $cmd
    set +e
    OUT=$(timeout 10 "$CUTOVER" "$1" "$T/runbook.json" ${2:+"$2"} 2>&1 </dev/null)
    code=$?
    set -e
    [ "$code" = 1 ] || fail "$cmd believed a socket served by nobody (exit $code): $OUT"
    assert_contains "$OUT" "served by uid 65534" "$cmd names who serves the socket"
    case "$OUT" in *FAKE-STATUS*) fail "$cmd printed the fake status: $OUT" ;; esac
done
attack_refused "status and watch do not believe a progress socket served by another user"
assert_exit 1 "$CUTOVER" ctl "$T/runbook.json" abort
assert_contains "$OUT" "served by uid 65534" "ctl names who serves the socket"
[ ! -s "$T/fake/received" ] || fail "ctl sent the fake server: $(cat "$T/fake/received")"
attack_refused "ctl sends nothing to a progress socket served by another user"
kill "$FAKE" 2>/dev/null || true
echo ok
