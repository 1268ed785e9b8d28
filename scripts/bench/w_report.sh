#!/bin/sh
# w_report.sh — issue 7's benchmarks (reports and data exchange).
# Usage: sh scripts/bench/w_report.sh KOOPBIN [ROWS]     (ROWS default 1000000)
#
#   import     `koop import services` of the W1 CSV (gen.c, ROWS rows) into
#              a copy of the set-up database (w_report_setup.lua: ROWS/10
#              cases, two referrals each, a budget), against floor.c's W1
#              (the same CSV into a plain table: raw C, prepared statement).
#              Target: <= 1.15 x the floor.  For scale, the same rows moved
#              by the sqlite3 shell alone (INSERT ... SELECT from the floor's
#              table into service_delivery, with the same index rebuilt and
#              foreign keys off as koop's import does): what the schema's
#              own work costs, before any CSV or check.
#   reports    `koop report referrals` and `koop report budget` (all
#              gminas, to --today) on the loaded database, against the same
#              SQL statements run by the sqlite3 shell (w_report_sql.lua
#              records them from a run of the report), each measurement
#              the mean of enough runs to last about 0.5 s.  Target: <= 1.1 x.
#
# Runs alternate, BENCH_REPS times (default 3); medians of the wall clock
# (runone: fork to wait4), CPU time and peak RSS.  Checked: the import's
# row count and cost sum equal the floor's; the memory of the import at
# ROWS/10 and ROWS rows (constant: it streams).  Work files go to
# ${TMPDIR:-/tmp}/koop-bench/report.
set -eu
[ $# -ge 1 ] || { echo "usage: sh $0 KOOPBIN [ROWS]" >&2; exit 2; }
KOOP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROWS=${2:-1000000}
REPS=${BENCH_REPS:-3}
SQLITE3=${SQLITE3:-sqlite3}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
WORK=${TMPDIR:-/tmp}/koop-bench/report
BIN=$WORK/bin
CSV=$WORK/services.csv
CASES=$((ROWS / 10))
[ "$CASES" -ge $((ROWS / 100)) ] || CASES=$((ROWS / 100))
TENTH=$((ROWS / 10))
TODAY=2021-12-31
mkdir -p "$BIN"

fail () { echo "w_report: $*" >&2; exit 1; }
[ -x "$KOOP" ] || fail "$KOOP is not an executable"
command -v "$SQLITE3" >/dev/null 2>&1 || fail "no $SQLITE3 (sh scripts/deps.sh --bench installs it)"

# The C helpers, linked as koop is (see run.sh).
. "$HERE/tools.sh"
build_tools "$BIN" runone gen floor
"$BIN/gen" "$ROWS" "$CSV"
head -n $((TENTH + 1)) "$CSV" > "$WORK/tenth.csv"

rmdb () { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

echo "w_report: set-up: $CASES cases, $((CASES * 2)) referrals, a budget" >&2
SETUP=$WORK/setup.db
rmdb "$SETUP"
"$KOOP" -d "$SETUP" --today "$TODAY" "$HERE/w_report_setup.lua" "$CASES" >&2 || fail "set-up failed"
"$SQLITE3" "$SETUP" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null

# The floor's database also gives what the import must hold.
FLOORDB=$WORK/floor.db
rmdb "$FLOORDB"
"$BIN/floor" w1 "$HERE/schema.sql" "$CSV" "$FLOORDB" || fail "floor failed"
expect=$("$SQLITE3" "$FLOORDB" 'SELECT count(*) || " " || sum(cost_grosze) FROM services')

RESULTS=$WORK/results
: > "$RESULTS"
record () { echo "$1 $2" >> "$RESULTS"; }

floor () {
  db=$WORK/run-floor.db
  rmdb "$db"
  m=$("$BIN/runone" -- "$BIN/floor" w1 "$HERE/schema.sql" "$CSV" "$db") || fail "floor failed"
  record floor "$m"
  rmdb "$db"
}
# import FILE LABEL: koop import services of FILE on a copy of the set-up.
import () {
  db=$WORK/run-import.db
  rmdb "$db"
  cp "$SETUP" "$db"
  m=$("$BIN/runone" -o "$WORK/import.out" -- "$KOOP" -d "$db" --today "$TODAY" import services "$1") || {
    cat "$WORK/import.out" >&2; fail "import failed"; }
  if [ "$2" = import ]; then
    got=$("$SQLITE3" "$db" 'SELECT count(*) || " " || sum(cost) FROM service_delivery')
    [ "$got" = "$expect" ] || fail "import: the database holds '$got' (rows, cost), the CSV '$expect'"
    [ -e "$WORK/loaded.db" ] || { "$SQLITE3" "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null; cp "$db" "$WORK/loaded.db"; }
  fi
  record "$2" "$m"
  rmdb "$db"
}
# sqlonly: the same rows moved by the sqlite3 shell alone.
sqlonly () {
  db=$WORK/run-sql.db
  rmdb "$db"
  cp "$SETUP" "$db"
  cat > "$WORK/sqlonly.sql" <<EOF
PRAGMA foreign_keys = OFF;
-- the seal triggers call seal_add, which only koop's connections have
DROP TRIGGER seal_service_delivery_insert;
ATTACH '$FLOORDB' AS f;
CREATE TEMP TABLE names AS SELECT name, code FROM service_type;
BEGIN;
DROP INDEX service_delivery_case_ix;
INSERT INTO service_delivery (case_id, provider_id, service_type, date, units, unit, cost, status)
  SELECT case_id, institution_id, (SELECT code FROM names WHERE name = service_type OR code = service_type), date, hours,
         'godziny', cost_grosze, 'delivered'
    FROM f.services;
CREATE INDEX service_delivery_case_ix ON service_delivery(case_id, date);
COMMIT;
EOF
  m=$("$BIN/runone" -i "$WORK/sqlonly.sql" -- "$SQLITE3" -batch -bail "$db") || fail "sqlite3 load failed"
  record sqlonly "$m"
  rmdb "$db"
}
rmdb "$WORK/loaded.db"
import "$CSV" import     # once untimed in the medians' order: makes loaded.db
: > "$RESULTS"

i=1
while [ "$i" -le "$REPS" ]; do
  echo "w_report: import, repetition $i of $REPS" >&2
  if [ $((i % 2)) -eq 1 ]; then floor; import "$CSV" import; sqlonly; else sqlonly; import "$CSV" import; floor; fi
  i=$((i + 1))
done
import "$WORK/tenth.csv" tenth

# The reports' SQL, recorded from one run of each.  The shell has no
# COLLATE PL (koop's Polish order, used to sort a few names): NOCASE, a
# built-in collation, stands in for it.
LOADED=$WORK/loaded.db
for r in referrals budget; do
  "$KOOP" --readonly -d "$LOADED" --today "$TODAY" "$HERE/w_report_sql.lua" "$r" "$WORK/$r.sql" gmina=all to="$TODAY" 2>&1 |
    sed 's/^/w_report: /' >&2
  sed -i 's/COLLATE PL\b/COLLATE NOCASE/g' "$WORK/$r.sql"
done
# A report of a few milliseconds is mostly process start-up, and one run
# of it is noise: each measurement is the mean of enough back-to-back runs
# to last about half a second (at most 100), the same count for koop and
# the shell, found from one untimed run of the shell.
runs () {
  t=$("$BIN/runone" -i "$WORK/$1.sql" -- "$SQLITE3" -batch -bail -readonly "$LOADED" | cut -d' ' -f1) ||
    fail "sqlite3 $1 failed"
  awk -v t="$t" 'BEGIN { n = int(0.5 / (t > 0 ? t : 0.001)); print (n < 1 ? 1 : n > 100 ? 100 : n) }'
}
n_referrals=$(runs referrals)
n_budget=$(runs budget)
i=1
while [ "$i" -le "$REPS" ]; do
  echo "w_report: reports, repetition $i of $REPS (runs per measurement: $n_referrals, $n_budget)" >&2
  for r in referrals budget; do
    eval "n=\$n_$r"
    m=$("$BIN/runone" -n "$n" -o "$WORK/$r.md" -- "$KOOP" --readonly -d "$LOADED" --today "$TODAY" report "$r" --gmina all --to "$TODAY") ||
      fail "koop report $r failed"
    record "koop-$r" "$m"
    m=$("$BIN/runone" -n "$n" -i "$WORK/$r.sql" -o "$WORK/$r.out" -- "$SQLITE3" -batch -bail -readonly "$LOADED") ||
      fail "sqlite3 $r failed"
    record "sql-$r" "$m"
  done
  i=$((i + 1))
done
grep -q 'Odpowiedzi instytucji przyjmujących' "$WORK/referrals.md" || fail "the referral report lacks its table"
grep -q 'wykonanie według pozycji' "$WORK/budget.md" || fail "the budget report lacks its table"

awk -v rows="$ROWS" -v tenth="$TENTH" -v cases="$CASES" '
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
    printf "Issue 7 benchmarks (%d services, %d cases, %d referrals)\n", rows, cases, 2 * cases
    printf "  %-44s %9s %9s %10s %8s\n", "", "wall s", "cpu s", "peak KiB", "x"
    line("raw C floor (W1: CSV into a plain table)", "floor", "floor")
    line("koop import services", "import", "floor")
    line("sqlite3 shell alone (no CSV, checks, seal)", "sqlonly", "floor")
    printf "  import / floor: %.2f (target <= 1.15: %s); %.2f us per row\n", mw["import"] / mw["floor"],
      mw["import"] / mw["floor"] <= 1.15 ? "met" : "NOT met", mw["import"] / rows * 1e6
    printf "  import peak RSS at %d vs %d rows: %d vs %d KiB\n", tenth, rows, mr["tenth"], mr["import"]
    line("sqlite3: the referral report'"'"'s SQL", "sql-referrals", "sql-referrals")
    line("koop report referrals", "koop-referrals", "sql-referrals")
    line("sqlite3: the budget report'"'"'s SQL", "sql-budget", "sql-budget")
    line("koop report budget", "koop-budget", "sql-budget")
    for (j = 1; j <= 2; j++) {
      rep = j == 1 ? "referrals" : "budget"
      x = mw["koop-" rep] / mw["sql-" rep]
      printf "  %s report / its SQL in sqlite3: %.2f (target <= 1.1: %s)\n", rep, x, x <= 1.1 ? "met" : "NOT met"
    }
  }
  function line(label, k, base) {
    printf "  %-44s %9.4f %9.4f %10d %8.2f\n", label, mw[k], mc[k], mr[k], mw[k] / mw[base]
  }' "$RESULTS"
