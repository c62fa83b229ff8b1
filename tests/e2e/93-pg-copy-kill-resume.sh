#!/bin/bash
# kill -9 of the orchestrator during the bulk copy into PostgreSQL, at the
# crash point between a chunk's COMMIT and its checkpoint (the chunk is on
# the target but the checkpoint does not know it) and after an index, then
# `cutover resume`: the chunk is copied again over its own rows — COPY has
# no REPLACE, the driver replaces them — and the migration completes with
# every row equal on both sides and the foreign keys validated.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"

start_pg
shop_db "$T/base.sqlite3" 40000

run_case() {
    local crash=$1 db="shop_$2"
    rm -rf "$STATE"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    rm -f "$T/shop.sqlite3-wal" "$T/shop.sqlite3-shm"
    postgresql_sql "CREATE DATABASE $db OWNER migrator" >/dev/null
    pg_runbook "$T/runbook.json" "{'target': {'database': '$db'},
        'copy': {'workers': 2, 'chunk_target_ms': 20}}"
    # the chunk the checkpoint does not know is on the target at the crash
    crash_resume "$crash"
    pg_compare "$T/shop.sqlite3" "$db"
    assert_eq "3 0" "$(pg_sql "$db" "SELECT count(*) || ' ' || count(*) FILTER (WHERE NOT convalidated) FROM pg_constraint WHERE contype = 'f'")" \
        "foreign keys made and validated after $crash"
}

run_case bulk_copy:chunk:1 a
run_case bulk_copy:chunk:5 b
run_case bulk_copy:indexes:2 c
echo ok
