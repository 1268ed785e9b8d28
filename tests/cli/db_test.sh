#!/bin/sh
# The database on the command line: -d/--db/KOOP_DB and the default
# ./koop.db, koop init and schema versions, --readonly, and every bad input
# of the host issue: --db on a directory, a non-SQLite file, a database from
# a newer koop, an SQL syntax error (with where), a value that cannot be
# bound (naming the parameter), writing with --readonly — each with a clear
# message, exit status 1, and the database left as it was.
. tests/lib.sh
cd "$T" || exit 1

run "$KOOP" -e 'db:exec("CREATE TABLE t(x)"); print(db:path())'
expect_out_has "default database is ./koop.db" 'koop\.db$'
expect_true "./koop.db was created" test -f koop.db

run env KOOP_DB="$T/env.db" "$KOOP" -e 'print(db:path())'
expect_out_has "KOOP_DB names the database" 'env\.db$'
run env KOOP_DB="$T/env.db" "$KOOP" --db "$T/opt.db" -e 'print(db:path())'
expect_out_has "--db wins over KOOP_DB" 'opt\.db$'
run "$KOOP" --db="$T/eq.db" -e 'print(db:path())'
expect_out_has "--db=FILE" 'eq\.db$'

run "$KOOP" -d g.db init
expect_rc "koop init exits 0" 0
expect_out_has "koop init prints the schema version" 'schema version [0-9]+'
v=$("$KOOP" -d g.db -e 'print(db:value("PRAGMA user_version"))')
run "$KOOP" -d g.db init
expect_out_has "koop init again is a no-op" "schema version $v"

run "$KOOP" -d g.db -e 'print(db:value("PRAGMA journal_mode"), db:value("PRAGMA foreign_keys"))'
expect_out "file databases use WAL and foreign keys" "wal	1"

# --- bad databases
mkdir adir
run "$KOOP" -d adir -e 'print(1)'
expect_rc "--db on a directory exits 1" 1
expect_err_has "--db on a directory says so" 'adir.*directory'
printf 'this is not a database, just some text that is long enough to fill a header........................................................\n' > text.db
cp text.db text.orig
run "$KOOP" -d text.db -e 'print(1)'
expect_rc "non-SQLite file exits 1" 1
expect_err_has "non-SQLite file is named" 'text\.db.*not a( SQLite)? database'
expect_true "non-SQLite file is left as it was" cmp -s text.db text.orig
cp g.db newer.db
"$KOOP" -d newer.db -e 'db:exec("PRAGMA user_version = 999999")'
cp newer.db newer.orig
run "$KOOP" -d newer.db -e 'print(1)'
expect_rc "newer schema exits 1" 1
expect_err_has "newer schema is explained" 'schema version 999999.*newer koop'
run "$KOOP" -d newer.db init
expect_rc "koop init refuses a newer schema" 1
expect_true "newer database left as it was" cmp -s newer.db newer.orig

# --- SQL and binding errors
run "$KOOP" -d g.db -e 'db:exec("SELEC * FROM t")'
expect_rc "SQL syntax error exits 1" 1
expect_err_has "SQL syntax error shows the statement" 'SELEC \* FROM t'
expect_err_has "SQL syntax error points at the place" '\^'
run "$KOOP" -d g.db -e 'db:exec("CREATE TABLE IF NOT EXISTS u(a, b)"); db:exec("INSERT INTO u VALUES (?, ?)", 1, {})'
expect_rc "unsupported bind type exits 1" 1
expect_err_has "unsupported bind type names the parameter" 'parameter 2'
run "$KOOP" -d g.db -e 'db:exec("INSERT INTO u VALUES (:a, :b)", {a = 1, b = print})'
expect_err_has "unsupported named bind names the parameter" ':b'
n=$("$KOOP" -d g.db -e 'print(db:value("SELECT count(*) FROM u"))')
expect_true "failed inserts wrote nothing" test "$n" = 0

# --- read-only
cp g.db ro.db
cp g.db ro.orig
run "$KOOP" -d ro.db --readonly -e 'db:exec("CREATE TABLE z(x)")'
expect_rc "writing with --readonly exits 1" 1
expect_err_has "writing with --readonly says read-only" 'read-?only'
run "$KOOP" -d ro.db --readonly -e 'print(db:value("SELECT count(*) FROM koop_meta"))'
expect_out "reading with --readonly works" "0"

# --- a script's error inside db:tx leaves nothing behind
run "$KOOP" -d g.db -e 'db:tx(function() db:exec("INSERT INTO u VALUES (1, 2)"); error("stop") end)'
expect_rc "error inside db:tx exits 1" 1
n=$("$KOOP" -d g.db -e 'print(db:value("SELECT count(*) FROM u"))')
expect_true "db:tx rolled back" test "$n" = 0
run "$KOOP" -d g.db -e 'db:exec("BEGIN"); db:exec("INSERT INTO u VALUES (1, 2)"); error("stop")'
n=$("$KOOP" -d g.db -e 'print(db:value("SELECT count(*) FROM u"))')
expect_true "a script that dies in an open transaction writes nothing" test "$n" = 0
finish
