# shellcheck shell=bash
# mysql_source.sh — what the end-to-end scripts of a MySQL source share
# (tests/e2e/98-*, 99-*); sourced after common.sh, with the target started
# (start_db) and $SRC the source's socket.
#
#   binlog_source_start        a private MariaDB logging ROW events (the
#                              default capture is then binlog): $SRC
#   src_sql ARGS...            the mariadb client as root on the source
#   mysql_load DB              the shop fixture $T/shop.sqlite3 as database
#                              DB on the source (tests/lib/mysql_source.py)
#   mysql_runbook DB [WATCH_S] [MODE]
#                              $T/runbook.json: the source's DB → the
#                              target's DB, capture $MYSQL_CAPTURE (unset:
#                              the server's default), cutover.mode MODE
#                              (auto); the switch actions write "target" /
#                              "source" into $T/switch
#   writer_on DB               tests/lib/mysql_source.py writing on DB
#                              until the fence refuses it ($WRITER)
#   writer_fenced              it met the fence, having committed
#   same_rows DB               every row equal on source and target
#   fence_refuses DB           the source's fence refuses a write
#   fence_count DB             the fence triggers on the source's DB
#   ours_on_source DB          our triggers and tables on the source's DB
#   mysql_crash_at DB AT       DB loaded, a run under the writer killed at
#                              fault point AT (CUTOVER_CRASH_AT, exit 137)
#   rollback_following DB      a run switched with the writer following
#                              it, rolled back during post_validate: the
#                              writer back on the source with every
#                              acknowledged order there, nothing of ours
#                              on the source, the target fenced

binlog_source_start() {
    mariadb_start "$T/src" --log-bin="$T/src/binlog" --server-id=1 \
        --binlog-format=ROW || fail "the source MariaDB did not start"
    SRC=$MARIADB_SOCKET
    EXTRA_DBS="$T/src"
}

src_sql() {
    mariadb --no-defaults -S "$SRC" -uroot -N -B "$@"
}

mysql_load() {
    $PY "$ROOT/tests/lib/mysql_source.py" load "$T/shop.sqlite3" "$SRC" "$1"
}

mysql_runbook() {
    runbook "$T/runbook.json" "{'source': {'type': 'mysql', 'socket': '$SRC',
        'user': 'root', 'database': '$1'},
      'target': {'database': '$1'},
      'cutover': {'max_write_pause_ms': 3000, 'mode': '${3:-auto}',
        'switch': [{'exec': ['sh', '-c', 'echo target > \$CUTOVER_STATE_DIR/../switch']}],
        'switch_back': [{'exec': ['sh', '-c', 'echo source > \$CUTOVER_STATE_DIR/../switch']}]},
      'post_validate': {'watch_s': ${2:-1}, 'interval_s': 0.5}}"
    $PY - "$T/runbook.json" "${MYSQL_CAPTURE:-}" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
rb["source"].pop("path", None)
if sys.argv[2]:
    rb["source"]["capture"] = sys.argv[2]
json.dump(rb, open(sys.argv[1], "w"), indent=1)
PYEOF
}

writer_on() {
    $PY "$ROOT/tests/lib/mysql_source.py" write "$SRC" "$1" 120 \
        >"$T/writer.out" 2>"$T/writer.err" &
    WRITER=$!
}

writer_fenced() {
    wait "$WRITER" || { cat "$T/writer.err" >&2; fail "the writer failed"; }
    echo "writer: $(cat "$T/writer.out")"
    [ "$(json_get 'd["fenced"]' <"$T/writer.out")" = True ] \
        || fail "the writer never met the fence: $(cat "$T/writer.out")"
    [ "$(json_get 'd["committed"] > 0' <"$T/writer.out")" = True ] \
        || fail "the writer committed nothing"
}

same_rows() {
    $PY "$ROOT/tests/lib/mysql_source.py" compare "$SRC" "$SOCK" "$1" \
        || fail "source and target differ ($1)"
}

fence_refuses() {
    local msg
    set +e
    msg=$(src_sql "$1" -e "DELETE FROM shop_order ORDER BY id LIMIT 1" 2>&1)
    set -e
    assert_contains "$msg" "cutover: writes moved to target" "fence on $1"
}

fence_count() {
    src_sql "$1" -e "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE
        TRIGGER_SCHEMA = '$1' AND TRIGGER_NAME LIKE '\\_cutover\\_f%'"
}

ours_on_source() {
    src_sql -e "SELECT (SELECT COUNT(*) FROM information_schema.TRIGGERS
        WHERE TRIGGER_SCHEMA = '$1' AND TRIGGER_NAME LIKE '\\_cutover\\_%') +
        (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA =
        '$1' AND TABLE_NAME LIKE '\\_cutover\\_%')"
}

mysql_crash_at() {
    local code
    mysql_load "$1"
    rm -rf "$STATE" "$T/switch"
    mysql_runbook "$1"
    writer_on "$1"
    sleep 0.5
    set +e
    CUTOVER_CRASH_AT="$2" "$CUTOVER" run "$T/runbook.json" \
        >"$T/crash.log" 2>&1
    code=$?
    set -e
    [ "$code" = 137 ] || { cat "$T/crash.log" >&2; fail "$2: no crash: exit $code"; }
}

rollback_following() {
    local msg
    rm -rf "$STATE" "$T/switch" "$T/switch.stop"
    mysql_runbook "$1" 120
    $PY "$ROOT/tests/lib/mysql_source.py" follow "$SRC" "$SOCK" "$1" 300 \
        "$T/switch" "$T/record.json" >"$T/writer.out" 2>"$T/writer.err" &
    WRITER=$!
    sleep 1
    "$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
    RUN=$!
    wait_state 120 post_validate
    wait_for 10 grep -q target "$T/switch"
    sleep 2     # the writer works on the target for a while
    assert_exit 0 "$CUTOVER" ctl "$T/runbook.json" rollback
    wait_run 5 "exit code after rollback"
    wait_for 10 grep -q source "$T/switch"
    sleep 1.5   # and on the source again
    touch "$T/switch.stop"
    wait "$WRITER" || { cat "$T/writer.err" >&2; fail "the writer failed"; }
    echo "writer: $(cat "$T/writer.out")"
    assert_eq "2 source" "$(json_get '"%d %s" % (d["switches"], d["side"])' \
        <"$T/writer.out")" "the writer went to the target and back"
    $PY "$ROOT/tests/lib/mysql_source.py" check "$SRC" "$1" "$T/record.json" \
        || fail "acknowledged writes missing or wrong on the source"
    assert_eq 0 "$(ours_on_source "$1")" "cutover objects left on the source"
    set +e
    msg=$(sql "$1" -e "DELETE FROM shop_order ORDER BY id LIMIT 1" 2>&1)
    set -e
    assert_contains "$msg" "cutover: writes moved back to source" \
        "target fence"
    assert_eq rolled_back "$(status 'd["state"]')" "state"
}
