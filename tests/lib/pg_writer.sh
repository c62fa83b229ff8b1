# shellcheck shell=bash
# pg_writer.sh — for the e2e scripts that migrate the shop to PostgreSQL
# under the live writer (tests/e2e/9?-pg-*-live-writer.sh). Source it after
# common.sh, then:
#
#   start_pg_for_writer       start_pg (common.sh), and the application's
#                             own role, shop_app, not cutover's: what a DBA
#                             grants it in advance (default privileges of
#                             the tables and sequences the migrator will
#                             create) is all it has. Passwords in $T/pgpass
#                             (PGPASSFILE, read by libpq for the writer,
#                             psql and psycopg2 in the switch actions, which
#                             do not see the runbook's password_env)
#   PG_WRITER                 the writer's options for that server (set
#                             WRITER_TARGET=postgresql for writer_start)
#   pg_app SQL [PSQL-OPTION...]  psql as shop_app in database shop
#   PG_SWITCH_JSON            switch and switch_back actions: each compares
#                             every row first (into $T/at-switch.txt and
#                             $T/at-switch-back.txt: the side left behind is
#                             fenced, the writer waits for its switch file,
#                             so both sides must hold the same rows), then
#                             names the other side in the switch file
#   compared_equal REPORT     that comparison found every row equal

start_pg_for_writer() {
    local app_password=app-$$
    start_pg
    export PGPASSFILE=$T/pgpass
    (umask 077 && printf '*:*:shop:%s:%s\n' migrator "$CUTOVER_PG_PASSWORD" \
        shop_app "$app_password" >"$PGPASSFILE")
    postgresql_add_role shop_app "$app_password" ||
        fail "no role for the application"
    pg_sql shop "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT,
        INSERT, UPDATE, DELETE ON TABLES TO shop_app;
      ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT
        ON SEQUENCES TO shop_app" || fail "could not grant shop_app its rights"
    PG_WRITER=(--pg-host "$POSTGRESQL_HOST" --pg-port "$POSTGRESQL_PORT"
               --pg-user shop_app --pg-db shop --pg-schema public)
    pg_switch_scripts
}

pg_app() {
    postgresql_psql -U shop_app -d shop -At "${@:2}" -c "$1"
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
