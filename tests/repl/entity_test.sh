#!/bin/sh
# tests/repl/entity_test.sh — the domain collections at the prompt: domain
# globals completed on the first TAB (inst -> institutions), a collection's
# functions (institutions.fi -> institutions.find), an object's fields and
# methods (i.na -> i.name, i:deac -> i:deactivate), an entity printing as one
# line, a find() result as a box table with Polish letters aligned, and a
# refused value shown as an error naming the field.
. tests/lib.sh
. tests/repl/pty.sh
KOOP_HISTORY=$T/history
export KOOP_HISTORY

run "$KOOP" -d "$T/repl.db" init --gmina 2612013
run "$KOOP" -d "$T/repl.db" -e '
  institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS" }
  institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "PCPR" }'
expect_rc "set up the database" 0

pty "domain globals and collection functions complete" <<'STEPS'
prompt ^koop>[ ]
send inst\t.fin\t{kind = 'PCPR'})[1].name\r
expect ^Powiatowe Centrum Pomocy Rodzinie w Staszowie$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "an object's fields and methods complete; it prints as one line" <<'STEPS'
prompt ^koop>[ ]
send i = institutions.get(1)\r
prompt ^koop>[ ]
send i.na\t\r
expect ^Ośrodek Pomocy Społecznej w Bogorii$
prompt ^koop>[ ]
send i:deac\t)\r
expect ^Institution#1 OPS "Ośrodek Pomocy Społecznej w Bogorii" \(inactive\)$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "a find() result prints as a box table" <<'STEPS'
prompt ^koop>[ ]
send institutions.find{level = 'powiat'}\r
expect ^│ id │ kind │ +name +│ level  │ gmina_terc │ active │$
expect ^│  2 │ PCPR │ Powiatowe Centrum Pomocy Rodzini… │ powiat │            │ true   │$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

pty "a refused value is an error naming the field" <<'STEPS'
prompt ^koop>[ ]
send institutions.add{name = 'X', kind = 'NGO', nip = '1234563217'}\r
expect institutions\.nip: NIP checksum digit is 7, expected 8 \(got '1234563217'\)
prompt ^koop>[ ]
send institutions.count()\r
expect ^2$
prompt ^koop>[ ]
send \x04
wait 0
STEPS

finish
