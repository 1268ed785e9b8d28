#!/bin/sh
# W5 — case work through the domain API, against the W1 raw-C floor.
# Usage: sh scripts/bench/w5_cases.sh KOOPBIN [ROWS]     (ROWS default 1000000)
#
#   set-up      w5_setup.lua: ROWS/10 cases (100,000), each with three
#               members and two art. 7 reasons, in one transaction (timed
#               once; no target)
#   deliveries  w5_deliver.lua: the W1 services CSV (ROWS rows, gen.c)
#               recorded through case:deliver in one transaction, on a copy
#               of the set-up database; each delivery writes its row, its
#               audit row and its event
#   floor       floor.c's W1: the same CSV inserted with a prepared
#               statement into a fresh database (WAL, synchronous=NORMAL)
#
# Floor and koop runs alternate, BENCH_REPS times (default 3); the report
# gives medians, the ratio deliveries / floor (target <= 4) and the peak
# resident set of the delivery run at ROWS/4 and at ROWS rows (memory must
# stay flat).  Every koop run's count and cost sum are checked against the
# CSV, and the database must hold one audit row per delivery.  Work files go
# to ${TMPDIR:-/tmp}/koop-bench/w5.  W5_CACHE_KIB=N runs the deliveries
# with an SQLite page cache of N KiB (default: SQLite's 2 MiB).
set -eu
[ $# -ge 1 ] || { echo "usage: sh $0 KOOPBIN [ROWS]" >&2; exit 2; }
KOOP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROWS=${2:-1000000}
REPS=${BENCH_REPS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
WORK=${TMPDIR:-/tmp}/koop-bench/w5
BIN=$WORK/bin
CSV=$WORK/services.csv
CASES=$((ROWS / 10))
QUARTER=$((ROWS / 4))
TODAY=2021-12-31
mkdir -p "$BIN"

fail () { echo "w5: $*" >&2; exit 1; }
[ -x "$KOOP" ] || fail "$KOOP is not an executable"

# The C helpers, linked as koop is (see run.sh).
. "$HERE/tools.sh"
build_tools "$BIN" runone gen floor
"$BIN/gen" "$ROWS" "$CSV"
# what the deliveries must add up to
expect=$(awk -F, 'NR > 1 { n++; s += $NF } END { printf "deliveries %d cost %.0f", n, s }' "$CSV")
expect_q=$(awk -F, -v q="$QUARTER" 'NR > 1 && n < q { n++; s += $NF } END { printf "deliveries %d cost %.0f", n, s }' "$CSV")

rmdb () { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

echo "w5: set-up of $CASES cases (3 members, 2 reasons each)" >&2
SETUP=$WORK/setup.db
rmdb "$SETUP"
setup=$("$BIN/runone" -o "$WORK/setup.out" -- "$KOOP" -d "$SETUP" --today "$TODAY" "$HERE/w5_setup.lua" "$CASES") ||
  fail "set-up failed"
cat "$WORK/setup.out" >&2

RESULTS=$WORK/results
: > "$RESULTS"
# deliver LIMIT LABEL: one delivery run on a fresh copy of the set-up database.
deliver () {
  db=$WORK/run.db
  rmdb "$db"
  cp "$SETUP" "$db"
  m=$("$BIN/runone" -o "$WORK/deliver.out" -- "$KOOP" -d "$db" --today "$TODAY" "$HERE/w5_deliver.lua" "$CSV" "$1") ||
    fail "deliveries failed"
  got=$(cat "$WORK/deliver.out")
  want=$expect
  [ "$1" -lt "$ROWS" ] && want=$expect_q
  [ "$got" = "$want" ] || fail "deliveries: got '$got', want '$want'"
  n=$("$KOOP" -d "$db" --readonly -e 'io.write(db:value("SELECT count(*) FROM service_delivery"), " ", db:value("SELECT count(*) FROM audit_log WHERE entity = ?", "services"))')
  [ "$n" = "$1 $1" ] || fail "deliveries: the database holds '$n' (deliveries, their audit rows), want '$1 $1'"
  echo "$2 $m" >> "$RESULTS"
  rmdb "$db"
}
floor () {
  db=$WORK/floor.db
  rmdb "$db"
  m=$("$BIN/runone" -- "$BIN/floor" w1 "$HERE/schema.sql" "$CSV" "$db") || fail "floor failed"
  echo "floor $m" >> "$RESULTS"
  rmdb "$db"
}

i=1
while [ "$i" -le "$REPS" ]; do
  echo "w5: repetition $i of $REPS" >&2
  if [ $((i % 2)) -eq 1 ]; then floor; deliver "$ROWS" koop; else deliver "$ROWS" koop; floor; fi
  i=$((i + 1))
done
deliver "$QUARTER" quarter

awk -v rows="$ROWS" -v quarter="$QUARTER" -v setup="$setup" -v cases="$CASES" '
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
    split(setup, s, " ")
    printf "W5 case work (%d cases, %d deliveries)\n", cases, rows
    printf "  set-up: %d cases + %d members + %d reasons in %.2f s (%.1f us per case), peak RSS %d KiB\n",
      cases, 3 * cases, 2 * cases, s[1], s[1] / cases * 1e6, s[2]
    printf "  %-28s %9s %9s %10s\n", "", "wall s", "cpu s", "peak KiB"
    printf "  %-28s %9.3f %9.3f %10d\n", "raw C floor (W1 insert)", mw["floor"], mc["floor"], mr["floor"]
    printf "  %-28s %9.3f %9.3f %10d\n", "case:deliver", mw["koop"], mc["koop"], mr["koop"]
    printf "  %-28s %9.3f %9.3f %10d\n", "case:deliver, " quarter " rows", mw["quarter"], mc["quarter"], mr["quarter"]
    ratio = mw["koop"] / mw["floor"]
    printf "  deliveries / floor: %.2f (target <= 4: %s); %.2f us per delivery\n", ratio,
      ratio <= 4 ? "met" : "NOT met", mw["koop"] / rows * 1e6
    printf "  peak RSS at %d vs %d deliveries: %d vs %d KiB (%+.1f%%)\n", quarter, rows, mr["quarter"], mr["koop"],
      (mr["koop"] - mr["quarter"]) * 100 / mr["quarter"]
  }' "$RESULTS"
