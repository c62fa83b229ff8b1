#!/bin/bash
# `cutover watch` on a real terminal (tmux) and in a pipe (DESIGN §2, §7).
#  - A terminal view attached during bulk_copy shows one progress bar per
#    table; the bars advance between two captures of the pane; after the
#    window is resized the bars are redrawn at the new width (the
#    migration waits at a manual cutover meanwhile); the view ends on its
#    own when the migration completes.
#  - A terminal view attached during pre_validate (the source is held
#    locked so the watcher attaches before the table list is known) shows
#    advancing bars too once the copy runs.
#  - Ctrl-C in the view shows the cursor again.
#  - Each stage has its own screen: the title has the state and the
#    migration's elapsed time; held in verify (CUTOVER_PAUSE_AT), one
#    verify bar per table (rows hashed, mismatches) and the sync line; at
#    the manual cutover the sub-step and how to go on; in post_validate the
#    window counting down ("left" in the title and on its bar) and the
#    check's line, and no sync line (the applier has stopped).
#  - Colour where the terminal has it (the default rule "ok" in green),
#    none in a view started with NO_COLOR=1.
#  - `watch ... | cat` (line mode) prints the stage lines and progress
#    lines, no event line without details, and ends when the migration
#    completes.
# timeout: 120
# exclusive: a terminal sampled every 0.2 s while a throttled copy runs
. "$(dirname "$0")/../lib/common.sh"

command -v tmux >/dev/null || fail "tmux is not installed (make deps)"
TS="$T/tmux.sock"
# our private tmux server goes away with the test, whatever happens
trap 'rc=$?; tmux -S "$TS" kill-server >/dev/null 2>&1; (exit $rc); cleanup' \
    EXIT INT TERM

FAILED=0
soft_fail() {
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}

tm() { tmux -u -S "$TS" -f /dev/null "$@"; }
capture() { tm capture-pane -p -t "$1"; }

# bars SESSION: "table pct bar_width line_length" for each progress bar line
bars() {
    capture "$1" | $PY -c '
import re, sys
for line in sys.stdin:
    line = line.rstrip("\n")
    m = re.match(r"^(\S+)\s+\[([#.]+)\]\s+([0-9.]+)%", line)
    if m:
        print(m.group(1), m.group(3), len(m.group(2)), len(line.rstrip()))
'
}

# watch_session NAME: a 120x40 tmux session running the terminal view
watch_session() {
    tm new-session -d -s "$1" -x 120 -y 40 \
        "${2:-}'$CUTOVER' watch '$T/runbook.json'; echo \"watch exited \$?\"; sleep 600"
}

# sample_bars: every ~0.2 s while the copy runs, the bars of both views
# ("sample session table pct") to $T/bars.log
sample_bars() {
    local i=0
    while [ "$(status 'd["state"]')" = bulk_copy ]; do
        for s in early late; do
            bars "$s" | sed "s/^/$i $s /" >>"$T/bars.log"
        done
        i=$((i + 1))
        sleep 0.2
    done
    touch "$T/bars.log"
    echo "$i samples of the views during the copy"
}

# advanced SESSION: in $T/bars.log, a table seen strictly between 0 and
# 100 %, then later at a higher percentage in the same view
advanced() {
    $PY - "$T/bars.log" "$1" <<'PY'
import sys
path, session = sys.argv[1:]
seen = {}
for line in open(path):
    i, s, table, pct = line.split()[:4]
    if s != session:
        continue
    pct = float(pct)
    if table in seen and pct > seen[table][1]:
        print("%s: %s went from %.1f %% (sample %s) to %.1f %% (sample %s)"
              % (session, table, seen[table][1], seen[table][0], pct, i))
        sys.exit(0)
    if table not in seen and 0 < pct < 100:
        seen[table] = (i, pct)
print("%s: no bar advanced (%d tables seen mid-copy)" % (session, len(seen)))
sys.exit(1)
PY
}

start_db
shop_db "$T/shop.sqlite3" 20000
runbook "$T/runbook.json" "{'source': {'busy_timeout_ms': 60000},
  'copy': {'workers': 2, 'max_rows_per_s': 3000},
  'cutover': {'mode': 'manual'},
  'post_validate': {'watch_s': 8, 'interval_s': 0.5,
    'checks': [{'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order', 'min': 1}]}}"

# hold the source locked so pre_validate waits for us
$PY - "$T/shop.sqlite3" "$T/unlock" <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2] + ".locked", "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
c.execute("COMMIT")
c.close()
PY
LOCKER=$!
wait_for 10 test -e "$T/unlock.locked"

CUTOVER_PAUSE_AT=verify:chunk:2 CUTOVER_PAUSE_FILE="$T/verify.hold" \
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 30 test -S "$STATE/progress.sock"
assert_eq pre_validate "$(status 'd["state"]')" "state while the source is locked"

# line mode and an early terminal view, both attached during pre_validate
"$CUTOVER" watch "$T/runbook.json" | cat >"$T/lines.out" &
LINES=$!
watch_session early
wait_for 20 sh -c "tmux -S '$TS' capture-pane -p -t early | grep -q '^cutover test — pre_validate — elapsed [0-9]'"
wait_for 10 grep -q 'watching test: pre_validate' "$T/lines.out"
touch "$T/unlock"
wait "$LOCKER"

# a terminal view attached during the copy
wait_for 30 sh -c "'$CUTOVER' status '$T/runbook.json' --json | grep -q '\"state\": \"bulk_copy\"'"
watch_session late
sample_bars
advanced late || soft_fail "the bars of a view attached during bulk_copy did not advance"
advanced early || soft_fail "the bars of a view attached during pre_validate (before the table list was known) did not advance"

# verify, held after its second chunk: verify bars, not copy bars
wait_for 60 test -e "$T/verify.hold"
wait_for 10 sh -c "tmux -S '$TS' capture-pane -p -t late | grep -q 'hashed'"
capture late >"$T/verify.txt"
grep -q '^cutover test — verify — elapsed [0-9]' "$T/verify.txt" || soft_fail "verify title: $(cat "$T/verify.txt")"
grep -Eq '^[a-z_]+ +\[#+\.*\] +[0-9.]+% +[0-9]+ hashed +0 diff$' "$T/verify.txt" \
    || soft_fail "no verify bar: $(cat "$T/verify.txt")"
grep -q ' r/s ETA ' "$T/verify.txt" && soft_fail "copy bars during verify: $(cat "$T/verify.txt")"
grep -q '^sync: lag' "$T/verify.txt" || soft_fail "no sync line during verify"
rm -f "$T/verify.hold"

# hold at the manual cutover so the views stay live
wait_state 60 cutover
watch_session plain "NO_COLOR=1 "
wait_for 10 sh -c "tmux -S '$TS' capture-pane -p -t late | grep -q '^cutover: ready'"
capture late >"$T/late.txt"
grep -q '^cutover test — cutover — elapsed [0-9]' "$T/late.txt" || soft_fail "no header with the state: $(cat "$T/late.txt")"
grep -q "^cutover: ready, synced — waiting for \`cutover ctl .*runbook.json cutover\`" "$T/late.txt" \
    || soft_fail "no cutover sub-step line: $(cat "$T/late.txt")"
ESC=$(printf '\033')
tm capture-pane -e -p -t late | grep -q "${ESC}\[32mok" || soft_fail "the rule's ok is not green"
wait_for 10 sh -c "tmux -S '$TS' capture-pane -p -t plain | grep -q '^trigger'"
tm capture-pane -e -p -t plain >"$T/plain.txt"
grep -q "${ESC}\[3[0-9]m" "$T/plain.txt" && soft_fail "colour with NO_COLOR=1: $(cat -v "$T/plain.txt")"
grep -q '^stages: .*sync > verify > cutover$' "$T/late.txt" || soft_fail "no stages line: $(cat "$T/late.txt")"
for t in auth_user django_session shop_order shop_orderitem shop_product; do
    grep -q "^$t *\[#*\] 100.0%" "$T/late.txt" || soft_fail "no full bar for $t in the view"
done
capture early >"$T/early.txt"
n=$(grep -c '^[a-z_]* *\[#*\] 100.0%' "$T/early.txt" || true)
[ "$n" = 5 ] || soft_fail "$n of 5 tables shown copied in the view attached during pre_validate: $(cat "$T/early.txt")"

# resize: the bars are redrawn to fit 100 columns
bars late | awk '{print "before resize:", $0}'
w0=$(bars late | awk 'NR == 1 {print $3}')
assert_eq 62 "$w0" "bar width at 120 columns"
tm resize-window -t late -x 100 -y 30
ok=""
for i in $(seq 1 50); do
    w=$(bars late | awk 'NR == 1 {print $3}')
    long=$(bars late | awk '$4 > 100' | wc -l)
    if [ "$w" = 42 ] && [ "$long" = 0 ]; then ok=1; break; fi
    sleep 0.2
done
bars late | awk '{print "after resize:", $0}'
[ -n "$ok" ] || soft_fail "after resizing to 100 columns the bars are not 42 wide (got '$w', $long lines over 100)"
# Ctrl-C leaves the terminal as it was: the cursor the view hid is shown
watch_session intr
wait_for 20 sh -c "tmux -S '$TS' capture-pane -p -t intr | grep -q '^cutover test'"
assert_eq 0 "$(tm display -p -t intr '#{cursor_flag}')" "cursor hidden by the view"
tm send-keys -t intr C-c
wait_for 10 sh -c "tmux -S '$TS' capture-pane -p -t intr | grep -q 'watch exited 130'"
assert_eq 1 "$(tm display -p -t intr '#{cursor_flag}')" "cursor shown after Ctrl-C"
assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" cutover

# post_validate: the window counts down, the check has its line, no sync
wait_for 30 sh -c "tmux -S '$TS' capture-pane -p -t late | grep -q '^check orders'"
capture late >"$T/post.txt"
grep -Eq '^cutover test — post_validate — elapsed [0-9]+[ms].*, window [0-9]+s left$' "$T/post.txt" \
    || soft_fail "post_validate title: $(cat "$T/post.txt")"
grep -Eq '^window +\[#*\.*\] [0-9]+s of 8s left$' "$T/post.txt" || soft_fail "no window line: $(cat "$T/post.txt")"
grep -Eq '^check orders +ok \([0-9]+ ms\)$' "$T/post.txt" || soft_fail "no check line: $(cat "$T/post.txt")"
grep -q '^sync:' "$T/post.txt" && soft_fail "a stale sync line in post_validate: $(cat "$T/post.txt")"

# the migration completes; every watcher ends on its own
set +e
wait "$RUN"; code=$?
set -e
[ "$code" = 0 ] || { cat "$T/run.out" "$T/run.err" >&2; fail "run exited $code"; }
wait_for 15 sh -c "tmux -S '$TS' capture-pane -p -t late | grep -q 'watch exited 0'"
wait_for 15 sh -c "tmux -S '$TS' capture-pane -p -t early | grep -q 'watch exited 0'"
for i in $(seq 1 100); do kill -0 "$LINES" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LINES" 2>/dev/null && fail "line mode did not end after the migration completed"
wait "$LINES" || fail "watch | cat exited non-zero"

# line mode: a header, stage lines in order, progress lines
head -1 "$T/lines.out" | grep -q '^watching test: pre_validate$' \
    || fail "line mode header: $(head -1 "$T/lines.out")"
stages=$(sed -n 's/^[0-9:.]* stage     \([a-z_]*\) -> \([a-z_]*\).*/\1>\2/p' "$T/lines.out" | tr '\n' ' ')
assert_eq "pre_validate>bulk_copy bulk_copy>sync sync>verify verify>cutover cutover>post_validate post_validate>completed " \
    "$stages" "stage lines of line mode"
n=$(grep -c '^[0-9:.]* progress  [a-z_]* [0-9]*/[0-9]* rows' "$T/lines.out" || true)
[ "$n" -ge 5 ] || fail "only $n progress lines in line mode"
grep -q '^[0-9:.]* sync      lag' "$T/lines.out" || fail "no sync line in line mode"
# cutover lines: the step, and the write pause only when there is one
bad=$(grep '^[0-9:.]* cutover   ' "$T/lines.out" |
    grep -Ev '^[0-9:.]* cutover   [a-z_]+(, write pause [0-9]+ ms)?$' || true)
[ -z "$bad" ] || soft_fail "malformed cutover lines in line mode: $bad"
# every event line says something after its type
empty=$(grep -E '^[0-9:.]+ [a-z_]+ *$' "$T/lines.out" || true)
[ -z "$empty" ] || soft_fail "event lines with nothing after the type: $empty"
# it ends because the migration completed (the final `completed` event,
# DESIGN §7), not because the connection dropped
last=$(tail -1 "$T/lines.out")
case "$last" in
    *completed*) ;;
    *) soft_fail "line mode's last line is '$last', not the completed event" ;;
esac
[ ! -e "$STATE/progress.sock" ] || fail "socket left after the run"
[ "$FAILED" = 0 ] || fail "$FAILED check(s) failed (see above)"
echo ok
