#!/bin/bash
# binlog.sh — how fast binlog capture reads a source's row changes
# (issue: binlog capture, DESIGN §10): tests/lib/binlog_read_rate.c on a
# private MariaDB with a row-based binary log (tests/lib/
# with_mariadb.sh): BENCH_ROWS rows (default 200,000) written 1,000
# a statement, then as many one statement each (a row event a row), each
# read back through the dump and our decoder. Target: ≥ 100,000 row
# events/s on one core (the reader's CPU time).
#
#   bench/binlog.sh
#   BENCH_ROWS=50000 bench/binlog.sh
set -eu -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ROOT/bin/binlog_read_rate" ] ||
    { echo "bench: bin/binlog_read_rate is missing: run 'make'" >&2; exit 1; }
out=$("$ROOT/tests/lib/with_mariadb.sh" "$ROOT/bin/binlog_read_rate" \
      "${BENCH_ROWS:-200000}")
echo "$out" | grep -v '^RESULT'
/usr/bin/python3 - "$(echo "$out" | sed -n 's/^RESULT //p')" <<'PYEOF'
import json, sys
r = json.loads(sys.argv[1])
met = r['single_events_per_cpu_s'] >= 100000
print('\ntargets\n  row events/s per CPU second of the reader   %9.0f   >= 100,000   %s'
      % (r['single_events_per_cpu_s'], 'met' if met else 'MISSED'))
r['met'] = {'events_per_cpu_s': met}
print('RESULT ' + json.dumps(r))
PYEOF
