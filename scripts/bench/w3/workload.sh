# W3 — streaming into the host language: every (case_id, date, hours) row
# goes through the script, which sums hours per case and month in a hash
# (Lua: a table keyed by case_id..month; Python: a dict; C: an
# open-addressing table) and prints how many cases have a month with more
# than 20 hours.  The sqlite3 CLI has no host language, so it sits out.
# Checked: every count equals the one SQL computes.
# shellcheck shell=sh disable=SC2034  # the variables are read by run.sh
w3_title="stream all rows into the language, count cases with a month over 20 hours"
w3_contenders="c koop python luasql"
w3_target=1.6
w3_rss_target=1.2

w3_setup () {
  W3_EXPECTED=$("$SQLITE3" -readonly "$DB" "SELECT count(DISTINCT case_id) FROM
    (SELECT case_id, sum(hours) AS h FROM services GROUP BY case_id, substr(date, 1, 7))
    WHERE h > 20")
  note "W3 flagged cases: $W3_EXPECTED (of $("$SQLITE3" -readonly "$DB" \
    'SELECT count(DISTINCT case_id) FROM services'))"
}

w3_run () {
  case $1 in
    c)      measure -- "$BIN/floor" w3 "$DB" "$HERE/w3/query.sql" ;;
    koop)   measure -- "$KOOP" --readonly -d "$DB" "$HERE/w3/koop.lua" "$HERE/w3/query.sql" ;;
    python) measure -- "$PYTHON" "$HERE/w3/python.py" "$DB" "$HERE/w3/query.sql" ;;
    luasql) measure -- "$LUA" "$HERE/w3/luasql.lua" "$DB" "$HERE/w3/query.sql" ;;
  esac
}

w3_check () {
  got=$(cat "$OUT")
  [ "$got" = "$W3_EXPECTED" ] && return
  echo "W3 $1: counted '$got' cases, SQL counts $W3_EXPECTED" >&2
  return 1
}
