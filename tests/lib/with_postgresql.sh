#!/bin/bash
# with_postgresql.sh CMD [ARGS...] — run CMD with a private PostgreSQL
# (tests/lib/postgresql.sh) listening on its socket, on 127.0.0.1 at a free
# port and with TLS, for the unit tests of the PostgreSQL driver. CMD gets:
#   CUTOVER_TEST_PG_HOST      the socket directory
#   CUTOVER_TEST_PG_PORT      the port (socket and TCP)
#   CUTOVER_TEST_PG_CA        the CA that signed the server's certificate
#   CUTOVER_TEST_PG_USER      a login role owning CUTOVER_TEST_PG_DB
#   CUTOVER_TEST_PG_DB
#   CUTOVER_TEST_PG_PASSWORD  that role's password (read by the driver
#                             through password_env, like a runbook's)
#   CUTOVER_TEST_PG_APP_USER  another login role, for the application (its
#   CUTOVER_TEST_PG_APP_PASSWORD   rights are granted by the tests)
#   CUTOVER_TEST_PG_STANDBY_HOST   a hot standby streaming from it: its
#   CUTOVER_TEST_PG_STANDBY_PORT   socket directory and port (same roles)
# The server is stopped when CMD ends; CMD's exit status is ours.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/postgresql.sh
. "$ROOT/tests/lib/postgresql.sh"
dir=$(mktemp -d /tmp/co-pg.XXXXXX) || exit 1
trap 'postgresql_stop_all; rm -rf "$dir"' EXIT INT TERM
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
POSTGRESQL_TCP_PORT=$port POSTGRESQL_TLS=1 postgresql_start "$dir/pg" ||
    { echo "with_postgresql: PostgreSQL did not start" >&2; exit 1; }
CUTOVER_TEST_PG_PASSWORD="unit 'pw' \\ $$"
postgresql_add_role cutover_unit "${CUTOVER_TEST_PG_PASSWORD//\'/\'\'}" cutover_unit ||
    exit 1
CUTOVER_TEST_PG_APP_PASSWORD="app-$$-$RANDOM"
postgresql_add_role cutover_app "$CUTOVER_TEST_PG_APP_PASSWORD" || exit 1
primary=$POSTGRESQL_HOST
postgresql_start_standby "$dir/standby" ||
    { echo "with_postgresql: the standby did not start" >&2; exit 1; }
export CUTOVER_TEST_PG_STANDBY_HOST=$POSTGRESQL_HOST \
    CUTOVER_TEST_PG_STANDBY_PORT=$POSTGRESQL_PORT
export CUTOVER_TEST_PG_HOST=$primary CUTOVER_TEST_PG_PORT=$port \
    CUTOVER_TEST_PG_CA=$POSTGRESQL_CA CUTOVER_TEST_PG_USER=cutover_unit \
    CUTOVER_TEST_PG_DB=cutover_unit CUTOVER_TEST_PG_PASSWORD \
    CUTOVER_TEST_PG_APP_USER=cutover_app CUTOVER_TEST_PG_APP_PASSWORD
"$@"
