#!/bin/bash
# Every `cutover ...` command that README.md shows (in its ```sh blocks)
# is run for real, as written, with the runbook argument replaced by this
# test's runbook and absolute paths moved into the temp dir, in a scenario
# where it makes sense:
#   --help, --version, plan, plan --json           before anything runs
#   run, status, status --json, watch, ctl pause, ctl resume, ctl throttle,
#   ctl alert                                      during the copy
#   check-checkpoint, resume                       after kill -9
#   verify, verify --json, ctl cutover             at a manual cutover
#   ctl rollback                                   during post_validate
#   restore-backup                                 afterwards
#   run, ctl abort                                 a second migration
# A README command of any other form fails the test (nothing may be shown
# that no test runs), and so does a command of `cutover --help` or a ctl
# verb that the README does not show.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"

README=$ROOT/README.md
EXERCISED=$T/exercised
: >"$EXERCISED"

# doc FORM RUNBOOK: the README's distinct commands of FORM (e.g. "plan
# --json", "ctl pause"), one per line, shell-quoted, without the leading
# `cutover`, RUNBOOK in place of theirs; or "forms": every form, one per
# line.
doc() {
    $PY - "$README" "$1" "${2:-}" "$T" <<'PY'
import os, re, shlex, sys
readme, want, runbook, tmp = sys.argv[1:5]
text = open(readme).read()
cmds = []
for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        words = shlex.split(line, comments=True)
        if not words or os.path.basename(words[0]) != "cutover":
            continue
        if any(w in ("|", "||", "&&", ";", "&", ">", "<") or w.startswith((">", "<"))
               for w in words):
            sys.exit("README.md: a cutover command with shell operators: " + line)
        cmds.append(words[1:])
def form(a):
    if not a or a[0] in ("--help", "-h", "help"):
        return "help"
    if a[0] == "ctl":
        return "ctl " + (a[2] if len(a) > 2 else "?")
    return a[0] + (" --json" if "--json" in a else "")
if want == "forms":
    print("\n".join(sorted({form(a) for a in cmds})))
    sys.exit(0)
seen = set()
for a in cmds:
    if form(a) != want:
        continue
    if len(a) > 1:
        a = [a[0], runbook] + [os.path.join(tmp, os.path.basename(w))
                               if w.startswith("/") else w for w in a[2:]]
    line = shlex.join(a)
    if line not in seen:
        seen.add(line)
        print(line)
PY
}

# exercise FORM RUNBOOK CODE: run the README's commands of FORM, each must
# exit CODE; the last one's output is in $OUT
exercise() {
    local form=$1 rb=$2 code=$3 n=0 cmd
    while IFS= read -r cmd; do
        eval "set -- $cmd"
        echo "+ cutover $cmd"
        assert_exit "$code" "$CUTOVER" "$@"
        n=$((n + 1))
    done < <(doc "$form" "$rb")
    [ "$n" -gt 0 ] || fail "README.md shows no \`cutover $form\`"
    echo "$form" >>"$EXERCISED"
}

# start FORM RUNBOOK LOG: the README's one command of FORM in the
# background (run, resume); its pid in $BG
start() {
    local form=$1 log=$3 cmds
    cmds=$(doc "$form" "$2")
    [ -n "$cmds" ] || fail "README.md shows no \`cutover $form\`"
    [ "$(echo "$cmds" | wc -l)" = 1 ] || fail "README.md shows several \`cutover $form\`: $cmds"
    eval "set -- $cmds"
    echo "+ cutover $cmds &"
    "$CUTOVER" "$@" >"$log" 2>&1 &
    BG=$!
    echo "$form" >>"$EXERCISED"
}

start_db
shop_db "$T/shop.sqlite3" 20000
RB=$T/runbook.json
runbook "$RB" "{'copy': {'workers': 2, 'max_rows_per_s': 2000},
  'cutover': {'mode': 'manual', $SWITCH_JSON},
  'post_validate': {'watch_s': 300, 'interval_s': 0.5},
  'triggers': [{'name': 'mismatch', 'metric': 'verify.mismatched_rows',
                'above': 0, 'action': 'abort'},
               {'name': 'pager', 'alert': '*', 'action': 'notify'}]}"
echo sqlite >"$T/switch"

# ---- before anything runs
exercise help "" 0
assert_contains "$OUT" "usage: cutover" "cutover --help"
exercise --version "" 0
assert_contains "$OUT" "cutover $(cat "$ROOT/VERSION")" "cutover --version"
assert_contains "$OUT" "SQLite" "cutover --version names the libraries"
exercise plan "$RB" 0
assert_contains "$OUT" "nothing blocks the migration" "plan"
exercise "plan --json" "$RB" 0
echo "$OUT" | json_get 'd["blocking"]' | grep -qx 0 || fail "plan --json: $OUT"

# ---- during the copy (throttled to 2,000 rows/s)
start run "$RB" "$T/run1.out"
RUN=$BG
wait_state 30 bulk_copy
exercise status "$RB" 0
assert_contains "$OUT" "migration test: bulk_copy" "status"
exercise "status --json" "$RB" 0
assert_eq bulk_copy "$(echo "$OUT" | json_get 'd["state"]')" "status --json"
# watch runs until the migration ends: give it three seconds
cmds=$(doc watch "$RB")
[ -n "$cmds" ] || fail "README.md shows no \`cutover watch\`"
while IFS= read -r cmd; do
    eval "set -- $cmd"
    echo "+ cutover $cmd"
    assert_exit 124 timeout 3 "$CUTOVER" "$@"
    assert_contains "$OUT" "watching test: bulk_copy" "watch"
    assert_contains "$OUT" "progress" "watch"
done <<<"$cmds"
echo watch >>"$EXERCISED"
exercise "ctl pause" "$RB" 0
assert_eq "pause: ok" "$OUT" "ctl pause"
assert_eq paused "$(status 'd["state"]')" "state after ctl pause"
exercise "ctl resume" "$RB" 0
wait_state 10 bulk_copy
exercise "ctl throttle" "$RB" 0
events log 'e.get("rows_per_s") is not None' | grep -q . || fail "no throttle event"
exercise "ctl alert" "$RB" 0
wait_for 10 sh -c "grep -q '\"type\":\"trigger\"' '$STATE/events.ndjson'"
events trigger 'e["rule"] == "pager" and e["action"] == "notify"' | grep -q . \
    || fail "the alert did not reach the alert rule"

# ---- kill -9, check, resume
kill -9 "$RUN"
wait "$RUN" 2>/dev/null || true
exercise check-checkpoint "$RB" 0
assert_contains "$OUT" "OK (format" "check-checkpoint"
start resume "$RB" "$T/resume.out"
RESUME=$BG

# ---- at the manual cutover: verify, then switch
wait_state 120 cutover
wait_for 30 sh -c "grep -q '\"waiting_for\":\"ctl cutover\"' '$STATE/events.ndjson'"
exercise verify "$RB" 0
exercise "verify --json" "$RB" 0
assert_eq 0 "$(echo "$OUT" | json_get 'd["mismatched_rows"]')" "verify --json"
exercise "ctl cutover" "$RB" 0
wait_state 60 post_validate
grep -qx mysql "$T/switch" || fail "the switch action did not run"

# ---- roll back
exercise "ctl rollback" "$RB" 0
set +e
wait "$RESUME"
code=$?
set -e
assert_eq 5 "$code" "exit code of resume after ctl rollback"
grep -qx sqlite "$T/switch" || fail "the switch_back action did not run"

# ---- the backup, restored
exercise restore-backup "$RB" 0
restored=$(find "$T" -maxdepth 1 -name '*.sqlite3' ! -name shop.sqlite3 | head -1)
[ -n "$restored" ] || fail "restore-backup wrote no file into $T"
assert_eq ok "$(sqlite3 "$restored" 'PRAGMA integrity_check')" "restored backup"
assert_eq 0 "$(sqlite3 "$restored" "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '\_cutover%' ESCAPE '\'")" \
    "cutover objects in the backup"

# ---- a second migration, aborted during the copy
mkdir "$T/second"
shop_db "$T/second/shop.sqlite3" 20000
RB2=$T/second/runbook.json
runbook "$RB2" "{'target': {'database': 'second'},
  'copy': {'workers': 1, 'max_rows_per_s': 500}}"
start run "$RB2" "$T/run2.out"
RUN2=$BG
wait_for 30 sh -c "'$CUTOVER' status '$RB2' --json 2>/dev/null | grep -q '\"state\": \"bulk_copy\"'"
exercise "ctl abort" "$RB2" 0
set +e
wait "$RUN2"
code=$?
set -e
assert_eq 4 "$code" "exit code of run after ctl abort"

# ---- every README command ran; the README shows every command
for form in $(doc forms | tr ' ' '+'); do
    grep -qx "${form//+/ }" "$EXERCISED" || fail "README.md shows \`cutover ${form//+/ }\`, which no step here runs"
done
# the subcommands and ctl verbs of `cutover --help`, one per line
"$CUTOVER" --help | $PY -c '
import re, sys
help = sys.stdin.read()
for sub in re.findall(r"^  ([a-z-]+) +RUNBOOK", help, re.M):
    print(sub)
ctl = re.search(r"^  ctl +RUNBOOK CMD \[ARG\] +(.*?)\n(?=  [a-z]|\n)", help, re.M | re.S)
for part in ctl.group(1).split("|"):
    print("ctl " + part.split()[0])
' >"$T/help-forms"
[ "$(grep -c '^ctl ' "$T/help-forms")" -ge 7 ] || fail "cannot read the ctl verbs of --help: $(cat "$T/help-forms")"
doc forms >"$T/readme-forms"
while IFS= read -r form; do
    grep -q "^$form\b" "$T/readme-forms" || fail "README.md shows no \`cutover $form\`"
done <"$T/help-forms"
echo ok
