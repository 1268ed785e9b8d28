# W4 — start-up: a process that opens an in-memory database, starts Lua and
# prints 1, run BENCH_STARTS times per repetition; the time is per start.
# The floor is hello.c, which links the same libraries as koop.  The other
# contenders' nearest equivalents are listed for scale.  Checked: each
# printed 1.
# shellcheck shell=sh disable=SC2034  # the variables are read by run.sh
w4_title="start-up: open :memory:, start the language, print(1) (time per start)"
w4_contenders="c koop sqlite3 python luasql"
w4_target=1.3
w4_rss_target=

w4_setup () { :; }

w4_run () {
  case $1 in
    c)       measure -n "$STARTS" -- "$BIN/hello" ;;
    koop)    measure -n "$STARTS" -- "$KOOP" -d :memory: -e 'print(1)' ;;
    sqlite3) measure -n "$STARTS" -- "$SQLITE3" :memory: 'SELECT 1' ;;
    python)  measure -n "$STARTS" -- "$PYTHON" -c \
               'import sqlite3; sqlite3.connect(":memory:"); print(1)' ;;
    luasql)  measure -n "$STARTS" -- "$LUA" \
               -e 'require("luasql.sqlite3").sqlite3():connect(":memory:")' -e 'print(1)' ;;
  esac
}

w4_check () {
  [ "$(cat "$OUT")" = 1 ] && return
  echo "W4 $1: printed '$(cat "$OUT")' instead of 1" >&2
  return 1
}
