#!/bin/bash
# `plan` changes nothing on the target server. The server writes a binary
# log (row format: scratch temporary tables are not logged, anything
# persistent is), and before and after each plan the test takes a snapshot
# of the whole server: its binlog position, every schema, table (with
# create/update times and AUTO_INCREMENT), column, index, trigger, routine,
# view and event, and a checksum of every user table. The snapshots must
# be identical
#   - when the target database does not exist (plan reports that `run`
#     will create it; it used to send CREATE DATABASE IF NOT EXISTS),
#   - when it exists with a table of the application and rows elsewhere,
#   both under a case-insensitive collation (collision prediction runs on
#   the server, in a temporary table),
#   - with schema.mode "existing" and no database (a blocking finding).
# Then `run` creates the database itself and completes.
# timeout: 180
. "$(dirname "$0")/../lib/common.sh"

start_db --log-bin="$T/db/binlog" --binlog-format=ROW --server-id=1
shop_db "$T/shop.sqlite3" 3000

snapshot() {
    $PY - "$SOCK" <<'PYEOF'
import pymysql, sys
db = pymysql.connect(unix_socket=sys.argv[1], user='root', charset='utf8mb4')
cur = db.cursor()
def q(sql):
    cur.execute(sql)
    return [tuple(map(str, r)) for r in cur.fetchall()]
SYS = "('mysql', 'information_schema', 'performance_schema', 'sys')"
print('binlog', q('SHOW MASTER STATUS'))
print('schemata', q('SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, '
                    'DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA '
                    'ORDER BY 1'))
for view, cols in [
        ('TABLES', 'TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, '
                   'AUTO_INCREMENT, CREATE_TIME, UPDATE_TIME, TABLE_COMMENT'),
        ('COLUMNS', 'TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, '
                    'IS_NULLABLE, COLUMN_DEFAULT, COLLATION_NAME'),
        ('STATISTICS', 'TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, '
                       'SEQ_IN_INDEX'),
        ('TRIGGERS', 'TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, '
                     'ACTION_STATEMENT'),
        ('ROUTINES', 'ROUTINE_SCHEMA, ROUTINE_NAME'),
        ('VIEWS', 'TABLE_SCHEMA, TABLE_NAME'),
        ('EVENTS', 'EVENT_SCHEMA, EVENT_NAME')]:
    schema = 'TRIGGER_SCHEMA' if view == 'TRIGGERS' else \
        'ROUTINE_SCHEMA' if view == 'ROUTINES' else \
        'EVENT_SCHEMA' if view == 'EVENTS' else 'TABLE_SCHEMA'
    order = ', '.join(str(i + 1) for i in range(cols.count(',') + 1))
    print(view, q('SELECT %s FROM information_schema.%s WHERE %s NOT IN %s '
                  'ORDER BY %s' % (cols, view, schema, SYS, order)))
for s, t in q("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
              "WHERE TABLE_SCHEMA NOT IN %s AND TABLE_TYPE = 'BASE TABLE' "
              "ORDER BY 1, 2" % SYS):
    print('checksum', q('CHECKSUM TABLE `%s`.`%s` EXTENDED' % (s, t)))
PYEOF
}

# plan_changes_nothing WHAT EXIT: plan exits EXIT, the server is unchanged
plan_changes_nothing() {
    snapshot >"$T/before.txt"
    assert_exit "$2" "$CUTOVER" plan "$T/runbook.json"
    PLAN_OUT=$OUT
    snapshot >"$T/after.txt"
    diff "$T/before.txt" "$T/after.txt" >&2 || fail "plan ($1) changed the target server"
}

# 1. no target database: a finding, not a CREATE DATABASE; collisions are
#    still predicted (a temporary table named in the missing database)
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0},
  'schema': {'collation': 'utf8mb4_unicode_ci'}}"
plan_changes_nothing "no database" 0
assert_contains "$PLAN_OUT" "the target database shop does not exist yet; \`cutover run\` creates it" \
    "plan reports the missing database"
assert_eq "" "$(sql -e "SHOW DATABASES LIKE 'shop'")" "database after plan"
attack_refused "plan does not create the target database"

# 2. the database exists, with an empty table of the team and rows in
#    another one; collisions are predicted under a _ci collation
sql -e "CREATE DATABASE shop; CREATE TABLE shop.auth_user (id BIGINT PRIMARY KEY);
        CREATE TABLE shop.notes (id INT PRIMARY KEY, body TEXT);
        INSERT INTO shop.notes VALUES (1, 'kept as it is')"
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0},
  'schema': {'collation': 'utf8mb4_unicode_ci'}}"
plan_changes_nothing "existing database, collisions" 0
assert_contains "$PLAN_OUT" "already exists (empty)" "plan saw the team's table"
attack_refused "plan writes nothing to an existing target (binlog position, schema and checksums unchanged)"

# 3. schema.mode "existing" with no database: blocking, nothing created
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0},
  'schema': {'mode': 'existing'}, 'target': {'database': 'appdb'}}"
plan_changes_nothing "existing mode, no database" 3
assert_contains "$PLAN_OUT" "schema.mode is \"existing\" but the target database appdb does not exist" \
    "plan blocks on the missing database"

# `run` is what creates a missing database
sql -e "DROP DATABASE shop"
runbook "$T/runbook.json" "{'post_validate': {'watch_s': 0}}"
assert_exit 0 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "completed" "run"
assert_eq "utf8mb4_bin" "$(sql -e "SELECT DEFAULT_COLLATION_NAME FROM
    information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop'")" "database made by run"
compare "$T/shop.sqlite3" shop
echo ok
