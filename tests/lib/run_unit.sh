#!/bin/sh
# run_unit.sh — run the unit test binaries (cmocka), each in its own
# process; prints "N passed, N failed" over all test cases. The tests of
# the PostgreSQL driver (test_pg_*) get one private server for all of them
# (tests/lib/with_postgresql.sh), those of the MySQL source driver and of
# the binlog reader (test_source_mysql, test_source_binlog,
# test_binlog_stream*, test_binlog_gtid) a private MariaDB keeping a binary log
# (tests/lib/with_mariadb.sh).
if [ -z "${CUTOVER_TEST_PG_HOST:-}" ]; then
    case " $* " in
    *test_pg_*) exec "$(dirname "$0")/with_postgresql.sh" "$0" "$@" ;;
    esac
fi
if [ -z "${CUTOVER_TEST_MY_SOCKET:-}" ]; then
    case " $* " in
    *test_source_mysql*|*test_source_binlog*|*test_binlog_stream*|*test_binlog_gtid*)
        exec "$(dirname "$0")/with_mariadb.sh" "$0" "$@" ;;
    esac
fi
pass=0; failed=0
for b in "$@"; do
    case "$b" in *.d) continue ;; esac
    out=$("$b" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
    pass=$((pass + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" != 0 ]; then
        [ -z "$f" ] && failed=$((failed + 1))
        printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assertion|Sanitizer' | head -20
        echo "FAIL $(basename "$b")"
    else
        echo "ok   $(basename "$b") (${p:-0} tests)"
    fi
done
echo "unit: $pass passed, $failed failed"
[ "$failed" = 0 ]
