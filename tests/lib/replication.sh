# replication.sh — a target primary with a read replica, for the replica
# scenarios (source after common.sh). The primary keeps its unix socket
# ($SOCK) and also listens on 127.0.0.1 for the replica's IO thread, which
# cannot use a socket; the replica is read-only, GTID-positioned, and has
# only a unix socket ($REPLICA_SOCK).
#
#   start_replicated_db           primary + replica, replicating
#   rsql ARGS...                  the mariadb client on the replica
#   replica_running / replica_stopped   both replication threads run / not
#   replica_catch_up              wait until the replica has the primary's
#                                 current position
#   dump_db SOCK DB               every row of DB (tables sorted, rows by
#                                 primary key), for comparing two servers

start_replicated_db() {
    PRIMARY_PORT=$(free_port)
    MARIADB_TCP_PORT=$PRIMARY_PORT start_db --server-id=1 \
        --log-bin="$T/db/binlog" --binlog-format=ROW
    sql -e "CREATE USER repl@'127.0.0.1' IDENTIFIED BY 'repl';
            GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'"
    mariadb_start "$T/replica" --server-id=2 --read-only=ON \
        --relay-log="$T/replica/relay" || fail "the replica did not start"
    REPLICA_SOCK=$MARIADB_SOCKET
    MARIADB_SOCKET=$SOCK
    EXTRA_DBS="$T/replica"
    rsql -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1',
               MASTER_PORT=$PRIMARY_PORT, MASTER_USER='repl',
               MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos,
               MASTER_CONNECT_RETRY=1;
             START SLAVE"
    wait_for 30 replica_running
}

rsql() {
    mariadb --no-defaults -S "$REPLICA_SOCK" -uroot -N -B "$@"
}

replica_running() {
    [ "$(rsql -e "SHOW GLOBAL STATUS LIKE 'Slave_running'" | cut -f2)" = ON ]
}

replica_stopped() {
    ! replica_running
}

replica_catch_up() {
    local pos
    pos=$(sql -e "SELECT @@gtid_binlog_pos")
    [ "$(rsql -e "SELECT MASTER_GTID_WAIT('$pos', 60)")" = 0 ] \
        || fail "the replica did not reach $pos"
}

dump_db() {
    mariadb-dump --no-defaults -S "$1" -uroot --skip-dump-date \
        --skip-comments --order-by-primary --no-create-info \
        --skip-extended-insert "$2"
}
