-- cases_test.lua — cases: the pseudonymous code (prefix from the gmina or
-- koop_meta case_prefix, numbered per prefix and year), the one-line view
-- and the summary card, the stage lifecycle (illegal jumps refused naming
-- both stages, zakończona only by close), closing (outcome, open referrals
-- refused unless forced with a reason, which is audited and cancels them),
-- the task team (ZZK) and tasks, art. 7 reasons as a versioned dictionary
-- (pkt 7 renamed on 2023-06-22, pkt 10 repealed, 7a, gmina reasons with
-- their GDPR sensitivity), the events, and the IPW indicators.
-- Run with: koop test tests/lua/cases_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")

-- {==================== codes and views ====================

test("a case gets the code PREFIX-YEAR-NNN from its gmina's name", function()
  koop.today("2020-10-01")
  local c = F.case("2019-09-02")
  eq(c.code, "BOG-2019-001")
  eq(c.status, "zgłoszona")
  eq(c.status_since, "2019-09-02")
  eq(c.gmina_terc, "2612012")
  eq(F.case("2019-11-30").code, "BOG-2019-002")
  eq(F.case("2020-01-02").code, "BOG-2020-001", "numbered again each year")
  eq(cases.add{ opened_on = "2019-12-01" }.code, "BOG-2019-003", "cases.add is cases.open")
  eq(cases.count(), 4)
end)

test("case.opened fires inside the transaction of the opening", function()
  koop.today("2020-10-01")
  F.bogoria()
  local seen = F.events({ "case.opened" }, function() F.case("2019-09-02") end)
  eq(#seen, 1)
  eq({ seen[1][2].code, seen[1][3].date }, { "BOG-2019-001", "2019-09-02" })
  local off = koop.on("case.opened", function() error("procedure says no", 0) end)
  local ok_, err = pcall(F.case, "2019-09-03")
  off()
  ok(not ok_ and tostring(err):find("procedure says no"), tostring(err))
  eq(cases.count(), 1)
  eq(F.case("2019-09-03").code, "BOG-2019-002", "the number of the rolled-back case is given again")
end)

test("TAB completes a case's methods and fields", function()
  koop.today("2020-10-01")
  local names = F.completions(F.case())
  for _, m in ipairs{ "reason", "reasons", "has_reason", "refer", "referrals", "deliver", "services", "card", "close",
      "set_stage", "add_member", "members", "consent", "plan", "task", "task_team", "code", "status", "opened_on" } do
    ok(names[m], "completes " .. m)
  end
end)

test("the prefix: koop_meta case_prefix, else the gmina's first letters without diacritics", function()
  koop.today("2020-10-01")
  eq(require("koop.cases").prefix_of("Łoniów"), "LON")
  eq(require("koop.cases").prefix_of("Żabno"), "ZAB")
  F.bogoria()
  require("koop.schema").set_meta(db, "case_prefix", "BGR")
  eq(cases.open{ opened_on = "2019-09-02" }.code, "BGR-2019-001")
  require("koop.schema").set_meta(db, "case_prefix", "bad prefix")
  F.refused(function() cases.open{ opened_on = "2019-09-02" } end, "cases.code", "case_prefix")
end)

test("a code given explicitly is kept, and numbering continues after it", function()
  koop.today("2020-10-01")
  F.bogoria()
  eq(cases.open{ code = "BOG-2019-007", opened_on = "2019-03-01" }.code, "BOG-2019-007")
  eq(cases.open{ opened_on = "2019-04-01" }.code, "BOG-2019-008")
  F.refused(function() cases.open{ code = "BOG-2019-007", opened_on = "2019-03-01" } end, "cases.code", "already used")
  F.refused(function() cases.open{ code = "sprawa 1" } end, "cases.code", "PREFIX-YYYY-NNN")
  F.refused(function() cases.open{ opened_on = "2020-10-02" } end, "cases.opened_on", "after today")
  F.refused(function() cases.open{ opened_on = "2019-09-02", status = "zakończona" } end, "cases.status")
end)

test("a case prints as one line: Case#1 BOG-2019-001 realizacja 4 members", function()
  koop.today("2020-10-01")
  local c = F.case("2019-09-02", true)
  for _, s in ipairs{ "diagnoza", "plan", "realizacja" } do c:set_stage(s, { date = "2019-10-20" }) end
  eq(tostring(c), "Case#1 BOG-2019-001 realizacja 4 members")
  eq(c.member_count, 4)
  local one = F.case("2019-09-03")
  one:add_member{ first_name = "Anna", last_name = "Zając", birth_date = "1950-02-03", sex = "K", relation = "wnioskodawca" }
  eq(tostring(one), "Case#2 BOG-2019-002 zgłoszona 1 member")
  eq(#cases.find{ status = "realizacja" }, 1)
end)

-- }====================

-- {==================== stages ====================

test("stages go zgłoszona → diagnoza → plan → realizacja ⇄ monitoring, each change an event", function()
  koop.today("2020-10-01")
  local c = F.case()
  local seen = F.events({ "case.stage_changed" }, function()
    c:set_stage("diagnoza", { date = "2019-09-10" })
    c:set_stage("plan", { date = "2019-10-01" })
    c:update{ status = "realizacja" }                 -- update goes through the same rules
    c:set_stage("monitoring")
    c:set_stage("realizacja")
  end)
  eq(#seen, 5)
  eq({ seen[1][3].from, seen[1][3].to, seen[1][3].date }, { "zgłoszona", "diagnoza", "2019-09-10" })
  eq({ seen[5][3].from, seen[5][3].to }, { "monitoring", "realizacja" })
  eq(c.status_since, "2020-10-01")
  eq(c:reload().status, "realizacja")
end)

test("an illegal jump is refused naming both stages, and nothing is written", function()
  koop.today("2020-10-01")
  local c = F.case()
  local err = F.refused(function() c:set_stage("realizacja") end, "cases.status")
  ok(tostring(err):find("from zgłoszona to realizacja", 1, true), tostring(err))
  F.refused(function() c:update{ status = "monitoring", notes = "x" } end, "cases.status", "zgłoszona to monitoring")
  F.refused(function() c:set_stage("zakończona") end, "cases.status", "c:close{")
  F.refused(function() c:set_stage("w toku") end, "cases.status", "unknown stage")
  c:set_stage("diagnoza", { date = "2019-09-10" })
  F.refused(function() c:set_stage("plan", { date = "2019-09-05" }) end, "cases.status", "before the case entered diagnoza")
  F.refused(function() c:set_stage("plan", { date = "2020-10-02" }) end, "cases.status", "after today")
  F.refused(function() c:update{ status_since = "2019-01-01" } end, "cases.status_since", "derived")
  eq(c.status, "diagnoza")
end)

test("an error in a stage_changed handler rolls the change back", function()
  koop.today("2020-10-01")
  local c = F.case()
  local off = koop.on("case.stage_changed", function() error("veto", 0) end)
  local ok_, err = pcall(c.set_stage, c, "diagnoza")
  off()
  ok(not ok_ and tostring(err):find("veto"), tostring(err))
  eq(db:value("SELECT status FROM case_file WHERE id = ?", c.id), "zgłoszona")
end)

-- }====================

-- {==================== closing ====================

test("close records the outcome and the date; a closed case does not change", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local seen = F.events({ "case.closed", "case.stage_changed" }, function()
    c:close{ date = "2020-09-30", outcome = "sukces" }
  end)
  eq({ c.status, c.closed_on, c.outcome, c.closed }, { "zakończona", "2020-09-30", "sukces", true })
  eq(#seen, 2)
  eq(tostring(c), "Case#1 BOG-2019-001 zakończona 4 members (sukces)")
  F.refused(function() c:close{ outcome = "sukces" } end, "cases.status", "closed already")
  F.refused(function() c:set_stage("realizacja") end, "cases.status", "closed on 2020-09-30")
  F.refused(function() c:reason("1") end, "case_reasons.case", "closed")
  F.refused(function() c:add_member{ first_name = "A", last_name = "B", birth_date = "2000-01-01", sex = "K", relation = "inna" } end,
    "case_members.case", "closed")
end)

test("close needs a known outcome and a date not before the case opened", function()
  koop.today("2020-10-01")
  local c = F.case()
  F.refused(function() c:close{ date = "2020-09-30" } end, "cases.outcome", "is required")
  F.refused(function() c:close{ outcome = "wygrana" } end, "cases.outcome", "brak zasadności")
  F.refused(function() c:close{ outcome = "sukces", date = "2019-01-01" } end, "cases.closed_on", "before the case opened")
  F.refused(function() c:close{ outcome = "sukces", date = "2020-10-05" } end, "cases.status", "after today")
  c:close{ outcome = "brak zasadnosci" }
  eq(c.outcome, "brak zasadności")
  eq(c.closed_on, "2020-10-01")
end)

test("open referrals stop a close; force=true needs a reason, cancels them and is audited", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  F.consent(c)
  local r1 = c:refer{ to = F.inst.pup, service = "poradnictwo", shared = { "podstawowe" }, date = "2019-10-20" }
  local r2 = c:refer{ to = F.inst.gkrpa, date = "2019-10-21" }
  r2:accept{ date = "2019-10-25" }
  local err = F.refused(function() c:close{ date = "2020-09-30", outcome = "rezygnacja" } end, "cases.status")
  ok(tostring(err):find("2 open referrals", 1, true) and tostring(err):find("Powiatowy Urząd Pracy w Staszowie", 1, true), tostring(err))
  F.refused(function() c:close{ date = "2020-09-30", outcome = "rezygnacja", force = true } end, "cases.reason", "needs reason=")
  local seq = F.seq()
  c:close{ date = "2020-09-30", outcome = "rezygnacja", force = true, reason = "rodzina wyjechała" }
  eq({ r1:reload().status, r2:reload().status }, { "cancelled", "cancelled" })
  eq(r1.cancel_reason, "sprawa zamknięta: rodzina wyjechała")
  local forced = db:first("SELECT * FROM audit_log WHERE seq > ? AND action = 'force_close'", seq)
  ok(forced, "a force_close audit row")
  eq(forced.entity, "cases")
  eq(require("koop.json").decode(forced.after_json), { reason = "rodzina wyjechała", cancelled_referrals = { r1.id, r2.id } })
  eq(c.close_note, "rodzina wyjechała")
end)

-- }====================

-- {==================== team and tasks ====================

test("the task team (ZZK) of a case, and tasks owned by the case", function()
  koop.today("2019-09-05")
  local c = F.case()
  local t = c:task_team{ formed_on = "2019-09-05" }
  eq({ t.kind, t.name, t.formed_on }, { "ZZK", "ZZK BOG-2019-001", "2019-09-05" })
  eq(c.team_id, t.id)
  t:add_member{ person = F.person.ops, role = "przewodniczący", from = "2019-09-05" }
  eq(#t:members{ on = "2019-10-01" }, 1)
  F.refused(function() c:task_team{} end, "cases.team", "has a task team already")
  local task = c:task{ text = "Wizyta w domu rodziny", due = "2019-09-12", owner = F.person.ops }
  eq({ task.source_kind, task.source_id, task.owner_institution_id }, { "case", c.id, F.inst.ops.id })
  eq(#c:tasks(), 1)
  eq(#tasks.due{ on = "2019-09-13" }, 1)
  eq(tasks.due{ on = "2019-09-13" }.overdue, 1)
  eq(task.source, c)
  F.refused(function() c:task{ text = "Wcześniej", due = "2019-09-01", created_on = "2019-09-01" } end, "tasks.due", "the case opened")
  koop.today("2020-10-01")
  c:close{ outcome = "przeniesienie" }
  F.refused(function() c:task{ text = "Po zamknięciu" } end, "tasks.source_id", "closed")
  task:done{ date = "2019-09-12" }
  eq(task.status, "done", "a task set before closing is still carried out")
end)

-- }====================

-- {==================== reasons ====================

test("art. 7 reasons are versioned: pkt 7 is renamed on 2023-06-22, pkt 10 repealed, 7a exists", function()
  koop.today("2024-01-10")
  eq(reasons.on("7", "2023-06-21").name, "przemoc w rodzinie")
  eq(reasons.on("7", "2023-06-22").name, "przemoc domowa")
  eq(reasons.on("7", "2023-06-22").sensitivity, "art10")
  ok(reasons.on("10", "2010-05-01"), "pkt 10 in the old numbering")
  eq(reasons.on("10", "2012-01-01"), nil)
  eq(reasons.on("7a").name, "potrzeba ochrony ofiar handlu ludźmi")
  eq(reasons.on("13").sensitivity, "art9")
  eq(reasons.on("12").sensitivity, "art10")
  eq(reasons.on("4").sensitivity, "none")
  local codes = {}
  for _, r in ipairs(reasons.valid{ on = "2024-01-10" }) do codes[#codes + 1] = r.code end
  eq(#codes, 15, "1-9, 7a and 11-15: " .. table.concat(codes, " "))
  eq(tostring(reasons.on("13")), 'Reason 13 "alkoholizm lub narkomania" [art. 9 RODO]')
end)

test("c:reason notes a reason valid on the case's date; unknown codes are refused naming code and date", function()
  koop.today("2024-01-10")
  local c = F.case("2019-09-02")
  local seen = F.events({ "case.reason_added" }, function()
    for _, code in ipairs{ "1", "4", "9", 13 } do c:reason(code) end
  end)
  eq(#seen, 4)
  eq(seen[4][3].code, "13")
  ok(c:has_reason("13") and c:has_reason(4) and not c:has_reason("5"))
  eq(#c:reasons(), 4)
  eq(c:reasons()[4].sensitivity, "art9")
  eq(c:reason("7").name, "przemoc w rodzinie", "on the case's date, 2019")
  local err = F.refused(function() c:reason("10") end, "case_reasons.code")
  ok(tostring(err):find("reason 10 on 2019-09-02", 1, true), tostring(err))
  F.refused(function() c:reason("99") end, "case_reasons.code", "reason 99 on 2019-09-02 is not in the dictionary")
  F.refused(function() c:reason("4") end, "case_reasons.code", "has reason 4 already")
  F.refused(function() c:reason("5", "2019-01-01") end, "case_reasons.noted_on", "before the case opened")
  local later = F.case("2023-07-01")
  eq(later:reason("7").name, "przemoc domowa")
  c:drop_reason("7")
  ok(not c:has_reason("7"))
end)

test("a gmina adds its own reasons, with their sensitivity and validity", function()
  koop.today("2024-01-10")
  local r = reasons.add{ code = "senior", name = "osamotnienie osoby starszej", sensitivity = "none", valid_from = "2019-01-01" }
  eq(r.source, "gmina")
  reasons.add{ code = "uzależnienia-inne", name = "uzależnienia behawioralne", sensitivity = "art. 9" }
  eq(reasons.on("uzależnienia-inne").sensitivity, "art9")
  F.refused(function() reasons.add{ code = "senior", name = "drugi", valid_from = "2020-01-01" } end, "reasons.code", "already in the dictionary")
  F.refused(function() reasons.add{ code = "7", name = "przemoc" } end, "reasons.code", "already in the dictionary")
  F.refused(function() reasons.add{ code = "x y", name = "z" } end, "reasons.code", "one word")
  F.refused(function() reasons.add{ code = "z", name = "z", sensitivity = "tajne" } end, "reasons.sensitivity")
  F.refused(function() reasons.on("1"):update{ name = "bieda" } end, "reasons.code", "statute's")
  local c = F.case("2019-09-02")
  eq(c:reason("senior").code, "senior")
  local early = F.case("2018-05-05")
  F.refused(function() early:reason("senior") end, "case_reasons.code", "not valid then")
end)

-- }====================

-- {==================== indicators ====================

test("ipw_zakonczone_sukcesem and ipw_rozpoczete count agreed IPWs, by period", function()
  koop.today("2020-12-31")
  local function with_ipw(opened, agreed, outcome, closed)
    local c = F.case(opened)
    F.consent(c, opened)
    c:plan{ type = "IPW", agreed_on = agreed, goals = { "Zatrudnienie" } }
    if outcome then c:close{ date = closed, outcome = outcome } end
    return c
  end
  F.bogoria()
  with_ipw("2019-09-02", "2019-10-20", "sukces", "2020-09-30")
  with_ipw("2019-09-03", "2019-10-21", "rezygnacja", "2020-03-01")
  with_ipw("2020-02-01", "2020-03-01")
  local plain = F.case("2019-09-04")
  plain:close{ date = "2020-01-10", outcome = "sukces" }            -- no IPW: not counted
  local k = F.case("2019-09-05")
  F.consent(k)
  k:plan{ type = "kontrakt socjalny", agreed_on = "2019-10-20", goals = { "Praca" } }
  k:close{ date = "2020-06-01", outcome = "sukces" }               -- not an IPW
  eq(indicators.get("ipw_zakonczone_sukcesem"), 1)
  eq(indicators.get("ipw_rozpoczete"), 3)
  eq(indicators.get("ipw_rozpoczete", { from = "2020-01-01", to = "2020-12-31" }), 1)
  eq(indicators.get("ipw_zakonczone_sukcesem", { to = "2020-09-29" }), 0)
  eq(indicators.get("ipw_zakonczone_sukcesem", { gmina = "2609052" }), 0, "another gmina")
  eq(indicators.compute().values.ipw_zakonczone_sukcesem, 1)
end)

-- }====================

-- {==================== the card ====================

test("the card sums up the case: stage, reasons, members masked, consent, plan, referrals, services", function()
  koop.today("2020-01-15")
  local c = F.case("2019-09-02", true)
  for _, code in ipairs{ "1", "4", "9", "13" } do c:reason(code) end
  F.consent(c)
  local p = c:plan{ type = "IPW", created_on = "2019-10-15", review_on = "2020-04-20", goals = { "Zatrudnienie" } }
  p:goals()[1]:action{ text = "Aktywizacja zawodowa", institution = F.inst.pup, due = "2019-12-31" }
  p:agree{ date = "2019-10-20" }
  for _, s in ipairs{ "diagnoza", "plan", "realizacja" } do c:set_stage(s, { date = "2019-10-20" }) end
  local r = c:refer{ to = F.inst.pup, service = "poradnictwo", shared = { "podstawowe" }, date = "2019-10-25" }
  c:refer{ to = F.inst.sp, date = "2020-01-10" }
  c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-11-05", units = 2, cost = 150, referral = r }
  c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-11-12", units = 1.5, cost = 112.5 }
  local card = c:card()
  eq(card.code, "BOG-2019-001")
  eq(#card.members, 4)
  eq(card.members[1].name, "A. M***")
  eq(card.members[1].pesel, "8403*******")
  eq(card.services, { delivered = 2, cost = 26250, scheduled = 0 })
  eq(#card.referrals, 2)
  local text = tostring(card)
  for _, want in ipairs{
    "Case#1 BOG-2019-001 — realizacja since 2019-10-20",
    "reasons: 1 ubóstwo; 4 bezrobocie; 9 bezradność",
    "13 alkoholizm lub narkomania [art. 9 RODO]",
    "members (4):",
    "#1 A. M***, wnioskodawca, M, 35 l., PESEL 8403*******",
    "consent #1 given 2019-10-15:",
    "plan: IPW v1 agreed 2019-10-20, review 2020-04-20, 1 goal",
    "[planned] Aktywizacja zawodowa — Powiatowy Urząd Pracy w Staszowie, due 2019-12-31 (overdue)",
    "referrals: 2, open 2, overdue 1",
    "response overdue since 2019-11-08",
    "services: 2 delivered (3.5 godziny), cost ",
  } do
    ok(text:find(want, 1, true), ("card has %q:\n%s"):format(want, text))
  end
  ok(not text:find("Mazur", 1, true) and not text:find("84031201236", 1, true), "masked:\n" .. text)
end)

-- }====================
