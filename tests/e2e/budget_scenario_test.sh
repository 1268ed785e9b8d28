#!/bin/sh
# The budget of the domain scenario (domain reference §6 step 8), end to
# end on a file database: "Projekt socjalny Bogoria", 56 340,00 zł in nine
# lines, approved; the therapy commitment of 10 800,00 zł paid in three
# invoices of 3 600,00 zł; a fourth invoice of 0,01 zł refused by a second
# script (exit status 1, the field named, nothing written, not even an
# audit row); the execution table shows 10 800,00 zł and 19,17%, and as of
# an earlier --today only what was paid by then; amounts are INTEGER in
# SQL; the audit chain verifies; `koop help budgets` explains it all.
. tests/lib.sh
cd "$T" || exit 1
NB=$(printf '\302\240')          # U+00A0, koop.money's group separator

cat > budget.lua <<'EOF'
gminas.ensure("2612012")
local ngo = institutions.add{ name = "Stowarzyszenie Razem dla Bogorii", kind = "NGO", gmina = "2612012" }
local b = budgets.add{ name = "Projekt socjalny Bogoria", gmina = "2612012", source = "POWER/EFS",
  total = "56 340,00 zł", period_from = "2019-06-01", period_to = "2020-12-31" }
for _, l in ipairs{
  { "poradnictwo", "7 200,00" }, { "diagnostyka", "4 800,00" }, { "terapia", "10 800,00" },
  { "rehabilitacja", "9 600,00" }, { "warsztaty", "6 000,00" }, { "klub", "7 500,00" },
  { "centrum wolontariatu", "3 640,00" }, { "edukacja społeczności", "2 800,00" },
  { "szkolenia kadr", "4 000,00" } } do
  b:line{ name = l[1], planned = l[2] }
end
b:approve{ date = "2019-06-10" }
local c = b:line("terapia"):commit{ contractor = ngo, amount = "10 800,00 zł", date = "2019-07-01", document = "umowa 3/2019" }
for i, month in ipairs{ "07", "08", "09" } do
  c:pay{ document = "FV " .. i .. "/2019", document_date = "2019-" .. month .. "-25",
    paid_on = "2019-" .. month .. (month == "09" and "-30" or "-31"), amount = "3 600,00 zł" }
end
local e = b:execution()
print(e)
print(("wykonanie %s (%s)"):format(e.total.spent, e.total["% spent"]))
EOF

cat > fourth.lua <<'EOF'
local c = budgets.get(1):line("terapia"):commitments()[1]
c:pay{ document = "FV 4/2019", document_date = "2019-10-25", paid_on = "2019-10-31", amount = "0,01 zł" }
EOF

# sql QUERY: one value from b.db.
sql() { "$KOOP" -d b.db -e "print(db:value([[$1]]))"; }

run "$KOOP" -d b.db --today 2020-01-15 budget.lua
expect_rc "the scenario script runs" 0
expect_err_empty "and writes nothing on stderr"
expect_out_has "the report line: wykonanie 10 800,00 zł (19,17%)" "^wykonanie 10${NB}800,00${NB}zł \\(19,17%\\)\$"
expect_out_has "the therapy line: 10 800,00 zł spent, 100,00%" "│  3 │ terapia .*│ 10${NB}800,00${NB}zł │ 0,00${NB}zł +│ 100,00% │"
expect_out_has "the total row: 56 340,00 zł planned, 10 800,00 zł spent, 19,17%" \
  "│    │ total .*│ 56${NB}340,00${NB}zł │ 10${NB}800,00${NB}zł │ 10${NB}800,00${NB}zł │ 45${NB}540,00${NB}zł │ 19,17%  │"
[ "$(grep -c '^│  [1-9] │' "$T/out")" = 9 ] && pass "nine lines" || flunk "nine lines" "$(grep -c '^│  [1-9] │' "$T/out") rows"

audit_rows=$(sql "SELECT count(*) FROM audit_log")
run "$KOOP" -d b.db --today 2020-01-15 fourth.lua
expect_rc "a fourth invoice of 0,01 zł is refused" 1
expect_err_has "naming the field, with what is left and what was asked" \
  "expenditures\\.amount: exceeds what is left on Commitment#1: left 0,00${NB}zł, asked 0,01${NB}zł"
[ "$(sql "SELECT count(*) FROM expenditure")" = 3 ] && pass "no fourth payment is written" || flunk "payments" "count differs"
[ "$(sql "SELECT count(*) FROM audit_log")" = "$audit_rows" ] && pass "no audit row either" || flunk "audit" "rows added"

run "$KOOP" -d b.db -e 'print(db:value([[SELECT group_concat(DISTINCT t) FROM (
  SELECT typeof(total_gr) AS t FROM budget UNION ALL SELECT typeof(planned_gr) FROM budget_line
  UNION ALL SELECT typeof(amount_gr) FROM commitment UNION ALL SELECT typeof(amount_gr) FROM expenditure)]]))'
expect_out "every amount is an INTEGER of grosze in SQL" "integer"
run "$KOOP" -d b.db -e 'print(db:value("SELECT sum(amount_gr) FROM expenditure"))'
expect_out "three invoices of 360000 grosze" "1080000"

run "$KOOP" -d b.db --today 2019-08-15 -e 'local t = budgets.get(1):execution().total; print(t.spent, t["% spent"])'
expect_out "as of --today 2019-08-15 only the July invoice counts" "3${NB}600,00${NB}zł	6,39%"
run "$KOOP" -d b.db -e 'local t = budgets.get(1):execution{on = "2019-06-30"}.total; print(t.committed, t.spent)'
expect_out "as of 2019-06-30 nothing is committed yet" "0,00${NB}zł	0,00${NB}zł"

run "$KOOP" -d b.db -e 'print(budgets.verify())'
expect_out_has "budgets.verify() holds" "^true"
run "$KOOP" -d b.db audit verify
expect_rc "the audit chain verifies" 0

run "$KOOP" -d b.db -e 'db:exec("UPDATE expenditure SET amount_gr = 1 WHERE id = 1")'
expect_rc "db:exec cannot rewrite a payment" 1
expect_err_has "a trigger says why" "a payment is never changed"

run "$KOOP" help budgets
expect_rc "koop help budgets" 0
expect_out_has "documents execution" "b:execution"
expect_out_has "and the line_low event" "budget\\.line_low"

finish
