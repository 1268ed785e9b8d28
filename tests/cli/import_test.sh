#!/bin/sh
# `koop import` and `koop export` as a person types them: a good file, a
# file with bad rows (every one listed on stderr, exit 1, nothing
# imported), --dry-run, a CP1250 file (detected; refused when read as
# UTF-8), bad usage (unknown kind, no file, bad --encoding), services
# streamed in constant memory, exports in both CSV dialects and JSON,
# the identified export needing --as and landing in the audit log.
. tests/lib.sh
cd "$T" || exit 1
"$KOOP" -d g.db init --gmina 2612012 >/dev/null 2>&1
count() { "$KOOP" -d g.db -e "print(db:value('SELECT count(*) FROM $1'))"; }

printf 'Nazwa;Rodzaj;NIP\r\nOśrodek Pomocy Społecznej w Bogorii;OPS;8660000016\r\nStowarzyszenie Razem dla Bogorii;NGO;\r\n' > good.csv
run "$KOOP" -d g.db import institutions good.csv
expect_rc "a good file imports" 0
expect_out "it says how many" "good.csv: 2 rows of institutions imported"
[ "$(count institution)" = 2 ] && pass "two institutions" || flunk "two institutions" "$(count institution)"

printf 'Nazwa;Rodzaj;NIP\nA;OPS;1234563217\nB;NGO;\nC;XYZ;\n' > bad.csv
run "$KOOP" -d g.db import institutions bad.csv
expect_rc "bad rows: exit 1" 1
expect_err_has "a summary" '2 of 3 rows of institutions are not valid; nothing was imported'
expect_err_has "line 2 by its column" 'line 2, column NIP: NIP checksum digit is 7, expected 8'
expect_err_has "line 4 by its column" 'line 4, column Rodzaj: unknown institution kind'
[ "$(count institution)" = 2 ] && pass "nothing imported" || flunk "nothing imported" "$(count institution)"

printf 'Nazwa;Rodzaj\nD;NGO\n' > dry.csv
run "$KOOP" -d g.db import institutions dry.csv --dry-run
expect_rc "--dry-run" 0
expect_out "it says nothing was written" "dry.csv: 1 row of institutions valid; dry run, nothing written"
[ "$(count institution)" = 2 ] && pass "dry run writes nothing" || flunk "dry run" "$(count institution)"

# "Świetlica Żaczek w Łoniowie" in CP1250 (Ś 0x8C, Ż 0xAF, Ł 0xA3)
printf 'Nazwa;Rodzaj\n\214wietlica \257aczek w \243oniowie;NGO\n' > cp.csv
run "$KOOP" -d g.db import institutions cp.csv --encoding utf-8
expect_rc "CP1250 read as UTF-8 is refused" 1
expect_err_has "and said" 'is not UTF-8: its bytes are CP1250.*--encoding cp1250'
run "$KOOP" -d g.db import institutions cp.csv
expect_rc "CP1250 detected" 0
expect_out_has "and said" '\(read as CP1250, detected\)'
run "$KOOP" -d g.db -e 'print(institutions.find{ kind = "NGO", order = "id" }[2].name)'
expect_out "the Polish letters are right" "Świetlica Żaczek w Łoniowie"

run "$KOOP" -d g.db import spaceships good.csv
expect_rc "an unknown kind is bad usage" 2
expect_err_has "the kinds are listed" 'budget-lines, cases, institutions, people, services'
run "$KOOP" -d g.db import institutions
expect_rc "no file is bad usage" 2
run "$KOOP" -d g.db import institutions good.csv --encoding latin2
expect_rc "a bad --encoding is bad usage" 2
run "$KOOP" -d g.db import institutions nosuch.csv
expect_rc "a missing file" 1
expect_err_has "is named" 'cannot open nosuch.csv'
printf 'Nazwa;Rodzaj;Kolor\nA;OPS;x\n' > header.csv
run "$KOOP" -d g.db import institutions header.csv
expect_rc "a wrong header" 1
expect_err_has "names the column" "unknown column 'Kolor' \\(column 3\\)"
printf 'Nazwa;Rodzaj\nA;OPS\n"B;NGO\n' > quote.csv
run "$KOOP" -d g.db import institutions quote.csv
expect_rc "an unterminated quote" 1
expect_err_has "is named with its line" 'line 3.*never closed'

# services stream: the peak memory of 200,000 rows is that of 20,000
"$KOOP" -d s.db --today 2021-12-31 -e '
  gminas.ensure("2612012")
  db:tx(function()
    institutions.add{ name = "Stowarzyszenie", kind = "NGO", gmina = "2612012" }
    for i = 1, 50 do cases.open{ opened_on = "2019-01-01" } end
  end)' >/dev/null 2>&1
awk 'BEGIN { print "case;provider;service;date;hours;cost"
  for (i = 1; i <= 200000; i++) printf "%d;1;terapia;2020-%02d-%02d;1,5;%d,%02d\n", i % 50 + 1, i % 12 + 1, i % 28 + 1, i % 90, i % 100 }' > big.csv
head -n 20001 big.csv > small.csv
peak() { # peak resident KiB of a koop importing $1 into a copy of s.db
  cp s.db "p.db"
  # (under AddressSanitizer freed memory is held in quarantine: not here)
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0" "$KOOP" -d p.db --today 2021-12-31 -e "require('koop.exchange').import{ kind = 'services', file = '$1' }
    for l in io.lines('/proc/self/status') do local k = l:match('^VmHWM:%s*(%d+)') if k then print(k) end end"
  rm -f p.db p.db-wal p.db-shm
}
if [ -n "${KOOP_VALGRIND:-}" ]; then
  # valgrind's own bookkeeping grows with every block freed: make check measures this
  pass "services stream: skipped under valgrind (make check measures the memory)"
else
small_kb=$(peak small.csv)
big_kb=$(peak big.csv)
[ -n "$small_kb" ] && [ -n "$big_kb" ] && [ "$big_kb" -lt $((small_kb + 8192)) ] \
  && pass "services stream: peak ${big_kb} KiB for 200,000 rows, ${small_kb} KiB for 20,000" \
  || flunk "services stream" "peak ${big_kb:-?} KiB for 200,000 rows, ${small_kb:-?} KiB for 20,000"
fi
run "$KOOP" -d s.db --today 2021-12-31 import services small.csv
expect_rc "koop import services" 0
expect_out "counted" "small.csv: 20000 rows of services imported"

run "$KOOP" -d g.db export institutions
expect_rc "export to standard output" 0
[ "$(head -c 3 "$T/out" | od -An -tx1 | tr -d ' ')" = efbbbf ] && pass "Excel CSV with a BOM" || flunk "BOM" "missing"
expect_out_has "Polish headers" 'ID;Nazwa;Skrót;Rodzaj'
run "$KOOP" -d g.db export institutions --csv rfc4180 -o inst.csv
expect_rc "export to a file" 0
expect_out "it says how many" "inst.csv: 3 rows of institutions exported"
head -n 1 inst.csv | grep -q '^id,name,short,kind' && pass "field names for machines" || flunk "rfc4180 header" "$(head -n 1 inst.csv)"
run "$KOOP" -d g.db export institutions --format json
expect_rc "JSON" 0
expect_out_has "an array" '^\[$'
run "$KOOP" -d g.db export spaceships
expect_rc "an unknown export kind" 2
run "$KOOP" -d g.db export institutions -o "$T/no/dir/x.csv"
expect_rc "an unwritable export path" 1
expect_err_has "named" "cannot write $T/no/dir/x.csv"

"$KOOP" -d g.db --today 2020-10-31 -e '
  local c = cases.open{ opened_on = "2019-09-02" }
  c:add_member{ first_name = "Adam", last_name = "Mazur", pesel = "84031201236", relation = "wnioskodawca" }' >/dev/null 2>&1
run "$KOOP" -d g.db export cases
expect_rc "cases, pseudonymised" 0
grep -q 'Mazur\|84031201236' "$T/out" && flunk "no name, no PESEL" "found" || pass "no name, no PESEL"
KOOP_USER=ignored run "$KOOP" -d g.db export cases --identified
expect_rc "--identified without --as is bad usage" 2
expect_err_has "it asks for --as" 'with --as NAME'
run "$KOOP" -d g.db --as "Anna Kierownik" export cases --identified -o ident.csv
expect_rc "--identified with --as" 0
grep -q 'Mazur' ident.csv && grep -q 84031201236 ident.csv && pass "names and PESEL" || flunk "identified" "missing"
run "$KOOP" -d g.db audit log --action export
expect_out_has "the audit log has it" 'Anna Kierownik .*export .*cases .*"identified":true'
finish
