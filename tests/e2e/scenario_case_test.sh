#!/bin/sh
# The case work of the domain scenario (domain reference §6 steps 6, 7 and
# 9), end to end on a file database, one koop process per step as a
# coordinator would run them: the family case BOG-2019-001 with four
# synthetic PESELs and reasons 1, 4, 9, 13; the IPW refused before consent
# (exit 1, nothing written, not even an audit row); the consent (OPS, PUP,
# GKRPA, school, PCPR; categories incl. zdrowie); IPW v1 agreed on
# 2019-10-20 with four goals; the referrals OPS→PUP (accepted, completed
# 2019-12-10), OPS→GKRPA (accepted, in progress), OPS→school (completed
# with feedback), OPS→KPP with health data blocked (KPP is outside the
# consent), OPS→PCPR rejected ("brak wolnych terminów") and redirected to
# the NGO once the family's consent reaches it; closing refused while
# referrals are open; the close on 2020-09-30 with outcome sukces and the
# indicator ipw_zakonczone_sukcesem = 1; names and PESEL masked in every
# print, shown only by the identified card, whose reading the audit log
# records with the --as actor; the audit chain verifies; `koop help cases`.
. tests/lib.sh
cd "$T" || exit 1

cat > step6.lua <<'EOF'
gminas.ensure("2612012")
gminas.set_home("2612012")
local function inst(name, kind, short) return institutions.add{ name = name, kind = kind, short = short, gmina = "2612012" } end
local ops = inst("Ośrodek Pomocy Społecznej w Bogorii", "OPS", "OPS Bogoria")
inst("Urząd Gminy Bogoria", "UG")
inst("Powiatowe Centrum Pomocy Rodzinie w Staszowie", "PCPR", "PCPR Staszów")
inst("Komenda Powiatowa Policji w Staszowie", "KPP", "KPP Staszów")
inst("Powiatowy Urząd Pracy w Staszowie", "PUP", "PUP Staszów")
inst("Szkoła Podstawowa w Bogorii", "szkoła", "SP Bogoria")
inst("Gminna Komisja Rozwiązywania Problemów Alkoholowych w Bogorii", "GKRPA", "GKRPA Bogoria")
inst("Zespół Interdyscyplinarny w Bogorii", "ZI")
inst("Ośrodek Zdrowia w Bogorii", "POZ")
inst("Zespół Kuratorskiej Służby Sądowej przy Sądzie Rejonowym w Staszowie", "ZKSS")
inst("Stowarzyszenie Razem dla Bogorii", "NGO", "Razem dla Bogorii")
people.add{ first_name = "Anna", last_name = "Nowak", institution = ops, position = "pracownik socjalny" }

local c = cases.open{ opened_on = "2019-09-02", source_institution = ops, coordinator = people.get(1) }
for _, m in ipairs{
  { first_name = "Adam", last_name = "Mazur", pesel = "84031201236", relation = "wnioskodawca" },
  { first_name = "Beata", last_name = "Mazur", pesel = "87093004582", relation = "małżonek/partner" },
  { first_name = "Kacper", last_name = "Mazur", pesel = "11250707812", relation = "dziecko" },
  { first_name = "Zuzanna", last_name = "Mazur", pesel = "14211909029", relation = "dziecko" },
} do c:add_member(m) end
for _, code in ipairs{ "1", "4", "9", "13" } do c:reason(code) end
c:set_stage("diagnoza", { date = "2019-09-10" })
print(c)
print(c:members())
EOF

cat > plan_first.lua <<'EOF'
local c = cases.find{ code = "BOG-2019-001" }[1]
c:plan{ type = "IPW", agreed_on = "2019-10-20", review_on = "2020-04-20", goals = { "Zatrudnienie" } }
EOF

cat > consent_plan.lua <<'EOF'
local c = cases.find{ code = "BOG-2019-001" }[1]
local function by(kind) return institutions.find{ kind = kind }[1] end
c:consent{ institutions = { by("OPS"), by("PUP"), by("GKRPA"), by("szkoła"), by("PCPR") },
  categories = { "podstawowe", "sytuacja rodzinna", "zatrudnienie", "edukacja", "zdrowie", "nałogi" },
  given = "2019-10-15", recorded_by = people.get(1) }
local p = c:plan{ type = "IPW", created_on = "2019-10-16", review_on = "2020-04-20", goals = {
  { text = "Zatrudnienie", actions = { { text = "Aktywizacja zawodowa", institution = by("PUP"), service = "poradnictwo", due = "2019-12-31" } } },
  { text = "Terapia uzależnienia", actions = { { text = "Rozmowa motywująca", institution = by("GKRPA"), due = "2019-11-30" } } },
  { text = "Frekwencja szkolna", actions = { { text = "Wsparcie szkolne", institution = by("szkoła"), service = "edukacja", due = "2020-06-26" } } },
  { text = "Umiejętności wychowawcze", actions = { { text = "Terapia rodzinna", institution = by("PCPR"), service = "terapia", due = "2020-03-31" } } },
} }
p:agree{ date = "2019-10-20" }
c:set_stage("plan", { date = "2019-10-20" })
c:set_stage("realizacja", { date = "2019-10-21" })
print(p)
EOF

cat > step7.lua <<'EOF'
local c = cases.find{ code = "BOG-2019-001" }[1]
local function by(kind) return institutions.find{ kind = kind }[1] end
local pup = c:refer{ to = by("PUP"), service = "poradnictwo", reason = "aktywizacja zawodowa",
  shared = { "podstawowe", "zatrudnienie" }, date = "2019-10-25" }
pup:accept{ date = "2019-10-30" }
c:deliver{ referral = pup, date = "2019-11-20", units = 2, cost = 120 }
pup:complete{ date = "2019-12-10", feedback = "podjął zatrudnienie w ramach prac interwencyjnych" }
local gkrpa = c:refer{ to = by("GKRPA"), reason = "rozmowa motywująca", shared = { "podstawowe", "nałogi" }, date = "2019-10-25" }
gkrpa:accept{ date = "2019-11-04" }
gkrpa:start{ date = "2019-11-15" }
local school = c:refer{ to = by("szkoła"), service = "edukacja", reason = "wsparcie szkolne dzieci",
  shared = { "podstawowe", "edukacja" }, date = "2019-10-28" }
school:accept{ date = "2019-10-30" }
school:complete{ date = "2020-06-26", feedback = "frekwencja obojga dzieci powyżej 90%" }
local pcpr = c:refer{ to = by("PCPR"), service = "terapia", reason = "terapia rodzinna",
  shared = { "podstawowe", "sytuacja rodzinna" }, date = "2019-11-04" }
pcpr:reject{ reason = "brak wolnych terminów", date = "2019-11-12" }
-- the NGO is outside the consent: the family extends it before the redirect
c:consent{ institutions = { by("NGO") }, categories = { "podstawowe", "sytuacja rodzinna" },
  given = "2019-11-13", recorded_by = people.get(1) }
local ngo = pcpr:redirect{ to = by("NGO"), date = "2019-11-14" }
print(pcpr)
print(ngo)
print(c:card())
EOF

cat > kpp.lua <<'EOF'
local c = cases.find{ code = "BOG-2019-001" }[1]
c:refer{ to = institutions.find{ kind = "KPP" }[1], reason = "informacja o leczeniu", shared = { "podstawowe", "zdrowie" }, date = "2019-11-05" }
EOF

cat > close_early.lua <<'EOF'
cases.find{ code = "BOG-2019-001" }[1]:close{ date = "2020-09-30", outcome = "sukces" }
EOF

cat > step9.lua <<'EOF'
local c = cases.find{ code = "BOG-2019-001" }[1]
local gkrpa = referrals.find{ case = c, status = "in_progress" }[1]
gkrpa:complete{ date = "2020-06-30", feedback = "podjął terapię odwykową w poradni" }
local ngo = referrals.find{ case = c, status = "sent" }[1]
ngo:accept{ date = "2019-11-20" }
c:deliver{ referral = ngo, date = "2019-12-03", units = 1.5, cost = "180,00 zł" }
ngo:complete{ date = "2020-05-29", feedback = "8 sesji terapii rodzinnej" }
c:set_stage("monitoring", { date = "2020-07-01" })
c:close{ date = "2020-09-30", outcome = "sukces" }
print(c)
print("ipw_zakonczone_sukcesem = " .. indicators.get("ipw_zakonczone_sukcesem"))
print("ipw_rozpoczete = " .. indicators.get("ipw_rozpoczete"))
EOF

# sql QUERY: one value from s.db.
sql() { "$KOOP" -d s.db -e "print(db:value([[$1]]))"; }
audit_rows() { sql "SELECT count(*) FROM audit_log"; }

run "$KOOP" -d s.db --today 2019-09-10 --as anna step6.lua
expect_rc "step 6: the family case is opened" 0
expect_err_empty "and nothing goes to stderr"
expect_out_has "one line: Case#1 BOG-2019-001 diagnoza 4 members" '^Case#1 BOG-2019-001 diagnoza 4 members$'
expect_out_has "members are masked: A. M***, 8403*******" '│ +1 │ wnioskodawca +│ A\. M\*\*\* │ M +│ 1984 │ 8403\*\*\*\*\*\*\* │'
if grep -q 'Mazur\|84031201236' "$T/out"; then flunk "no name or PESEL in the output" "found"; else pass "no name or PESEL in the output"; fi
[ "$(sql "SELECT group_concat(code, ',') FROM (SELECT code FROM case_reason ORDER BY id)")" = "1,4,9,13" ] && pass "reasons 1, 4, 9, 13" || flunk "reasons" "differ"

rows=$(audit_rows)
run "$KOOP" -d s.db --today 2019-10-20 plan_first.lua
expect_rc "an IPW before consent is refused" 1
expect_err_has "because there is no consent or statutory basis" "plans\\.agreed_on: IPW v1 of BOG-2019-001 cannot be agreed on 2019-10-20: the case has no consent or statutory basis in force then"
[ "$(sql "SELECT count(*) FROM plan")" = 0 ] && pass "no plan is written" || flunk "plan" "written"
[ "$(audit_rows)" = "$rows" ] && pass "no audit row either" || flunk "audit" "rows added"

run "$KOOP" -d s.db --today 2019-10-21 consent_plan.lua
expect_rc "the consent, then IPW v1 agreed" 0
expect_out "IPW v1 agreed with four goals" "Plan#1 IPW v1 of BOG-2019-001 agreed (agreed 2019-10-20), review 2020-04-20, 4 goals"

run "$KOOP" -d s.db --today 2020-07-01 step7.lua
expect_rc "step 7: the referrals" 0
expect_out_has "the PCPR referral is redirected, its rejection kept" \
  '^Referral#4 OPS Bogoria → PCPR Staszów redirected, sent 2019-11-04, terapia \(brak wolnych terminów\)$'
expect_out_has "the new referral goes to the NGO" '^Referral#5 OPS Bogoria → Razem dla Bogorii sent, sent 2019-11-14, terapia'
expect_out_has "the card: stage, reasons with the art. 9 mark" '^  reasons: 1 ubóstwo; 4 bezrobocie; 9 bezradność .*; 13 alkoholizm lub narkomania \[art\. 9 RODO\]$'
expect_out_has "the card: members masked" '^    #3 K\. M\*\*\*, dziecko, M, 9 l\., PESEL 1125\*\*\*\*\*\*\*$'
expect_out_has "the card: the consent's scope" '^  consent #1 given 2019-10-15: OPS Bogoria, PCPR Staszów, PUP Staszów, SP Bogoria, GKRPA Bogoria: podstawowe'
expect_out_has "the card: the plan" '^  plan: IPW v1 agreed 2019-10-20, review 2020-04-20, 4 goals$'
expect_out_has "the card: open and overdue referrals" '^  referrals: 5, open 2, overdue 1$'
expect_out_has "the card: the GKRPA referral in progress" '^    #2 OPS Bogoria → GKRPA Bogoria in_progress, sent 2019-10-25$'
expect_out_has "the card: services and their exact cost" "^  services: 1 delivered \\(2 godziny\\), cost 120,00.zł$"
statuses=$(sql "SELECT group_concat(status, ',') FROM (SELECT status FROM referral ORDER BY id)")
[ "$statuses" = "completed,in_progress,completed,redirected,sent" ] &&
  pass "referral statuses: completed, in_progress, completed, redirected, sent" || flunk "referral statuses" "$statuses"

rows=$(audit_rows)
run "$KOOP" -d s.db --today 2020-07-01 kpp.lua
expect_rc "a referral with health data to the police is blocked" 1
expect_err_has "naming the institution outside the consent" \
  "referrals\\.to: Komenda Powiatowa Policji w Staszowie is outside the scope of every consent in force on 2019-11-05 \\(data shared: podstawowe, zdrowie\\)"
[ "$(sql "SELECT count(*) FROM referral")" = 5 ] && pass "no referral to KPP is written" || flunk "KPP referral" "written"
[ "$(audit_rows)" = "$rows" ] && pass "no audit row either" || flunk "audit" "rows added"

run "$KOOP" -d s.db --today 2020-10-01 close_early.lua
expect_rc "closing with open referrals is refused" 1
expect_err_has "naming them" "cases\\.status: BOG-2019-001 has 2 open referrals: Referral#2 to Gminna Komisja .* \\(in_progress\\); Referral#5 to Stowarzyszenie Razem dla Bogorii \\(sent\\)"

run "$KOOP" -d s.db --today 2020-10-01 step9.lua
expect_rc "step 9: the case is closed" 0
expect_out_has "closed with outcome sukces" '^Case#1 BOG-2019-001 zakończona 4 members \(sukces\)$'
expect_out_has "ipw_zakonczone_sukcesem = 1" '^ipw_zakonczone_sukcesem = 1$'
expect_out_has "ipw_rozpoczete = 1" '^ipw_rozpoczete = 1$'
[ "$(sql "SELECT status || ' ' || ended_on FROM plan")" = "completed 2020-09-30" ] && pass "the IPW is completed with the case" || flunk "plan" "not completed"
costs=$(sql "SELECT group_concat(c, ',') FROM (SELECT typeof(cost) || ':' || cost AS c FROM service_delivery ORDER BY id)")
[ "$costs" = "integer:12000,integer:18000" ] && pass "costs are integer grosze" || flunk "costs" "$costs"

run "$KOOP" -d s.db --today 2020-10-01 --as anna -e 'print(cases.get(1):card{ identified = true })'
expect_rc "the identified card" 0
expect_out_has "shows names and PESEL" '^    #1 Adam Mazur, wnioskodawca, M, 36 l\., PESEL 84031201236$'
run "$KOOP" -d s.db audit log --action access
expect_out_has "and its reading is in the audit log, by anna" 'anna +│ access +│ cases +│ 1 '
[ "$(sql "SELECT count(*) FROM audit_log WHERE instr(coalesce(after_json, '') || coalesce(before_json, ''), '84031201236') > 0 OR instr(coalesce(after_json, ''), 'Mazur') > 0")" = 0 ] &&
  pass "the audit log holds no PESEL and no name" || flunk "audit log" "holds personal data"
run "$KOOP" -d s.db audit verify
expect_rc "the audit chain verifies" 0

run "$KOOP" help cases
expect_rc "koop help cases" 0
expect_out_has "explains the privacy rules" 'masked'
expect_out_has "and the referral lifecycle" 'sent → received → accepted'
finish
