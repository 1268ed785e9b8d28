#!/bin/sh
# tests/repl/history_test.sh — the REPL's history file: written after every
# entry (not only at exit), one entry per multi-line chunk, no empty lines,
# no consecutive duplicates, nothing from a line dropped with Ctrl-C,
# private (0600), loaded again at the next start (up arrow), capped at
# 2000 entries, its place ($KOOP_HISTORY, $XDG_STATE_HOME/koop/history,
# ~/.local/state/koop/history, none when KOOP_HISTORY is empty), and
# nothing recorded when standard input is not a terminal.
. tests/lib.sh
. tests/repl/pty.sh
KOOP_HISTORY=$T/history
export KOOP_HISTORY

pty "a first session with single, multi-line, repeated and dropped entries" <<'STEPS'
prompt ^koop>[ ]
send x=42\r
prompt ^koop>[ ]
send h = io.open(os.getenv("KOOP_HISTORY")):read("a")\r
prompt ^koop>[ ]
send h:find("x=42", 1, true) ~= nil\r
expect ^true$
prompt ^koop>[ ]
send for i = 1, 2 do\r
prompt ^>>[ ]
send local y = i\r
prompt ^>>[ ]
send end\r
prompt ^koop>[ ]
send 1+1\r
prompt ^koop>[ ]
send 1+1\r
prompt ^koop>[ ]
send 2+2\r
prompt ^koop>[ ]
send 1+1\r
prompt ^koop>[ ]
send \r
prompt ^koop>[ ]
send    \r
prompt ^koop>[ ]
send secret_garbage
sleep 200
send \x03
sleep 300
send 6*7\r
expect ^42$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

h=$T/history
expect_true "the file starts with libedit's header" test "$(head -n 1 "$h")" = "_HiStOrY_V2_"
expect_true "a multi-line chunk is one entry" \
  grep -Fxq 'for\040i\040=\0401,\0402\040do\012local\040y\040=\040i\012end' "$h"
expect_true "consecutive duplicates are kept once" test "$(grep -cFx '1+1' "$h")" -eq 2
expect_true "a line dropped with Ctrl-C is not recorded" sh -c "! grep -q secret_garbage '$h'"
expect_true "blank entries are not recorded" sh -c "! grep -Eqx '(\\\\040)*' '$h'"
expect_true "every entry is there: 8 and the header" test "$(wc -l < "$h")" -eq 9
expect_true "the last entry is last" test "$(tail -n 1 "$h")" = "6*7"
expect_true "the history file is private (0600)" test "$(stat -c %a "$h")" = 600

pty "the next session recalls the history with the up arrow" <<'STEPS'
prompt ^koop>[ ]
send \e[A\r
expect ^42$
prompt ^koop>[ ]
send \e[A\e[A\e[A\r
expect ^4$
prompt ^koop>[ ]
send \x04
wait 0
STEPS
expect_true "a recalled older entry is added again at the end" test "$(tail -n 1 "$h")" = "2+2"
expect_true "recalling the last entry added no duplicate" test "$(wc -l < "$h")" -eq 10

{
  echo "_HiStOrY_V2_"
  i=1; while [ $i -le 2100 ]; do echo "e$i"; i=$((i + 1)); done
} > "$T/big"
KOOP_HISTORY=$T/big pty "a session on a history of 2100 entries" <<'STEPS'
prompt ^koop>[ ]
send 2+3\r
expect ^5$
prompt ^koop>[ ]
send \x04
wait 0
STEPS
expect_true "the history is capped at 2000 entries" test "$(wc -l < "$T/big")" -eq 2001
expect_true "the oldest entries go first" test "$(sed -n 2p "$T/big")" = "e102"
expect_true "the newest entry is kept" test "$(tail -n 1 "$T/big")" = "2+3"

unset KOOP_HISTORY
XDG_STATE_HOME=$T/state pty "without KOOP_HISTORY the history goes to XDG_STATE_HOME" <<'STEPS'
prompt ^koop>[ ]
send 1\r
prompt ^koop>[ ]
send \x04
wait 0
STEPS
expect_true "\$XDG_STATE_HOME/koop/history is written" test "$(tail -n 1 "$T/state/koop/history")" = "1"
expect_true "its directory is private (0700)" test "$(stat -c %a "$T/state/koop")" = 700

HOME=$T/home pty "without XDG_STATE_HOME it goes to ~/.local/state" <<'STEPS'
prompt ^koop>[ ]
send 2\r
prompt ^koop>[ ]
send \x04
wait 0
STEPS
expect_true "~/.local/state/koop/history is written" test "$(tail -n 1 "$T/home/.local/state/koop/history")" = "2"

KOOP_HISTORY= HOME=$T/nohist pty "an empty KOOP_HISTORY turns the history file off" <<'STEPS'
prompt ^koop>[ ]
send 3\r
prompt ^koop>[ ]
send \x04
wait 0
STEPS
expect_true "no history file is created" test ! -e "$T/nohist/.local/state/koop/history"

KOOP_HISTORY=$T/piped
export KOOP_HISTORY
run_in '1+1
' "$KOOP" --db "$T/repl.db" -i -e "_PROMPT='' _PROMPT2=''"
expect_out "piped input still evaluates" "2"
expect_true "piped input records no history" test ! -e "$T/piped"

finish
