#!/bin/sh
# deps.sh — install every Debian package the build, the tests, the
# benchmarks and the demo need. `deps.sh --check` only reports whether
# something is missing (exit 1), so `make test` installs only when needed.
set -e

PACKAGES="build-essential pkg-config default-libmysqlclient-dev libsqlite3-dev
sqlite3 libuv1-dev libjansson-dev libcurl4-openssl-dev libssl-dev openssl
mariadb-server mariadb-client libcmocka-dev python3 python3-pymysql tmux
clang libclang-rt-14-dev curl procps python3-django python3-mysqldb php-cli
php-sqlite3 php-mysql strace zlib1g-dev postgresql postgresql-client
libpq-dev python3-psycopg2 pgloader libmicrohttpd-dev prometheus prometheus-alertmanager
debhelper lintian man-db git bash-completion"

missing() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
            || echo "$p"
    done
}

todo=$(missing)
if [ "$1" = "--check" ]; then
    [ -z "$todo" ] && exit 0
    echo "missing packages: $todo" >&2
    exit 1
fi
[ -z "$todo" ] && { echo "deps: everything is installed"; exit 0; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing $todo"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# The server packages must not start a system MariaDB or PostgreSQL: tests
# run their own.
if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $todo
