#!/bin/bash
# 07-postgresql-selftest.sh — the private PostgreSQL of tests/lib/postgresql.sh
# proves itself before tests rely on it:
#   1. it starts from the pristine cluster with the test settings (fsync
#      off), on a socket in its own dir and on 127.0.0.1 at a private port;
#   2. a role logs in with its password over the socket and over TCP, and
#      scram-sha-256 is what checked it;
#   3. a wrong password, and no password at all, are refused, on both;
#   4. with TLS on, verify-full against the CA made for it succeeds, and a
#      client that trusts another CA is refused;
#   5. stopping it removes its socket.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

POSTGRESQL_TCP_PORT=$(free_port) POSTGRESQL_TLS=1 postgresql_start "$T/pg" ||
    fail "PostgreSQL did not start"
PORT=$POSTGRESQL_PORT
[ -S "$T/pg/.s.PGSQL.$PORT" ] || fail "no socket in $T/pg"
assert_eq off "$(postgresql_sql 'SHOW fsync')" "fsync of the test server"
assert_eq 127.0.0.1 "$(postgresql_sql 'SHOW listen_addresses')" "listen_addresses"

postgresql_add_role app 'pa ss\word' appdb || fail "could not add a role"

# psql_try HOSTPARAMS PASSWORD: log in as app, print who we are or fail
psql_try() {
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=10 psql -X -At -w \
        "$1 port=$PORT user=app dbname=appdb" \
        -c "SELECT current_user || ' ' || current_database()"
}

for where in "host=$T/pg" "host=127.0.0.1 sslmode=disable"; do
    assert_exit 0 psql_try "$where" 'pa ss\word'
    assert_eq "app appdb" "$OUT" "log in over $where"
    assert_exit 2 psql_try "$where" 'pa ss\wordX'
    assert_contains "$OUT" 'password authentication failed for user "app"' \
        "wrong password over $where"
    attack_refused "wrong password over $where"
    PGPASSFILE=/dev/null assert_exit 2 psql_try "$where" ''
    assert_contains "$OUT" "no password supplied" "no password over $where"
    attack_refused "no password over $where"
done
assert_eq "scram-sha-256" \
    "$(postgresql_sql "SELECT DISTINCT auth_method FROM pg_hba_file_rules")" \
    "the only authentication method"

# TLS: the server's certificate checks out against our CA, for its name.
assert_exit 0 psql_try "host=localhost sslmode=verify-full sslrootcert=$POSTGRESQL_CA" 'pa ss\word'
assert_eq "app appdb" "$OUT" "log in over verify-full TLS"
mkdir "$T/other"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other CA" \
    -keyout "$T/other/ca.key" -out "$T/other/ca.crt" >/dev/null 2>&1
assert_exit 2 psql_try "host=localhost sslmode=verify-ca sslrootcert=$T/other/ca.crt" 'pa ss\word'
assert_contains "$OUT" "certificate verify failed" "a CA that did not sign it"
attack_refused "server certificate from another CA"

postgresql_stop "$T/pg"
[ ! -e "$T/pg/.s.PGSQL.$PORT" ] || fail "socket still there after stop"
echo "PASS 07-postgresql-selftest"
