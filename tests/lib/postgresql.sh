# postgresql.sh — start and stop a private PostgreSQL server for tests,
# benches and the demo: its own cluster in a temp dir, a unix socket in
# that dir, works as root (the server then runs as the `postgres` user, as
# PostgreSQL refuses root) or as a normal user. Source this file (bash),
# then:
#
#   postgresql_start DIR [-c name=value ...]   # sets POSTGRESQL_HOST/_PORT
#   postgresql_sql "SQL" [psql options...]     # run SQL as the superuser
#   postgresql_add_role ROLE PASSWORD [DB]     # a login role owning DB
#   postgresql_psql_as ROLE PASSWORD DB [psql options...]
#   postgresql_start_standby DIR               # a streaming standby of the
#                                              # server started last
#   postgresql_stop DIR                        # postgresql_stop_all: every one
#
# Every connection authenticates with a password (scram-sha-256), over the
# socket and over TCP alike: nothing is trusted, so a client's password
# path is what the tests exercise. The superuser `postgres` has the
# password $POSTGRESQL_SUPERPASS.
#
# With POSTGRESQL_TCP_PORT set, the server also listens on 127.0.0.1 at
# that port; unset, it listens on nothing but its socket
# (listen_addresses=''). With POSTGRESQL_TLS=1 it has TLS on, with a server
# certificate for localhost/127.0.0.1 signed by a CA made here with
# openssl: DIR/tls/ca.crt ($POSTGRESQL_CA) for the clients' verify modes.
#
# Settings are for throwaway data (fsync off, no full-page writes, large
# WAL between checkpoints), the same for every run, so benchmark baselines
# and our figures use identical settings.
#
# A new cluster is a copy of a pristine one that initdb made once for this
# server version and user, kept in $POSTGRESQL_CACHE (build/postgresql/ of
# the repo). Where the cache cannot be written, or with POSTGRESQL_CACHE
# set empty, each server gets an initdb of its own.

# shellcheck source=tests/lib/pristine.sh
. "$(dirname "${BASH_SOURCE[0]}")/pristine.sh"
POSTGRESQL_SUPERPASS=${POSTGRESQL_SUPERPASS:-cutover-test-superuser}
POSTGRESQL_CACHE=${POSTGRESQL_CACHE-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/postgresql}
POSTGRESQL_STARTED=${POSTGRESQL_STARTED:-}

# The newest server's bin directory (Debian keeps each major version in
# /usr/lib/postgresql/N/bin, not on PATH).
postgresql_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$d/postgres" ] || { echo "postgres not found: run 'make deps'" >&2; return 1; }
    echo "$d"
}

# postgresql_as CMD...: run CMD as the server's user: `postgres` when we
# are root, ourselves otherwise.
postgresql_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# postgresql_own PATH...: hand paths to the server's user.
postgresql_own() {
    [ "$(id -u)" = 0 ] || return 0
    chown -R postgres:postgres "$@"
}

# postgresql_initdb DIR: a new cluster in DIR/data (its log in
# DIR/initdb.log). DIR must be reachable by the server's user.
postgresql_initdb() {
    local bin
    bin=$(postgresql_bindir) || return 1
    mkdir -p "$1" && postgresql_own "$1" || return 1
    printf '%s\n' "$POSTGRESQL_SUPERPASS" > "$1/superpass"
    postgresql_own "$1/superpass"
    postgresql_as "$bin/initdb" -D "$1/data" -U postgres \
        --pwfile="$1/superpass" --auth=scram-sha-256 --encoding=UTF8 \
        --locale=C.UTF-8 --no-instructions --no-sync \
        >"$1/initdb.log" 2>&1 || { cat "$1/initdb.log" >&2; return 1; }
    rm -f "$1/superpass"
    # Password (scram-sha-256) for everyone, over the socket and TCP.
    cat > "$1/data/pg_hba.conf" <<'EOF'
local all         all               scram-sha-256
host  all         all 127.0.0.1/32  scram-sha-256
host  all         all ::1/128       scram-sha-256
local replication all               scram-sha-256
EOF
    postgresql_own "$1/data/pg_hba.conf"
}

# postgresql_pristine: prints the pristine cluster for this server version
# and user, making it if there is none (tests/lib/pristine.sh), named by a
# hash of the version, the user and postgresql_initdb.
postgresql_pristine() {
    local bin key
    bin=$(postgresql_bindir) || return 1
    key=$({ "$bin/postgres" --version; id -u; echo "$POSTGRESQL_SUPERPASS";
            declare -f postgresql_initdb; } | sha256sum | cut -c1-12)
    pristine_dir "$POSTGRESQL_CACHE" "$key" PG_VERSION postgresql_initdb
}

# postgresql_cluster DIR: DIR/data holds a new cluster (a copy of the
# pristine one, or a fresh initdb).
postgresql_cluster() {
    local pristine
    if pristine=$(postgresql_pristine 2>/dev/null); then
        cp -a "$pristine/." "$1/data/" 2>/dev/null && chmod 700 "$1/data" &&
            return 0
        rm -rf "$1/data"
    fi
    postgresql_initdb "$1"
}

# postgresql_tls DIR: a CA and a server certificate for localhost and
# 127.0.0.1 in DIR/tls (ca.crt, server.crt, server.key).
postgresql_tls() {
    local d=$1/tls
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
            -subj "/CN=cutover test CA" -keyout ca.key -out ca.crt &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout server.key -out server.csr &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
            -CAcreateserial -days 2 -extfile san.ext -out server.crt &&
        chmod 600 server.key
    ) >"$1/openssl.log" 2>&1 || { cat "$1/openssl.log" >&2; return 1; }
    POSTGRESQL_CA=$d/ca.crt
    export POSTGRESQL_CA
}

postgresql_start() {
    local dir=$1; shift
    local bin port listen="" tls=()
    bin=$(postgresql_bindir) || return 1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        # the server's user must reach its dir through ours
        chmod o+x "$(dirname "$dir")"
        chmod 755 "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data"
        postgresql_cluster "$dir" || return 1
    fi
    if [ "${POSTGRESQL_TLS:-}" = 1 ]; then
        postgresql_tls "$dir" || return 1
        tls=(-c ssl=on -c "ssl_cert_file=$dir/tls/server.crt"
             -c "ssl_key_file=$dir/tls/server.key")
    fi
    port=${POSTGRESQL_TCP_PORT:-5432}
    [ -n "${POSTGRESQL_TCP_PORT:-}" ] && listen=127.0.0.1
    postgresql_own "$dir"
    postgresql_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
        -t 60 start -o "$(printf '%q ' \
            -c "listen_addresses=$listen" -c "port=$port" \
            -c "unix_socket_directories=$dir" -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off \
            -c shared_buffers=512MB -c max_wal_size=4GB \
            -c checkpoint_timeout=30min -c maintenance_work_mem=256MB \
            -c log_min_messages=warning "${tls[@]}" "$@")" \
        >"$dir/pg_ctl.log" 2>&1 || {
        echo "PostgreSQL did not start; its log:" >&2
        tail -20 "$dir/postgres.log" "$dir/pg_ctl.log" >&2
        return 1
    }
    POSTGRESQL_STARTED="$POSTGRESQL_STARTED $dir"
    POSTGRESQL_HOST=$dir
    POSTGRESQL_PORT=$port
    export POSTGRESQL_HOST POSTGRESQL_PORT POSTGRESQL_STARTED
}

# postgresql_start_standby DIR: a hot standby streaming from the server
# that postgresql_start started last (pg_basebackup -R over its socket),
# listening on its own socket in DIR only. POSTGRESQL_HOST/_PORT then
# name the standby; the primary's are in POSTGRESQL_PRIMARY_HOST/_PORT.
postgresql_start_standby() {
    local dir=$1 bin
    bin=$(postgresql_bindir) || return 1
    POSTGRESQL_PRIMARY_HOST=$POSTGRESQL_HOST
    POSTGRESQL_PRIMARY_PORT=$POSTGRESQL_PORT
    export POSTGRESQL_PRIMARY_HOST POSTGRESQL_PRIMARY_PORT
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chmod 755 "$dir"
    postgresql_own "$dir"
    postgresql_as env PGPASSWORD="$POSTGRESQL_SUPERPASS" "$bin/pg_basebackup" \
        -h "$POSTGRESQL_HOST" -p "$POSTGRESQL_PORT" -U postgres \
        -D "$dir/data" -R -X stream -c fast >"$dir/basebackup.log" 2>&1 ||
        { cat "$dir/basebackup.log" >&2; return 1; }
    POSTGRESQL_TCP_PORT="" POSTGRESQL_TLS="" postgresql_start "$dir"
}

# psql on our server, no ~/.psqlrc, stopping at the first error.
postgresql_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$POSTGRESQL_HOST" -p "$POSTGRESQL_PORT" \
        "$@"
}

postgresql_sql() {
    local sql=$1; shift
    PGPASSWORD=$POSTGRESQL_SUPERPASS postgresql_psql -U postgres -d postgres \
        -At -c "$sql" "$@"
}

# postgresql_add_role ROLE PASSWORD [DB]: a login role with that password,
# and the database DB it owns (its public schema too).
postgresql_add_role() {
    local role=$1 pass=$2 db=${3:-}
    postgresql_sql "CREATE ROLE \"$role\" LOGIN PASSWORD '$pass'" || return 1
    [ -n "$db" ] || return 0
    postgresql_sql "CREATE DATABASE \"$db\" OWNER \"$role\"" &&
        PGPASSWORD=$POSTGRESQL_SUPERPASS postgresql_psql -U postgres -d "$db" \
            -c "ALTER SCHEMA public OWNER TO \"$role\""
}

postgresql_psql_as() {
    local role=$1 pass=$2 db=$3; shift 3
    PGPASSWORD=$pass postgresql_psql -U "$role" -d "$db" "$@"
}

postgresql_stop() {
    local dir=$1 bin pid
    [ -f "$dir/data/postmaster.pid" ] || return 0
    bin=$(postgresql_bindir) || return 1
    pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null)
    postgresql_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop \
        >/dev/null 2>&1 && return 0
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    return 0
}

postgresql_stop_all() {
    local d
    for d in $POSTGRESQL_STARTED; do postgresql_stop "$d"; done
    POSTGRESQL_STARTED=""
}
