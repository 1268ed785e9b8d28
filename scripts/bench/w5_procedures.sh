#!/bin/sh
# W5 with procedures — case:deliver with a ten-rule procedure installed,
# against the same deliveries without procedures (w5_cases.sh's W5).
# Usage: sh scripts/bench/w5_procedures.sh KOOPBIN [ROWS]   (ROWS default 1000000)
#
#   set-up      w5_setup.lua (ROWS/10 cases, 3 members and 2 reasons each)
#               twice: on a plain database, and on one where
#               w5_procedure.lua (ten rules, a stage requirement, a
#               deadline) was installed first, so that every case is
#               pinned to it and has its deadline
#   deliveries  w5_deliver.lua: the W1 services CSV through case:deliver
#               in one transaction, on a fresh copy of each set-up
#               database; with the procedure, every delivery runs its
#               service.delivered rule (sandboxed, under the instruction
#               limit) inside the delivery's savepoint
#
# The two kinds of run alternate, BENCH_REPS times (default 3); the report
# gives medians and the ratio with/without (target <= 1.5).  Each run's
# count and cost sum are checked against the CSV, the database must hold
# one audit row per delivery, and the procedure's database must have every
# case pinned.  Work files go to ${TMPDIR:-/tmp}/koop-bench/w5p.
set -eu
[ $# -ge 1 ] || { echo "usage: sh $0 KOOPBIN [ROWS]" >&2; exit 2; }
KOOP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROWS=${2:-1000000}
REPS=${BENCH_REPS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
WORK=${TMPDIR:-/tmp}/koop-bench/w5p
BIN=$WORK/bin
CSV=$WORK/services.csv
CASES=$((ROWS / 10))
TODAY=2021-12-31
mkdir -p "$BIN"

fail () { echo "w5p: $*" >&2; exit 1; }
[ -x "$KOOP" ] || fail "$KOOP is not an executable"

# The C helpers, built as w5_cases.sh builds them.
. "$HERE/tools.sh"
build_tools "$BIN" runone gen
"$BIN/gen" "$ROWS" "$CSV"
expect=$(awk -F, 'NR > 1 { n++; s += $NF } END { printf "deliveries %d cost %.0f", n, s }' "$CSV")

rmdb () { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

# setup DB [PROCEDURE]: the W5 set-up, with the procedure installed first.
setup () {
  rmdb "$1"
  if [ $# -ge 2 ]; then
    "$KOOP" -d "$1" --today "$TODAY" procedure install "$2" > /dev/null || fail "cannot install $2"
  fi
  "$BIN/runone" -o "$WORK/setup.out" -- "$KOOP" -d "$1" --today "$TODAY" "$HERE/w5_setup.lua" "$CASES" > /dev/null ||
    fail "set-up failed"
}
echo "w5p: set-up of $CASES cases, without and with the procedure" >&2
PLAIN=$WORK/plain.db
PROC=$WORK/procedure.db
setup "$PLAIN"
setup "$PROC" "$HERE/w5_procedure.lua"
pinned=$("$KOOP" -d "$PROC" --readonly -e 'io.write(db:value("SELECT count(*) FROM case_procedure"), " ",
  table.concat(procedures.show("bench").events, ","))')
case $pinned in
  "$CASES "*service.delivered*) ;;
  *) fail "the procedure's database has '$pinned' (pinned cases, events), want $CASES cases and service.delivered" ;;
esac

RESULTS=$WORK/results
: > "$RESULTS"
# deliver SETUPDB LABEL: one delivery run on a fresh copy of the database.
deliver () {
  db=$WORK/run.db
  rmdb "$db"
  cp "$1" "$db"
  m=$("$BIN/runone" -o "$WORK/deliver.out" -- "$KOOP" -d "$db" --today "$TODAY" "$HERE/w5_deliver.lua" "$CSV") ||
    fail "deliveries failed ($2)"
  got=$(cat "$WORK/deliver.out")
  [ "$got" = "$expect" ] || fail "deliveries ($2): got '$got', want '$expect'"
  n=$("$KOOP" -d "$db" --readonly -e 'io.write(db:value("SELECT count(*) FROM service_delivery"), " ", db:value("SELECT count(*) FROM audit_log WHERE entity = ?", "services"))')
  [ "$n" = "$ROWS $ROWS" ] || fail "deliveries ($2): the database holds '$n' (deliveries, their audit rows), want '$ROWS $ROWS'"
  echo "$2 $m" >> "$RESULTS"
  rmdb "$db"
}

i=1
while [ "$i" -le "$REPS" ]; do
  echo "w5p: repetition $i of $REPS" >&2
  if [ $((i % 2)) -eq 1 ]; then deliver "$PLAIN" plain; deliver "$PROC" procedure
  else deliver "$PROC" procedure; deliver "$PLAIN" plain; fi
  i=$((i + 1))
done

awk -v rows="$ROWS" -v cases="$CASES" '
  function median(list, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && list[j-1] > list[j]; j--) { t = list[j]; list[j] = list[j-1]; list[j-1] = t }
    return n % 2 ? list[(n+1)/2] : (list[n/2] + list[n/2+1]) / 2
  }
  { k = $1; n[k]++; wall[k, n[k]] = $2; rss[k, n[k]] = $3; cpu[k, n[k]] = $4 }
  END {
    for (k in n) {
      for (i = 1; i <= n[k]; i++) { w[i] = wall[k, i]; r[i] = rss[k, i]; c[i] = cpu[k, i] }
      mw[k] = median(w, n[k]); mr[k] = median(r, n[k]); mc[k] = median(c, n[k])
    }
    printf "W5 with procedures (%d cases, %d deliveries through case:deliver)\n", cases, rows
    printf "  %-34s %9s %9s %10s\n", "", "wall s", "cpu s", "peak KiB"
    printf "  %-34s %9.3f %9.3f %10d\n", "without procedures", mw["plain"], mc["plain"], mr["plain"]
    printf "  %-34s %9.3f %9.3f %10d\n", "with a ten-rule procedure", mw["procedure"], mc["procedure"], mr["procedure"]
    ratio = mw["procedure"] / mw["plain"]
    printf "  with / without: %.2f (target <= 1.5: %s); +%.2f us per delivery (cpu: %.2f)\n", ratio,
      ratio <= 1.5 ? "met" : "NOT met", (mw["procedure"] - mw["plain"]) / rows * 1e6, mc["procedure"] / mc["plain"]
  }' "$RESULTS"
