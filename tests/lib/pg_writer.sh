# shellcheck shell=bash
# pg_writer.sh — for the e2e scripts that migrate the shop to PostgreSQL
# under the live writer (tests/e2e/9?-pg-*-live-writer.sh). Source it after
# common.sh, then:
#
#   start_pg                  a private PostgreSQL (tests/lib/postgresql.sh):
#                             the role `shop` owns database `shop`; its
#                             password is in $T/pgpass (PGPASSFILE, read by
#                             libpq for the writer, psql and psycopg2) and in
#                             SHOP_PG_PASSWORD for the runbook's password_env
#   pg_runbook PATH [JSON]    runbook() with the PostgreSQL target instead
#   pg_shop SQL               psql as the role shop in database shop
#   compare_pg SQLITE         tests/lib/compare_pg.py against schema public
#   PG_WRITER                 the writer's options for that server (set
#                             WRITER_TARGET=postgresql for writer_start)
#   PG_SWITCH_JSON            switch and switch_back actions: each compares
#                             every row first (into $T/at-switch.txt and
#                             $T/at-switch-back.txt: the side left behind is
#                             fenced, the writer waits for its switch file,
#                             so both sides must hold the same rows), then
#                             names the other side in the switch file.

start_pg() {
    postgresql_start "$T/pg" || fail "PostgreSQL did not start"
    SHOP_PG_PASSWORD=shop-pw-$$
    export SHOP_PG_PASSWORD PGPASSFILE=$T/pgpass
    (umask 077 && echo "*:*:shop:shop:$SHOP_PG_PASSWORD" >"$PGPASSFILE")
    postgresql_add_role shop "$SHOP_PG_PASSWORD" shop ||
        fail "no role for the shop"
    PG_WRITER=(--pg-host "$POSTGRESQL_HOST" --pg-port "$POSTGRESQL_PORT"
               --pg-user shop --pg-db shop --pg-schema public)
    pg_switch_scripts
}

pg_runbook() {
    runbook "$1" "${2:-{\}}"
    $PY - "$1" "$POSTGRESQL_HOST" "$POSTGRESQL_PORT" <<'PYEOF'
import json, sys
path, host, port = sys.argv[1:4]
rb = json.load(open(path))
rb["target"] = {"type": "postgresql", "host": host, "port": int(port),
                "user": "shop", "password_env": "SHOP_PG_PASSWORD",
                "database": "shop", "schema": "public",
                "tls": {"mode": "disable"}}
json.dump(rb, open(path, "w"), indent=1)
PYEOF
}

pg_shop() {
    postgresql_psql -U shop -d shop -At -c "$1"
}

compare_pg() {
    $PY "$ROOT/tests/lib/compare_pg.py" "$1" "$POSTGRESQL_HOST" \
        "$POSTGRESQL_PORT" shop shop
}

# The scripts PG_SWITCH_JSON runs; the comparison's exit status is the
# last line of its report.
pg_switch_scripts() {
    local name side report
    for name in switch switch_back; do
        side=postgresql report=at-switch.txt
        [ "$name" = switch_back ] && side=sqlite report=at-switch-back.txt
        cat >"$T/$name.sh" <<EOF
PGPASSFILE=$PGPASSFILE $PY $ROOT/tests/lib/compare_pg.py $T/shop.sqlite3 \
    $POSTGRESQL_HOST $POSTGRESQL_PORT shop shop >$T/$report 2>&1
echo "exit \$?" >>$T/$report
echo $side >$T/switch
EOF
    done
}
PG_SWITCH_JSON="'switch': [{'exec': ['sh', '$T/switch.sh']}],
  'switch_back': [{'exec': ['sh', '$T/switch_back.sh']}]"

# compared_equal REPORT: the comparison in REPORT found every row equal.
compared_equal() {
    [ -s "$1" ] || fail "no comparison in $1: the switch action did not run"
    grep -q '^exit 0$' "$1" && grep -q ': 0 differences$' "$1" ||
        fail "rows differ ($(basename "$1")): $(head -20 "$1")"
    tail -2 "$1" | head -1
}
