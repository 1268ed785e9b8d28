#!/bin/sh
# tests/run.sh BUILD... — run the whole suite against each build directory
# (BUILD/koop, BUILD/tests/*_test, BUILD/tools/*): C-level tests, Lua API
# tests (koop test tests/lua), CLI and REPL transcripts, end-to-end
# scenarios.  Every test program ends with "N passed, N failed"; this script
# adds them up, shows the failures, and ends with the total line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
total_pass=0
total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Count one test program's output (in $log) under label $1, exit status $2.
tally() {
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    p=0; f=1
    echo "not ok - $1: ended without a summary line (exit status $2)"
    tail -n 20 "$log" | sed 's/^/    /'
  else
    p=${line%% passed*}
    f=${line#*, }; f=${f%% failed*}
    if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
      f=$((f + 1))
      echo "not ok - $1: sanitizer report"
    fi
    if [ "$f" -gt 0 ] || [ "$2" -ne 0 ]; then
      [ "$f" -eq 0 ] && f=1
      echo "FAIL $1 ($line, exit status $2)"
      grep -E '^not ok' -A 12 "$log" | sed 's/^/    /'
      grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' -A 8 "$log" | head -n 30 | sed 's/^/    /'
    else
      echo "pass $1 ($p)"
    fi
  fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
}

# Run a command with the build's environment; output to $log.
runtest() {
  label=$1; shift
  "$@" >"$log" 2>&1 </dev/null
  tally "$label" $?
}

for build in "$@"; do
  KOOP=$top/$build/koop
  PTYRUN=$top/$build/tools/ptyrun
  export KOOP PTYRUN
  export KOOP_HISTORY=/dev/null KOOP_INIT= KOOP_DB= KOOP_TODAY= KOOP_USER=tester
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
  echo "== suite on $build/koop"
  for t in "$build"/tests/*_test; do
    [ -x "$t" ] && runtest "$t" "$t"
  done
  runtest "koop test tests/lua" "$KOOP" test tests/lua
  runtest "koop test examples/procedures" "$KOOP" test examples/procedures
  for t in tests/cli/*_test.sh tests/repl/*_test.sh tests/e2e/*_test.sh; do
    [ -f "$t" ] && runtest "$t [$build]" sh "$t"
  done
done
# The libFuzzer targets that `make fuzzers` built for the first build, a
# short run of each (KOOP_FUZZ_SECONDS, default 15), once for the suite.
if [ $# -gt 0 ] && ls "$1"/fuzz/*_fuzz >/dev/null 2>&1; then
  runtest "tests/fuzz/run.sh $1/fuzz" sh tests/fuzz/run.sh "$1/fuzz" "${KOOP_FUZZ_SECONDS:-15}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
