#!/bin/sh
# tests/fuzz/run.sh [--long] FUZZDIR SECONDS — run every libFuzzer target
# FUZZDIR/<target>_fuzz (built by `make fuzzers`): first its regressions
# (tests/fuzz/regressions/<target>/, every input that once crashed it),
# then SECONDS of fuzzing from its seed corpus (tests/fuzz/corpus/<target>/,
# never written) and what earlier runs found (FUZZDIR/corpus/<target>/).
# A crash, hang, leak or broken property is kept as
# FUZZDIR/crashes/<target>-crash-<sha1> and fails the target: replay it with
# `FUZZDIR/<target>_fuzz FILE`, fix it, and add it to the regressions.
# --long (make fuzz) also minimises the found corpus (libFuzzer -merge).
# Prints one ok/not ok line per check with the executions run, and ends
# with "N passed, N failed" like every test program.
set -u
long=0
[ "${1:-}" = "--long" ] && { long=1; shift; }
dir=${1:?usage: tests/fuzz/run.sh [--long] FUZZDIR SECONDS}
seconds=${2:-15}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
passed=0
failed=0
say_ok() { passed=$((passed + 1)); echo "ok - $1"; }
say_not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }

# A target's log, shown when it fails: libFuzzer's report and the property.
show_log() {
  grep -E 'ERROR:|SUMMARY:|runtime error|fuzz property failed|Test unit written|deadly signal|timeout' "$1" \
    | head -n 12 | sed 's/^/    /'
}

# The short run (make check) starts from a fixed seed, so that it makes the
# same inputs in the same order on every machine (a faster one goes
# further); make fuzz draws a new seed each time to explore.
seed="-seed=${KOOP_FUZZ_SEED:-1}"
[ "$long" -eq 1 ] && seed=""

found=0
for fuzzer in "$dir"/*_fuzz; do
  [ -x "$fuzzer" ] || continue
  found=1
  name=$(basename "$fuzzer" _fuzz)
  corpus=$dir/corpus/$name
  log=$dir/$name.log
  mkdir -p "$corpus" "$dir/crashes"
  dict=""
  [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
  # the example procedures seed the loader too (read, never written)
  seeds=""
  [ "$name" = procedure ] && seeds=examples/procedures

  set -- tests/fuzz/regressions/"$name"/*
  if [ -e "$1" ]; then
    if "$fuzzer" -runs=1 -timeout=20 "$@" >"$log" 2>&1; then
      say_ok "$name: $# regression inputs replayed"
    else
      say_not_ok "$name: a regression input fails again"
      show_log "$log"
    fi
  fi

  # shellcheck disable=SC2086
  "$fuzzer" -max_total_time="$seconds" $seed -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/$name-" $dict "$corpus" "tests/fuzz/corpus/$name" $seeds >"$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  inputs=$(ls "$corpus" | wc -l)
  if [ "$status" -eq 0 ]; then
    say_ok "$name: ${execs:-0} executions in ${seconds} s, no crash (corpus $inputs inputs)"
  else
    say_not_ok "$name: crashed after ${execs:-?} executions (exit status $status, input kept in $dir/crashes/)"
    show_log "$log"
  fi

  if [ "$long" -eq 1 ]; then
    rm -rf "$corpus.min" && mkdir -p "$corpus.min"
    if "$fuzzer" -merge=1 -timeout=10 "$corpus.min" "$corpus" "tests/fuzz/corpus/$name" >"$log.merge" 2>&1; then
      rm -rf "$corpus" && mv "$corpus.min" "$corpus"
      echo "    $name: corpus merged to $(ls "$corpus" | wc -l) inputs"
    fi
  fi
done
[ "$found" -eq 1 ] || say_not_ok "no fuzz targets in $dir (run make fuzzers)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
