#!/bin/bash
# with_mariadb.sh CMD [ARGS...] — run CMD with a private MariaDB
# (tests/lib/mariadb.sh), for the unit tests of the MySQL source driver.
# CMD gets CUTOVER_TEST_MY_SOCKET, the server's socket (user root, no
# password). The server is stopped when CMD ends; CMD's exit status is ours.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"
dir=$(mktemp -d /tmp/co-my.XXXXXX) || exit 1
trap 'mariadb_stop "$dir/db"; rm -rf "$dir"' EXIT INT TERM
mariadb_start "$dir/db" >/dev/null ||
    { echo "with_mariadb: MariaDB did not start" >&2; exit 1; }
export CUTOVER_TEST_MY_SOCKET=$MARIADB_SOCKET
"$@"
