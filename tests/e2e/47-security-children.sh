#!/bin/bash
# What a child process inherits. A migration with the target password and
# the backup key in the environment runs a switch
# action, on_stage hooks and an on_trigger hook (an alert rule), each of
# which writes down its environment and its open descriptors
# (/proc/self/fd of the action's shell). None of them sees a variable that
# holds a secret — neither its name nor its value — and none holds any
# descriptor but stdin, stdout and stderr: no MySQL or SQLite connection,
# no lock, no socket. The CUTOVER_* variables and the rest of the
# environment are still there.
# timeout: 150
. "$(dirname "$0")/../lib/common.sh"

PW='Child-canary-pw-a61f03d2'
KEY=$(printf 'c0ffee%.0s' 1 2 3 4 5 6 7 8 9 10)abcd
export MIG_PW="$PW" BACKUP_KEY="$KEY" KEEP_ME=still-here

start_db
sql -e "CREATE USER 'migrator'@'localhost' IDENTIFIED BY '$PW';
        GRANT ALL PRIVILEGES ON *.* TO 'migrator'@'localhost'"
shop_db "$T/shop.sqlite3" 2000
mkdir -p "$T/seen"

# dump.py KIND: the action writes its environment and its descriptors
# (those open when it starts; the directory listing's own is gone by the
# time it is looked at) under $T/seen
cat >"$T/dump.py" <<'PYEOF'
import json, os, sys
fds = {}
for f in os.listdir("/proc/self/fd"):
    try:
        fds[f] = os.readlink("/proc/self/fd/" + f)
    except OSError:
        pass
name = sys.argv[1] + "-" + os.environ.get("CUTOVER_STAGE", "") + \
    os.environ.get("CUTOVER_RULE", "")
with open(os.path.join(sys.argv[2], name + ".json"), "w") as f:
    json.dump({"env": dict(os.environ), "fds": fds}, f)
PYEOF
dump() {
    echo "['$PY', '$T/dump.py', '$1', '$T/seen']"
}
runbook "$T/runbook.json" "{
  'target': {'user': 'migrator', 'password_env': 'MIG_PW'},
  'backup': {'encrypt_key_env': 'BACKUP_KEY'},
  'cutover': {'mode': 'manual', 'switch': [{'exec': $(dump switch)}]},
  'hooks': {'on_stage': [{'exec': $(dump stage)}],
            'on_trigger': [{'exec': $(dump trigger)}]},
  'triggers': [{'name': 'pager', 'alert': '*', 'action': 'notify'}]}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>&1 &
RUN=$!
wait_state 60 cutover
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" alert test-page
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover
wait "$RUN" || { cat "$T/run.out" >&2; fail "the run did not complete"; }

ls "$T/seen"
$PY - "$T/seen" "$PW" "$KEY" <<'PYEOF' || fail "what children inherit"
import json, os, sys
seen, pw, key = sys.argv[1:4]
kinds, bad = set(), 0
for name in sorted(os.listdir(seen)):
    d = json.load(open(os.path.join(seen, name)))
    kinds.add(name.split("-")[0])
    env = d["env"]
    problems = []
    for var in ("MIG_PW", "BACKUP_KEY"):
        if var in env:
            problems.append("variable %s" % var)
    text = json.dumps(env)
    for value, what in ((pw, "the password"), (key, "the backup key")):
        if value in text:
            problems.append("%s as a value" % what)
    if not any(k.startswith("CUTOVER_") for k in env):
        problems.append("no CUTOVER_* variable")
    if env.get("KEEP_ME") != "still-here":
        problems.append("the ordinary environment is missing")
    extra = {fd: target for fd, target in d["fds"].items()
             if fd not in ("0", "1", "2")}
    if extra:
        problems.append("descriptors %s" % ", ".join(
            "%s -> %s" % kv for kv in sorted(extra.items(), key=lambda kv: int(kv[0]))))
    for p in problems:
        print("%s: %s" % (name, p))
    bad += len(problems)
missing = {"switch", "stage", "trigger"} - kinds
assert not missing, "these actions never ran: %s" % sorted(missing)
assert bad == 0, "%d problems" % bad
PYEOF
n=$(ls "$T/seen" | wc -l)
echo "$n dumps of switch actions and hooks: no secret variable, descriptors 0 1 2 only"
attack_refused "switch actions and hooks inherit no password or backup key variable"
attack_refused "switch actions and hooks inherit no database connection or other descriptor"
echo ok
