#!/bin/bash
# with_mariadb.sh CMD [ARGS...] — run CMD with a private MariaDB
# (tests/lib/mariadb.sh) keeping a row-based binary log with CRC32
# checksums, for the unit tests of the MySQL source driver and of the
# binlog reader. CMD gets CUTOVER_TEST_MY_SOCKET, the server's socket
# (user root, no password). The server is stopped when CMD ends; CMD's
# exit status is ours.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"
dir=$(mktemp -d /tmp/co-my.XXXXXX) || exit 1
trap 'mariadb_stop "$dir/db"; rm -rf "$dir"' EXIT INT TERM
mariadb_start "$dir/db" --log-bin="$dir/db/binlog" --server-id=1 \
    --binlog-format=ROW --binlog-checksum=CRC32 >/dev/null ||
    { echo "with_mariadb: MariaDB did not start" >&2; exit 1; }
export CUTOVER_TEST_MY_SOCKET=$MARIADB_SOCKET
"$@"
