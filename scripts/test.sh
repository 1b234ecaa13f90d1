#!/usr/bin/env bash
# scripts/test.sh — sets the machine up for the tests (scripts/setup.sh test) and runs the whole
# test suite, then `deno task check` (format, lint, types, doc lint, publish dry run) as one more
# test, then prints one plain line, "N passed, M failed", and exits non-zero on any failure.
# Arguments go to `deno test` (files to run instead of all of them).
#
# CI allows 90 minutes in all. The suite takes ~11 here and the set-up a few; a test that hangs
# must not take the whole allowance and the summary line with it. So `deno test` ends by
# WW_TEST_DEADLINE_S seconds after this script started (default 4500, 75 minutes), the check gets
# 10 minutes more at most, and a run that was cut short counts the tests it finished, and those
# still running as failed, and names them.
set -uo pipefail
started=$SECONDS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=setup.sh
# Sourced outside any `||` or `if`: in such a context bash would ignore `set -e` in its installs.
. "$root/scripts/setup.sh" test
if [ $? -ne 0 ]; then
  echo "test.sh: setting the machine up failed (its reason is above)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
cd "$root"
log=$(mktemp)
check_log=$(mktemp)
trap 'rm -f "$log" "$check_log"' EXIT
left=$((${WW_TEST_DEADLINE_S:-4500} - (SECONDS - started)))
if [ "$left" -lt 10 ]; then left=10; fi
# timeout signals its own process group: deno, its test workers and what they started.
timeout --kill-after=30 "$left" deno task test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
# deno test's summary: "ok | 12 passed (3 steps) | 0 failed ..." or "FAILED | 3 passed | 1 failed"
summary=$(echo "$plain" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
passed=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  # Cut short: no summary. Each test's own line says how it ended ("<file> => <name> ... ok (1ms)";
  # a step's line has a second " ... ", and deno's summary does not count steps as tests). deno
  # names a test that has run a minute ("'<name>' has been running for over (1m0s)"): those named
  # without a line of their end are the hung. One that hung for less than a minute is not named:
  # a run stopped with none named counts one failure for them.
  results=$(grep -vE ' \.\.\. .* \.\.\. ' <<<"$plain")
  passed=$(grep -cE ' \.\.\. ok \(' <<<"$results")
  failed=$(grep -cE ' \.\.\. FAILED \(' <<<"$results")
  running=$(sed -nE "s/^'(.*)' has been running for over .*/\1/p" <<<"$plain" | sort -u |
    while IFS= read -r name; do
      grep -qF -e " => $name ... " <<<"$results" || echo "$name"
    done)
  echo "test.sh: deno test did not end within $left s and was stopped; still running:" >&2
  if [ -n "$running" ]; then
    echo "$running" | sed 's/^/  /' >&2
    failed=$((failed + $(wc -l <<<"$running")))
  else
    echo "  (deno named none: each had run less than a minute)" >&2
    failed=$((failed + 1))
  fi
elif [ -z "$summary" ]; then
  passed=0
  failed=1
  echo "test.sh: deno test printed no summary (it crashed or ran nothing)" >&2
fi
if [ "$status" -ne 0 ] && [ "$failed" = 0 ]; then failed=1; fi
# The check counts as one test, so CI holds every change to format, lint, types and docs. Its
# output (a line per file checked) is shown only when it fails: a CI log's tail must still show
# which tests failed.
if timeout --kill-after=30 600 deno task check >"$check_log" 2>&1; then
  passed=$((passed + 1))
else
  cat "$check_log"
  echo "test.sh: deno task check failed (format, lint, types, doc lint or publish dry run; its reason is above)" >&2
  failed=$((failed + 1))
  status=1
fi
# The tests that failed, and the start of deno test's ERRORS, again last: deno test's own report
# is far up a long log, and CI may show only its tail.
# (A module that fails to load has errors and no test line.)
failures=$(grep -vE ' \.\.\. .* \.\.\. ' <<<"$plain" | sed -nE 's/^(.* => .*) \.\.\. FAILED \(.*/\1/p' | sort -u)
errors=$(sed -n '/^ ERRORS $/,/^ FAILURES $/p' <<<"$plain" | grep -vE '^\s+at ' | head -n 150)
if [ -n "$errors" ]; then
  echo "test.sh: deno test's errors, their first 150 lines:" >&2
  echo "$errors" >&2
fi
if [ -n "$failures" ]; then
  echo "test.sh: these tests failed:" >&2
  echo "$failures" | sed 's/^/  /' >&2
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" = 0 ]
