# scripts/bench/tools.sh — sourced by the bench scripts (which set HERE to
# scripts/bench and define fail).  build_tools BIN TOOL... compiles
# scripts/bench/TOOL.c into BIN/TOOL linked as koop is (the Makefile's
# LDLIBS: Lua and SQLite static), so the C floors and koop pay the same
# start-up; BENCH_LIBS holds those flags for the report.
# shellcheck shell=sh
build_tools () {
  _bin=$1
  shift
  # shellcheck disable=SC2016  # $(LDLIBS) is make's, not the shell's
  BENCH_LIBS=$(make -s --no-print-directory -C "$HERE/../.." \
         --eval 'bench-ldlibs: ; @echo $(LDLIBS)' bench-ldlibs 2>/dev/null) ||
    BENCH_LIBS="$(pkg-config --libs lua5.4 sqlite3 libedit) -lm"
  _cflags=$(pkg-config --cflags lua5.4 sqlite3 libedit)
  for _tool in "$@"; do
    # shellcheck disable=SC2086  # the flags are words
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 $_cflags \
      -o "$_bin/$_tool" "$HERE/$_tool.c" $BENCH_LIBS || fail "cannot compile $_tool.c"
  done
}
