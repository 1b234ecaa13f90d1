#!/usr/bin/env bash
# scripts/test.sh — sets the machine up for the tests (scripts/setup.sh test) and runs the whole
# test suite, then `deno task check` (format, lint, types, doc lint, publish dry run) as one more
# test, then prints one plain line, "N passed, M failed", and exits non-zero on any failure.
# Arguments go to `deno test` (files to run instead of all of them).
set -uo pipefail
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
trap 'rm -f "$log"' EXIT
deno task test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# deno test's summary: "ok | 12 passed (3 steps) | 0 failed ..." or "FAILED | 3 passed | 1 failed"
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
passed=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')
if [ -z "$summary" ]; then
  passed=0
  failed=1
  echo "test.sh: deno test printed no summary (it crashed or ran nothing)" >&2
fi
if [ "$status" -ne 0 ] && [ "$failed" = 0 ]; then failed=1; fi
# The check counts as one test, so CI holds every change to format, lint, types and docs.
if deno task check; then
  passed=$((passed + 1))
else
  echo "test.sh: deno task check failed (format, lint, types, doc lint or publish dry run; its reason is above)" >&2
  failed=$((failed + 1))
  status=1
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" = 0 ]
