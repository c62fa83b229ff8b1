#!/bin/bash
# A crash (SIGKILL) at every cutover sub-step with the live writer running,
# then `cutover resume`. Right after each crash there is no split brain
# (never the source open while traffic is switched to the target); the
# resumed migration completes; every row is identical on both sides and no
# acknowledged write is lost.
# timeout: 600
. "$(dirname "$0")/../lib/common.sh"

start_db
shop_db "$T/base.sqlite3" 8000

n=0
for point in prepare lock drain reverify fence before_fence_commit fenced switch; do
    n=$((n + 1))
    rm -rf "$STATE" "$T/record.jsonl"
    cp "$T/base.sqlite3" "$T/shop.sqlite3"
    runbook "$T/runbook.json" "{'target': {'database': 'crash$n'},
      'cutover': {$SWITCH_JSON}, 'post_validate': {'watch_s': 1}}"
    crash_cutover_at "$point" mysql
    compare "$T/shop.sqlite3" "crash$n"
    writer_check --mysql-socket "$SOCK" --mysql-db "crash$n"
done
echo ok
