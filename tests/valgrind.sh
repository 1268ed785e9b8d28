#!/bin/sh
# tests/valgrind.sh BUILD — the suite's koop runs under valgrind memcheck
# (make check-valgrind): the Lua API tests, the CLI, REPL and end-to-end
# transcripts, each koop process run by valgrind --leak-check=full with its
# own log.  A log reporting any error, or a definite or indirect leak, is a
# failure named by the command that produced it.  The transcripts'
# own results are tallied too, since a valgrind error can also show up as a
# wrong answer.  Ends with "N passed, N failed" like every test program.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${1:-build}
bin=$top/$build/koop
[ -x "$bin" ] || { echo "no $bin: run make first"; echo "0 passed, 1 failed"; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; echo "0 passed, 1 failed"; exit 1; }

logs=$top/$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
# The wrapper every transcript runs as $KOOP: valgrind's report goes to a
# per-process log, so the transcripts' stdout and stderr stay as they were.
# Leaks that count: definite and indirect (memory nothing points to).
# "Possibly lost" blocks (reachable only through interior pointers) are
# shown but not counted: koop leaves them only at its deliberate emergency
# exit, when a Lua pattern runs past --timeout in C and closing the state
# would be unsafe (README, security); a normal exit frees everything.
cat >"$logs/koop" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \\
  --errors-for-leak-kinds=definite,indirect --track-fds=no \\
  --log-file="$logs/vg.%p.log" "$bin" "\$@"
EOF
chmod +x "$logs/koop"

# KOOP_BIN: what arg[-n] holds (the real binary, not the wrapper).
export KOOP="$logs/koop" KOOP_BIN="$bin" PTYRUN="$top/$build/tools/ptyrun"
# KOOP_VALGRIND: transcripts skip what valgrind itself distorts (peak memory).
export KOOP_VALGRIND=1
export KOOP_HISTORY=/dev/null KOOP_INIT= KOOP_DB= KOOP_TODAY= KOOP_USER=tester

passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Tally one transcript's summary line (in $out) under label $1.
tally() {
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
  f=${line#*, }; f=${f%% failed*}
  if [ -z "$line" ] || [ "$f" -gt 0 ]; then
    failed=$((failed + 1))
    echo "not ok - $1: ${line:-no summary line}"
    grep -E '^not ok' "$out" | head -n 5 | sed 's/^/    /'
  else
    passed=$((passed + 1))
    echo "ok - $1 (${line%%,*})"
  fi
}

"$KOOP" test tests/lua >"$out" 2>&1 </dev/null
tally "koop test tests/lua"
for t in tests/cli/*_test.sh tests/repl/*_test.sh tests/e2e/*_test.sh; do
  sh "$t" >"$out" 2>&1 </dev/null
  tally "$t"
done

# A log whose summary counts errors is a report; a log without a summary
# is a process killed on purpose (SIGKILL trials) or the child of a fork
# (os.execute, io.popen) that went on to run another program.
runs=0
killed=0
for log in "$logs"/vg.*.log; do
  [ -f "$log" ] || continue
  runs=$((runs + 1))
  if ! grep -q 'ERROR SUMMARY:' "$log"; then
    killed=$((killed + 1))
  elif ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
    failed=$((failed + 1))
    cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -n 1)
    echo "not ok - valgrind report for: ${cmd:-?} ($log)"
    grep -E 'Invalid|uninitialised|definitely|indirectly|possibly|Mismatched|overlap' "$log" | head -n 5 | sed 's/^/    /'
  fi
done
if [ "$runs" -gt 0 ]; then
  passed=$((passed + 1))
  echo "ok - $runs koop processes ran under valgrind ($killed of them killed on purpose or forked)"
else
  failed=$((failed + 1)); echo "not ok - no koop process ran under valgrind"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
