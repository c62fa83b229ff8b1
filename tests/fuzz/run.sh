#!/bin/sh
# run.sh SECONDS — build the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and
# run each for SECONDS/4; `make test` gives 20 s, `make fuzz` 300 s.
#
# Everything lives in build-fuzz/: the library objects (clang, ASan + UBSan
# + libFuzzer coverage, built by fuzz.mk through the top-level Makefile's
# own rules, so each source is compiled once and again only when it
# changes), the harnesses, a working copy of each seed corpus (the
# committed tests/fuzz/corpus/ is never written), the fuzzers' logs, and
# the inputs that crashed, leaked or hung in build-fuzz/artifacts/.
#
# Prints one line per harness, then exactly `fuzz: N executions, N findings`
# last. Exit 0 when nothing was found, 1 when something was (or a harness
# did not run to its end), 2 when the harnesses could not be built.
#
# Reproduce a finding: build-fuzz/fuzz_NAME build-fuzz/artifacts/NAME-crash-...
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2

total=${1:-20}
case $total in ''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;; esac
per=$((total / 4))
[ "$per" -ge 1 ] || per=1

OUT=build-fuzz
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
-fno-omit-frame-pointer"
JOBS=$(nproc 2>/dev/null || echo 2)
mkdir -p "$OUT/artifacts" "$OUT/logs" "$OUT/corpus"

# A make above us (make fuzz, make test) must not pass its flags or
# jobserver down: this build has its own variables.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
        make -f tests/fuzz/fuzz.mk -j"$JOBS" BUILD="$OUT" CC=clang OPT=-O1 \
        SAN="$SAN" fuzz-harnesses >"$OUT/build.log" 2>&1; then
    tail -n 30 "$OUT/build.log"
    echo "fuzz: 0 executions, 0 findings (the harnesses did not build:" \
         "see $OUT/build.log)"
    exit 2
fi

ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1\
${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

all_execs=0
all_findings=0

# run_one NAME MAX_LEN
run_one() {
    name=$1
    bin="$OUT/fuzz_$name"
    corpus="$OUT/corpus/$name"
    log="$OUT/logs/$name.log"

    # The working corpus keeps what earlier runs found; the seeds are
    # refreshed from the committed corpus each time.
    mkdir -p "$corpus"
    cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
    timeout $((per + 120)) "$bin" -max_len="$2" -timeout=10 \
        -max_total_time="$per" -print_final_stats=1 \
        -dict=tests/fuzz/cutover.dict \
        -artifact_prefix="$OUT/artifacts/$name-" "$corpus" >"$log" 2>&1
    rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
            tail -n 1)
    [ -n "$execs" ] ||
        execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=0
    # What this run wrote, from its own log (older artifacts stay but do
    # not count again; slow-unit files are not findings).
    artifacts=$(sed -n 's/.*Test unit written to //p' "$log" |
                grep -E "/$name-(crash|leak|timeout|oom)-")
    found=0
    [ -z "$artifacts" ] || found=$(echo "$artifacts" | wc -l)
    # Died without saying on what input: still a failure.
    lost=0
    [ "$rc" = 0 ] || [ "$found" != 0 ] || { found=1; lost=1; }
    inputs=$(find "$corpus" -type f | wc -l)
    echo "fuzz_$name: $execs executions in $per s, corpus $inputs inputs," \
         "$found findings"
    if [ "$found" != 0 ]; then
        [ "$lost" = 0 ] || echo "    exited $rc without an artifact"
        for a in $artifacts; do echo "    $a"; done
        grep -E '^(SUMMARY:|fuzz_[a-z]+: )|runtime error:|^==[0-9]+== ?ERROR' \
            "$log" | head -n 4 | sed 's/^/    /'
        echo "    log: $log"
    fi
    all_execs=$((all_execs + execs))
    all_findings=$((all_findings + found))
}

run_one runbook 16384
run_one protocol 70000
run_one checkpoint 65536
run_one binlog_rows 16384

echo "fuzz: $all_execs executions, $all_findings findings"
[ "$all_findings" = 0 ]
