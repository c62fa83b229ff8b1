#!/bin/sh
# run_e2e.sh — run the end-to-end scripts of tests/e2e, each in its own
# process with a timeout (a "# timeout: N" line in the script, default
# 300 s). E2E="pattern ..." selects scripts (any pattern a part of the
# name); CUTOVER_BIN picks the binary.
# Prints one line per script and "N passed, N failed".
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOGS=${E2E_LOGS:-$ROOT/build/e2e-logs}
mkdir -p "$LOGS"
# Never test a stale binary.
make -s -C "$ROOT" all >/dev/null || { echo "e2e: build failed"; exit 1; }
pass=0; failed=0; failures=""
for t in "$ROOT"/tests/e2e/*.sh; do
    name=$(basename "$t" .sh)
    selected=""
    for pattern in ${E2E:-""}; do
        case "$name" in *"$pattern"*) selected=1 ;; esac
    done
    [ -n "$selected" ] || [ -z "${E2E:-}" ] || continue
    limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
    start=$(date +%s)
    if timeout -k 10 "${limit:-300}" sh -c "cd '$ROOT' && bash '$t'" \
            >"$LOGS/$name.log" 2>&1; then
        pass=$((pass + 1))
        printf 'ok   %-40s %4ss\n' "$name" $(($(date +%s) - start))
    else
        failed=$((failed + 1))
        failures="$failures $name"
        printf 'FAIL %-40s %4ss  (log: %s)\n' "$name" $(($(date +%s) - start)) \
            "$LOGS/$name.log"
        tail -15 "$LOGS/$name.log" | sed 's/^/     | /'
    fi
done
echo "e2e: $pass passed, $failed failed${failures:+ (}${failures# }${failures:+)}"
[ "$failed" = 0 ]
