#!/bin/bash
# Every byte that the LOAD DATA stream must escape — tab, newline, carriage
# return, backslash, NUL, ctrl-Z, backspace, the literal text \N, quotes —
# in text and in blobs, NULL vs '' vs 'NULL', 4-byte UTF-8, 1 MiB values,
# and invalid UTF-8 kept as bytes (invalid_utf8: as_blob), round-trip
# byte-exact through both paths: LOAD DATA LOCAL (copy.method load_data)
# and the multi-row INSERT fallback (copy.method insert). The two targets
# are identical to each other and to the source.
# timeout: 200
. "$(dirname "$0")/../lib/common.sh"

start_db
$PY "$ROOT/tests/lib/fixtures.py" escaping "$T/base.sqlite3"
# each migration starts from the untouched database: a finished one leaves
# its fence, which a new migration of the same file refuses
for method in load_data insert; do
    rm -rf "$STATE"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    runbook "$T/runbook.json" "{'target': {'database': 'via_$method'},
        'copy': {'method': '$method'},
        'schema': {'invalid_utf8': 'as_blob'}}"
    assert_exit 0 "$CUTOVER" run "$T/runbook.json"
    compare "$T/shop.sqlite3" "via_$method"
done
# both paths produced byte-identical tables
a=$(sql via_load_data -e "SET SESSION group_concat_max_len = 1073741824; SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, HEX(s), HEX(b), HEX(raw)) ORDER BY id SEPARATOR ';')) FROM t")
b=$(sql via_insert -e "SET SESSION group_concat_max_len = 1073741824; SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, HEX(s), HEX(b), HEX(raw)) ORDER BY id SEPARATOR ';')) FROM t")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "LOAD DATA and INSERT paths differ"
c=$(sql via_insert -e "SELECT HEX(s) FROM bad WHERE id = 1")
assert_eq FF00FE5C09 "$c" "invalid UTF-8 kept byte-exact"
# copy.method "load_data" means it: a server that refuses LOAD DATA LOCAL
# is an error, not a silent fallback to INSERT
sql -e "SET GLOBAL local_infile = 0"
rm -rf "$STATE"
cp "$T/base.sqlite3" "$T/shop.sqlite3"
runbook "$T/runbook.json" "{'target': {'database': 'via_strict'},
    'copy': {'method': 'load_data'}, 'schema': {'invalid_utf8': 'as_blob'}}"
assert_exit 1 "$CUTOVER" run "$T/runbook.json"
assert_contains "$OUT" "refuses LOAD DATA LOCAL INFILE (local_infile is OFF)" \
    "load_data required"
sql -e "SET GLOBAL local_infile = 1"
echo ok
