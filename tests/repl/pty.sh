# tests/repl/pty.sh — sourced by the REPL tests after tests/lib.sh: run koop
# on a pseudo-terminal (80x24, TERM=xterm, UTF-8 locale, HOME in the
# scratch directory so no personal ~/.editrc or history is touched) and
# drive it with tests/tools/ptyrun.  Not a test itself (no _test suffix).

HOME=$T
LANG=C.UTF-8
export HOME LANG
unset LC_ALL LC_CTYPE

# pty NAME [KOOP ARGS...] < STEPS: run `koop --db $T/repl.db ARGS` under the
# ptyrun steps read from standard input (see tests/tools/ptyrun.c); one
# check, which passes when every step does.  On failure the failing step
# and the end of the transcript are shown.
pty() {
  _name=$1; shift
  if "$PTYRUN" -t 10 - -- "$KOOP" --db "$T/repl.db" "$@" >"$T/out" 2>"$T/err"; then
    pass "$_name"
  else
    failed=$((failed + 1))
    echo "not ok - $_name: $(head -n 1 "$T/err")"
    tail -n +2 "$T/err" | tail -n 40 | sed 's/^/  | /'
  fi
}

# need_ptyrun: skip nothing silently — without the driver every pty check
# fails with the reason.
if [ ! -x "$PTYRUN" ]; then
  echo "not ok - pseudo-terminal driver: $PTYRUN is missing (make builds it)"
  echo "0 passed, 1 failed"
  exit 1
fi
