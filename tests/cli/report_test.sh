#!/bin/sh
# `koop report` and `koop rollup` as a person types them: the list of
# reports, help, an unknown report, --from after --to, an unwritable
# output path (clear error, no file), a too-low threshold, HTML / CSV /
# JSON / Markdown output, and the regional roll-up of two gmina databases
# (only aggregates cross over; each gmina, powiat and voivodeship reported).
. tests/lib.sh
top=$(pwd)
cd "$T" || exit 1

"$KOOP" -d g.db init --gmina 2612012 >/dev/null 2>&1
"$KOOP" -d g.db "$top/examples/bogoria.lua" >/dev/null 2>&1
"$KOOP" -d l.db init --gmina 2609052 >/dev/null 2>&1
"$KOOP" -d l.db "$top/examples/loniow.lua" >/dev/null 2>&1

run "$KOOP" help report
expect_rc "koop help report" 0
expect_out_has "help report names the reports" 'team-activity'
expect_out_has "help report explains suppression" '<5'
for c in import export rollup; do
  run "$KOOP" help $c
  expect_rc "koop help $c" 0
done

run "$KOOP" -d g.db report list
expect_rc "report list" 0
expect_out_has "the list has the referral flow" 'referrals .*Przepływ skierowań'

run "$KOOP" -d g.db report
expect_rc "no report name is bad usage" 2
expect_err_has "it lists the reports" 'which report\? \(overview, team-activity'

run "$KOOP" -d g.db report nosuch
expect_rc "an unknown report is bad usage" 2
expect_err_has "the unknown name and the list" "no report 'nosuch'; the reports are: overview, team-activity, indicators"

run "$KOOP" -d g.db report team-activity --from 2020-01-01 --to 2019-12-31
expect_rc "--from after --to is bad usage" 2
expect_err_has "it says which is after which" '--from 2020-01-01 is after --to 2019-12-31'

run "$KOOP" -d g.db report team-activity --from 2019-13-01
expect_rc "an impossible date is bad usage" 2

run "$KOOP" -d g.db report team-activity -o "$T/no/such/dir/r.html"
expect_rc "an unwritable output path is an error" 1
expect_err_has "it names the path and why" "cannot write $T/no/such/dir/r.html: No such file or directory"
[ ! -e "$T/no/such/dir/r.html" ] && pass "nothing written" || flunk "nothing written" "a file appeared"

run "$KOOP" -d g.db report team-activity -o r.pdf
expect_rc "an unknown extension is bad usage" 2

run "$KOOP" -d g.db report team-activity --threshold 2
expect_rc "a threshold below 3 is refused" 1
expect_err_has "it says why" 'never below 3'

run "$KOOP" -d g.db report team-activity --gmina 02
expect_rc "an area with nothing is still a report" 0
expect_out_has "that says so" 'nie ma zespołów'

run "$KOOP" -d g.db report indicators --gmina 12345
expect_rc "a bad TERC code is refused" 1

run "$KOOP" -d g.db --as "Anna Nowak" --today 2020-03-31 report team-activity --from 2019-06-01 --to 2020-03-31
expect_rc "Markdown to standard output" 0
expect_out_has "a title" '^# Zespoły i spotkania$'
expect_out_has "the period in Polish" 'Okres: 1 czerwca 2019 r. – 31 marca 2020 r.'
expect_out_has "meetings by kind" '^\| posiedzenie zespołu \| 5 \| 5 \|$'
expect_out_has "who made it" '^- Przez: Anna Nowak$'
expect_out_has "from which database" "^- Baza danych: g.db \\(schemat [0-9]+\\)$"

run "$KOOP" -d g.db --today 2020-03-31 report overview -o r.html
expect_rc "HTML by extension" 0
expect_out_has "it says what it wrote" '^r.html: Kooperacja: przegląd written \(html\)$'
head -c 15 r.html | grep -q '^<!DOCTYPE html>' && pass "an HTML page" || flunk "an HTML page" "$(head -c 40 r.html)"
grep -q '<svg ' r.html && pass "with an SVG chart" || flunk "with an SVG chart" "no <svg"
grep -q '@page { size: A4' r.html && pass "print CSS for A4" || flunk "print CSS" "no @page"
ls "$T" | grep -q '\.tmp$' && flunk "no temporary file left" "$(ls "$T")" || pass "no temporary file left"

run "$KOOP" -d g.db report team-activity -o r.csv
expect_rc "CSV by extension" 0
[ "$(head -c 3 r.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] && pass "Excel CSV starts with a BOM" || flunk "BOM" "$(head -c 3 r.csv | od -An -tx1)"
grep -q ';' r.csv && grep -q "$(printf '\r')" r.csv && pass "';' and CRLF" || flunk "';' and CRLF" "not found"
run "$KOOP" -d g.db report team-activity --format csv --csv rfc4180
[ "$(head -c 3 "$T/out" | od -An -tx1 | tr -d ' ')" != efbbbf ] && pass "rfc4180 has no BOM" || flunk "rfc4180 BOM" "has one"
grep -q "$(printf '\r')" "$T/out" && flunk "rfc4180 uses LF" "CR found" || pass "rfc4180 uses LF"

run "$KOOP" -d g.db report indicators --gmina all
expect_rc "indicators of every gmina" 0
expect_out_has "the IPW indicators of the case-work module, for every gmina" '^\| IPW zakończone sukcesem \| 0 \|$'

run "$KOOP" -d g.db report indicators --format json
expect_rc "JSON to standard output" 0
cp "$T/out" ind.json
run "$KOOP" -d :memory: -e 'local d = require("koop.json").decode(io.open("ind.json"):read("a")); print(d.title, d.provenance.koop_version ~= nil)'
expect_out "the JSON reads back" "Wskaźniki projektu dla ROPS	true"

# the region: two gmina databases into one
run "$KOOP" --today 2020-03-31 rollup region.db g.db l.db
expect_rc "rollup of two gminas" 0
expect_err_has "it names what it gathered" 'g.db: gmina Bogoria \(2612012\) gathered into region.db'
expect_out_has "a row per gmina" '^\| Bogoria \(2612012\) \| 10 \| 11 \| 1 \| 9 \| 2 \| 0 \|$'
expect_out_has "Łoniów too" '^\| Łoniów \(2609052\) \| 9 \| 10 \| 1 \| 11 \| 2 \| 0 \|$'
expect_out_has "per powiat" 'staszowski \(2612\)'
expect_out_has "per voivodeship" '^\| świętokrzyskie \(26\) \| 2 \| 19 \| 21 \| 2 \| 20 \| 4 \| 0 \|$'
run "$KOOP" -d region.db -e 'print(db:value("SELECT group_concat(name, \",\") FROM (SELECT name FROM sqlite_schema WHERE type = \"table\" ORDER BY name)"))'
expect_out "only the roll-up's tables cross over" "rollup_source,rollup_value"
run "$KOOP" --today 2020-03-31 rollup region.db g.db
expect_rc "gathering a gmina again" 0
run "$KOOP" -d region.db -e 'print(db:value("SELECT count(*) FROM rollup_source"))'
expect_out "replaces its numbers" "2"
run "$KOOP" --today 2020-03-31 rollup region.db -o region.html
expect_rc "the report of what the region holds" 0
grep -q 'Łoniów' region.html && pass "written as HTML" || flunk "region.html" "no Łoniów"
run "$KOOP" rollup region.db g.db --from 2020-02-01 --to 2020-01-01
expect_rc "rollup --from after --to" 2
run "$KOOP" rollup
expect_rc "rollup without a database" 2
run "$KOOP" rollup region.db nosuch.db
expect_rc "a missing gmina database" 1
expect_err_has "is named" 'nosuch.db'
finish
