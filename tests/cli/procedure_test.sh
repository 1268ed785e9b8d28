#!/bin/sh
# procedure_test.sh — `koop procedure` (install, list, show, dryrun,
# migrate, activate) on a database file, the help topic and the man page,
# and the bad input of the procedures issue: a syntax error, an unknown
# event or stage, a rule that loops forever (alone and under --timeout), a
# rule that errors, the same version with other source, a version that
# does not exist — each with file and line, nothing written.
. tests/lib.sh
EX=examples/procedures
db=$T/gmina.db

# A count of what a failed command must not change.
state() { "$KOOP" -d "$db" --readonly -e 'io.write(db:value("SELECT count(*) FROM procedure_version"), " ",
  db:value("SELECT count(*) FROM case_procedure"), " ", db:value("SELECT coalesce(max(seq), 0) FROM audit_log"))'; }

run "$KOOP" -d "$db" --as anna procedure install $EX/rodzina.lua $EX/seniorzy.lua $EX/niepelnosprawnosc.lua
expect_rc "install three examples" 0
expect_out_has "install names each version and its hash" "^installed seniorzy 2024-1 from $EX/seniorzy.lua \(sha256 [0-9a-f]{12}\)"
run "$KOOP" -d "$db" procedure install $EX/seniorzy.lua
expect_rc "installing the same again succeeds" 0
expect_out "installing the same again does nothing" "seniorzy 2024-1 is installed already with the same source: nothing to do"

run "$KOOP" -d "$db" --mode csv procedure list
expect_rc "list" 0
expect_out_has "list shows the versions, active, by whom" "^3,rodzina,2024-1|^1,rodzina,2024-1,true,[0-9T:-]+Z,anna,"
expect_true "list has three versions" test "$(grep -c ',2024-1,' "$T/out")" -eq 3

run "$KOOP" -d "$db" procedure show seniorzy --source
expect_rc "show" 0
expect_out_has "show: the stages" "stages: zgłoszona → diagnoza → plan → realizacja → monitoring → zakończona"
expect_out_has "show: a deadline and how it is counted" "deadline pierwsza wizyta: 7 dni roboczych from case.opened, met by service.delivered"
expect_out_has "show --source prints the file" "^  name = \"seniorzy\", version = \"2024-1\","

# a gmina with a senior case, by a script (the procedure takes the case on)
cat > "$T/case.lua" <<'EOF'
gminas.ensure("2612012")
gminas.set_home("2612012")
local ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", gmina = "2612012" }
local c = cases.open{ source_institution = ops }
c:add_member{ first_name = "Helena", last_name = "Wrona", birth_date = "1948-05-12", sex = "K", relation = "wnioskodawca" }
print(c.code, c:procedures()[1].version, #c:tasks())
EOF
run "$KOOP" -d "$db" --today 2024-04-29 "$T/case.lua"
expect_out "a new senior case is taken on and gets its visit task" "BOG-2024-001	2024-1	1"

# version 2: visits every 10 days instead of 14
sed -e 's/version = "2024-1"/version = "2024-2"/' -e 's/days = 14, working = false/days = 10, working = false/' \
  -e 's/days = 20, what = "Ocena potrzeb seniora"/days = 15, what = "Ocena potrzeb seniora"/' $EX/seniorzy.lua > "$T/seniorzy.lua"
before=$(state)
run "$KOOP" -d "$db" --today 2024-04-30 procedure dryrun "$T/seniorzy.lua"
expect_rc "dryrun" 0
expect_out_has "dryrun: how many cases" "^seniorzy 2024-2 would take 1 open case; 0 refused; nothing was written"
expect_out_has "dryrun: the moved deadline" "BOG-2024-001 .*deadline moved .*Ocena potrzeb seniora: 2024-05-29 → 2024-05-22"
expect_true "dryrun writes nothing" test "$(state)" = "$before"

run "$KOOP" -d "$db" --today 2024-04-30 procedure migrate seniorzy --to 2024-2
expect_rc "migrate to a version that is not installed fails" 1
expect_err_has "... saying which versions there are" "procedure seniorzy has no version 2024-2 \(installed: 2024-1\)"
expect_true "... and writes nothing" test "$(state)" = "$before"

run "$KOOP" -d "$db" --today 2024-04-30 procedure install "$T/seniorzy.lua"
expect_rc "install version 2" 0
run "$KOOP" -d "$db" --today 2024-04-30 --mode csv procedure migrate seniorzy --to 2024-2
expect_rc "migrate" 0
expect_out "migrate lists the cases moved" "case,from,to
BOG-2024-001,2024-1,2024-2"
run "$KOOP" -d "$db" --readonly -e 'print(db:value("SELECT count(*) FROM audit_log WHERE action = ? AND entity = ?", "migrate", "procedures"))'
expect_out "migrate is audited" "1"
run "$KOOP" -d "$db" procedure activate seniorzy 2024-1
expect_out "activate" "seniorzy 2024-1 is active: new cases get it"

# the same version with other source
mkdir "$T/changed"
sed 's/Wizyta w domu seniora/Odwiedziny seniora/' "$T/seniorzy.lua" > "$T/changed/seniorzy.lua"
before=$(state)
run "$KOOP" -d "$db" procedure install "$T/changed/seniorzy.lua"
expect_rc "same version, other source: refused" 1
expect_err_has "... naming the version and the installed hash" "procedure seniorzy version 2024-2 is installed already with other source \(sha256 [0-9a-f]{12}, installed"
expect_true "... nothing written" test "$(state)" = "$before"

# bad files: error with file and line, nothing written
printf 'return koop.procedure {\n  name = "x", version = "1"\n  stages = {},\n}\n' > "$T/zly.lua"
run "$KOOP" -d "$db" procedure install "$T/zly.lua"
expect_rc "syntax error" 1
expect_err_has "... with file and line" "zly.lua:3: '}' expected \(to close '\{' at line 1\) near 'stages'"
printf 'return koop.procedure {\n  name = "x", version = "1",\n  on = {\n    ["referal.sent"] = function(r, e) end,\n  },\n}\n' > "$T/ev.lua"
run "$KOOP" -d "$db" procedure install "$T/ev.lua"
expect_rc "unknown event" 1
expect_err_has "... with the line and the closest name" "ev.lua:4: unknown event 'referal.sent' in on \(did you mean 'referral.sent'\?\)"
printf 'return koop.procedure {\n  name = "x", version = "1",\n  stages = { "zgloszona", "diagnoza" },\n}\n' > "$T/st.lua"
run "$KOOP" -d "$db" procedure install "$T/st.lua"
expect_rc "unknown stage" 1
expect_err_has "... with the line and the closest name" "st.lua:3: unknown stage 'zgloszona' in stages \(did you mean 'zgłoszona'\?\)"
run "$KOOP" -d "$db" procedure install "$T/nie-ma.lua"
expect_rc "a missing file" 1
expect_err_has "... says which and why" "cannot open the procedure file .*/nie-ma.lua: No such file or directory"
expect_true "bad files write nothing" test "$(state)" = "$before"

# rules that loop forever or fail: the change is undone, the rule named
cat > "$T/petla.lua" <<'EOF'
return koop.procedure {
  name = "petla", version = "1",
  on = {
    ["case.opened"] = function(case, event)
      local n = 0
      while true do n = n + 1 end
    end,
  },
}
EOF
cat > "$T/blad.lua" <<'EOF'
return koop.procedure {
  name = "blad", version = "1",
  on = {
    ["case.reason_added"] = function(case, event)
      error("nie wiem, co zrobić z powodem " .. event.code)
    end,
  },
}
EOF
loopdb=$T/loop.db
run "$KOOP" -d "$loopdb" procedure install "$T/petla.lua" "$T/blad.lua"
expect_rc "install the bad rules" 0
run "$KOOP" -d "$loopdb" -e 'cases.open{}'
expect_rc "a looping rule stops the script" 1
expect_err_has "... naming procedure, rule and line" "procedure petla 1, on\[\"case.opened\"\] \(petla.lua:6\): instruction limit of 10000000 exceeded"
run "$KOOP" -d "$loopdb" --timeout 1 -e 'cases.open{}'
expect_rc "under --timeout the host's time limit stops it instead" 1
expect_err_has "... with its message" "time limit of 1.0 seconds exceeded"
run "$KOOP" -d "$loopdb" -e 'print(cases.count())'
expect_out "no case was written" "0"

# a rule that errors, from a script: the reason is not added
run "$KOOP" -d "$loopdb" -e 'db:exec("UPDATE procedure_version SET active = 0 WHERE name = ?", "petla")'
run "$KOOP" -d "$loopdb" -e 'local c = cases.open{}; c:reason("4")'
expect_rc "a failing rule fails the script" 1
expect_err_has "... with the message and the rule's line" "procedure blad 1, on\[\"case.reason_added\"\] \(blad.lua:5\): nie wiem, co zrobić z powodem 4"
run "$KOOP" -d "$loopdb" -e 'print(db:value("SELECT count(*) FROM case_reason"))'
expect_out "... and the reason was not added" "0"

# usage
run "$KOOP" -d "$db" procedure frobnicate
expect_rc "unknown subcommand: bad usage" 2
expect_err_has "... listing the subcommands" "one of: install, list, show, dryrun, migrate, activate"
run "$KOOP" -d "$db" procedure migrate seniorzy
expect_rc "migrate without --to: bad usage" 2
run "$KOOP" -d "$db" --safe procedure install $EX/rodzina.lua
expect_rc "--safe cannot read procedure files" 1
expect_err_has "... saying so" "procedures cannot read files with --safe"

# help
run "$KOOP" help procedures
expect_rc "help procedures" 0
expect_out_has "help: the events" "referral.overdue +obj = the referral"
expect_out_has "help: the actions" "event:veto\(\"message\"\)"
run "$KOOP" help procedure
expect_out_has "help procedure: usage" "koop procedure migrate NAME --to VERSION \[--case CODE\]"
run "$KOOP" help --man
expect_out_has "the man page has the procedures topic" "^\.SH PROCEDURES"
finish
