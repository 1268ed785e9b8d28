#!/bin/sh
# The examples (issue 3 part 12): examples/bogoria.lua and examples/loniow.lua
# on a fresh file database — each builds its G-PZK in one transaction and
# prints the team, its meetings and the indicators; both fit in one
# database in either order; a second run adds nothing; a failed run adds
# nothing; `koop audit verify` accepts the log they wrote; the demo's
# due-tasks query finds the task left open past 2019-09-30.
. tests/lib.sh
top=$(pwd)
cd "$T" || exit 1
B=$top/examples/bogoria.lua
L=$top/examples/loniow.lua

# value CODE: the value column of indicator CODE in the last output.
value() { sed -n "s/^│ $1 *│[^│]*│ *\([0-9]*\) │\$/\1/p" "$T/out"; }
# sql DB QUERY: one value from DB.
sql() { "$KOOP" -d "$1" -e "print(db:value([[$2]]))"; }

run "$KOOP" -d g.db "$B"
expect_rc "bogoria.lua runs" 0
expect_err_empty "bogoria.lua writes nothing on stderr"
expect_out_has "it says what it added" '^G-PZK Bogoria: added to .*g\.db\.$'
expect_out_has "it prints the team" '^Team#1 G-PZK "G-PZK Bogoria" \(Bogoria\), formed 2019-07-01$'
expect_out_has "it prints the members" 'animator powiatowy .*Powiatowe Centrum Pomocy Rodzinie w Staszowie'
expect_out_has "it prints the meetings" '2019-10-23 .* wizyta studyjna .*Narewka'
[ "$(value podmioty_w_zespolach)" = 10 ] && pass "Bogoria: 10 institutions in the G-PZK" || flunk "Bogoria institutions" "$(value podmioty_w_zespolach)"
[ "$(value osoby_w_zespolach)" = 11 ] && pass "Bogoria: 11 persons" || flunk "Bogoria persons" "$(value osoby_w_zespolach)"
[ "$(value spotkania_posiedzenia)" = 5 ] && pass "Bogoria: 5 G-PZK meetings" || flunk "Bogoria meetings" "$(value spotkania_posiedzenia)"
[ "$(value spotkania_badania_fokusowe)" = 1 ] && pass "Bogoria: a focus study" || flunk "Bogoria focus" "$(value spotkania_badania_fokusowe)"
[ "$(value spotkania_szkola_kooperacji)" = 2 ] && pass "Bogoria: two Szkoła Kooperacji days" || flunk "Bogoria SK" "$(value spotkania_szkola_kooperacji)"
[ "$(value spotkania_wizyty_studyjne)" = 1 ] && pass "Bogoria: a study visit" || flunk "Bogoria visit" "$(value spotkania_wizyty_studyjne)"
[ "$(sql g.db "SELECT count(*) FROM agreement_party WHERE agreement_id = 1 AND institution_id IS NOT NULL")" = 10 ] \
  && pass "Bogoria: ten institutions signed the agreement" || flunk "Bogoria signers" "count differs"
[ "$(sql g.db "SELECT signed_on FROM agreement WHERE id = 1")" = 2019-06-04 ] \
  && pass "Bogoria: agreement signed 2019-06-04" || flunk "Bogoria signed_on" "differs"

run "$KOOP" -d g.db "$L"
expect_rc "loniow.lua runs on the same database" 0
expect_out_has "it prints its team" '^Team#2 G-PZK "G-PZK Łoniów" \(Łoniów\), formed 2019-07-02$'
[ "$(value podmioty_w_zespolach)" = 9 ] && pass "Łoniów: 9 institutions" || flunk "Łoniów institutions" "$(value podmioty_w_zespolach)"
[ "$(value osoby_w_zespolach)" = 10 ] && pass "Łoniów: 10 persons" || flunk "Łoniów persons" "$(value osoby_w_zespolach)"
[ "$(value spotkania_posiedzenia)" = 7 ] && pass "Łoniów: 7 meetings" || flunk "Łoniów meetings" "$(value spotkania_posiedzenia)"
[ "$(value szkolenia)" = 2 ] && pass "Łoniów: two trainings" || flunk "Łoniów trainings" "$(value szkolenia)"
[ "$(sql g.db "SELECT days FROM meeting WHERE team_id = 2 AND kind = 'wizyta studyjna'")" = 3 ] \
  && pass "Łoniów: a three-day study visit" || flunk "Łoniów visit" "days differ"
[ "$(sql g.db "SELECT count(*) FROM institution WHERE kind = 'ROPS'")" = 1 ] \
  && pass "the ROPS expert's institution is shared" || flunk "ROPS" "duplicated"
[ "$(sql g.db "SELECT count(*) FROM institution WHERE notes LIKE '%dane ilustracyjne%'")" -ge 19 ] \
  && pass "invented data is marked illustrative" || flunk "illustrative" "notes missing"

audit_rows=$(sql g.db "SELECT count(*) FROM audit_log")
run "$KOOP" -d g.db "$B"
expect_rc "bogoria.lua again exits 0" 0
expect_out_has "and says there is nothing to add" 'G-PZK Bogoria is in .*g\.db already: nothing added\.'
[ "$(sql g.db "SELECT count(*) FROM audit_log")" = "$audit_rows" ] \
  && pass "a second run writes nothing" || flunk "second run" "audit rows changed"
run "$KOOP" -d g.db "$L"
expect_out_has "loniow.lua again adds nothing" 'G-PZK Łoniów is in .*already: nothing added\.'

run "$KOOP" -d g.db audit verify
expect_rc "koop audit verify accepts the log" 0
expect_out_has "and counts its rows" '^ok: [0-9]+ rows'

run "$KOOP" -d g.db --today 2019-10-01 -e 'local d = tasks.due{}; print(d.overdue, d.upcoming, d[1].text)'
expect_out "on 2019-10-01 one task is overdue and one upcoming" "1	1	Diagnoza zasobów i potrzeb gminy"

run "$KOOP" -d l.db "$L"
expect_rc "loniow.lua first on another database" 0
run "$KOOP" -d l.db "$B"
expect_rc "then bogoria.lua" 0
[ "$(sql l.db "SELECT count(*) FROM meeting")" = 20 ] && pass "20 meetings either way" || flunk "order" "meeting count"

# a run that fails half-way leaves nothing behind
"$KOOP" -d f.db -e 'gminas.ensure("2612012"); institutions.add{ name = "Inna instytucja", kind = "NGO", gmina = "2612012", regon = "990000016" }' >/dev/null
before=$(sql f.db "SELECT count(*) FROM audit_log")
run "$KOOP" -d f.db "$B"
expect_rc "bogoria.lua fails on a clash" 1
expect_err_has "naming the field" 'institutions\.regon'
[ "$(sql f.db "SELECT count(*) FROM audit_log")" = "$before" ] && [ "$(sql f.db "SELECT count(*) FROM institution")" = 1 ] \
  && pass "and writes nothing" || flunk "failed run" "rows were written"

finish
