#!/bin/bash
# TLS to the target (DESIGN §3 target.tls), against a private MariaDB that
# listens on TCP with a certificate made here and refuses plain
# connections (require_secure_transport=ON):
#  1. tls.mode verify_identity with the right CA, host 127.0.0.1 (in the
#     certificate's subjectAltName): `plan` succeeds, and a full small
#     `run` migrates over TLS (the user's password comes from password_env);
#     verify_ca, required (no CA) and preferred (TLS when the server offers
#     it) connect too, and a client certificate
#     (tls.cert/key) satisfies a user that REQUIRE X509.
#  2. refused, exit 1, with a message naming the target and the problem:
#     - verify_identity with an unrelated CA (certificate not trusted),
#     - verify_identity by 127.0.0.2: reaches the same server, but the
#       certificate does not cover that address,
#     - mode disabled: the server requires TLS,
#     - a REQUIRE X509 user without a client certificate.
#  3. a runbook naming a CA file that does not exist fails, and the message
#     names the file or target.tls.ca.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

CANARY='Tls-canary-pw-4e81d0c9b7'
FAILED=0
soft_fail() {   # a failed check that does not stop the remaining ones
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}
export CUTOVER_TEST_PW="$CANARY"

# ---- certificates ----------------------------------------------------------
P="$T/pki"
mkdir -p "$P"
ossl() { openssl "$@" >>"$P/openssl.log" 2>&1 || { cat "$P/openssl.log" >&2; fail "openssl $1 failed"; }; }
# the CA the server's certificate is signed by
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cutover test CA" \
    -keyout "$P/ca.key" -out "$P/ca.pem"
# an unrelated CA
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cutover other CA" \
    -keyout "$P/other-ca.key" -out "$P/other-ca.pem"
# the server: 127.0.0.1 and localhost, nothing else
ossl req -newkey rsa:2048 -nodes -subj "/CN=cutover-test-server" \
    -keyout "$P/server.key" -out "$P/server.csr"
printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    'basicConstraints=CA:FALSE' 'keyUsage=digitalSignature,keyEncipherment' \
    'extendedKeyUsage=serverAuth' >"$P/server.ext"
ossl x509 -req -in "$P/server.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
    -CAcreateserial -days 2 -extfile "$P/server.ext" -out "$P/server.pem"
# a client certificate for the REQUIRE X509 user
ossl req -newkey rsa:2048 -nodes -subj "/CN=cutover-client" \
    -keyout "$P/client.key" -out "$P/client.csr"
printf '%s\n' 'basicConstraints=CA:FALSE' 'extendedKeyUsage=clientAuth' \
    >"$P/client.ext"
ossl x509 -req -in "$P/client.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
    -CAcreateserial -days 2 -extfile "$P/client.ext" -out "$P/client.pem"
chmod 0644 "$P"/*.pem "$P"/*.key   # the server runs as whoever we are

# ---- MariaDB on TCP, TLS only ----------------------------------------------
MARIADB_TCP_PORT=$(free_port)
export MARIADB_TCP_PORT
PORT=$MARIADB_TCP_PORT
start_db --ssl-ca="$P/ca.pem" --ssl-cert="$P/server.pem" \
    --ssl-key="$P/server.key" --require-secure-transport=ON --userstat=ON
unset MARIADB_TCP_PORT
have_ssl=$(sql -e "SELECT @@have_ssl")
assert_eq YES "$have_ssl" "the test server has TLS (see $T/db/error.log)"
sql -e "CREATE USER 'mig'@'%' IDENTIFIED BY '$CANARY';
        GRANT ALL PRIVILEGES ON *.* TO 'mig'@'%';
        CREATE USER 'migx'@'%' IDENTIFIED BY '$CANARY' REQUIRE X509;
        GRANT ALL PRIVILEGES ON *.* TO 'migx'@'%'"

# the server really refuses plain TCP and accepts verified TLS (checks of
# the test setup itself, with the stock client)
set +e
plain=$(mariadb --no-defaults -h 127.0.0.1 -P "$PORT" -umig -p"$CANARY" \
    --skip-ssl -N -e 'SELECT 1' 2>&1)
set -e
# (MariaDB 10.11 answers a plain login under require_secure_transport with
# "Access denied")
echo "$plain" | grep -qiE 'insecure transport|access denied' \
    || fail "plain TCP not refused by the test server: $plain"
cipher=$(mariadb --no-defaults -h 127.0.0.1 -P "$PORT" -umig -p"$CANARY" \
    --ssl-ca="$P/ca.pem" --ssl-verify-server-cert -N -B \
    -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" | cut -f2)
[ -n "$cipher" ] || fail "the stock client got no TLS session"

shop_db "$T/shop.sqlite3" 300

# tls_runbook PATH HOST [PYTHON-DICT for target] [PYTHON-DICT for the rest]:
# a runbook for $T/shop.sqlite3 → HOST:PORT (no socket), user mig,
# password from CUTOVER_TEST_PW.
tls_runbook() {
    runbook "$1" "${4:-{\}}"
    $PY - "$1" "$2" "$PORT" "${3:-{\}}" <<'PYEOF'
import ast, json, sys
path, host, port, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), ast.literal_eval(sys.argv[4])
rb = json.load(open(path))
t = rb["target"]
t.pop("socket", None)
t.update({"host": host, "port": port, "user": "mig",
          "password_env": "CUTOVER_TEST_PW", "connect_timeout_s": 5})
t.update(extra)
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}

# refused PLAN-OUTPUT TARGET-LABEL WHAT PATTERN: the message names the
# target and matches PATTERN (the problem), and not the password
refused() {
    assert_contains "$1" "$2" "$3: the message names the target"
    echo "$1" | grep -qiE "$4" \
        || fail "$3: the message does not say what is wrong (/$4/): $1"
    case "$1" in *"$CANARY"*) fail "$3: the password is in the message: $1" ;; esac
    echo "$3: refused: $(echo "$1" | grep -iE "$4" | head -1)"
}

# ---- 1. verify_identity with the right CA ----------------------------------
tls_runbook "$T/ok.json" 127.0.0.1 \
    "{'tls': {'mode': 'verify_identity', 'ca': 'pki/ca.pem'}}"
assert_exit 0 "$CUTOVER" plan "$T/ok.json"
case "$OUT" in *"$CANARY"*) fail "plan output holds the password" ;; esac
echo "verify_identity, right CA, 127.0.0.1: plan ok"

# verify_ca, and required without a CA (encrypted, unverified) connect too
tls_runbook "$T/ca.json" 127.0.0.1 \
    "{'tls': {'mode': 'verify_ca', 'ca': 'pki/ca.pem'}}"
assert_exit 0 "$CUTOVER" plan "$T/ca.json"
echo "verify_ca, right CA: plan ok"
tls_runbook "$T/req.json" 127.0.0.1 "{'tls': {'mode': 'required'}}"
assert_exit 0 "$CUTOVER" plan "$T/req.json"
echo "required, no CA: plan ok"
# preferred: TLS when the server offers it (as MySQL's ssl-mode=PREFERRED);
# this server offers it and refuses anything else
tls_runbook "$T/pref.json" 127.0.0.1 "{'tls': {'mode': 'preferred'}}"
set +e
OUT=$("$CUTOVER" plan "$T/pref.json" 2>&1)
code=$?
set -e
if [ "$code" = 0 ]; then
    echo "preferred, no CA: plan ok"
else
    soft_fail "tls.mode preferred did not use the TLS the server offers (plan exit $code): $OUT"
fi

# a client certificate for the REQUIRE X509 user
tls_runbook "$T/x509.json" 127.0.0.1 "{'user': 'migx',
  'tls': {'mode': 'verify_identity', 'ca': 'pki/ca.pem',
          'cert': 'pki/client.pem', 'key': 'pki/client.key'}}"
assert_exit 0 "$CUTOVER" plan "$T/x509.json"
echo "verify_identity with a client certificate (REQUIRE X509 user): plan ok"

# a whole migration over TLS (bulk copy workers, sync, verify, cutover,
# post_validate each open their own connections)
tls_runbook "$T/runbook.json" 127.0.0.1 \
    "{'tls': {'mode': 'verify_identity', 'ca': 'pki/ca.pem'}}" \
    "{'post_validate': {'watch_s': 1, 'interval_s': 0.5, 'checks': [
        {'name': 'orders', 'sql': 'SELECT COUNT(*) FROM shop_order', 'min': 1}]}}"
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run over TLS"
case "$OUT" in *"$CANARY"*) fail "run output holds the password" ;; esac
compare "$T/shop.sqlite3" shop
assert_eq completed "$(status 'd["state"]')" "state after the TLS run"
# every connection of user mig (plans and the run) was a TLS one
read -r conns ssl_conns <<<"$(sql -e "SELECT TOTAL_CONNECTIONS, TOTAL_SSL_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER='mig'")"
[ "${conns:-0}" -gt 3 ] || fail "the server counted ${conns:-no} connections of user mig"
assert_eq "$conns" "$ssl_conns" "TLS connections among mig's connections"
echo "full run over TLS completed ($ssl_conns of $conns connections of mig used TLS)"

# ---- 2. refusals -----------------------------------------------------------
# an unrelated CA
tls_runbook "$T/wrongca.json" 127.0.0.1 \
    "{'database': 'shop_wrongca', 'tls': {'mode': 'verify_identity', 'ca': 'pki/other-ca.pem'}}"
assert_exit 1 "$CUTOVER" plan "$T/wrongca.json"
refused "$OUT" "127.0.0.1:$PORT" "verify_identity with an unrelated CA" \
    'certificate|verify|tls|ssl'
assert_exit 1 "$CUTOVER" plan "$T/wrongca.json" --json
refused "$OUT" "127.0.0.1:$PORT" "plan --json, unrelated CA" 'certificate|verify|tls|ssl'
tls_runbook "$T/wrongca2.json" 127.0.0.1 \
    "{'database': 'shop_wrongca', 'tls': {'mode': 'verify_ca', 'ca': 'pki/other-ca.pem'}}"
assert_exit 1 "$CUTOVER" plan "$T/wrongca2.json"
refused "$OUT" "127.0.0.1:$PORT" "verify_ca with an unrelated CA" \
    'certificate|verify|tls|ssl'
# a run with the wrong CA stops in pre_validate, changes nothing
tls_runbook "$T/wrongca-run.json" 127.0.0.1 \
    "{'database': 'shop_wrongca', 'tls': {'mode': 'verify_identity', 'ca': 'pki/other-ca.pem'}}" \
    "{'state_dir': 'state_wrongca'}"
assert_exit 1 "$CUTOVER" run "$T/wrongca-run.json"
refused "$OUT" "127.0.0.1:$PORT" "run with an unrelated CA" \
    'certificate|verify|tls|ssl'
! grep -rqF "$CANARY" "$T/state_wrongca" || fail "the password is in $T/state_wrongca"
n=$(sql -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='shop_wrongca'")
assert_eq 0 "$n" "database created although the server was not trusted"

# a host name the certificate does not cover: 127.0.0.2 is loopback too
set +e
other=$(mariadb --no-defaults -h 127.0.0.2 -P "$PORT" -umig -p"$CANARY" \
    --ssl-ca="$P/ca.pem" -N -e 'SELECT 1' 2>&1)
set -e
assert_eq 1 "$other" "the test server answers on 127.0.0.2 (without host verification)"
tls_runbook "$T/wronghost.json" 127.0.0.2 \
    "{'database': 'shop_wronghost', 'tls': {'mode': 'verify_identity', 'ca': 'pki/ca.pem'}}"
assert_exit 1 "$CUTOVER" plan "$T/wronghost.json"
refused "$OUT" "127.0.0.2:$PORT" "verify_identity by 127.0.0.2 (not in the certificate)" \
    'certificate|host|identity|verif|tls|ssl'
n=$(sql -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='shop_wronghost'")
assert_eq 0 "$n" "database created on a server whose identity failed"

# mode disabled: the server requires TLS
tls_runbook "$T/plain.json" 127.0.0.1 "{'database': 'shop_plain', 'tls': {'mode': 'disabled'}}"
assert_exit 1 "$CUTOVER" plan "$T/plain.json"
refused "$OUT" "127.0.0.1:$PORT" "tls.mode disabled" \
    'insecure transport|secure|access denied|tls|ssl'
# no tls section at all: disabled by default, the same refusal
tls_runbook "$T/notls.json" 127.0.0.1 "{'database': 'shop_plain'}"
assert_exit 1 "$CUTOVER" plan "$T/notls.json"
refused "$OUT" "127.0.0.1:$PORT" "no target.tls" \
    'insecure transport|secure|access denied|tls|ssl'

# a REQUIRE X509 user without a client certificate
tls_runbook "$T/nocert.json" 127.0.0.1 "{'user': 'migx', 'database': 'shop_nocert',
  'tls': {'mode': 'verify_identity', 'ca': 'pki/ca.pem'}}"
assert_exit 1 "$CUTOVER" plan "$T/nocert.json"
refused "$OUT" "127.0.0.1:$PORT" "REQUIRE X509 user without tls.cert" \
    'access denied|certificate|x509'

# ---- 3. a CA file that does not exist --------------------------------------
tls_runbook "$T/noca.json" 127.0.0.1 \
    "{'database': 'shop_noca', 'tls': {'mode': 'verify_identity', 'ca': 'pki/missing-ca.pem'}}"
set +e
OUT=$("$CUTOVER" plan "$T/noca.json" 2>&1)
code=$?
set -e
[ "$code" = 1 ] || [ "$code" = 2 ] || { echo "$OUT" >&2; fail "plan with a missing CA file exited $code, expected 1 or 2"; }
echo "$OUT" | grep -qE 'missing-ca\.pem|tls\.ca' \
    || soft_fail "a missing CA file: the message names neither the file nor target.tls.ca (DESIGN §2: every error message names the thing): $OUT"
echo "missing CA file: refused (exit $code): $OUT"
n=$(sql -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='shop_noca'")
assert_eq 0 "$n" "database created with a missing CA file"
[ "$FAILED" = 0 ] || fail "$FAILED check(s) failed (see above)"
echo ok
