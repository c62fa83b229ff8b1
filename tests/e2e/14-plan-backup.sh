#!/bin/bash
# `cutover plan` exit codes and report; `run` refuses on blocking findings
# (exit 3) and resumes once the runbook resolves them; the online backup
# taken before anything changes is AES-256-GCM encrypted when asked,
# restores to the same rows, and fails cleanly with a wrong key. Runbook
# entries naming tables or columns that are not there (typos) are blocking
# findings that name the entry.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/shop.sqlite3" 5000
cp "$T/shop.sqlite3" "$T/before.sqlite3"
# a blocking problem: a DECIMAL column holding text
sqlite3 "$T/shop.sqlite3" "UPDATE shop_product SET price = 'n/a' WHERE id = 3"
export CUTOVER_BACKUP_KEY=$($PY -c 'import secrets; print(secrets.token_hex(32))')
runbook "$T/runbook.json" "{'backup': {'encrypt_key_env': 'CUTOVER_BACKUP_KEY'}}"

assert_exit 3 "$CUTOVER" plan "$T/runbook.json"
assert_contains "$OUT" "blocking" "plan report"
assert_contains "$OUT" "shop_product.price" "the finding names table.column"
"$CUTOVER" plan "$T/runbook.json" --json >"$T/plan.json" || true
$PY - "$T/plan.json" <<'PY' || fail "plan --json"
import json, sys
p = json.load(open(sys.argv[1]))
f = [x for x in p["findings"] if x["severity"] == "blocking"]
assert len(f) == 1 and f[0]["table"] == "shop_product" and f[0]["column"] == "price", f
assert f[0]["examples"] == [[3]], f[0]["examples"]
assert p["blocking"] == 1
PY

# datetimes said to be UTC instants stay DATETIME on MySQL (TIMESTAMP
# ends in 2038), and plan says so
runbook "$T/utc.json" "{'schema': {'datetimes': 'utc'}}"
assert_exit 3 "$CUTOVER" plan "$T/utc.json"
assert_contains "$OUT" 'schema.datetimes "utc": MySQL has no type for instants that holds every date, so DATETIME(6) keeps the UTC wall-clock values' \
    "the note for UTC datetimes on MySQL"

assert_exit 3 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "blocking finding" "run refuses"
assert_eq failed "$(status 'd["state"]')" "state after refusing"
left=$(sqlite3 "$T/shop.sqlite3" "SELECT count(*) FROM sqlite_master WHERE name LIKE '\_cutover\_%' ESCAPE '\'")
assert_eq 0 "$left" "nothing installed on the source"

# resolve it in the runbook, resume: completes
runbook "$T/runbook.json" "{'backup': {'encrypt_key_env': 'CUTOVER_BACKUP_KEY'},
  'schema': {'overrides': {'shop_product.price': 'VARCHAR(20)'}}}"
assert_exit 0 "$CUTOVER" resume "$T/runbook.json"
assert_contains "$OUT" "completed" "resume after fixing the runbook"
compare "$T/shop.sqlite3" shop

# the backup: encrypted at rest, restores to the rows as they were
[ -f "$STATE/source-backup.sqlite3.enc" ] || fail "no encrypted backup"
[ ! -f "$STATE/source-backup.sqlite3" ] || fail "plaintext backup left behind"
if grep -q "SKU-000001" "$STATE/source-backup.sqlite3.enc"; then
    fail "the encrypted backup contains plaintext"
fi
assert_exit 0 "$CUTOVER" restore-backup "$T/runbook.json" "$T/restored.sqlite3"
$PY - "$T/restored.sqlite3" "$T/shop.sqlite3" <<'PY' || fail "restored rows differ"
import sqlite3, sys
def rows(path, table):
    return sqlite3.connect(path).execute('SELECT * FROM %s ORDER BY rowid' % table).fetchall()
a, b = sys.argv[1], sys.argv[2]
for t in ('auth_user', 'shop_product', 'shop_order', 'shop_orderitem', 'django_session'):
    assert rows(a, t) == rows(b, t), t
PY
CUTOVER_BACKUP_KEY=$($PY -c 'import secrets; print(secrets.token_hex(32))') \
    assert_exit 1 "$CUTOVER" restore-backup "$T/runbook.json" "$T/wrong.sqlite3"
assert_contains "$OUT" "wrong key" "wrong key message"
[ ! -e "$T/wrong.sqlite3" ] && [ ! -e "$T/wrong.sqlite3.restoring" ] \
    || fail "a wrong key left a file behind"
assert_exit 1 "$CUTOVER" restore-backup "$T/runbook.json" "$T/restored.sqlite3"
assert_contains "$OUT" "already exists" "restore refuses to overwrite"

# typos in the runbook: each entry that names nothing is named
rm -rf "$STATE"
runbook "$T/typos.json" "{'state_dir': 'state-typos',
  'tables': {'include': ['shop_*', 'auth_user', 'django_session', 'auth_usr'],
             'keys': {'shop_ordr': 'rowid',
                      'django_session': ['session_key', 'nosuch']}},
  'schema': {'overrides': {'shop_product.prcie': 'DECIMAL(12,2)',
                           'nosuch.x': 'INT'}}}"
assert_exit 3 "$CUTOVER" plan "$T/typos.json"
for what in 'schema.overrides names column shop_product.prcie' \
            'schema.overrides names table nosuch' \
            'tables.keys names table shop_ordr' \
            'tables.keys names column django_session.nosuch' \
            'tables.include entry "auth_usr" matches no table'; do
    assert_contains "$OUT" "$what" "typo finding"
done
echo ok
