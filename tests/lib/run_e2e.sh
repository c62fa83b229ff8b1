#!/bin/bash
# run_e2e.sh — run the end-to-end scripts of tests/e2e, each in its own
# process with a timeout (a "# timeout: N" line in the script, default
# 300 s), E2E_JOBS of them at a time (default 1; `make test` runs 3).
# A script with a "# exclusive" line runs alone, before the others: one
# whose checks a busy neighbour could upset (locks held for a set time,
# rates, a terminal). Scripts with a "# long" line start before the
# others, so that two jobs do not end with one long script running alone.
# E2E="pattern ..." selects scripts (any pattern a
# part of the name); CUTOVER_BIN picks the binary; E2E_LOGS where each
# script's log goes.
# Prints one line per script, in the order of their names whatever order
# they finish in, and "N passed, N failed".
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
LOGS=${E2E_LOGS:-$ROOT/build/e2e-logs}
JOBS=${E2E_JOBS:-1}
mkdir -p "$LOGS"
# Never test a stale binary.
make -s -C "$ROOT" all >/dev/null || { echo "e2e: build failed"; exit 1; }
# The pristine MariaDB data directory every test copies (tests/lib/mariadb.sh),
# made here once rather than by the first tests at the same time.
(. tests/lib/mariadb.sh && mariadb_pristine >/dev/null) ||
    echo "e2e: no pristine MariaDB data directory; each test installs its own"
(. tests/lib/postgresql.sh && postgresql_pristine >/dev/null) ||
    echo "e2e: no pristine PostgreSQL cluster; each test makes its own"

selected() {
    local pattern
    [ -z "${E2E:-}" ] && return 0
    for pattern in $E2E; do
        case "$1" in *"$pattern"*) return 0 ;; esac
    done
    return 1
}

names=()            # selected scripts, in name order
exclusive=()        # those that run alone
long=()             # the others: the long ones first
shared=()
for t in tests/e2e/*.sh; do
    name=$(basename "$t" .sh)
    selected "$name" || continue
    names+=("$name")
    if grep -q '^# exclusive' "$t"; then
        exclusive+=("$name")
    elif grep -q '^# long' "$t"; then
        long+=("$name")
    else
        shared+=("$name")
    fi
done
shared=("${long[@]}" "${shared[@]}")

declare -A pid_of name_of started code took
# launch NAME: start the script in the background
launch() {
    local t=tests/e2e/$1.sh limit
    limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
    started[$1]=$(date +%s)
    timeout -k 10 "${limit:-300}" bash "$t" >"$LOGS/$1.log" 2>&1 </dev/null &
    pid_of[$1]=$!
    name_of[$!]=$1
}

# reap: wait for one running script to end, note how it ended
reap() {
    local pid rc name
    wait -n -p pid "${!name_of[@]}"
    rc=$?
    name=${name_of[$pid]}
    unset "name_of[$pid]"
    code[$name]=$rc
    took[$name]=$(($(date +%s) - ${started[$name]}))
}

# On INT/TERM, stop the running scripts: timeout passes the signal on to
# the whole process group of its script.
stop_all() {
    local pid
    for pid in "${!name_of[@]}"; do kill -TERM "$pid" 2>/dev/null; done
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

pass=0; failed=0; failures=""; shown=0
# report: print the results of the scripts finished so far, in name order,
# stopping at the first one still running
report() {
    local name
    while [ "$shown" -lt "${#names[@]}" ]; do
        name=${names[$shown]}
        [ -n "${code[$name]:-}" ] || return 0
        if [ "${code[$name]}" = 0 ]; then
            pass=$((pass + 1))
            printf 'ok   %-40s %4ss\n' "$name" "${took[$name]}"
        else
            failed=$((failed + 1))
            failures="$failures $name"
            printf 'FAIL %-40s %4ss  (log: %s)\n' "$name" "${took[$name]}" \
                "$LOGS/$name.log"
            tail -15 "$LOGS/$name.log" | sed 's/^/     | /'
        fi
        shown=$((shown + 1))
    done
}

for name in "${exclusive[@]}"; do
    launch "$name"
    reap
    report
done
for name in "${shared[@]}"; do
    while [ "${#name_of[@]}" -ge "$JOBS" ]; do
        reap
        report
    done
    launch "$name"
done
while [ "${#name_of[@]}" -gt 0 ]; do
    reap
    report
done
echo "e2e: $pass passed, $failed failed${failures:+ (}${failures# }${failures:+)}"
[ "$failed" = 0 ]
