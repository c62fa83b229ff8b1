#!/bin/bash
# The encrypted backup never exists in clear (backup.encrypt_key_env).
#  1. A run under umask 000 while a poller reads the first bytes of every
#     file in the state dir as fast as it can: no file ever starts with
#     "SQLite format 3", no file is ever readable by group or others, and
#     the poller did see the backup being written.
#  2. kill -9 right after the backup is written, before it is recorded:
#     what is left is ciphertext only; `resume` takes the backup again and
#     leaves no partial file behind.
#  3. A plaintext backup left in the state dir by an interrupted run of an
#     older version is removed when the next `resume` starts.
#  4. `restore-backup` under umask 022 writes a 0600 file holding the rows
#     as they were; it never writes over an existing file.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

export CUTOVER_BACKUP_KEY=$($PY -c 'import secrets; print(secrets.token_hex(32))')
start_db
shop_db "$T/base.sqlite3" 60000

# poll_start NAME: the poller on $STATE until $T/NAME.stop exists; its
# findings in $T/NAME.json
poll_start() {
    rm -f "$T/$1.stop" "$T/$1.json"
    $PY - "$STATE" "$T/$1.stop" "$T/$1.json" <<'PYEOF' &
import json, os, stat, sys
state, stop, out = sys.argv[1:4]
plain, loose, names, reads = {}, {}, set(), 0
while not os.path.exists(stop):
    try:
        entries = list(os.scandir(state))
    except OSError:
        continue
    for e in entries:
        try:
            fd = os.open(e.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                continue
            names.add(e.name)
            if st.st_mode & 0o077:
                loose[e.name] = oct(st.st_mode & 0o777)
            head = os.pread(fd, 16, 0)
            reads += 1
            if head.startswith(b"SQLite format 3"):
                plain[e.name] = plain.get(e.name, 0) + 1
        finally:
            os.close(fd)
json.dump({"plain": plain, "loose": loose, "names": sorted(names),
           "reads": reads}, open(out, "w"))
PYEOF
    POLLER=$!
}

# poll_stop NAME: stop it; fail on plaintext or loose modes
poll_stop() {
    touch "$T/$1.stop"
    wait "$POLLER"
    $PY - "$T/$1.json" "$1" <<'PYEOF' || fail "$1: the state dir held plaintext or a readable file"
import json, sys
r = json.load(open(sys.argv[1]))
print("%s: %d reads of files %s" % (sys.argv[2], r["reads"], ", ".join(r["names"])))
for name, n in r["plain"].items():
    print("PLAINTEXT: %s started with 'SQLite format 3' (%d reads)" % (name, n))
for name, mode in r["loose"].items():
    print("READABLE: %s had mode %s" % (name, mode))
assert any(n.startswith("source-backup") for n in r["names"]), \
    "the poller never saw the backup (test setup)"
assert not r["plain"] and not r["loose"]
PYEOF
}

# ---- 1. a whole run --------------------------------------------------------
cp "$T/base.sqlite3" "$T/shop.sqlite3"
runbook "$T/runbook.json" "{'backup': {'encrypt_key_env': 'CUTOVER_BACKUP_KEY'}}"
mkdir -m 0700 "$STATE"
poll_start run
(umask 000; exec "$CUTOVER" run "$T/runbook.json") >"$T/run.out" 2>&1 \
    || { cat "$T/run.out" >&2; poll_stop run; fail "the run failed"; }
poll_stop run
compare "$T/shop.sqlite3" shop
ls -l "$STATE"
[ -f "$STATE/source-backup.sqlite3.enc" ] || fail "no encrypted backup"
attack_refused "the encrypted backup never exists in clear in the state dir, not even while it is written"
attack_refused "no state dir file is readable by group or others under umask 000"

# ---- 2. kill -9 right after the backup is written ---------------------------
rm -rf "$STATE"
cp "$T/base.sqlite3" "$T/shop.sqlite3"
sql -e "DROP DATABASE shop"
mkdir -m 0700 "$STATE"
poll_start crash
set +e
CUTOVER_CRASH_AT=backup:written "$CUTOVER" run "$T/runbook.json" >"$T/crash.out" 2>&1
code=$?
set -e
poll_stop crash
[ "$code" = 137 ] || { cat "$T/crash.out" >&2; fail "the run was not killed at backup:written (exit $code)"; }
ls -l "$STATE"
for f in "$STATE"/*; do
    [ -f "$f" ] || continue
    head -c 15 "$f" | grep -q "SQLite format 3" && fail "$f is a plaintext database after kill -9"
done
[ -s "$STATE/source-backup.sqlite3.enc.partial" ] || fail "no partial backup (test setup: killed elsewhere?)"
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume after the kill"
[ ! -e "$STATE/source-backup.sqlite3.enc.partial" ] || fail "the partial backup was left behind"
[ -f "$STATE/source-backup.sqlite3.enc" ] || fail "no encrypted backup after the resume"
attack_refused "kill -9 during the encrypted backup leaves no plaintext"

# ---- 3. a plaintext leftover of an older version -----------------------------
rm -rf "$STATE"
cp "$T/base.sqlite3" "$T/shop.sqlite3"
sql -e "DROP DATABASE shop"
set +e
CUTOVER_CRASH_AT=bulk_copy:chunk "$CUTOVER" run "$T/runbook.json" >"$T/crash2.out" 2>&1
code=$?
set -e
[ "$code" = 137 ] || { cat "$T/crash2.out" >&2; fail "the run was not killed in bulk_copy (exit $code)"; }
cp "$T/base.sqlite3" "$STATE/source-backup.sqlite3"
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
[ ! -e "$STATE/source-backup.sqlite3" ] || fail "the plaintext leftover is still in the state dir"
assert_contains "$OUT" "left by an interrupted run" "the removal is logged"
attack_refused "a plaintext backup left by an interrupted run is removed at the next start"

# ---- 4. restore-backup -------------------------------------------------------
(umask 022; exec "$CUTOVER" restore-backup "$T/runbook.json" "$T/restored.sqlite3") \
    || fail "restore-backup failed"
assert_eq 600 "$(stat -c %a "$T/restored.sqlite3")" "mode of the restored database (umask 022)"
$PY - "$T/restored.sqlite3" "$T/base.sqlite3" <<'PY' || fail "restored rows differ"
import sqlite3, sys
def rows(path, table):
    return sqlite3.connect(path).execute('SELECT * FROM %s ORDER BY rowid' % table).fetchall()
for t in ('auth_user', 'shop_product', 'shop_order', 'shop_orderitem', 'django_session'):
    assert rows(sys.argv[1], t) == rows(sys.argv[2], t), t
PY
echo keep >"$T/exists.sqlite3"
assert_exit 1 "$CUTOVER" restore-backup "$T/runbook.json" "$T/exists.sqlite3"
assert_eq keep "$(cat "$T/exists.sqlite3")" "an existing file is left alone"
attack_refused "restore-backup writes a private file and never over an existing one"
echo ok
