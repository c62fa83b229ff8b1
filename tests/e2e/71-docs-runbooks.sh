#!/bin/bash
# Every runbook in runbooks/ and examples/ is valid, and fits the
# application it is written for:
#  1. as written, it loads (`cutover check-checkpoint` gets past the
#     runbook and stops at the missing checkpoint: exit 1, not 2). Only the
#     TLS files are pointed at files that exist here, and the environment
#     variables it names are set.
#  2. pointed at a private MariaDB (a private PostgreSQL for a runbook
#     whose target.type is postgresql) and at a sample database of its
#     application (tests/e2e/fixtures/django-app.sql for django*.json,
#     laravel-app.sql for laravel.json, the shop fixture for the others;
#     a MySQL source is that server too, the shop fixture loaded there by
#     tests/lib/mysql_source.py), with everything else as written,
#     `cutover plan` passes (exit 0), and
#     every schema.overrides and tables.keys entry names a real column or
#     table (cutover ignores ones that do not).
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

RUNBOOKS=$(ls "$ROOT"/runbooks/*.json "$ROOT"/examples/*/runbook.json)
[ "$(echo "$RUNBOOKS" | wc -l)" -ge 4 ] || fail "expected at least 4 runbooks: $RUNBOOKS"

# prepare RUNBOOK OUT [SOCK FIXTURE DB]: a copy of RUNBOOK with TLS files
# that exist; with SOCK, pointed at that server, database DB and the
# SQLite file FIXTURE, state in $T. Prints the environment variables it
# names (password_env, encrypt_key_env), one per line.
prepare() {
    $PY - "$@" "$T" <<'PY'
import json, os, sys
args, tmp = sys.argv[1:-1], sys.argv[-1]
src, out = args[:2]
sock, fixture, db = args[2:5] if len(args) == 5 else (None, None, None)
rb = json.load(open(src))
names = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("password_env", "encrypt_key_env"):
                names.append(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(rb)
base = os.path.dirname(os.path.abspath(src))
mysql_source = rb["source"]["type"] == "mysql"
for conn in ([rb["target"]] + rb["target"].get("replicas", []) +
             ([rb["source"]] if mysql_source else [])):
    for k in ("ca", "cert", "key"):
        if k in conn.get("tls", {}):
            conn["tls"][k] = os.path.join(tmp, "pki-" + os.path.basename(conn["tls"][k]))
            open(conn["tls"][k], "a").close()
# relative paths keep meaning the runbook's own directory
for key, holder in (("state_dir", rb), ("path", rb["source"]),
                    ("socket", rb["target"]), ("socket", rb.get("progress", {}))):
    if key in holder and not holder[key].startswith("/"):
        holder[key] = os.path.join(base, holder[key])
if sock:
    rb["state_dir"] = os.path.join(tmp, "state-" + db)
    if mysql_source:
        for k in ("host", "port", "tls", "password_env"):
            rb["source"].pop(k, None)
        rb["source"].update(socket=sock, user="root", database=db + "_src")
    else:
        rb["source"]["path"] = fixture
    for k in ("host", "port", "tls", "password_env", "replicas"):
        rb["target"].pop(k, None)
    if rb["target"]["type"] == "postgresql":
        rb["target"].update(host=os.environ["POSTGRESQL_HOST"],
                            port=int(os.environ["POSTGRESQL_PORT"]),
                            user="migrator", database=db,
                            password_env="CUTOVER_PG_PASSWORD")
    else:
        rb["target"].update(socket=sock, user="root", database=db)
    rb.pop("progress", None)
json.dump(rb, open(out, "w"), indent=1)
print("\n".join(sorted(set(names))))
PY
}

start_db
start_pg
shop_db "$T/shop.sqlite3" 2000
sqlite3 "$T/django.sqlite3" <"$ROOT/tests/e2e/fixtures/django-app.sql" >/dev/null
sqlite3 "$T/laravel.sqlite3" <"$ROOT/tests/e2e/fixtures/laravel-app.sql" >/dev/null

for rb in $RUNBOOKS; do
    name=$(basename "$(dirname "$rb")")-$(basename "$rb" .json)
    echo "== $name"
    # environment variables the runbook names: a password, a 256-bit key
    for var in $(prepare "$rb" "$T/$name.parse.json"); do
        export "$var=$(openssl rand -hex 32)"
    done

    # 1. as written
    assert_exit 1 "$CUTOVER" check-checkpoint "$T/$name.parse.json"
    case "$OUT" in *"runbook "*) fail "$name does not load: $OUT" ;; esac
    assert_contains "$OUT" "checkpoint.json" "$name as written"

    # 2. planned against its application's database
    case "$name" in
    runbooks-django*) fixture=$T/django.sqlite3 ;;
    runbooks-laravel) fixture=$T/laravel.sqlite3 ;;
    *) fixture=$T/shop.sqlite3 ;;
    esac
    db=$(echo "$name" | tr -c 'a-z0-9\n' '_')
    prepare "$rb" "$T/$name.plan.json" "$SOCK" "$fixture" "$db" >/dev/null
    if [ "$(json_get 'd["source"]["type"]' <"$T/$name.plan.json")" = mysql ]
    then
        $PY "$ROOT/tests/lib/mysql_source.py" load "$fixture" "$SOCK" \
            "${db}_src"
    fi
    assert_exit 0 "$CUTOVER" plan "$T/$name.plan.json" --json
    echo "$OUT" >"$T/$name.plan.out"
    $PY - "$T/$name.plan.json" "$T/$name.plan.out" <<'PY' || fail "$name: entries that match nothing"
import json, sys
rb = json.load(open(sys.argv[1]))
plan = json.load(open(sys.argv[2]))
cols = {(t["name"], c["name"]): c for t in plan["tables"] for c in t["columns"]}
bad = []
for key, want in rb.get("schema", {}).get("overrides", {}).items():
    col = cols.get(tuple(key.split(".", 1)))
    if not col:
        bad.append("schema.overrides %s: no such column" % key)
    elif col["type"].upper() != want.upper():
        bad.append("schema.overrides %s: planned as %s" % (key, col["type"]))
tables = {t["name"] for t in plan["tables"]}
for table in rb.get("tables", {}).get("keys", {}):
    if table not in tables:
        bad.append("tables.keys %s: no such table" % table)
print("\n".join(bad) or "%d tables, %d overrides, all matched"
      % (len(tables), len(rb.get("schema", {}).get("overrides", {}))))
sys.exit(1 if bad else 0)
PY
done
echo ok
