#!/bin/sh
# w_domain.sh KOOP — the issue-3 benchmark: 10,000 institutions, 20,000
# people and 5,000 meetings with 8 attendees each, in one transaction,
# through the domain API (domain_api.lua: validation, audit log and events
# included) against the same rows by plain db:exec INSERTs
# (domain_plain.lua), with the same koop binary, each on a fresh database
# created by `koop init` (untimed).  A third contender shows where the
# time goes: the plain INSERTs with only what the design adds to each row,
# a savepoint and an audit-log row (domain_floor.lua, the SQL floor of the
# domain API).  Interleaved repetitions; prints the median wall time of
# each, the ratios and whether the target (domain API ≤ 3× plain inserts)
# is met.  All three databases are checked to hold the same rows, the
# domain one a verified audit row per row, the floor one a verified log.
#
# Environment: BENCH_REPS (default 3), TMPDIR.  Exit status 0 when the
# runs were correct (met or not), 1 when a run failed or the rows differ.
set -eu
[ $# -eq 1 ] || { echo "usage: w_domain.sh KOOP" >&2; exit 2; }
case $1 in /*) KOOP=$1 ;; *) KOOP=$(pwd)/$1 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=${BENCH_REPS:-3}
WORK=${TMPDIR:-/tmp}/koop-bench/domain
TARGET=3
mkdir -p "$WORK"
export KOOP_USER=bench KOOP_INIT= KOOP_TODAY= LC_NUMERIC=C

# now: monotonic-enough wall clock in nanoseconds (GNU date).
now() { date +%s%N; }

# fresh NAME: an empty koop database $WORK/NAME.db with the whole schema.
fresh() {
  rm -f "$WORK/$1.db" "$WORK/$1.db-wal" "$WORK/$1.db-shm"
  "$KOOP" -d "$WORK/$1.db" init >/dev/null
}

# timed NAME: run domain_NAME.lua on a fresh database; print seconds.
timed() {
  fresh "$1"
  t0=$(now)
  "$KOOP" -d "$WORK/$1.db" "$HERE/domain_$1.lua" || { echo "w_domain: domain_$1.lua failed" >&2; exit 1; }
  t1=$(now)
  echo $(( (t1 - t0) / 1000 )) | awk '{ printf "%.3f\n", $1 / 1e6 }'
}

# median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: > "$WORK/api.times"
: > "$WORK/floor.times"
: > "$WORK/plain.times"
i=1
while [ "$i" -le "$REPS" ]; do
  case $((i % 3)) in
    1) order="api floor plain" ;;
    2) order="plain api floor" ;;
    0) order="floor plain api" ;;
  esac
  for c in $order; do timed "$c" >> "$WORK/$c.times"; done
  i=$((i + 1))
done

# The same rows in both, and a verified audit row for every domain row.
"$KOOP" -d "$WORK/api.db" "$HERE/domain_digest.lua" audit > "$WORK/api.digest"
"$KOOP" -d "$WORK/plain.db" "$HERE/domain_digest.lua" > "$WORK/plain.digest"
if ! head -n 6 "$WORK/api.digest" | cmp -s - "$WORK/plain.digest"; then
  echo "w_domain: the two databases differ (count and SHA-256 per table):" >&2
  diff "$WORK/api.digest" "$WORK/plain.digest" >&2 || true
  exit 1
fi
set -- $(tail -n 1 "$WORK/api.digest")
if [ "$2" != ok ] || [ "$3" -lt "$4" ]; then
  echo "w_domain: audit log of the domain run: $(tail -n 1 "$WORK/api.digest") (status, audit rows, data rows)" >&2
  exit 1
fi
audit_rows=$3 data_rows=$4
"$KOOP" -d "$WORK/floor.db" "$HERE/domain_digest.lua" audit > "$WORK/floor.digest"
if ! head -n 6 "$WORK/floor.digest" | cmp -s - "$WORK/plain.digest" || [ "$(tail -n 1 "$WORK/floor.digest" | cut -f1)" != "audit ok" ]; then
  echo "w_domain: the floor run's database is not the plain one's with a verified log:" >&2
  diff "$WORK/floor.digest" "$WORK/plain.digest" >&2 || true
  exit 1
fi

api=$(median < "$WORK/api.times")
floor=$(median < "$WORK/floor.times")
plain=$(median < "$WORK/plain.times")
awk -v api="$api" -v floor="$floor" -v plain="$plain" -v target="$TARGET" -v reps="$REPS" -v audit="$audit_rows" -v rows="$data_rows" 'BEGIN {
  ratio = api / plain
  printf "W-domain  10,000 institutions + 20,000 people + 5,000 meetings x 8 attendees, one transaction\n"
  printf "  rows %d (domain run: %d audit rows, chain verified), median of %d runs\n", rows, audit, reps
  printf "  %-46s %8.3f s %6.2f\n", "plain db:exec INSERTs", plain, 1
  printf "  %-46s %8.3f s %6.2f\n", "+ a savepoint and an audit row each (floor)", floor, floor / plain
  printf "  %-46s %8.3f s %6.2f\n", "domain API (validation, objects, audit)", api, ratio
  printf "  ratio %.2f (target <= %d): %s; the design floor alone is %.2f\n", ratio, target, ratio <= target ? "MET" : "NOT MET", floor / plain
}'
