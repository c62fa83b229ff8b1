# mariadb.sh — start and stop a private MariaDB server for tests, benches
# and the demo: its own data dir in a temp dir, a unix socket only, no
# network, works as root or as a normal user. Source this file, then:
#
#   mariadb_start DIR [extra mariadbd options...]   # sets MARIADB_SOCKET
#   mariadb_sql "SQL"                               # run SQL as root
#   mariadb_stop DIR
#
# With MARIADB_TCP_PORT set (e.g. for TLS tests), the server also listens
# on that TCP port on all addresses (--port, --bind-address=0.0.0.0)
# instead of --skip-networking; the unix socket stays. Unset, nothing
# changes.
#
# The server is tuned for throwaway data (no doublewrite, relaxed flush)
# the same way for every run, so benchmark baselines and our figures use
# identical settings.
#
# A new server's data directory is a copy of a pristine one that
# mariadb-install-db made once for this server version and user, kept in
# $MARIADB_CACHE (build/mariadb/ of the repo): the copy takes a few
# hundredths of a second where the install takes seconds of CPU. Where
# the cache cannot be written, or with MARIADB_CACHE set empty, each
# server is installed on its own as before.
#
# Each server, and each install, has a tmpdir of its own: a server that
# starts deletes every "#sql" temporary table file in its tmpdir, which in
# a shared /tmp belong to other servers (an install-db running while
# another server started failed on "Unknown table mysql.tmp_proxies_priv").

mariadb_bin() {
    for b in mariadbd mysqld /usr/sbin/mariadbd /usr/sbin/mysqld; do
        command -v "$b" >/dev/null 2>&1 && { command -v "$b"; return 0; }
    done
    echo "mariadbd not found: run 'make deps'" >&2
    return 1
}

# shellcheck source=tests/lib/pristine.sh
. "$(dirname "${BASH_SOURCE[0]}")/pristine.sh"
MARIADB_CACHE=${MARIADB_CACHE-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/mariadb}

# mariadb_install DIR: a new system database in DIR/data (its log in
# DIR/install.log).
mariadb_install() {
    local user_opt=""
    [ "$(id -u)" = 0 ] && user_opt="--user=root"
    mkdir -p "$1/tmp"
    # --force: a container or chroot may have no /etc/hosts,
    # and install-db refuses to run when it cannot resolve the host name.
    mariadb-install-db --no-defaults --datadir="$1/data" $user_opt \
        --auth-root-authentication-method=normal --skip-test-db \
        --force --tmpdir="$1/tmp" \
        >"$1/install.log" 2>&1 || { cat "$1/install.log" >&2; return 1; }
}

# mariadb_pristine: prints the pristine data directory for this server
# version and user, making it if there is none (tests/lib/pristine.sh).
# Its name hashes the version, the user and mariadb_install itself, so a
# change to any of them makes a new one.
mariadb_pristine() {
    local bin key
    bin=$(mariadb_bin) || return 1
    key=$({ "$bin" --version; id -u; declare -f mariadb_install; } |
          sha256sum | cut -c1-12)
    pristine_dir "$MARIADB_CACHE" "$key" mysql mariadb_install
}

# mariadb_datadir DIR: DIR/data holds a new system database — a copy of
# the pristine one (sparse: its redo log is mostly zeros), or installed
# there when there is no pristine one.
mariadb_datadir() {
    local pristine
    if pristine=$(mariadb_pristine 2>/dev/null); then
        mkdir -p "$1/data" &&
            cp -a --sparse=always "$pristine/." "$1/data/" && return 0
        rm -rf "$1/data"
    fi
    mariadb_install "$1"
}

mariadb_start() {
    local dir=$1; shift
    local bin user_opt="" net_opt="--skip-networking"
    bin=$(mariadb_bin) || return 1
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && user_opt="--user=root"
    [ -n "${MARIADB_TCP_PORT:-}" ] && \
        net_opt="--port=$MARIADB_TCP_PORT --bind-address=0.0.0.0"
    [ -d "$dir/data/mysql" ] || mariadb_datadir "$dir" || return 1
    mkdir -p "$dir/tmp"
    # In a subshell so the server is not a job of the calling shell (tests
    # kill their own jobs on exit; the server is stopped cleanly instead).
    ( "$bin" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
        $net_opt --pid-file="$dir/mysqld.pid" --tmpdir="$dir/tmp" \
        --log-error="$dir/error.log" $user_opt \
        --innodb-buffer-pool-size=512M --innodb-log-file-size=256M \
        --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
        --max-allowed-packet=64M --local-infile=1 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
        "$@" >/dev/null 2>&1 & )
    local i
    for i in $(seq 1 300); do
        if [ -S "$dir/mysqld.sock" ] && \
           mariadb --no-defaults -S "$dir/mysqld.sock" -uroot -e 'SELECT 1' \
               >/dev/null 2>&1; then
            MARIADB_SOCKET="$dir/mysqld.sock"
            export MARIADB_SOCKET
            return 0
        fi
        sleep 0.1
    done
    echo "MariaDB did not start; its log:" >&2
    tail -20 "$dir/error.log" >&2
    return 1
}

mariadb_sql() {
    mariadb --no-defaults -S "$MARIADB_SOCKET" -uroot "$@"
}

mariadb_stop() {
    local dir=$1 pid
    [ -f "$dir/mysqld.pid" ] || return 0
    pid=$(cat "$dir/mysqld.pid" 2>/dev/null)
    mariadb-admin --no-defaults -S "$dir/mysqld.sock" -uroot shutdown \
        >/dev/null 2>&1 || kill "$pid" 2>/dev/null
    local i
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    return 0
}
