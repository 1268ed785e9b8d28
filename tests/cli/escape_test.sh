#!/bin/sh
# The --safe catalogue of escape attempts (issue #8.1; README, SECURITY).
# Each numbered attempt runs in a --safe script against a gmina database
# with a case and its member, and checks three things: it is refused with
# a clear error (the message is expected), the process lives on (the same
# chunk prints "alive" after its pcall; for the stops that no pcall can
# catch, exit status 1 with the message and the next koop run works), and
# the database is unchanged (its sqlite3 .dump) with no file created.
. tests/lib.sh
mkdir "$T/w" && cd "$T/w" || exit 1      # $T has the files of tests/lib.sh

"$KOOP" -d g.db init >/dev/null
"$KOOP" -d g.db --as test -e '
local ops = institutions.add{ kind = "OPS", name = "Ośrodek Pomocy Społecznej w Bogorii", level = "gmina" }
local anna = people.add{ institution = ops, first_name = "Anna", last_name = "Nowak" }
local c = cases.open{ opened_on = "2019-10-01", source_institution = ops, coordinator = anna }
c:add_member{ first_name = "Jan", last_name = "Kowalski", pesel = "84031201236", relation = "wnioskodawca" }' >/dev/null
dump() { sqlite3 g.db .dump | cksum; }
before=$(dump)
files() { ls -A | grep -v '^g\.db'; }

# same: the database and the directory are as before.
same() { [ "$(dump)" = "$before" ] && [ -z "$(files)" ]; }

# A time limit for the attempts that are not about time: a memory bomb must
# meet the memory limit first, which takes far longer under valgrind.
limit=5
[ -n "${KOOP_VALGRIND:-}" ] && limit=300

# attempt N WHAT CODE MESSAGE [koop options]: CODE, run under pcall in a
# --safe script, fails with MESSAGE; the chunk goes on; nothing changed.
attempt() {
  a_n=$1 a_what=$2 a_code=$3 a_want=$4; shift 4
  run "$KOOP" --safe --timeout "$limit" "$@" -d g.db -e "
local ok, e = pcall(function() $a_code end)
print(ok, tostring(e)) print('alive')"
  expect_out_has "$a_n $a_what: refused" "^false	.*$a_want"
  expect_out_has "$a_n ... the script goes on" '^alive$'
  expect_true "$a_n ... the database is unchanged" same
}

# stops N WHAT CODE MESSAGE [koop options]: CODE cannot be caught (a time
# limit): exit status 1 with MESSAGE, nothing changed, the next run works.
stops() {
  a_n=$1 a_what=$2 a_code=$3 a_want=$4; shift 4
  run "$KOOP" --safe --timeout 1 "$@" -d g.db -e "pcall(function() $a_code end) print('swallowed')"
  expect_rc "$a_n $a_what: stopped" 1
  expect_err_has "$a_n ... says why" "$a_want"
  expect_true "$a_n ... nothing changed" same
  run "$KOOP" --safe -d g.db -e 'print(institutions.count{})'
  expect_out "$a_n ... the next run works" "1"
}

# {==== Lua: what is gone stays gone
attempt 1 "require of the debug library" 'return require("debug")' "module 'debug' not found"
attempt 2 "debug kept in package.loaded" 'return package.loaded.debug.sethook()' "attempt to index a nil value"
attempt 3 "io kept in package.loaded" 'return package.loaded.io.open("/etc/passwd")' "attempt to index a nil value"
attempt 4 "os.execute" 'return os.execute("touch pwned")' "attempt to call a nil value .field 'execute'"
attempt 5 "io.popen" 'return io.popen("id")' "attempt to index a nil value .global 'io'"
attempt 6 "package.loadlib" 'return package.loadlib("libc.so.6", "system")' "attempt to call a nil value .field 'loadlib'"
attempt 7 "require of a C module by cpath" \
  'package.cpath = "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;./?.so" return require("lpeg")' "module 'lpeg' not found"
attempt 8 "load of a binary chunk" \
  'local f, err = load(string.char(27) .. "LuaT\0", "x", "b") if not f then error(err) end' "attempt to load a binary chunk"
attempt 9 "string.dump through the string metatable" 'return load(("").dump(print))' "attempt to call a nil value .field 'dump'"
attempt 10 "replacing string methods by the string metatable" \
  'getmetatable("").__index.format = nil' "attempt to index a boolean value"
attempt 11 "replacing string methods for koop's own code" \
  'string.format = nil; string.lower = nil; error(("%s:%s"):format(("A"):lower(), "methods intact"))' "a:methods intact"
attempt 12 "a __gc metamethod (runs with hooks off)" \
  'setmetatable({}, { __gc = function() while true do end end })' "__gc metamethods are not allowed with --safe"
attempt 13 "dofile and loadfile" 'return dofile("/etc/passwd") or loadfile("/etc/passwd")' "attempt to call a nil value .global 'dofile'"
# }====

# {==== denial of service: time, memory, stack
stops 14 "an endless loop inside a coroutine" \
  'coroutine.resume(coroutine.create(function() while true do end end))' "time limit of 1.0 seconds exceeded"
stops 15 "an endless __index called from C (table.concat)" \
  'table.concat(setmetatable({}, { __index = function() while true do end end }), ",", 1, 3)' "time limit"
stops 16 "an endless __tostring called by print" \
  'print(setmetatable({}, { __tostring = function() while true do end end }))' "time limit"
stops 17 "an endless __lt called by table.sort" \
  'local mt = { __lt = function() while true do end end }
   table.sort({ setmetatable({}, mt), setmetatable({}, mt), setmetatable({}, mt) })' "time limit"
stops 18 "an endless __close" \
  'local x <close> = setmetatable({}, { __close = function() while true do end end })' "time limit"
stops 19 "a recursive CTE that never ends (progress handler)" \
  'db:query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")' "time limit"
attempt 20 "deep recursion" 'local function f() return 1 + f() end return f()' "stack overflow"
attempt 21 "C stack recursion through string.gsub callbacks" \
  'local function f(s) return (s:gsub(".", f)) end return f("x")' "stack overflow"
attempt 22 "JSON of a table that contains itself" \
  'local t = {} t.t = t return koop.json_encode(t)' "contains itself"
attempt 23 "string.rep of 1.5 GB (the default --safe limit is 1 GB)" 'return ("x"):rep(3 * 2^29)' "not enough memory"
attempt 24 "a table memory bomb with the collector stopped" \
  'collectgarbage("stop") local t = {} for i = 1, 1e8 do t[i] = ("x"):rep(64) .. i end' "not enough memory" --memory 64
attempt 25 "a huge SQL result" \
  'return db:query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000000) SELECT x, hex(randomblob(64)) FROM c")' \
  "not enough memory|out of memory" --memory 64
attempt 26 "zeroblob of 2 GB" 'return db:value("SELECT zeroblob(2e9)")' "string or blob too big"
attempt 48 "1.6 GB of strings in SQL alone, under the default --safe limit (SQLite's heap is capped too)" \
  'return db:value("SELECT length(a) + length(b) FROM (SELECT hex(zeroblob(4e8)) AS a, hex(zeroblob(4e8)) AS b)")' \
  "out of memory"
attempt 27 "os.date with a huge format" 'return os.date(("%c"):rep(1e7))' "not enough memory" --memory 64
attempt 28 "string.format with a huge width" 'return string.format("%99999d", 1)' "invalid conversion"
run "$KOOP" --safe -d g.db -e 'local t = {} local c = t for i = 1, 1e5 do c[1] = {} c = c[1] end print(#koop.pretty(t) > 0) print("alive")'
expect_out "29 a table nested 100000 deep, pretty-printed: the printer bounds its depth" "true
alive"
# a Lua pattern backtracks in C where no hook runs: --timeout ends the
# process two seconds after the limit (exit 1), the database is whole
stops 30 "a Lua pattern that backtracks for hours" \
  'string.find(("a"):rep(30000), ".-.-.-b")' "exceeded in code that cannot be interrupted"
# }====

# {==== SQL: files, schema, extensions, the audit log, personal data
attempt 31 "ATTACH by db:exec" 'db:exec("ATTACH DATABASE ? AS x", "x.db")' "ATTACH and VACUUM INTO are not allowed"
attempt 32 "ATTACH by db:prepare" 'db:prepare("ATTACH DATABASE \"x.db\" AS x")' "ATTACH and VACUUM INTO are not allowed"
attempt 33 "VACUUM INTO a file" 'db:exec("VACUUM INTO ?", "copy.db")' "ATTACH and VACUUM INTO are not allowed"
attempt 34 "PRAGMA writable_schema" 'db:exec("PRAGMA writable_schema = 1")' "PRAGMA writable_schema with a value is not allowed"
attempt 35 "PRAGMA journal_mode" 'db:exec("PRAGMA journal_mode = DELETE")' "PRAGMA journal_mode with a value is not allowed"
attempt 36 "load_extension()" 'return db:value("SELECT load_extension(\"/tmp/x.so\")")' "not authorized to use function: load_extension"
attempt 37 "editing sqlite_master" 'db:exec("UPDATE sqlite_master SET sql = \"\"")' "table sqlite_master may not be modified"
attempt 38 "writing the audit log" \
  'db:exec("DELETE FROM audit_log")' "may not change the database .DELETE of audit_log.; run it with --safe=write"
attempt 39 "rewriting the audit log even with --safe=write" 'db:exec("UPDATE audit_log SET actor = \"x\"")' "audit_log is append-only" \
  --safe=write
attempt 40 "a domain write without --safe=write" \
  'institutions.add{ kind = "OPS", name = "Nowy ośrodek", level = "gmina" }' "may not change the database .INSERT of institution"
attempt 41 "a schema change even with --safe=write" 'db:exec("CREATE TABLE loot(x)")' "may not change the schema" --safe=write
attempt 42 "a TEMP trigger on a main table (would run inside koop's writes)" \
  'db:exec("CREATE TEMP TRIGGER t AFTER INSERT ON main.institution BEGIN SELECT 1; END")' "may not create triggers or views"
attempt 43 "names and PESEL by SQL" 'return db:query("SELECT * FROM case_member_identity")' "names and PESEL .table case_member_identity"
attempt 44 "names and PESEL by the case card" 'return cases.find{}[1]:card{ identified = true }' "names and PESEL"
attempt 45 "koop.open of another file" 'return koop.open("other.db")' "may open only its own database"
attempt 46 "VACUUM of the database file" 'db:exec("VACUUM")' "VACUUM is not allowed"
# }====

run "$KOOP" --safe -d g.db -e 'print(db:value("SELECT pesel_hash FROM case_member"), #db:query("SELECT * FROM case_member"))'
expect_out "47 PESEL hashes read as NULL (the key is in koop_meta; PESELs are few)" "nil	1"
run "$KOOP" --safe -d g.db -e 'db:exec("CREATE TEMP TABLE t(x)") db:exec("INSERT INTO t VALUES (1)") print(db:value("SELECT x FROM t"), institutions.count{})'
expect_out "reports may still use TEMP tables and read the domain" "1	1"
expect_true "... and the database is unchanged after all of it" same
finish
