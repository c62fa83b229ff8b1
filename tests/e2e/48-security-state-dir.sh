#!/bin/bash
# The state dir is trusted only when it deserves it (lib/state_dir.c).
#  1. Refused, exit 1, the reason named, nothing written into it: a state
#     dir owned by another user, one writable by its group, one writable
#     by anyone, one that is a symbolic link — by `run`, `resume`,
#     `status`, `check-checkpoint` and `verify` alike.
#  2. Files in it are never followed: a `lock` or `events.ndjson` that is
#     a link to a file elsewhere makes `run` stop with the file named and
#     leaves that file as it was; a `checkpoint.json` linked to another
#     migration's checkpoint is not believed by `status` or `resume`.
#  3. The progress socket gets its mode at bind: replacing the socket by a
#     link to a private file right after bind (strace holds the process
#     there) does not change that file's mode.
# timeout: 180
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 500

# refused NAME STATE-DIR PATTERN: every command refuses the state dir with
# a message matching PATTERN; nothing appears in it
refused() {
    local name=$1 dir=$2 pattern=$3 cmd
    runbook "$T/$name.json" "{'state_dir': '$dir'}"
    for cmd in run resume status check-checkpoint verify; do
        assert_exit 1 "$CUTOVER" $cmd "$T/$name.json"
        echo "$OUT" | grep -qE "$pattern" \
            || fail "$name: $cmd does not say why (/$pattern/): $OUT"
    done
    [ -z "$(ls -A "$T/$dir/" 2>/dev/null)" ] || fail "$name: files were written into $dir: $(ls -A "$T/$dir/")"
    echo "$name: refused by run, resume, status, check-checkpoint, verify: $(echo "$OUT" | head -1)"
}

# ---- 1. state dirs that cannot be trusted -----------------------------------
mkdir -m 0700 "$T/st-other" && chown 65534:65534 "$T/st-other"
refused other st-other "belongs to uid 65534"
attack_refused "a state dir owned by another user"
mkdir -m 0770 "$T/st-group"
refused group st-group "can be written by its group"
attack_refused "a state dir writable by its group"
mkdir -m 1777 "$T/st-anyone"
refused anyone st-anyone "can be written by anyone"
attack_refused "a state dir writable by anyone"
mkdir -m 0700 "$T/st-real"
ln -s st-real "$T/st-link"
refused link st-link "is a symbolic link"
attack_refused "a state dir that is a symbolic link"

# ---- 2. links inside the state dir -------------------------------------------
echo precious >"$T/victim"
chmod 0600 "$T/victim"
for f in lock events.ndjson; do
    rm -rf "$T/st-files"
    mkdir -m 0700 "$T/st-files"
    ln -s "$T/victim" "$T/st-files/$f"
    runbook "$T/files.json" "{'state_dir': 'st-files'}"
    assert_exit 1 "$CUTOVER" run "$T/files.json"
    assert_contains "$OUT" "st-files/$f" "the message names the linked file"
    assert_contains "$OUT" "symbolic link" "the message says why"
    assert_eq precious "$(cat "$T/victim")" "the file $f pointed to"
    echo "$f -> victim: refused: $OUT"
    attack_refused "a state dir file ($f) that is a link to a file elsewhere"
done

# another migration's checkpoint, linked in
runbook "$T/theirs.json" "{'state_dir': 'st-theirs', 'target': {'database': 'theirs'}}"
CUTOVER_CRASH_AT=pre_validate:analyzed "$CUTOVER" run "$T/theirs.json" >/dev/null 2>&1 || true
[ -f "$T/st-theirs/checkpoint.json" ] || fail "test setup: no checkpoint in st-theirs"
rm -rf "$T/st-files"
mkdir -m 0700 "$T/st-files"
ln -s "$T/st-theirs/checkpoint.json" "$T/st-files/checkpoint.json"
for cmd in status resume check-checkpoint; do
    assert_exit 1 "$CUTOVER" $cmd "$T/files.json"
    assert_contains "$OUT" "symbolic link" "$cmd: a linked checkpoint"
done
attack_refused "a checkpoint.json that is a link to another migration's checkpoint"

# ---- 3. the progress socket's mode, set at bind --------------------------------
echo private >"$T/victim-sock"
chmod 0600 "$T/victim-sock"
mkdir -m 0700 "$T/sockdir"
runbook "$T/sock.json" "{'state_dir': 'st-sock',
  'progress': {'socket': 'sockdir/p.sock', 'mode': '0644'}}"
strace -f -o "$T/strace.out" -e trace=bind -e inject=bind:delay_exit=3000000 \
    "$CUTOVER" run "$T/sock.json" >"$T/sock.out" 2>&1 &
RUN=$!
wait_for 30 grep -q 'bind(.*p.sock' "$T/strace.out"
wait_for 10 test -S "$T/sockdir/p.sock"
# bind has made the socket and not returned yet: swap in a link
mv "$T/sockdir/p.sock" "$T/sockdir/p.sock.moved"
ln -s "$T/victim-sock" "$T/sockdir/p.sock"
wait "$RUN" || { cat "$T/sock.out" >&2; fail "the run with a moved socket failed"; }
assert_eq 600 "$(stat -c %a "$T/victim-sock")" "mode of the file the socket path was pointed at"
assert_eq 644 "$(stat -c %a "$T/sockdir/p.sock.moved")" "the socket's own mode (progress.mode 0644)"
attack_refused "the progress socket path replaced by a link between bind and chmod"
echo ok
