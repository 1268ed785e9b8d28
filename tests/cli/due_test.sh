#!/bin/sh
# due_test.sh — `koop due`: overdue and upcoming tasks, answers to
# referrals, plan reviews and procedure deadlines, grouped by kind or by
# owner, Polish dates, --on/--within/--by, one table in csv mode, exit
# status 0 (nothing overdue) or 3 (something is), the overdue sweep that
# fires procedure events once (not with --no-sweep or --readonly), and bad
# usage.
. tests/lib.sh
db=$T/gmina.db

run "$KOOP" -d "$T/empty.db" due
expect_rc "nothing due: exit status 0" 0
expect_out_has "nothing due: the summary line" "^Due on [0-9]{2}\.[0-9]{2}\.[0-9]{4}, looking 14 days ahead \(to [0-9.]+\): 0 overdue, 0 upcoming$"

# A gmina with the senior procedure, a case with its visit task (due
# 10.05.2024) and deadlines, a referral to the PCPR (answer due
# 13.05.2024), an agreed plan to review on 20.05.2024 (which gives two
# tasks due 15.05.2024) and a G-PZK task of the UG due 31.05.2024.
cat > "$T/setup.lua" <<'EOF'
gminas.ensure("2612012")
gminas.set_home("2612012")
local ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", gmina = "2612012" }
local pcpr = institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "PCPR", gmina = "2612012" }
local ug = institutions.add{ name = "Urząd Gminy Bogoria", kind = "UG", gmina = "2612012" }
local anna = people.add{ first_name = "Anna", last_name = "Nowak", institution = ops }
procedures.install("examples/procedures/seniorzy.lua")
local c = cases.open{ source_institution = ops, coordinator = anna }
c:add_member{ first_name = "Helena", last_name = "Wrona", birth_date = "1948-05-12", sex = "K", relation = "wnioskodawca" }
c:refer{ to = pcpr, service = "poradnictwo" }
c:consent{ institutions = { ops, pcpr }, categories = { "podstawowe" }, recorded_by = anna }
c:plan{ type = "IPW", goals = { "Klub" }, review_on = "2024-05-20" }:agree{}
tasks.add{ text = "Mapa zasobów gminy", owner = ug, due = "2024-05-31" }
EOF
run "$KOOP" -d "$db" --today 2024-04-29 "$T/setup.lua"
expect_rc "set-up" 0

run "$KOOP" -d "$db" --today 2024-04-29 due --no-sweep
expect_rc "nothing overdue yet: 0" 0
expect_out_has "the visit task, in Polish dates" "upcoming +│ 10\.05\.2024 │ +11 │ BOG-2024-001 │ Wizyta w domu seniora"
expect_out_has "grouped by kind: tasks" "^Tasks: 0 overdue, 1 upcoming$"
expect_out_has "procedure deadlines are a group" "^Procedure deadlines: 0 overdue, 1 upcoming$"
expect_true "the G-PZK task is after the 14 days" sh -c "! grep -q 'Mapa zasobów' '$T/out'"

run "$KOOP" -d "$db" --today 2024-05-14 due --within 30
expect_rc "something overdue: 3" 3
expect_out_has "summary" "^Due on 14\.05\.2024, looking 30 days ahead \(to 13\.06\.2024\): 3 overdue, 6 upcoming$"
expect_out_has "the overdue task" "overdue +│ 10\.05\.2024 │ +-4 │ BOG-2024-001 │ Wizyta w domu seniora"
expect_out_has "the referral's answer, owned by the PCPR" "overdue +│ 13\.05\.2024 │ +-1 │ BOG-2024-001 │ answer to the referral from Ośrodek Pomocy Społecznej w Bogorii, poradnictwo \(sent\) │ Powiatowe Centrum"
expect_out_has "the plan review" "upcoming +│ 20\.05\.2024 │ +6 │ BOG-2024-001 │ review of IPW v1"
expect_out_has "the missed first visit (a procedure deadline)" "overdue +│ 10\.05\.2024 │ +-4 │ BOG-2024-001 │ Pierwsza wizyta w domu seniora \(7 dni roboczych, seniorzy 2024-1\)"
expect_out_has "the sweep ran the procedure: an urgent contact task" "upcoming +│ 15\.05\.2024 │ +1 │ BOG-2024-001 │ Brak kontaktu z seniorem od terminu 2024-05-10"
expect_out_has "the G-PZK task within 30 days" "upcoming +│ 31\.05\.2024 │ +17 │ +│ Mapa zasobów gminy +│ Urząd Gminy Bogoria"

run "$KOOP" -d "$db" --today 2024-05-14 due --within 30
expect_true "the sweep fires once: still one urgent task" test "$(grep -c 'Brak kontaktu' "$T/out")" -eq 1

run "$KOOP" -d "$db" --today 2024-05-14 --mode csv due --by institution --within 30
expect_rc "csv, by institution" 3
expect_out_has "one table with the group column" "^group,kind,state,due,days_left,case,what,person$"
expect_out_has "a row: owner, kind, state, Polish date, days, case, what, person" "^Ośrodek Pomocy Społecznej w Bogorii,task,overdue,10\.05\.2024,-4,BOG-2024-001,\"Wizyta w domu seniora: potrzeby, samotność, zdrowie, kontakt z rodziną\",Anna Nowak$"
expect_true "groups are sorted: OPS before PCPR before UG" sh -c "cut -d, -f1 '$T/out' | uniq | tr '\n' '|' | grep -q '^group|Ośrodek Pomocy Społecznej w Bogorii|Powiatowe Centrum Pomocy Rodzinie w Staszowie|Urząd Gminy Bogoria|$'"

run "$KOOP" -d "$db" --today 2024-05-14 due --by person --within 30
expect_out_has "by person: a heading per person" "^Anna Nowak: 2 overdue, 5 upcoming$"
expect_true "by person: what has no person comes last" sh -c "grep -E '^[^ │┌├└].*: [0-9]+ overdue' '$T/out' | tail -n 1 | grep -q '^(no person): 1 overdue, 1 upcoming$'"
run "$KOOP" -d "$db" --today 2024-05-14 due --on 2024-05-01 --within 0
expect_rc "--on a day before anything was overdue: 0" 0
expect_out "--on: only the summary" "Due on 01.05.2024, looking 0 days ahead (to 01.05.2024): 0 overdue, 0 upcoming"

# --readonly and --no-sweep leave the database alone
before=$("$KOOP" -d "$db" --readonly -e 'print(db:value("SELECT max(seq) FROM audit_log"), db:value("SELECT count(*) FROM overdue_event"))')
run "$KOOP" -d "$db" --today 2024-06-20 --readonly due
expect_rc "read-only: lists (something overdue)" 3
run "$KOOP" -d "$db" --today 2024-06-20 due --no-sweep
expect_rc "--no-sweep: lists" 3
after=$("$KOOP" -d "$db" --readonly -e 'print(db:value("SELECT max(seq) FROM audit_log"), db:value("SELECT count(*) FROM overdue_event"))')
expect_true "neither wrote anything" test "$before" = "$after"

run "$KOOP" -d "$db" due --within soon
expect_rc "--within must be a number: bad usage" 2
expect_err_has "... saying so" "due: --within must be a whole number of days"
run "$KOOP" -d "$db" due --by team
expect_rc "--by must be institution or person" 2
run "$KOOP" -d "$db" due --on 2024-02-30
expect_rc "--on must be a date" 2
run "$KOOP" help due
expect_out_has "help due: the exit status" "Exit status: 0 when nothing is overdue, 3 when something is"
finish
