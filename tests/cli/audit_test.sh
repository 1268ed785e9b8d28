#!/bin/sh
# koop init --gmina/--terc and koop audit verify/log from the command line:
# a database set up for one gmina (the built-in scenario units, or the GUS
# TERC register), refused changes of gmina, the audit log written with --as
# and shown with filters and output modes, tampering found by `koop audit
# verify` (exit 1, saying what and where), bad usage (exit 2), and a
# read-only database with an older schema.
. tests/lib.sh
cd "$T" || exit 1
TERC="$SHARED/data/TERC_Urzedowy_2024-01-01.csv"

run "$KOOP" -d b.db init --gmina 2612013
expect_rc "init --gmina exits 0" 0
expect_out_has "init says which gmina" '^b\.db: belongs to Gmina 2612013 Bogoria \(gmina miejsko-wiejska, from 2024-01-01\)$'
expect_out_has "init prints the schema version" '^b\.db: schema version [0-9]+$'
run "$KOOP" -d b.db -e 'print(gminas.home().terc, gminas.kind("Bogoria", "2019-06-04"), gminas.count())'
expect_out "the built-in units are there" "2612013	wiejska	6"

run "$KOOP" -d b.db init --gmina 2612013
expect_rc "init --gmina again with the same gmina is fine" 0
run "$KOOP" -d b.db init --gmina 2609052
expect_rc "another gmina is refused" 1
expect_err_has "... saying which it belongs to" 'belongs to gmina 2612013 Bogoria; it cannot change to 2609052'
run "$KOOP" -d b.db -e 'print(gminas.count())'
expect_out "... and adds nothing" "6"
run "$KOOP" -d c.db init --gmina 1465011
expect_rc "a gmina outside the built-in list needs --terc" 1
expect_err_has "... and says so" 'import the GUS TERC file first'
run "$KOOP" -d c.db init --gmina 12
expect_rc "--gmina must be a gmina" 1
expect_err_has "... saying so" 'is not a gmina'
run "$KOOP" -d c.db init --gmina
expect_rc "--gmina without a value is bad usage" 2

if [ -f "$TERC" ]; then
  run "$KOOP" -d w.db init --terc "$TERC" --gmina 1465011
  expect_rc "init --terc --gmina exits 0" 0
  expect_out_has "init --terc reports the import" 'TERC register of 2024-01-01: 4332 added, 0 changed, 0 closed, 0 unchanged'
  expect_out_has "... and the gmina from it" 'belongs to Gmina 1465011 Warszawa \(gmina miejska'
else
  echo "# skipped init --terc: $TERC is not here"
fi
run "$KOOP" -d w2.db init --terc nosuchfile.csv
expect_rc "init --terc with a missing file fails" 1
expect_err_has "... naming it" 'nosuchfile\.csv'

cat > people.lua <<'LUA'
local ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", regon = "990000016" }
institutions.add{ name = "Powiatowy Urząd Pracy w Staszowie", kind = "PUP" }
people.add{ first_name = "Anna", last_name = "Nowak", institution = ops }
ops:update{ phone = "15 867 40 00" }
LUA
run "$KOOP" -d b.db --as anna people.lua
expect_rc "a script of changes runs" 0
run "$KOOP" -d b.db audit verify
expect_rc "audit verify of an intact log exits 0" 0
expect_out_has "audit verify says so" '^ok: 11 rows, hash chain intact; [0-9]+ tables match their seals$'

run env COLUMNS=200 "$KOOP" -d b.db audit log --entity institution
expect_rc "audit log exits 0" 0
expect_out_has "audit log shows the actor" '│ anna +│ add +│ institutions │'
expect_out_has "audit log describes an update" 'phone: null → "15 867 40 00"'
run "$KOOP" -d b.db --mode csv audit log --entity people --limit 1
expect_out_has "audit log --mode csv, --entity people, --limit 1" '^10,[0-9T:Z-]+,anna,add,people,1,"\{""active"":true,'
run "$KOOP" -d b.db --mode csv audit log --since 2000-01-01 --action update
expect_out_has "audit log --since --action" '^11,.*,anna,update,institutions,1,'
run "$KOOP" -d b.db --mode csv audit log --until 2000-01-01
expect_out "audit log --until before everything is empty" "seq,ts,actor,action,entity,entity_id,change"

run "$KOOP" -d b.db --as anna -e 'institutions.add{ name = "Zły NIP", kind = "NGO", nip = "1234563217" }'
expect_rc "a refused change fails" 1
expect_err_has "... naming the field" 'institutions\.nip: NIP checksum digit is 7, expected 8'
run "$KOOP" -d b.db audit verify
expect_out_has "... and wrote no audit row" '^ok: 11 rows, hash chain intact; '

# tamper with the file behind koop's back
run "$KOOP" -d b.db -e 'db:exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete")
  db:exec("UPDATE audit_log SET actor = ? WHERE seq = 9", "mallory")
  db:exec("DELETE FROM audit_log WHERE seq = 11")'
run "$KOOP" -d b.db audit verify
expect_rc "audit verify of a tampered log exits 1" 1
expect_out_has "audit verify says what and where" '^row 9: hash mismatch \(modified\)$'
expect_out_has "... every problem" '^row 11 missing \(deleted\)$'
expect_out_has "... also the guard triggers left dropped" '^table audit_log: trigger audit_log_no_update was dropped$'
expect_out_has "... and how many" '^TAMPERED: 4 problems \(audit log: 10 rows; [0-9]+ sealed tables\)$'

run "$KOOP" -d b.db audit
expect_rc "audit without a subcommand is bad usage" 2
expect_err_has "... saying what is expected" "expected 'verify' or 'log'"
run "$KOOP" -d b.db audit frob
expect_rc "an unknown audit subcommand is bad usage" 2
run "$KOOP" -d b.db audit log --limit many
expect_rc "audit log --limit needs a number" 2
run "$KOOP" -d b.db audit log --since yesterday
expect_rc "audit log --since needs a date" 2
run "$KOOP" -d b.db audit verify --entity x
expect_rc "audit verify takes no options" 2

run "$KOOP" help audit
expect_out_has "koop help audit" '^usage: koop \[-d FILE\] audit verify'
run "$KOOP" help init
expect_out_has "koop help init explains --gmina" 'built-in list: Bogoria'

# a database made before the domain schema, opened read-only
run "$KOOP" -d old.db -e 'db:exec("CREATE TABLE x(a)")'
run "$KOOP" -d old.db --readonly -e 'print(institutions.count())'
expect_rc "a read-only database with an older schema is refused" 1
expect_err_has "... saying what to do" 'open it once without --readonly'
run "$KOOP" -d old.db -e 'print(institutions.count())'
expect_out "opened normally, it gets the schema" "0"
run "$KOOP" -d old.db --readonly -e 'print(institutions.count())'
expect_out "... and then reads fine read-only" "0"

finish
