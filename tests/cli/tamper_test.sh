#!/bin/sh
# tamper_test.sh — tamper evidence (#8.6, lib/koop/audit.lua, src/seal.c):
# after a demo-like workload (examples/bogoria.lua, a case with members and
# their identities, a services import, procedures, a budget with a
# commitment and payments) `koop audit verify` passes; then each edit made
# behind koop's back with the sqlite3 shell, on a fresh copy, is refused
# (the seal triggers call a function the shell lacks) or, when the intruder
# drops the triggers and puts them back, found by `koop audit verify`: exit
# status 1 and a message naming the table, the id and the field where the
# log allows: an UPDATE in several protected tables (an imported services
# row, a case member's identity, a dictionary row), a DELETE, an INSERT,
# a trigger dropped, an ALTER TABLE, an audit row edited, deleted or
# inserted, a seal row rewritten.
. tests/lib.sh
cd "$T" || exit 1
SQLITE3=${SQLITE3:-sqlite3}
export KOOP_USER=jan

# --- the workload
cat > work.lua <<'EOF'
local ops = institutions.find{ kind = "OPS" }[1]
local ngo = institutions.find{ kind = "NGO" }[1]
local c = cases.open{ opened_on = "2019-09-02", source_institution = ops, coordinator = people.find{}[1] }
for _, m in ipairs{
  { first_name = "Adam", last_name = "Mazur", pesel = "84031201236", relation = "wnioskodawca" },
  { first_name = "Beata", last_name = "Mazur", pesel = "87093004582", relation = "małżonek/partner" },
} do c:add_member(m) end
c:reason("1")
c:deliver{ provider = ngo, service = "terapia", date = "2019-10-01", units = 1, cost = "120,00 zł" }
local b = budgets.add{ name = "Projekt socjalny", gmina = "2612013", source = "POWER/EFS",
  total = "20 000,00 zł", period_from = "2019-06-01", period_to = "2020-12-31" }
b:line{ name = "terapia", planned = "12 000,00" }
b:line{ name = "warsztaty", planned = "8 000,00" }
b:approve{ date = "2019-06-10" }
local cm = b:line("terapia"):commit{ contractor = ngo, amount = "6 000,00 zł", date = "2019-07-01", document = "umowa 3/2019" }
cm:pay{ document = "FV 1/2019", document_date = "2019-07-25", paid_on = "2019-07-31", amount = "3 000,00 zł" }
for i = 2, 4 do cases.open{ opened_on = "2019-09-0" .. i, source_institution = ops } end
EOF
awk 'BEGIN { print "case;provider;service;date;hours;cost"
  for (i = 1; i <= 300; i++) printf "%d;NGO;warsztaty;2019-%02d-%02d;1,5;%d,%02d\n", i % 4 + 1, i % 3 + 10, i % 28 + 1, i % 90, i % 100 }' > services.csv

"$KOOP" -d w.db init --gmina 2612013 >/dev/null 2>&1
"$KOOP" -d w.db "$OLDPWD/examples/bogoria.lua" >/dev/null 2>&1
run "$KOOP" -d w.db --today 2019-12-31 work.lua
expect_rc "the workload runs" 0
run "$KOOP" -d w.db --today 2019-12-31 import services services.csv
expect_rc "the services import runs" 0
run "$KOOP" -d w.db procedure install "$OLDPWD/examples/procedures/rodzina.lua"
expect_rc "a procedure installs" 0
run "$KOOP" -d w.db --today 2020-02-01 due
run "$KOOP" -d w.db audit verify
expect_rc "a clean database verifies" 0
expect_out_has "and says what it checked" '^ok: [0-9]+ rows, hash chain intact; [0-9]+ tables match their seals$'
"$SQLITE3" w.db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null

# A fresh copy of the clean database, as c.db.
fresh() { rm -f c.db c.db-wal c.db-shm; cp w.db c.db; }
# The triggers of table $1, saved to restore.sql, then dropped.
drop_triggers() {
  "$SQLITE3" c.db "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '$1'" > restore.sql
  "$SQLITE3" c.db "SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '$1'" | "$SQLITE3" c.db
}
# behind TABLE SQL: the intruder drops TABLE's triggers, runs SQL with the
# sqlite3 shell, and puts the triggers back, then koop audit verify runs.
behind() {
  fresh
  drop_triggers "$1"
  "$SQLITE3" c.db "$2" || flunk "the shell ran: $2" "status $?"
  "$SQLITE3" c.db < restore.sql
  run "$KOOP" -d c.db audit verify
}
# found NAME REGEX: verify failed and printed REGEX.
found() { expect_rc "$1: verify fails" 1; expect_out_has "$1: it says where" "$2"; }

# --- the seal triggers stop the shell
fresh
"$SQLITE3" c.db "UPDATE person SET phone = '600 600 600' WHERE id = 1" 2>"$T/shell.err"
grep -q 'no such function: seal_add' "$T/shell.err" \
  && pass "a plain UPDATE with the sqlite3 shell is refused" || flunk "shell UPDATE refused" "$(cat "$T/shell.err")"
run "$KOOP" -d c.db audit verify
expect_rc "... and the database still verifies" 0

# --- edits behind koop's back, triggers put back after
id=$("$SQLITE3" w.db "SELECT id FROM person ORDER BY id LIMIT 1")
behind person "UPDATE person SET phone = '600 600 600' WHERE id = $id"
found "an UPDATE of a person" "^people id $id: field phone: audit says .*, table has '600 600 600' \\(last change audit seq [0-9]+ by "

id=$("$SQLITE3" w.db "SELECT id FROM case_file ORDER BY id LIMIT 1")
behind case_file "UPDATE case_file SET notes = 'zmienione' WHERE id = $id"
found "an UPDATE of a case" "^cases id $id: field notes: audit says NULL, table has 'zmienione'"

id=$("$SQLITE3" w.db "SELECT max(id) FROM service_delivery")
behind service_delivery "UPDATE service_delivery SET units = 99 WHERE id = $id"
found "an UPDATE of an imported services row" "^table service_delivery: its rows do not match its seal"
expect_out_has "... localised to the import, honestly" "^services: the change is among the 300 rows that came by import \\(audit seq [0-9]+\\)"

id=$("$SQLITE3" w.db "SELECT min(id) FROM service_delivery")
behind service_delivery "UPDATE service_delivery SET cost = 1 WHERE id = $id"
found "an UPDATE of a services row added by the API" "^services id $id: field cost: audit says 12000, table has 1"

id=$("$SQLITE3" w.db "SELECT min(member_id) FROM case_member_identity")
behind case_member_identity "UPDATE case_member_identity SET last_name = 'Kowalski' WHERE member_id = $id"
found "an UPDATE of a case member's identity" "^case_member_identities member $id: the names or PESEL differ from the audit record"

behind service_type "UPDATE service_type SET name = 'zmienione' WHERE code = 'klub'"
found "an UPDATE of a dictionary row" "^service_types code klub differs from the row it had when the table was sealed"

id=$("$SQLITE3" w.db "SELECT id FROM budget_line ORDER BY id LIMIT 1")
behind budget_line "UPDATE budget_line SET planned_gr = planned_gr + 100 WHERE id = $id"
found "an UPDATE of a budget line" "^budget_lines id $id: field planned_gr: audit says 1200000, table has 1200100"

id=$("$SQLITE3" w.db "SELECT max(id) FROM task")
behind task "DELETE FROM task WHERE id = $id"
found "a DELETE" "^tasks id $id was deleted behind koop's back \\(last audit seq [0-9]+\\)"
expect_out_has "... with the counts" "^table task: [0-9]+ rows, its seal says [0-9]+"

behind institution "INSERT INTO institution (name, kind, sector, level) SELECT 'Fundacja Widmo', kind, sector, level FROM institution LIMIT 1"
id=$("$SQLITE3" c.db "SELECT max(id) FROM institution")
found "an INSERT" "^institutions id $id is not in the audit log \\(inserted behind koop's back\\)"

# --- triggers dropped and left dropped; ALTER TABLE
fresh
drop_triggers referral
run "$KOOP" -d c.db audit verify
found "seal triggers dropped" "^table referral: trigger seal_referral_update was dropped$"
fresh
"$SQLITE3" c.db "DROP TRIGGER budget_line_no_delete"
run "$KOOP" -d c.db audit verify
found "a rule trigger dropped" "^table budget_line: trigger budget_line_no_delete was dropped$"
fresh
"$SQLITE3" c.db "CREATE TRIGGER quiet AFTER INSERT ON consent BEGIN SELECT 1; END"
run "$KOOP" -d c.db audit verify
found "a trigger added" "^table consent: trigger quiet was added behind koop's back$"
fresh
"$SQLITE3" c.db "ALTER TABLE team ADD COLUMN secret TEXT"
run "$KOOP" -d c.db audit verify
found "an ALTER TABLE" "^table team: its definition was changed behind koop's back"

# --- the audit log itself (its guard triggers put back after)
behind audit_log "UPDATE audit_log SET actor = 'ktoś' WHERE seq = 7"
found "an audit row edited" "^row 7: hash mismatch \\(modified\\)$"
behind audit_log "DELETE FROM audit_log WHERE seq = 9"
found "an audit row deleted" "^row 9 missing \\(deleted\\)$"
behind audit_log "INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, after_json, prev_hash, hash)
  SELECT max(seq) + 1, '2024-01-01T00:00:00Z', 'ktoś', 'add', 'people', '99', '{}', hash, hash FROM audit_log"
found "an audit row inserted" "^row [0-9]+: hash mismatch \\(modified\\)$"

# --- the seals themselves
fresh
"$SQLITE3" c.db "UPDATE koop_seal SET digest = digest + 1 WHERE tbl = 'meeting'"
run "$KOOP" -d c.db audit verify
found "a seal rewritten" "^table meeting: its rows do not match its seal"
fresh
"$SQLITE3" c.db "DELETE FROM koop_seal WHERE tbl = 'plan'"
run "$KOOP" -d c.db audit verify
found "a seal deleted" "^table plan: its seal was deleted$"

# --- koop's own writes keep the seals: a change through koop, then verify
fresh
run "$KOOP" -d c.db -e 'people.find{}[1]:update{ phone = "601 601 601" }; db:exec("DELETE FROM overdue_event")'
run "$KOOP" -d c.db audit verify
expect_rc "writes through koop, even its raw SQL, keep the seals" 0

finish
