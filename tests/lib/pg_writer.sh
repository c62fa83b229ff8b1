# shellcheck shell=bash
# pg_writer.sh — for the e2e scripts that migrate the shop to PostgreSQL
# under the live writer (tests/e2e/9?-pg-*-live-writer.sh). Source it after
# common.sh, then:
#
#   start_pg_for_writer       start_pg (common.sh), and the application's
#                             way in: the migrator's password in $T/pgpass
#                             (PGPASSFILE, read by libpq for the writer,
#                             psql and psycopg2 in the switch actions, which
#                             do not see the runbook's password_env)
#   PG_WRITER                 the writer's options for that server (set
#                             WRITER_TARGET=postgresql for writer_start)
#   PG_SWITCH_JSON            switch and switch_back actions: each compares
#                             every row first (into $T/at-switch.txt and
#                             $T/at-switch-back.txt: the side left behind is
#                             fenced, the writer waits for its switch file,
#                             so both sides must hold the same rows), then
#                             names the other side in the switch file
#   compared_equal REPORT     that comparison found every row equal

start_pg_for_writer() {
    start_pg
    export PGPASSFILE=$T/pgpass
    (umask 077 && echo "*:*:shop:migrator:$CUTOVER_PG_PASSWORD" >"$PGPASSFILE")
    PG_WRITER=(--pg-host "$POSTGRESQL_HOST" --pg-port "$POSTGRESQL_PORT"
               --pg-user migrator --pg-db shop --pg-schema public)
    pg_switch_scripts
}

# The scripts PG_SWITCH_JSON runs; the comparison's exit status is the
# last line of its report.
pg_switch_scripts() {
    local name side report
    for name in switch switch_back; do
        side=postgresql report=at-switch.txt
        [ "$name" = switch_back ] && side=sqlite report=at-switch-back.txt
        cat >"$T/$name.sh" <<EOS
PGPASSFILE=$PGPASSFILE $PY $ROOT/tests/lib/compare.py $T/shop.sqlite3 \
    "postgresql:host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT user=migrator" \
    shop >$T/$report 2>&1
echo "exit \$?" >>$T/$report
echo $side >$T/switch
EOS
    done
}
PG_SWITCH_JSON="'switch': [{'exec': ['sh', '$T/switch.sh']}],
  'switch_back': [{'exec': ['sh', '$T/switch_back.sh']}]"

compared_equal() {
    [ -s "$1" ] || fail "no comparison in $1: the switch action did not run"
    grep -q '^exit 0$' "$1" && grep -q ': 0 differences$' "$1" ||
        fail "rows differ ($(basename "$1")): $(head -20 "$1")"
    tail -2 "$1" | head -1
}
