#!/bin/sh
# --safe basics (API.md §6; the full catalogue of escape attempts belongs to
# the hardening work): text chunks only, no io/os.execute/package.loadlib/
# debug/string.dump, no ATTACH or PRAGMAs that write, domain use works, and
# --timeout/--memory stop runaway scripts with a clear error.
. tests/lib.sh
cd "$T" || exit 1

run "$KOOP" --safe -d :memory: -e 'print(load("return 1+1")())'
expect_out "--safe: load of a text chunk works" "2"
run "$KOOP" --safe -d :memory: -e 'print(load(string.char(27) .. "Lua", "x", "b"))'
expect_out_has "--safe: binary chunks are refused" 'attempt to load a binary chunk'
run "$KOOP" --safe -d :memory: -e 'print(io, debug, os.execute, os.remove, package.loadlib, string.dump, dofile, loadfile)'
expect_out "--safe: dangerous functions are gone" "nil	nil	nil	nil	nil	nil	nil	nil"
run "$KOOP" --safe -d :memory: -e 'print(pcall(require, "socket.core"))'
expect_out_has "--safe: no C modules" '^false'
run "$KOOP" --safe -d :memory: -e 'db:exec("ATTACH DATABASE ? AS x", "'"$T"'/x.db")'
expect_rc "--safe: ATTACH refused" 1
expect_err_has "--safe: ATTACH says why" 'ATTACH and VACUUM INTO are not allowed'
expect_true "--safe: ATTACH created no file" test ! -e "$T/x.db"
run "$KOOP" --safe -d :memory: -e 'db:exec("PRAGMA journal_mode = DELETE")'
expect_rc "--safe: a PRAGMA that writes is refused" 1
run "$KOOP" --safe -d :memory: -e 'print(#db:query("PRAGMA table_info(sqlite_master)") > 0)'
expect_out "--safe: PRAGMAs that read work" "true"
run "$KOOP" --safe -d g.db -e 'print(institutions.count{})'
expect_rc "--safe: a database that needs its schema is refused" 1
expect_err_has "--safe: ... with what to do" "koop -d g.db init"
"$KOOP" -d g.db init >/dev/null
run "$KOOP" --safe -d g.db -e 'print(institutions.count{})'
expect_out "--safe: the domain API reads an initialised database" "0"
run "$KOOP" --safe -d g.db -e 'institutions.add{ kind = "OPS", name = "Ośrodek", level = "gmina" }'
expect_rc "--safe: the domain API does not write" 1
expect_err_has "--safe: ... and says how to allow it" 'may not change the database \(INSERT of institution\); run it with --safe=write'
run "$KOOP" --safe=write -d g.db -e 'institutions.add{ kind = "OPS", name = "Ośrodek", level = "gmina" } print(institutions.count{})'
expect_out "--safe=write: the domain API writes" "1"
run "$KOOP" -d g.db audit verify
expect_rc "--safe=write: ... audited, the chain verifies" 0
run "$KOOP" --memory 20 -d :memory: -e 'local t = {} for i = 1, 1e8 do t[i] = ("x"):rep(100) .. i end'
expect_rc "--memory stops a memory bomb" 1
expect_err_has "--memory says why" 'not enough memory'
printf 'test("t", function() eq(1, 1) end)\n' > t_test.lua
run "$KOOP" --safe test t_test.lua
expect_rc "--safe: koop test is refused (its fresh databases need the schema)" 1
expect_err_has "... saying to run it without --safe" "not with --safe"
finish
