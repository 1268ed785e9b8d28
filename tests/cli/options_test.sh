#!/bin/sh
# Command-line grammar (API.md §1): every option, -e/-l/-i/-/--/-E, the arg
# table with negative indices and `...`, KOOP_INIT, exit codes 0/1/2,
# errors with file:line and a traceback without host frames, bad usage.
. tests/lib.sh
cd "$T" || exit 1

run "$KOOP" -d :memory: -e 'print(1+1)'
expect_out "-e runs a chunk" "2"
expect_rc "-e exits 0" 0

run "$KOOP" -d :memory: -e 'x=1' -e 'print(x+1)'
expect_out "several -e run in order" "2"

run "$KOOP" -d :memory: '-eprint("glued")'
expect_out "-eSTAT glued" "glued"

run "$KOOP" -v
expect_out_has "-v prints versions" '^koop [0-9]+\.[0-9]+\.[0-9]+ +\(Lua 5\.4\.[0-9]+, SQLite 3\.[0-9]+'
run "$KOOP" --version
expect_rc "--version exits 0" 0

run "$KOOP" -h
expect_out_has "-h shows usage" '^usage: koop \[options\]'
expect_out_has "-h lists --today" '--today DATE'
expect_out_has "-h lists commands" '^  init '
run "$KOOP" --help
expect_rc "--help exits 0" 0

cat > args.lua <<'LUA'
print(arg[0], arg[1], arg[2], #arg, ...)
print(arg[-1], arg[-2], arg[-3])
LUA
run "$KOOP" -d :memory: args.lua a b
expect_out "arg table and ..." "args.lua	a	b	2	a	b
:memory:	-d	${KOOP_BIN:-$KOOP}"

printf 'print("from stdin", ...)\n' > s.lua
run sh -c "\"$KOOP\" -d :memory: - x y < s.lua"
expect_out "- reads the script from stdin" "from stdin	x	y"
run sh -c "\"$KOOP\" -d :memory: < s.lua"
expect_out "non-terminal stdin runs as a script" "from stdin"

run "$KOOP" -d :memory: -- args.lua -x
expect_out_has "-- stops options" '^args\.lua	-x	nil	1	-x'

mkdir -p lib/gm
printf 'return { hello = function() return "czesc" end }\n' > lib/gm/util.lua
run "$KOOP" -d :memory: -l gm.util -e 'print(_G["gm.util"].hello())'
expect_out "-l loads a module from ./lib, bound to its name" "czesc"
run "$KOOP" -d :memory: -l u=gm.util -e 'print(u.hello())'
expect_out "-l g=mod binds to g" "czesc"
mkdir -p mods
printf 'return 42\n' > mods/answer.lua
run env KOOP_PATH="$T/mods" "$KOOP" -d :memory: -e 'print((require "answer"))'
expect_out "KOOP_PATH is searched" "42"
run env KOOP_PATH="$T/mods" "$KOOP" -E -d :memory: -e 'print(pcall(require, "answer"))'
expect_out_has "-E ignores KOOP_PATH" '^false'

run env KOOP_INIT='greeting = "dzień dobry"' "$KOOP" -d :memory: -e 'print(greeting)'
expect_out "KOOP_INIT code runs first" "dzień dobry"
printf 'greeting = "z pliku"\n' > init.lua
run env KOOP_INIT="@$T/init.lua" "$KOOP" -d :memory: -e 'print(greeting)'
expect_out "KOOP_INIT=@file runs the file" "z pliku"
run env KOOP_INIT='greeting = 1' "$KOOP" -E -d :memory: -e 'print(greeting)'
expect_out "-E ignores KOOP_INIT" "nil"

run "$KOOP" -d :memory: -e "print(collectgarbage('isrunning'))"
expect_out "the garbage collector runs" "true"

run "$KOOP" -d :memory: -i -e 'x = 5' < /dev/null
expect_rc "-i with empty stdin exits 0" 0

run "$KOOP" -d :memory: --today 2024-04-29 -e 'print(koop.today())'
expect_out "--today pins the date" "2024-04-29"
run env KOOP_TODAY=2020-02-29 "$KOOP" -d :memory: -e 'print(koop.today())'
expect_out "KOOP_TODAY pins the date" "2020-02-29"
run "$KOOP" -d :memory: --as "Anna Nowak" -e 'print(koop.actor)'
expect_out "--as sets the actor" "Anna Nowak"
run env KOOP_USER=jan "$KOOP" -d :memory: -e 'print(koop.actor)'
expect_out "KOOP_USER is the default actor" "jan"

# --- bad usage: exit 2, message naming the option
run "$KOOP" --bogus
expect_rc "unknown option exits 2" 2
expect_err_has "unknown option is named" "unrecognized option '--bogus'"
run "$KOOP" -e
expect_rc "missing argument exits 2" 2
expect_err_has "missing argument is named" "option '-e' needs an argument"
run "$KOOP" -d
expect_err_has "-d without file" "option '-d' needs an argument"
run "$KOOP" -d :memory: --today 2023-02-29 -e 'print(1)'
expect_rc "impossible --today exits 2" 2
expect_err_has "--today error names the option" "--today: '2023-02-29' is not a real calendar date"
run "$KOOP" -d :memory: --mode fancy -e 'print(1)'
expect_rc "unknown --mode exits 2" 2
expect_err_has "--mode error names the option" "--mode"
run "$KOOP" --timeout abc -e 'print(1)'
expect_rc "bad --timeout exits 2" 2
run "$KOOP" -d :memory: nosuch.lua
expect_rc "missing script exits 2" 2
expect_err_has "missing script is named" "cannot open nosuch.lua"

# --- runtime errors: exit 1, file:line, traceback without host frames
cat > bad.lua <<'LUA'
local function inner() error("coś poszło nie tak") end
local function outer() inner() end
outer()
LUA
run "$KOOP" -d :memory: bad.lua
expect_rc "script error exits 1" 1
expect_err_has "error names file and line" '^koop: bad\.lua:1: coś poszło nie tak'
expect_err_has "traceback shows the user's frames" "bad\.lua:3: in main chunk"
if grep -q '\[C\]: in ?' "$T/err" || grep -q '\[koop\]' "$T/err"; then
  flunk "traceback hides host frames" "host frame shown"
else pass "traceback hides host frames"; fi

printf 'x = = 1\n' > syntax.lua
run "$KOOP" -d :memory: syntax.lua
expect_rc "syntax error exits 1" 1
expect_err_has "syntax error names the line" "syntax\.lua:1:"

run "$KOOP" -d :memory: -e 'koop.raise{code="invalid", field="nip", message="nip: zła suma kontrolna"}'
expect_rc "error object exits 1" 1
expect_err_has "error object prints its message with where" '^koop: \(command line\):1: nip: zła suma kontrolna'

run "$KOOP" -d :memory: -e 'local ok, e = pcall(koop.raise, {code="busy", message="x"}); print(koop.is_error(e), e.code, koop.is_error(e, "busy"), koop.is_error("x"))'
expect_out "error objects can be caught and tested" "true	busy	true	false"

run "$KOOP" -d :memory: --timeout 0.3 -e 'while true do end'
expect_rc "--timeout stops a loop" 1
expect_err_has "--timeout says why" "time limit"
run "$KOOP" -d :memory: --timeout 0.3 -e 'while true do pcall(function() while true do end end) end'
expect_rc "--timeout cannot be swallowed by pcall" 1

finish
