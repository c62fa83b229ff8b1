#!/bin/bash
# `run` takes the state dir's lock before it looks for an existing
# migration. Two `run`s of one runbook: B is held by strace just before it
# takes the lock; meanwhile A runs, writes its checkpoint and dies
# (kill -9 in pre_validate, so A's lock is gone). When B goes on it must
# find A's migration and refuse — never start a new one over it, which is
# what a check made before the lock would do.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 300
runbook "$T/runbook.json"

strace -f -o "$T/b.strace" -e trace=flock -e inject=flock:delay_enter=10000000 \
    "$CUTOVER" run "$T/runbook.json" >"$T/b.out" 2>&1 &
B=$!
wait_for 30 grep -q 'flock(' "$T/b.strace"

set +e
CUTOVER_CRASH_AT=pre_validate:analyzed "$CUTOVER" run "$T/runbook.json" >"$T/a.out" 2>&1
code=$?
set -e
[ "$code" = 137 ] || { cat "$T/a.out" >&2; fail "A was not killed in pre_validate (exit $code)"; }
grep -q DELAYED "$T/b.strace" && fail "test setup: B took the lock before A was done"
assert_eq pre_validate "$(status 'd["state"]')" "A's migration"

set +e
wait "$B"
code=$?
set -e
cat "$T/b.out"
[ "$code" = 1 ] || fail "B exited $code: it started a migration over A's"
grep -q "a migration already exists" "$T/b.out" || fail "B does not say why it refused"
assert_eq pre_validate "$(status 'd["state"]')" "A's migration after B"
n=$(events stage | wc -l)
assert_eq 1 "$n" "stage events in the log (A's new → pre_validate only)"
attack_refused "a second run that checked for a migration before taking the lock"
echo ok
