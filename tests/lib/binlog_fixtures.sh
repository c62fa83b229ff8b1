#!/bin/bash
# binlog_fixtures.sh — capture the binlog fixtures of tests/unit/
# test_binlog_rows.c from a real server: a private MariaDB with a row-based
# binlog runs tests/lib/binlog_fixtures.py once per binlog setting below,
# each run in a binlog file of its own, and the files go to
# tests/unit/files/binlog/NAME.binlog beside changes.json, the row changes
# the decoder must find in each of them (from SELECTs on the same server;
# every run must find the same).
#
# The captured files are committed, so the unit test needs no server; run
# this again only to change the workload or after a server upgrade, and
# commit what it writes.
#
#   NAME              binlog_row_image  binlog_row_metadata  log_bin_compress
#   full              FULL              FULL                 OFF
#   minimal-metadata  FULL              MINIMAL              OFF
#   no-metadata       FULL              NO_LOG (the default) OFF
#   minimal-image     MINIMAL           FULL                 OFF
#   compressed        FULL              FULL                 ON (row events
#                                                            of 10+ bytes)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/tests/unit/files/binlog
PY=/usr/bin/python3
# shellcheck source=tests/lib/mariadb.sh
. "$ROOT/tests/lib/mariadb.sh"

T=$(mktemp -d /tmp/co-binlog.XXXXXX)
trap 'mariadb_stop "$T/db"; rm -rf "$T"' EXIT
mariadb_start "$T/db" --log-bin="$T/db/binlog" --server-id=1 \
    --binlog-format=ROW --binlog-checksum=CRC32

mkdir -p "$OUT"

# capture NAME ROW_IMAGE ROW_METADATA COMPRESS
capture() {
    local name=$1 file
    mariadb_sql -e "SET GLOBAL binlog_row_image = '$2',
        GLOBAL binlog_row_metadata = '$3', GLOBAL log_bin_compress = $4,
        GLOBAL log_bin_compress_min_len = 10; FLUSH BINARY LOGS"
    file=$(mariadb_sql -N -e "SHOW MASTER STATUS" | cut -f1)
    # A new connection, so the session takes the new global settings.
    "$PY" "$ROOT/tests/lib/binlog_fixtures.py" "$MARIADB_SOCKET" "$name" \
        "$T/$name.json"
    mariadb_sql -e "FLUSH BINARY LOGS"
    if [ -f "$T/changes.json" ]; then
        cmp -s "$T/changes.json" "$T/$name.json" ||
            { echo "$name: the workload changed other values" >&2; exit 1; }
    else
        cp "$T/$name.json" "$T/changes.json"
    fi
    cp "$T/db/$file" "$OUT/$name.binlog"
    chmod 644 "$OUT/$name.binlog"
    echo "$name: $(wc -c <"$OUT/$name.binlog") bytes from $file"
}

capture full FULL FULL OFF
capture minimal-metadata FULL MINIMAL OFF
capture no-metadata FULL NO_LOG OFF
capture minimal-image MINIMAL FULL OFF
capture compressed FULL FULL ON
cp "$T/changes.json" "$OUT/changes.json"
mariadb_sql -N -e "SELECT VERSION()" >"$OUT/SERVER_VERSION"
