#!/bin/bash
# The state dir's disk fills up mid-copy (a small tmpfs, filled to the
# brim while a chunk is in flight): the checkpoint cannot be written, the
# orchestrator stops with a clear error (exit 1), the previous checkpoint
# is intact and readable, and once space is freed `cutover resume`
# completes with identical data. Needs root (mount); skipped otherwise
# with a message — CI runs as root.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: mounting a tmpfs needs root"
    exit 0
fi
start_db
shop_db "$T/shop.sqlite3" 30000
mkdir -p "$STATE"
mount -t tmpfs -o size=8M,mode=0700 tmpfs "$STATE"
trap 'umount "$STATE" 2>/dev/null; cleanup' EXIT
runbook "$T/runbook.json" "{'copy': {'workers': 1, 'chunk_target_ms': 50},
  'backup': {'enabled': False}}"
CUTOVER_PAUSE_AT=bulk_copy:chunk_read:4 CUTOVER_PAUSE_FILE="$T/paused" \
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_for 60 test -e "$T/paused"
cp "$STATE/checkpoint.json" "$T/checkpoint.before"
dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null || true
rm "$T/paused"
set +e; wait "$RUN"; code=$?; set -e
assert_eq 1 "$code" "exit code on a full disk"
assert_contains "$(cat "$T/run.err")" "No space left on device" "the error names the cause"
assert_contains "$(cat "$T/run.err")" "cutover resume" "the error says what to do"
assert_exit 0 "$CUTOVER" check-checkpoint "$T/runbook.json"
assert_contains "$OUT" "state bulk_copy" "the previous checkpoint is intact"
rm "$STATE/filler"
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume after freeing space"
compare "$T/shop.sqlite3" shop
echo ok
