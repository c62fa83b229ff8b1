#!/bin/sh
# run_tests.sh — what `make test` runs after building: the unit tests, the
# end-to-end scenarios against real MariaDB servers, the same under
# AddressSanitizer/UBSan (unit tests and a subset of scenarios), and short
# fuzzing runs; then one summary. Exit 0 only when everything passed.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=/usr/bin/python3
# three end-to-end scripts at a time (tests/lib/run_e2e.sh): most of a
# script's time is spent waiting on servers, writers and timers, and the
# ones a busy neighbour could upset are marked "# exclusive"
E2E_JOBS=${E2E_JOBS:-3}
export E2E_JOBS
SUMMARY=""
status=0
section() { echo; echo "=== $*"; }
record() { SUMMARY="$SUMMARY
$1"; [ "$2" = 0 ] || status=1; }

section "unit tests"
tests/lib/run_unit.sh build/tests/test_* | tee build/unit.log
record "$(tail -1 build/unit.log)" "$(tail -1 build/unit.log | grep -q ' 0 failed' && echo 0 || echo 1)"

section "end-to-end scenarios"
tests/lib/run_e2e.sh | tee build/e2e.log
record "$(tail -1 build/e2e.log)" "$(tail -1 build/e2e.log | grep -q ' 0 failed' && echo 0 || echo 1)"

faults=$($PY tests/lib/fault_summary.py build/e2e-logs build/e2e.log)
record "$faults" $?

section "sanitizers (AddressSanitizer + UBSan)"
ASAN_OPTIONS=detect_leaks=1 tests/lib/run_unit.sh build-asan/tests/test_* > build/asan-unit.log 2>&1
record "asan $(tail -1 build/asan-unit.log)" $?
ASAN_OPTIONS=detect_leaks=0 CUTOVER_BIN=bin/cutover-asan E2E_LOGS=build/e2e-asan-logs \
    E2E="${ASAN_E2E:-10-copy 20-sync 30-cutover 31-rollback 80-replica}" tests/lib/run_e2e.sh > build/asan-e2e.log 2>&1
asan_rc=$?
reports=$(cat build/e2e-asan-logs/*.log 2>/dev/null | grep -c -E 'ERROR: AddressSanitizer|runtime error:' || true)
record "asan $(tail -1 build/asan-e2e.log), sanitizer reports: $reports" \
    "$([ $asan_rc = 0 ] && [ "$reports" = 0 ] && echo 0 || echo 1)"

if [ -x tests/fuzz/run.sh ]; then
    section "fuzzing (bounded)"
    tests/fuzz/run.sh "${FUZZ_SECONDS:-20}" > build/fuzz.log 2>&1
    record "$(tail -1 build/fuzz.log)" $?
fi

echo
echo "=== summary"
echo "$SUMMARY" | sed '/^$/d'
[ $status = 0 ] && echo "ALL PASSED" || echo "SOMETHING FAILED"
exit $status
