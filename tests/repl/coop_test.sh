#!/bin/sh
# tests/repl/coop_test.sh — the cooperation structure at the REPL (issue 3
# part 11) on the database of examples/bogoria.lua: an agreement, a team
# and a meeting print as one line, members, meetings, due tasks and
# indicators as box tables, and TAB completes fields and methods.
. tests/lib.sh
. tests/repl/pty.sh
KOOP_HISTORY=$T/history
export KOOP_HISTORY
"$KOOP" --db "$T/repl.db" examples/bogoria.lua >/dev/null 2>&1 || echo "not ok - examples/bogoria.lua did not run"

pty "entities print as one line" <<'STEPS'
prompt ^koop>[ ]
send teams.get(1)\r
expect ^Team#1 G-PZK "G-PZK Bogoria" \(Bogoria\), formed 2019-07-01$
prompt ^koop>[ ]
send meetings.get(1)\r
expect ^Meeting#1 2019-07-10 posiedzenie zespołu \(held\), G-PZK Bogoria, protocol 1/2019$
prompt ^koop>[ ]
send agreements.get(1).status\r
expect ^signed$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "lists print as box tables" <<'STEPS'
prompt ^koop>[ ]
send teams.get(1):members()\r
expect ^│ +3 │ animator powia… │ Tomasz Madej
prompt ^koop>[ ]
send meetings.find{kind = "wizyta"}\r
expect ^│ +6 │ 2019-10-23 │ wizyta st
expect ^└
prompt ^koop>[ ]
send tasks.due{on = "2019-11-01"}\r
expect ^│ upcoming │ 2019-11-.* │ +6 │
prompt ^koop>[ ]
send indicators.compute{gmina = "2612012", at = "2020-03-31"}\r
expect ^│ podmioty_w_zespolach +│ Podmioty .* │ +10 │$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "TAB completes the fields of teams, meetings and tasks" <<'STEPS'
prompt ^koop>[ ]
send t, m, z = teams.get(1), meetings.get(1), tasks.get(1)\r
prompt ^koop>[ ]
send t.form\t\r
expect ^2019-07-01$
prompt ^koop>[ ]
send m.protocol_\t\r
expect ^1/2019$
prompt ^koop>[ ]
send z.done_\t\r
expect ^2019-09-27$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "TAB completes the methods of entities after ':'" <<'STEPS'
prompt ^koop>[ ]
send t, m = teams.get(1), meetings.get(1)\r
prompt ^koop>[ ]
send #t:memb\t{on = "2020-03-31"})\r
expect ^12$
prompt ^koop>[ ]
send m:pres\t)\r
expect ^10$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

finish
