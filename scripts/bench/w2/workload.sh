# W2 — an aggregate report: services, hours and cost per institution x
# service type x quarter (query.sql, the same SQL for everyone), printed as
# CSV, over the W1 database opened read-only (koop: --readonly, which also
# keeps koop from switching that database to WAL).  Checked: every output
# holds the same rows as the sqlite3 CLI's (quoting and line ends may
# differ).
# shellcheck shell=sh disable=SC2034  # the variables are read by run.sh
w2_title="aggregate per institution x service type x quarter, printed as CSV"
w2_contenders="c koop sqlite3 python luasql"
w2_target=1.05
w2_rss_target=

w2_setup () {
  "$SQLITE3" -readonly -csv -header "$DB" < "$HERE/w2/query.sql" > "$WORK/w2.expected"
  note "W2 output: $(($(wc -l < "$WORK/w2.expected") - 1)) rows"
}

w2_run () {
  case $1 in
    c)       measure -- "$BIN/floor" w2 "$DB" "$HERE/w2/query.sql" ;;
    koop)    measure -- "$KOOP" --readonly --mode csv -d "$DB" "$HERE/w2/koop.lua" "$HERE/w2/query.sql" ;;
    sqlite3) measure -i "$HERE/w2/query.sql" -- "$SQLITE3" -readonly -csv -header "$DB" ;;
    python)  measure -- "$PYTHON" "$HERE/w2/python.py" "$DB" "$HERE/w2/query.sql" ;;
    luasql)  measure -- "$LUA" "$HERE/w2/luasql.lua" "$DB" "$HERE/w2/query.sql" ;;
  esac
}

w2_check () {
  "$PYTHON" "$HERE/csvdiff.py" "$WORK/w2.expected" "$OUT"
}
