#!/bin/sh
# tests/repl/eval_test.sh — the REPL on piped input (`koop -i < file`, as
# lua.c's own tests drive lua): expressions print (each value on its own
# line), a trailing ';' keeps quiet, `_` keeps the last value, incomplete
# chunks continue, syntax and run-time errors name the chunk's line and
# carry no program prefix, the transaction of a failing entry is rolled
# back but one opened deliberately is kept, prompts (_PROMPT, koop*>), dot
# commands (.help .tables .schema .mode .read .timer .quit, prefixes,
# unknown ones), and the exit status.
. tests/lib.sh
DB=$T/eval.db

# repl TEXT: feed TEXT to the REPL with empty prompts.
repl() { run_in "$1" "$KOOP" --db "$DB" -i -e "_PROMPT='' _PROMPT2=''"; }

repl '1+1
'
expect_out "an expression prints its value" "2"
expect_rc "end of input leaves with status 0" 0

repl '"a", nil, 3
'
expect_out "several values print one per line" "a
nil
3"

repl 'x = 5
x
'
expect_out "a statement prints nothing; a global keeps its value" "5"

repl '10+1;
_
x = 2;
_
'
expect_out "a trailing ';' keeps quiet, and _ still takes the value" "11
11"

repl 'for i = 1, 3 do
print(i)
end
'
expect_out "an incomplete statement continues until complete" "1
2
3"

repl 't = {
10,
20
}
#t
(
1 +
2)
'
expect_out "an incomplete table or expression continues too" "2
3"

repl '.5 + 1
'
expect_out "a line starting with a number is Lua, not a dot command" "1.5"

repl 'print(1,
= 2)
7
'
expect_out "the entry after a syntax error runs" "7"
expect_err_has "a syntax error names the chunk's line" "^stdin:2: unexpected symbol near '='"

repl 'do
local t = nil
return t.x
end
'
expect_err_has "a run-time error names the chunk's line" "^stdin:3: attempt to index a nil value"

repl 'error("boom")
'
expect_err_has "errors print without the koop: prefix" "^stdin:1: boom$"
expect_rc "an error in the REPL keeps status 0" 0

repl 'for i = 1, 2 do
'
expect_err_has "input that ends inside a chunk says what is missing" "'end' expected near <eof>"

repl 'db:exec("CREATE TABLE t(a)");
db:exec("BEGIN") db:exec("INSERT INTO t VALUES (1)") error("stop")
db:value("SELECT count(*) FROM t")
'
expect_out "a failing entry that opened a transaction is rolled back" "0"
expect_err_has "the rollback is announced" "rolled back"

repl 'db:exec("BEGIN");
db:exec("INSERT INTO t VALUES (1)") error("oops")
db:value("SELECT count(*) FROM t")
db:exec("COMMIT");
'
expect_out "a transaction opened by an earlier entry is kept" "1"

repl 'db:exec("BEGIN");
db:exec("INSERT INTO t VALUES (2)");
'
expect_err_has "leaving with an open transaction warns" "warning: the open transaction was rolled back"
repl 'db:value("SELECT count(*) FROM t")
'
expect_out "and rolls it back" "1"

run_in 'db:exec("BEGIN");
db:exec("ROLLBACK");
' "$KOOP" --db "$DB" -i
expect_out "the prompt shows an open transaction" "koop> koop*> koop> "

run_in '1
' "$KOOP" --db "$DB" -i -e '_PROMPT = setmetatable({}, {__tostring = function() return "P> " end})'
expect_out "_PROMPT can be any value with a __tostring" "P> 1
P> "

run_in '1
' "$KOOP" --db "$DB" -i -e '_PROMPT = setmetatable({}, {__tostring = function() error("no") end})'
expect_out "a _PROMPT that fails to print falls back to the default" "koop> 1
koop> "

repl '.help
'
expect_out_has ".help lists the commands" '^\.schema \[TABLE\] '
expect_out_has ".help explains the Lua side" "trailing ';'"

repl 'db:exec("CREATE TABLE dane(a)"); db:exec("CREATE TABLE \"ćwiczenia\"(a)"); db:exec("CREATE TABLE cele(a)");
'
COLUMNS=1 repl '.tables
'
expect_true ".tables lists tables in Polish alphabetical order" \
  test "$(grep -Ex 'cele|ćwiczenia|dane' "$T/out" | tr '\n' ' ')" = "cele ćwiczenia dane "
expect_true ".tables hides SQLite's own tables" sh -c "! grep -q '^sqlite_' '$T/out'"

repl 'db:exec("CREATE INDEX t_a ON t(a)");
.schema t
'
expect_out ".schema TABLE shows the table and its indexes" "CREATE TABLE t(a);
CREATE INDEX t_a ON t(a);"

repl '.schema
'
expect_out_has ".schema shows every table" '^CREATE TABLE cele\(a\);$'

repl '.schema nie_ma
'
expect_err_has ".schema of a missing table says so" "no such table: nie_ma"

repl '.mode csv
db:query("SELECT 1 AS a, 2 AS b")
.mode
'
expect_out ".mode MODE switches the output mode; .mode shows it" "a,b
1,2
csv"

repl '.mode nonsense
'
expect_err_has ".mode rejects an unknown mode" "nonsense"

printf 'y = 7\nreturn y * 2\n' > "$T/script.lua"
repl ".read $T/script.lua
y
"
expect_out ".read runs a file here and prints what it returns" "14
7"

repl '.read
'
expect_err_has ".read without a file shows its usage" "usage: \.read FILE"

repl '.timer on
1
'
expect_out_has ".timer on reports the time of each entry" '^Run Time: real [0-9.]+ '

repl '.sch t
'
expect_out "a command may be shortened to a unique prefix" "CREATE TABLE t(a);
CREATE INDEX t_a ON t(a);"

repl '.frobnicate
'
expect_err_has "an unknown command lists the commands" "unknown command \.frobnicate.* \.help .* \.tables"

repl '.t
'
expect_err_has "an ambiguous prefix says so" "ambiguous command \.t"

repl '1
.quit
2
'
expect_out ".quit leaves at once" "1"
expect_rc ".quit leaves with status 0" 0

repl '1
.exit
2
'
expect_out ".exit is .quit" "1"

finish
