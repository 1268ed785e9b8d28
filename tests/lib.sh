# tests/lib.sh — sourced by the CLI, REPL and end-to-end transcript tests.
# Gives $KOOP (the binary under test), a scratch directory $T, `run` to
# execute a command capturing stdout/stderr/status, assertions that print
# "ok - ..." / "not ok - ...", and `finish`, which prints the summary line.
KOOP=${KOOP:-$(pwd)/build/koop}
PTYRUN=${PTYRUN:-$(pwd)/build/tools/ptyrun}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../../.." 2>/dev/null && pwd)/shared}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
rc=0

# A sanitizer report in any command's stderr is a failure of its own, so
# that tests looking only at stdout still catch leaks and UB.
sanitizer_check() {
  if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/err"; then
    flunk "sanitizer-clean: $*" "sanitizer report"
  fi
}
# run CMD...: stdout → $T/out, stderr → $T/err, status → $rc; stdin empty.
run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; sanitizer_check "$@"; }
# run_in TEXT CMD...: the same with TEXT on standard input.
run_in() { _in=$1; shift; printf '%s' "$_in" | "$@" >"$T/out" 2>"$T/err"; rc=$?; sanitizer_check "$@"; }

pass() { passed=$((passed + 1)); echo "ok - $1"; }
flunk() {
  failed=$((failed + 1)); echo "not ok - $1: $2"
  echo "  --- stdout:"; sed 's/^/  | /' "$T/out" | head -n 20
  echo "  --- stderr:"; sed 's/^/  | /' "$T/err" | head -n 20
}

# expect_rc NAME N: the last command exited with status N.
expect_rc() { if [ "$rc" -eq "$2" ]; then pass "$1"; else flunk "$1" "exit status $rc, expected $2"; fi; }
# expect_out NAME TEXT: stdout is exactly TEXT (plus a final newline).
expect_out() {
  printf '%s\n' "$2" > "$T/want"
  if cmp -s "$T/want" "$T/out"; then pass "$1"; else flunk "$1" "stdout differs from: $2"; fi
}
# expect_out_has NAME REGEX / expect_err_has NAME REGEX: grep -E matches.
expect_out_has() { if grep -Eq -- "$2" "$T/out"; then pass "$1"; else flunk "$1" "stdout lacks /$2/"; fi; }
expect_err_has() { if grep -Eq -- "$2" "$T/err"; then pass "$1"; else flunk "$1" "stderr lacks /$2/"; fi; }
expect_err_empty() { if [ ! -s "$T/err" ]; then pass "$1"; else flunk "$1" "stderr is not empty"; fi; }
# expect_true NAME CMD...: CMD succeeds.
expect_true() { _n=$1; shift; if "$@"; then pass "$_n"; else flunk "$_n" "failed: $*"; fi; }

# cases_db FILE: a database of gmina Bogoria with one NGO (id 1) and 50
# open cases (ids 1-50), ready for a services import; checkpointed.
cases_db() {
  "$KOOP" -d "$1" init --gmina 2612013 >/dev/null 2>&1
  run "$KOOP" -d "$1" --today 2021-12-31 -e '
    db:tx(function()
      institutions.add{ name = "Stowarzyszenie Razem", kind = "NGO", gmina = "2612013" }
      for i = 1, 50 do cases.open{ opened_on = "2019-01-01" } end
    end)
    db:exec("PRAGMA wal_checkpoint(TRUNCATE)")'
  expect_rc "the database of 50 cases" 0
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
