#!/bin/sh
# tests/repl/terminal_test.sh — the REPL at a terminal (driven through a
# pseudo-terminal): the prompt and printing, continuation lines, UTF-8
# input and editing, Ctrl-C at the prompt (the line and a pending
# continuation are dropped), Ctrl-C (or SIGINT from kill) while Lua or SQL
# runs, the koop*> prompt of an open transaction, the rollback of a
# failing entry that opened one, _PROMPT, and Ctrl-D (exit status 0, an
# open transaction rolled back with a warning).
. tests/lib.sh
. tests/repl/pty.sh
KOOP_HISTORY=$T/history
export KOOP_HISTORY

pty "an expression prints its value, a trailing ';' keeps it quiet" <<'STEPS'
prompt ^koop>[ ]
send 1+1\r
expect ^2$
prompt ^koop>[ ]
send x = 6*7;\r
prompt ^koop>[ ]
send 10+1;\r
prompt ^koop>[ ]
send x, _\r
expect ^42$
expect ^11$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "an incomplete chunk continues on '>> ' and runs whole" <<'STEPS'
prompt ^koop>[ ]
send for i = 1, 3 do\r
prompt ^>>[ ]
send print(i * 10)\r
prompt ^>>[ ]
send end\r
expect ^10$
expect ^20$
expect ^30$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "a syntax error in a multi-line entry names the chunk's line" <<'STEPS'
prompt ^koop>[ ]
send local t = {\r
prompt ^>>[ ]
send 1, = 2 }\r
expect ^stdin:2: unexpected symbol near '='
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "UTF-8 input echoes and evaluates correctly" <<'STEPS'
prompt ^koop>[ ]
send "Łoniów"\r
expect ^Łoniów$
prompt ^koop>[ ]
send utf8.len("Łoniów"), #"Łoniów"\r
expect ^6$
expect ^8$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "backspace removes a whole Polish letter" <<'STEPS'
prompt ^koop>[ ]
send "ŁÓ\x7f"\r
expect ^Ł$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "Ctrl-C at the prompt drops the line and prompts again" <<'STEPS'
prompt ^koop>[ ]
send garbage-that-is-not-lua
sleep 200
send \x03
sleep 300
send 1+2\r
expect ^3$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "Ctrl-C in a continuation drops the whole pending entry" <<'STEPS'
prompt ^koop>[ ]
send for i = 1, 2 do\r
prompt ^>>[ ]
send print("never")
sleep 200
send \x03
sleep 300
send 10*10\r
expect ^100$
reject never
send \x04
wait 0
STEPS

pty "Ctrl-C stops a Lua loop and returns to the prompt" <<'STEPS'
prompt ^koop>[ ]
send while true do end\r
busy
sleep 300
send \x03
expect interrupted
prompt ^koop>[ ]
send 2*3\r
expect ^6$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "SIGINT from kill stops a Lua loop the same way" <<'STEPS'
prompt ^koop>[ ]
send local n = 0 while true do n = n + 1 end\r
busy
sleep 300
signal INT
expect interrupted
prompt ^koop>[ ]
send "still here"\r
expect ^still here$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "Ctrl-C stops a long SQL query with an 'interrupted' error" <<'STEPS'
prompt ^koop>[ ]
send db:value("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c")\r
busy
sleep 300
send \x03
expect interrupted
prompt ^koop>[ ]
send 3*3\r
expect ^9$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "an open transaction shows as koop*> until it ends" <<'STEPS'
prompt ^koop>[ ]
send db:exec("BEGIN")\r
prompt ^koop\*>[ ]
send db:exec("CREATE TABLE t(a)");\r
prompt ^koop\*>[ ]
send db:exec("COMMIT");\r
prompt ^koop>[ ]
send db:value("SELECT count(*) FROM t")\r
expect ^0$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "a failing entry that opened a transaction is rolled back" <<'STEPS'
prompt ^koop>[ ]
send db:exec("CREATE TABLE u(a)");\r
prompt ^koop>[ ]
send db:exec("BEGIN") db:exec("INSERT INTO u VALUES (1)") error("stop")\r
expect stdin:1: stop
expect rolled back
prompt ^koop>[ ]
send db:value("SELECT count(*) FROM u")\r
expect ^0$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "a transaction opened by an earlier entry survives a failing entry" <<'STEPS'
prompt ^koop>[ ]
send db:exec("CREATE TABLE v(a)");\r
prompt ^koop>[ ]
send db:exec("BEGIN");\r
prompt ^koop\*>[ ]
send db:exec("INSERT INTO v VALUES (1)") error("oops")\r
expect oops
prompt ^koop\*>[ ]
send db:value("SELECT count(*) FROM v")\r
expect ^1$
prompt ^koop\*>[ ]
send db:exec("COMMIT");\r
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "_PROMPT and _PROMPT2 replace the prompts" <<'STEPS'
prompt ^koop>[ ]
send _PROMPT = "gmina> "; _PROMPT2 = setmetatable({}, {__tostring = function() return "..> " end})\r
prompt ^gmina>[ ]
send do\r
prompt ^\.\.>[ ]
send end\r
prompt ^gmina>[ ]
send \x04
wait 0
STEPS

pty "Ctrl-D leaves with status 0" <<'STEPS'
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "Ctrl-D with an open transaction rolls it back with a warning" <<'STEPS'
prompt ^koop>[ ]
send db:exec("CREATE TABLE w(a)");\r
prompt ^koop>[ ]
send db:exec("BEGIN") db:exec("INSERT INTO w VALUES (1)")\r
prompt ^koop\*>[ ]
send \x04
expect warning: the open transaction was rolled back
wait 0
STEPS

pty "the rolled-back row is not in the database afterwards" <<'STEPS'
prompt ^koop>[ ]
send db:value("SELECT count(*) FROM w")\r
expect ^0$
prompt ^koop>[ ]
send .quit\r
wait 0
STEPS

finish
