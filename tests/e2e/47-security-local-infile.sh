#!/bin/bash
# LOCAL INFILE: a server may answer any query with a request for a local
# file, and a client that serves it sends that file. cutover serves only
# its own row stream, during its own LOAD DATA.
#  1. A fake MySQL server (tests/lib/fake_mysql.py) answers every query
#     with a request for a canary file, then for /proc/self/environ (which
#     holds the target password): every command run against it as the
#     target — plan, plan --json, run, resume, verify, status, watch, ctl,
#     check-checkpoint, restore-backup — and plan and run with it as a read
#     replica of a real target, send nothing back.
#  2. A man in the middle in front of a real MariaDB passes the bulk
#     copy's LOAD DATA through, then asks for the canary on the next query:
#     refused (the handler of the finished load answers nothing).
#  3. The man in the middle renames the file our own LOAD DATA asks for to
#     the canary: refused (only our stream name is served); the run stops
#     with a message naming the request.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"

PW='Infile-canary-pw-51c0e2a97d'
export MIG_PW="$PW"
CANARY="$T/canary-secret.txt"
echo "Infile-canary-file-8f3b6d21" >"$CANARY"

# fake_start NAME FILE [options]: a fake server (or proxy) at $T/NAME.sock
# asking for FILE; what clients send back goes to $T/NAME.log
fake_start() {
    local name=$1 file=$2; shift 2
    $PY "$ROOT/tests/lib/fake_mysql.py" "$T/$name.sock" "$file" "$T/$name.log" "$@" &
    wait_for 10 test -e "$T/$name.sock.ready"
}

# nothing_sent NAME WHAT: the server asked (at least once) and the client
# sent nothing back; neither canary is in what it sent
nothing_sent() {
    $PY - "$T/$1.log" "$2" "$PW" "$(cat "$CANARY")" <<'PYEOF' || fail "$2"
import json, sys
log, what, pw, canary = sys.argv[1:5]
reqs = [json.loads(l) for l in open(log)]
assert reqs, "%s: the server never asked for a file (test setup)" % what
sent = [r for r in reqs if r["sent"]]
for r in sent:
    print("SENT after %r: %r" % (r["query"][:60], r["sent"][:200]))
text = open(log).read()
assert pw not in text and canary not in text, "%s: a canary was sent" % what
assert not sent, "%s: the client answered %d of %d file requests" % (
    what, len(sent), len(reqs))
print("%s: %d file requests, all refused" % (what, len(reqs)))
PYEOF
}

start_db
shop_db "$T/shop.sqlite3" 3000
cp "$T/shop.sqlite3" "$T/pristine.sqlite3"

# ---- 1. a fake server as the target, for every command ---------------------
fake_start fake "$CANARY"
fake_start environ /proc/self/environ
for f in fake environ; do
    asked=$([ $f = fake ] && echo "a canary file" || echo /proc/self/environ)
    runbook "$T/$f.json" "{'state_dir': 'state-$f', 'target': {'socket': '$T/$f.sock',
      'user': 'migrator', 'password_env': 'MIG_PW'}}"
    for cmd in "plan" "plan --json" "run" "resume" "verify" "verify --json" \
               "status" "status --json" "watch" "ctl pause" "check-checkpoint" \
               "restore-backup $T/restored-$f.sqlite3"; do
        # shellcheck disable=SC2086
        set -- $cmd
        sub=$1; shift
        set +e
        out=$(timeout 60 "$CUTOVER" "$sub" "$T/$f.json" "$@" 2>&1 </dev/null)
        code=$?
        set -e
        case "$code" in 0|1|2|3|4|5|6) ;; *) echo "$out" >&2
            fail "$cmd against the fake server exited $code (crashed or hung)" ;; esac
        case "$out" in *"$PW"*|*"Infile-canary-file"*)
            fail "$cmd printed a canary: $out" ;; esac
        echo "$f: $cmd: exit $code"
    done
    nothing_sent "$f" "every command against a fake target asking for $asked"
done
attack_refused "a fake target asks every command for a local canary file"
attack_refused "a fake target asks every command for /proc/self/environ (the password)"

# the fake server as a read replica of the real target
fake_start replica "$CANARY"
runbook "$T/replica.json" "{'state_dir': 'state-replica', 'target': {
  'replicas': [{'name': 'r1', 'socket': '$T/replica.sock', 'user': 'migrator',
                'password_env': 'MIG_PW'}]}}"
for cmd in plan run; do
    set +e
    timeout 120 "$CUTOVER" $cmd "$T/replica.json" >"$T/replica-$cmd.out" 2>&1 </dev/null
    code=$?
    set -e
    case "$code" in 1|3) ;; *) cat "$T/replica-$cmd.out" >&2
        fail "$cmd with a fake replica exited $code (expected 1 or 3)" ;; esac
done
nothing_sent replica "plan and run with a fake read replica"
attack_refused "a fake read replica asks for a local canary file"

# mitm_run NAME MODE: a run through a man in the middle (fake_mysql.py
# --mode MODE) in front of the real server, into database shop_NAME; it
# must stop (exit 1) when a file request is refused. Its output in
# $T/NAME.out. Each run migrates its own copy of the untouched source: a
# stopped run leaves its capture, which another migration must not take.
mitm_run() {
    local code
    cp "$T/pristine.sqlite3" "$T/$1.sqlite3"
    fake_start "$1" "$CANARY" --upstream "$SOCK" --mode "$2"
    runbook "$T/$1.json" "{'state_dir': 'state-$1', 'source': {'path': '$1.sqlite3'},
      'target': {'socket': '$T/$1.sock',
      'database': 'shop_$1'}, 'copy': {'workers': 1, 'method': 'load_data'}}"
    set +e
    timeout 120 "$CUTOVER" run "$T/$1.json" >"$T/$1.out" 2>&1 </dev/null
    code=$?
    set -e
    cat "$T/$1.out"
    [ "$code" = 1 ] || fail "run through a man in the middle ($2) exited $code, expected 1 (a refused request stops the copy)"
}

# ---- 2. a man in the middle, after our own LOAD DATA -----------------------
mitm_run mitm after-load
n=$(sql -e "SELECT COUNT(*) FROM shop_mitm.auth_user" 2>/dev/null || echo 0)
[ "$n" -gt 0 ] || fail "no LOAD DATA went through the proxy before the injection (test setup)"
nothing_sent mitm "a file request after our LOAD DATA finished"
attack_refused "a man in the middle asks for a file once our LOAD DATA is over"

# ---- 3. a man in the middle renames our own stream -------------------------
mitm_run rename rename
grep -q "asked for the local file" "$T/rename.out" \
    || fail "the error does not say which file request was refused"
nothing_sent rename "our LOAD DATA's request renamed to another file"
attack_refused "a man in the middle renames the file our LOAD DATA asks for"
echo ok
