#!/bin/bash
# Secrets in URLs, and a password that looks like the redaction.
#  1. A migration whose URLs carry secrets — a post_validate HTTP check
#     and an on_stage hook with user:password@ and a query string, a
#     webhook whose path and query are its token — against a server that
#     answers 500, so every one of them is reported as failing, again and
#     again. None of the canaries is in the run's output, events.ndjson or
#     any state file, what `watch` and `status --json` got from the
#     progress socket, or the events another webhook received; the
#     messages still name the host and say what failed.
#  2. The target password is "***", the very text redaction writes: a
#     runbook error quoting it returns at once (exit 2, the runbook path
#     named), `plan` and a whole `run` as a MariaDB user with that password
#     complete.
# timeout: 180
. "$(dirname "$0")/../lib/common.sh"

export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

start_db
shop_db "$T/base.sqlite3" 1000
cp "$T/base.sqlite3" "$T/shop.sqlite3"

# ---- 1. secrets in URLs ----------------------------------------------------
echo 500 >"$T/status500"
http_start bad --status-file "$T/status500"
BAD=${HTTP_URL#http://}
http_start good
GOOD=$HTTP_URL

C_USERINFO='chk-user:Url-canary-pw-3c41'
C_QUERY='token=Url-canary-query-9e02'
C_HOOKPW='Url-canary-hookpw-77d1'
C_HOOKQ='Url-canary-hookq-0b5a'
C_PATH='T0A/B1C/Url-canary-path-5f6e'
C_WHQ='Url-canary-whq-c2d8'
CANARIES="Url-canary-pw-3c41 Url-canary-query-9e02 $C_HOOKPW $C_HOOKQ Url-canary-path-5f6e $C_WHQ"

runbook "$T/runbook.json" "{
  'post_validate': {'watch_s': 2, 'interval_s': 0.5, 'checks': [
    {'name': 'api', 'http': {'url': 'http://$C_USERINFO@$BAD/health?$C_QUERY',
                             'timeout_ms': 2000}}]},
  'hooks': {'on_stage': [{'http': {'method': 'POST',
      'url': 'http://ops:$C_HOOKPW@$BAD/stage?sig=$C_HOOKQ', 'timeout_ms': 2000}}]},
  'notify': [{'webhook': {'url': 'http://$BAD/services/$C_PATH?key=$C_WHQ',
                          'retries': 1, 'timeout_ms': 2000}},
             {'webhook': {'url': '$GOOD/all', 'events': ['stage', 'check', 'log',
                          'completed']}}]}"
"$CUTOVER" run "$T/runbook.json" >"$T/run.out" 2>"$T/run.err" &
RUN=$!
wait_state 60 post_validate
timeout 2 "$CUTOVER" watch "$T/runbook.json" >"$T/watch.txt" 2>&1 </dev/null || true
"$CUTOVER" status "$T/runbook.json" --json >"$T/status.json" 2>&1 || true
wait "$RUN" || { cat "$T/run.err" >&2; fail "the run did not complete"; }
grep -q completed "$T/run.out" || fail "the run did not complete: $(cat "$T/run.out")"

# the secrets were really there to leak: the requests carried them
grep -qF "$C_PATH" "$T/bad.log" || fail "test setup: the webhook was not called"
grep -qF "Url-canary-query-9e02" "$T/bad.log" || fail "test setup: the check was not called"
grep -qF "$C_HOOKQ" "$T/bad.log" || fail "test setup: the hook was not called"
# ... and failed, so there were messages about them
grep -q '"type": *"check".*"ok": *false' "$STATE/events.ndjson" \
    || grep -q '"ok":false' "$STATE/events.ndjson" || fail "no failed check event"
grep -q "webhook http://$BAD/\*\*\*?\*\*\* answered 500" "$T/run.err" \
    || fail "the webhook failure message does not show the redacted URL: $(grep -m3 webhook "$T/run.err")"
grep -q "http://\*\*\*@$BAD/health?\*\*\* answered 500" "$STATE/events.ndjson" \
    || fail "the check failure does not show the redacted URL"
grep -q "http://\*\*\*@$BAD/stage?\*\*\* answered 500" "$STATE/events.ndjson" \
    || fail "the hook failure does not show the redacted URL"

leaks=0
for c in $CANARIES; do
    for f in "$T/run.out" "$T/run.err" "$T/watch.txt" "$T/status.json" \
             "$T/good.log" $(find "$STATE" -type f); do
        if grep -qaF -- "$c" "$f"; then
            echo "LEAK of $c in $f: $(grep -aF -m1 -- "$c" "$f" | cut -c1-300)" >&2
            leaks=$((leaks + 1))
        fi
    done
done
[ "$leaks" = 0 ] || fail "$leaks leaks of URL secrets"
attack_refused "credentials and query of a health check URL kept out of events, socket, webhooks, stderr"
attack_refused "credentials and query of a hook URL kept out of events, socket, webhooks, stderr"
attack_refused "a webhook's path and query (its token) kept out of events, socket, webhooks, stderr"

# ---- 2. a password equal to "***" ------------------------------------------
sql -e "CREATE USER 'stars'@'localhost' IDENTIFIED BY '***';
        GRANT ALL PRIVILEGES ON *.* TO 'stars'@'localhost'"
export STARS_PW='***'
cp "$T/base.sqlite3" "$T/shop.sqlite3"
runbook "$T/bad.json" "{'state_dir': 'state-bad', 'target': {'user': 'stars',
  'password_env': 'STARS_PW'}, 'schema': {'mode': '***'}}"
set +e
OUT=$(timeout 20 "$CUTOVER" plan "$T/bad.json" 2>&1)
code=$?
set -e
[ "$code" != 124 ] || fail "plan hung on an error quoting the password \"***\""
[ "$code" = 2 ] || fail "plan exited $code, expected 2: $OUT"
assert_contains "$OUT" "schema.mode" "the error names the runbook path"
attack_refused "a password equal to the redaction mark does not hang error reporting"

runbook "$T/stars.json" "{'state_dir': 'state-stars', 'target': {'user': 'stars',
  'password_env': 'STARS_PW', 'database': 'shop_stars'}}"
set +e
timeout 30 "$CUTOVER" plan "$T/stars.json" >"$T/plan-stars.out" 2>&1
code=$?
set -e
[ "$code" = 0 ] || { cat "$T/plan-stars.out" >&2; fail "plan as a user with password \"***\" exited $code"; }
set +e
timeout 120 "$CUTOVER" run "$T/stars.json" >"$T/run-stars.out" 2>&1
code=$?
set -e
[ "$code" = 0 ] || { tail -20 "$T/run-stars.out" >&2; fail "run as a user with password \"***\" exited $code"; }
compare "$T/shop.sqlite3" shop_stars
echo ok
