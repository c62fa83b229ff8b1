#!/bin/bash
# with_mariadb_binlog.sh CMD [ARGS...] — run CMD with a private MariaDB
# (tests/lib/mariadb.sh) that keeps a row-based binary log with CRC32
# checksums, for the unit tests of the binlog reader. CMD gets
#   CUTOVER_TEST_BINLOG_SOCKET   its socket (root, no password)
# The server is stopped when CMD ends; CMD's exit status is ours.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"
dir=$(mktemp -d /tmp/co-binlog.XXXXXX) || exit 1
trap 'mariadb_stop "$dir/db"; rm -rf "$dir"' EXIT INT TERM
mariadb_start "$dir/db" --log-bin="$dir/db/binlog" --server-id=1 \
    --binlog-format=ROW --binlog-checksum=CRC32 ||
    { echo "with_mariadb_binlog: MariaDB did not start" >&2; exit 1; }
export CUTOVER_TEST_BINLOG_SOCKET=$MARIADB_SOCKET
"$@"
