#!/bin/sh
# tests/repl/complete_test.sh — TAB completion at a terminal: library
# fields (string.fo -> string.format), methods of the db object (db:qu ->
# db:query), names listed by an __autocomplete metamethod (and methods it
# marks), domain globals loaded by the first TAB, __index
# functions never called, `_` names hidden unless typed, only functions
# after ':', keywords, words after an operator, listing on a second TAB,
# a TAB in indentation, and dot commands with their arguments (command
# names, table names, output modes, file names for .read).
. tests/lib.sh
. tests/repl/pty.sh
KOOP_HISTORY=$T/history
export KOOP_HISTORY

pty "string.fo completes to string.format(" <<'STEPS'
prompt ^koop>[ ]
send string.fo\t"%05d", 42)\r
expect ^00042$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "db:qu completes to db:query(" <<'STEPS'
prompt ^koop>[ ]
send db:qu\t"SELECT 6*7 AS n")[1].n\r
expect ^42$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "__autocomplete lists the fields of an object" <<'STEPS'
prompt ^koop>[ ]
send obj = setmetatable({}, {__autocomplete = function() return {"wojewodztwo", "powiat"} end, __index = function(t, k) return k:upper() end})\r
prompt ^koop>[ ]
send obj.woj\t\r
expect ^WOJEWODZTWO$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "__autocomplete can mark names as methods for ':'" <<'STEPS'
prompt ^koop>[ ]
send o = setmetatable({}, {__autocomplete = function() return {"nazwa", odbierz = "function"} end, __index = function(t, k) if k == "odbierz" then return function() return "odebrano" end end return k end})\r
prompt ^koop>[ ]
send o:od\t)\r
expect ^odebrano$
prompt ^koop>[ ]
send o:na\t\t
reject nazwa
send \x03
sleep 300
send \x04
wait 0
STEPS

pty "the domain globals are loaded on the first TAB" <<'STEPS'
prompt ^koop>[ ]
send package.loaded["koop.domain"] = {load_all = function() rawset(_G, "instytucje_testowe", 5) end}\r
prompt ^koop>[ ]
send instytucje_t\t\r
expect ^5$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "completion never calls an __index function" <<'STEPS'
prompt ^koop>[ ]
send calls = 0; p = setmetatable({}, {__index = function(t, k) calls = calls + 1 end})\r
prompt ^koop>[ ]
send p.abc.d\t\t
sleep 200
send \x03
sleep 300
send p.\t\t
sleep 200
send \x03
sleep 300
send calls\r
expect ^0$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "names starting with _ are offered only when _ is typed" <<'STEPS'
prompt ^koop>[ ]
send t = {_secret = 1, visible = 2}\r
prompt ^koop>[ ]
send t.\t\r
expect ^2$
prompt ^koop>[ ]
send t._\t\r
expect ^1$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "after ':' only functions are offered" <<'STEPS'
prompt ^koop>[ ]
send m = {value = 5, get = function(self) return self.value end}\r
prompt ^koop>[ ]
send m:\t)\r
expect ^5$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "keywords complete, and words after an operator" <<'STEPS'
prompt ^koop>[ ]
send retu\t 7\r
expect ^7$
prompt ^koop>[ ]
send 0+math.maxi\t\r
expect ^9223372036854775807$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "a second TAB lists the candidates" <<'STEPS'
prompt ^koop>[ ]
send string.\t\t
expect string\.upper\(
sleep 200
send \x03
sleep 300
send \x04
wait 0
STEPS

pty "fields of a row complete" <<'STEPS'
prompt ^koop>[ ]
send r = db:first("SELECT 7 AS gmina_id")\r
prompt ^koop>[ ]
send r.gm\t\r
expect ^7$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "dot commands and table names complete" <<'STEPS'
prompt ^koop>[ ]
send db:exec("CREATE TABLE instytucje(id INTEGER PRIMARY KEY)");\r
prompt ^koop>[ ]
send .sch\t inst\t\r
expect ^CREATE TABLE instytucje\(id INTEGER PRIMARY KEY\);$
prompt ^koop>[ ]
send .mode \t\t
expect markdown
sleep 200
send \x03
sleep 300
send \x04
wait 0
STEPS

pty "a TAB at the start of a line indents instead of listing every name" <<'STEPS'
prompt ^koop>[ ]
send for i = 1, 2 do\r
prompt ^>>[ ]
send \t\tprint(i * 3)\r
prompt ^>>[ ]
send end\r
expect ^3$
expect ^6$
reject collectgarbage|possibilities
prompt ^koop>[ ]
send \x04
wait 0
STEPS

printf 'return 40 + 2\n' > "$T/skrypt_gminy.lua"
pty ".read completes file names" <<STEPS
prompt ^koop>[ ]
send .read $T/skrypt_g\t\r
expect ^42$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

finish
