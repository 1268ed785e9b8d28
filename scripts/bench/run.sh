#!/bin/sh
# run.sh — koop's benchmark suite (`make bench`).  Usage: run.sh KOOP
# Builds the C helpers, generates the dataset, then runs every workload's
# contenders interleaved: each repetition runs every contender of every
# workload once, in an order rotated by one per repetition, so drift in the
# machine's speed spreads over all of them.  Prints medians, ratios to the
# raw-C floor and koop's targets (time judged on the median of the paired,
# per-repetition ratios).  Every run's output is checked (same rows,
# same count as the others): a wrong answer stops the benchmark.
#
# Environment: BENCH_ROWS (default 1000000), BENCH_REPS (11), BENCH_STARTS
# (W4 start-ups per repetition, 200), BENCH_ONLY (e.g. "w1 w3"), CC,
# PYTHON (python3), LUA (lua5.4), SQLITE3 (sqlite3), TMPDIR.
#
# A workload is a directory wN/ with workload.sh, sourced here, defining:
#   wN_title        one line saying what is measured
#   wN_contenders   contender names, the floor (raw C, "c") first
#   wN_target       koop's time target as a ratio to the floor (or empty)
#   wN_rss_target   koop's peak-RSS target as a ratio (or empty)
#   wN_setup        once, untimed: prepare inputs and expected results
#   wN_run C        untimed preparation, then exactly one `measure` for C
#   wN_check C      after each run: non-zero (with a message) if C was wrong
# and its contenders' scripts next to it.  Helpers for workloads: measure,
# note, db_digest, and the variables HERE BIN WORK KOOP PYTHON LUA SQLITE3
# CSV DB ROWS OUT.
set -eu
# Numbers are read and printed with '.' whatever the user's locale.
[ -n "${LC_ALL:-}" ] && export LC_CTYPE="$LC_ALL"
unset LC_ALL
export LC_NUMERIC=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROWS=${BENCH_ROWS:-1000000}
REPS=${BENCH_REPS:-11}
STARTS=${BENCH_STARTS:-200}
PYTHON=${PYTHON:-python3}
LUA=${LUA:-lua5.4}
SQLITE3=${SQLITE3:-sqlite3}
WORK=${TMPDIR:-/tmp}/koop-bench
BIN=$WORK/bin
RESULTS=$WORK/results
NOTES=$WORK/notes
CSV=$WORK/services.csv
DB=$WORK/services.db

fail () { echo "bench: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: run.sh KOOP" >&2; exit 2; }
case $1 in /*) KOOP=$1 ;; *) KOOP=$(pwd)/$1 ;; esac
for n in "$ROWS" "$REPS" "$STARTS"; do
  case $n in ''|*[!0-9]*|0*) fail "BENCH_ROWS, BENCH_REPS, BENCH_STARTS must be positive integers" ;; esac
done
sh "$HERE/deps.sh" || exit 1
# The interpreter itself, not a wrapper such as pyenv's shim (whose start-up
# would be charged to Python).
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')
"$KOOP" -v >/dev/null 2>&1 || fail "$KOOP does not run (build it with make)"

# ---- helpers for workloads ---------------------------------------------

# measure [-n COUNT] [-i FILE] -- PROGRAM ARG...: time the current
# contender with runone (stdout to $OUT); record "w c seconds kib cpu" in
# $RESULTS and "seconds kib cpu" in $MEASURED.
measure () {
  MEASURED=$("$BIN/runone" -o "$OUT" "$@") || fail "$CUR_W $CUR_C failed: $*"
  echo "$CUR_W $CUR_C $MEASURED" >> "$RESULTS"
}

# note TEXT: a line for the report's notes (each distinct line once;
# lines starting with the same "key: " are merged).
note () {
  grep -qxF -- "$*" "$NOTES" 2>/dev/null || echo "$*" >> "$NOTES"
}

# db_digest DB: one line that changes when any value or type in
# services changes (sums weighted by id, so order and placement count).
db_digest () {
  "$SQLITE3" -readonly "$1" "SELECT count(*), sum(id * case_id),
    sum(id * institution_id), printf('%.17g', total(id * hours)),
    sum(id * cost_grosze), sum(id * length(service_type)),
    sum(id * unicode(service_type)), sum(id * unicode(substr(service_type, -1))),
    printf('%.17g', total(id * replace(date, '-', ''))),
    sum(typeof(id) || typeof(case_id) || typeof(institution_id) || typeof(service_type)
        || typeof(date) || typeof(hours) || typeof(cost_grosze)
        = 'integerintegerintegertexttextrealinteger')
    FROM services"
}

# label C: how contender C is named in the report.
label () {
  case $1 in
    c) echo "raw C" ;;
    sqlite3) echo "sqlite3 CLI" ;;
    python) echo "Python sqlite3" ;;
    luasql) echo "Lua+LuaSQL" ;;
    *) echo "$1" ;;
  esac
}

# rotate K WORD...: the words rotated left by K (mod their number).
rotate () {
  k=$1; shift
  k=$((k % $#))
  while [ "$k" -gt 0 ]; do first=$1; shift; set -- "$@" "$first"; k=$((k - 1)); done
  echo "$@"
}

# ---- preparation ---------------------------------------------------------

mkdir -p "$BIN" "$WORK/out"
: > "$RESULTS"
: > "$NOTES"
# The floors link Lua and SQLite exactly as koop does (the Makefile's
# LDLIBS: static archives, say), so linking is no part of any ratio.
. "$HERE/tools.sh"
build_tools "$BIN" runone gen floor hello
note "C floors linked as koop is: $BENCH_LIBS"
echo "bench: generating $ROWS rows" >&2
"$BIN/gen" "$ROWS" "$CSV"
rm -f "$DB"
"$BIN/floor" w1 "$HERE/schema.sql" "$CSV" "$DB"

# shellcheck disable=SC2012  # the names are wN
WORKLOADS=${BENCH_ONLY:-$(cd "$HERE" && ls -d w[0-9]* | sort -k1.2n)}
for w in $WORKLOADS; do
  [ -f "$HERE/$w/workload.sh" ] || fail "no workload $w"
  # shellcheck disable=SC1090
  . "$HERE/$w/workload.sh"
  "${w}_setup"
done

# ---- the interleaved repetitions ----------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
rep=1 contenders=
while [ "$rep" -le "$REPS" ]; do
  for w in $WORKLOADS; do
    eval "contenders=\$${w}_contenders"
    # shellcheck disable=SC2086
    for c in $(rotate $((rep - 1)) $contenders); do
      CUR_W=$w CUR_C=$c OUT=$WORK/out/$w-$c
      MEASURED=
      "${w}_run" "$c"
      [ -n "$MEASURED" ] || fail "${w}_run $c measured nothing"
      "${w}_check" "$c" || fail "$w $c gave a wrong result (output in $OUT)"
      echo "$MEASURED" | awk -v p="bench: rep $rep/$REPS  $w" -v c="$(label "$c")" \
        '{ printf "%s %-15s %9.4f s %9.4f s cpu %8.1f MiB\n", p, c, $1, $3, $2 / 1024 }' >&2
    done
  done
  rep=$((rep + 1))
done

# ---- the report -----------------------------------------------------------

versions () {
  "$KOOP" -v 2>&1 | awk 'NR == 1 { print $1, $2 }'
  echo "SQLite $("$SQLITE3" -version | cut -d' ' -f1)"
  "$LUA" -v 2>&1 | cut -d' ' -f1-2
  "$LUA" -e 'print(require("luasql.sqlite3")._VERSION)' | cut -d' ' -f1-2
  "$PYTHON" -V 2>&1
}

{
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
  echo
  echo "koop benchmark — $ROWS rows, $REPS repetitions (medians), $(date '+%Y-%m-%d %H:%M')"
  echo "${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') CPUs; $(versions | paste -sd, - | sed 's/,/, /g')"
  echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
  echo
  for w in $WORKLOADS; do
    eval "echo \"$w: \$${w}_title\"" | sed 's/^w/W/'
  done
  echo
  for w in $WORKLOADS; do
    eval "contenders=\$${w}_contenders target=\$${w}_target rss_target=\$${w}_rss_target"
    echo "T $w ${target:--} ${rss_target:--}"
    # shellcheck disable=SC2086
    for c in $contenders; do echo "C $w $c $(label "$c")"; done
  done | awk -v results="$RESULTS" '
    # median of the n values in a[1..n] (sorted in place)
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    BEGIN {
      while ((getline line < results) > 0) {
        split(line, f, " ")
        k = f[1] SUBSEP f[2]
        n[k]++; secs[k, n[k]] = f[3]; kib[k, n[k]] = f[4]; cpus[k, n[k]] = f[5]
      }
      printf "%-8s %-15s %9s %6s %7s %8s %6s %8s %6s\n", "workload", "contender",
        "seconds", "xC", "spread", "cpu s", "xC", "RSS MiB", "xC"
    }
    $1 == "T" { w = $2; tt[w] = $3; rt[w] = $4; order[++nw] = w; floor[w] = ""; next }
    $1 == "C" {
      c = $3; k = w SUBSEP c
      if (!(k in n)) next
      lbl = $4; for (i = 5; i <= NF; i++) lbl = lbl " " $i
      delete s; delete r; delete u; lo = hi = secs[k, 1]
      for (i = 1; i <= n[k]; i++) {
        s[i] = secs[k, i]; r[i] = kib[k, i]; u[i] = cpus[k, i]
        if (s[i] < lo) lo = s[i]; if (s[i] > hi) hi = s[i]
      }
      ms = median(s, n[k]); mr = median(r, n[k]) / 1024; mu = median(u, n[k])
      if (floor[w] == "") { floor[w] = c; fs[w] = ms; fr[w] = mr; fu[w] = mu }
      med[k] = ms; rss[k] = mr; cpu[k] = mu
      # the paired ratio: run i of c against run i of the floor, taken
      # seconds apart in the same repetition, then the median of those
      fk = w SUBSEP floor[w]
      if (n[k] == n[fk]) {
        for (i = 1; i <= n[k]; i++) q[i] = secs[fk, i] > 0 ? secs[k, i] / secs[fk, i] : 0
        paired[k] = median(q, n[k])
      }
      printf "%-8s %-15s %9.4f %6.2f %6.1f%% %8.4f %6.2f %8.1f %6.2f\n",
        toupper(substr(w, 1, 1)) substr(w, 2), lbl, ms, ms / fs[w],
        (ms > 0 ? 100 * (hi - lo) / ms : 0), mu, (fu[w] > 0 ? mu / fu[w] : 0), mr, mr / fr[w]
    }
    END {
      print ""
      print "koop targets (time: median of the per-repetition ratios to raw C):"
      for (i = 1; i <= nw; i++) {
        w = order[i]; k = w SUBSEP "koop"; W = toupper(substr(w, 1, 1)) substr(w, 2)
        if (!(k in med) || floor[w] == "koop") continue
        if (tt[w] != "-")
          verdict(W " time", (k in paired) ? paired[k] : med[k] / fs[w], tt[w],
            sprintf("(ratio of the medians: %.2f", med[k] / fs[w]) (fu[w] > 0 ? sprintf("; cpu time: %.2f)", cpu[k] / fu[w]) : ")"))
        if (rt[w] != "-") verdict(W " peak RSS", rss[k] / fr[w], rt[w], "")
      }
    }
    function verdict(what, ratio, target, aside) {
      printf "  %-12s %6.3f <= %-5s %s%s\n", what, ratio, target,
        ratio <= target + 0 ? "MET    " : "NOT MET", aside == "" ? "" : "  " aside
    }'
  echo
  echo "Medians over the repetitions.  seconds: wall clock per run; xC: ratio to"
  echo "raw C in the same run; spread: (slowest - fastest) / median; cpu s: user +"
  echo "system time; RSS: peak resident set.  Time targets are judged on the wall"
  echo "clock, as the median of the repetitions' own ratios (koop's run i against"
  echo "raw C's run i, seconds apart): a shared machine's speed drifts over minutes."
  # notes with the same "key: " are merged into one line
  awk '{ k = $0; sub(/: .*/, "", k); v = substr($0, length(k) + 3)
         if (k in m) m[k] = m[k] ", " v; else { m[k] = v; o[++n] = k } }
       END { for (i = 1; i <= n; i++) print "note: " o[i] ": " m[o[i]] }' "$NOTES"
  echo "raw results: $RESULTS (workload contender seconds KiB cpu-seconds, one line per run)"
} | tee "$WORK/report.txt"

# The domain workloads of issues 3, 4 and 7 (each prints its own table and
# targets; BENCH_ROWS scales them too).  BENCH_ONLY limits the run to W1-W4.
if [ -z "${BENCH_ONLY:-}" ]; then
  for extra in w_domain.sh w5_cases.sh w5_procedures.sh w_report.sh; do
    echo
    if [ "$extra" = w_domain.sh ]; then sh "$HERE/$extra" "$KOOP"
    else sh "$HERE/$extra" "$KOOP" "$ROWS"; fi || echo "$extra: failed (see above)"
  done
fi
