-- plans_test.lua — plans of a case: the three types, v1 as a draft with
-- goals and actions (inline or one by one), agreement (needs goals and a
-- consent; plan.agreed fires in the transaction), revision into v2 that
-- keeps v1 (status revised, linked both ways, goals and actions copied),
-- actions with responsible institution/person, service type and due date
-- going planned → in_progress → done | not_done (with a reason), the
-- review date and reviews_due, plans ending with their case; every bad
-- input refused with the field named and nothing written.
-- Run with: koop test tests/lua/plans_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")
local plans = require("koop.plans").plans

-- The scenario's case with consent and an IPW draft with four goals.
local function ipw()
  local c = F.case(nil, true)
  F.consent(c)
  local p = c:plan{ type = "IPW", created_on = "2019-10-16", review_on = "2020-04-20", goals = {
    { text = "Zatrudnienie", actions = { { text = "Aktywizacja zawodowa", institution = F.inst.pup, service = "poradnictwo", due = "2019-12-31" } } },
    { text = "Terapia uzależnienia", actions = { { text = "Rozmowa motywująca", institution = F.inst.gkrpa, due = "2019-11-30" } } },
    { text = "Frekwencja szkolna", actions = { { text = "Wsparcie szkolne", person = F.person.sp, due = "2020-06-30" } } },
    "Umiejętności wychowawcze",
  } }
  return c, p
end

test("c:plan writes v1 as a draft with its goals and actions", function()
  koop.today("2020-10-01")
  local c, p = ipw()
  eq({ p.type, p.version, p.status, p.created_on, p.review_on, p.previous }, { "IPW", 1, "draft", "2019-10-16", "2020-04-20", nil })
  local goals = p:goals()
  eq(#goals, 4)
  eq({ goals[1].no, goals[1].text, goals[4].no }, { 1, "Zatrudnienie", 4 })
  local acts = p:actions()
  eq(#acts, 3)
  eq({ acts[1].status, acts[1].institution.kind, acts[1].service_type }, { "planned", "PUP", "poradnictwo" })
  eq(acts[3].institution_id, F.inst.sp.id, "a person's institution is responsible with them")
  local g = goals[4]
  local a = g:action{ text = "Warsztaty dla rodziców", institution = F.inst.gok, due = "2020-03-31" }
  eq(#g:actions(), 1)
  eq(tostring(a), 'Action#4 planned "Warsztaty dla rodziców" — Gminny Ośrodek Kultury w Bogorii, due 2020-03-31')
  eq(tostring(p), "Plan#1 IPW v1 of BOG-2019-001 draft, review 2020-04-20, 4 goals")
  eq(c:current_plan(), p)
  eq(tostring(goals[1]), 'Goal#1 1. "Zatrudnienie" (1 action)')
end)

test("agreeing needs a draft with goals; plan.agreed fires inside the transaction", function()
  koop.today("2020-10-01")
  local c, p = ipw()
  local empty = c:plan{ type = "plan pracy z rodziną", created_on = "2019-10-16" }
  F.refused(function() empty:agree{ date = "2019-10-20" } end, "plans.goals", "has no goals")
  F.refused(function() p:agree{ date = "2019-10-15" } end, "plans.agreed_on", "before the plan was written")
  F.refused(function() p:agree{ date = "2020-10-02" } end, "plans.agreed_on", "after today")
  local off = koop.on("plan.agreed", function() error("procedure veto", 0) end)
  local ok_, err = pcall(p.agree, p, { date = "2019-10-20" })
  off()
  ok(not ok_ and tostring(err):find("procedure veto"), tostring(err))
  eq(db:value("SELECT status FROM plan WHERE id = ?", p.id), "draft")
  local seen = F.events({ "plan.agreed" }, function() p:agree{ date = "2019-10-20" } end)
  eq(#seen, 1)
  eq({ p.status, p.agreed_on }, { "agreed", "2019-10-20" })
  F.refused(function() p:agree{ date = "2019-10-21" } end, "plans.status", "not a draft")
  F.refused(function() p:goal{ text = "Nowy cel" } end, "plans.status", "p:revise{}")
  F.refused(function() p:goals()[4]:action{ text = "x", institution = F.inst.ops } end, "plans.status", "p:revise{}")
  F.refused(function() p:goals()[1]:update{ text = "Praca" } end, "plan_goals.text", "new version")
  F.refused(function() p:actions()[1]:update{ due = "2020-01-31" } end, "plan_actions.text", "new version")
end)

test("one plan of a type in force per case; bad plans are refused", function()
  koop.today("2020-10-01")
  local c = ipw()
  F.refused(function() c:plan{ type = "IPW" } end, "plans.type", "has IPW v1 already")
  F.refused(function() c:plan{ type = "plan naprawczy" } end, "plans.type", "kontrakt socjalny")
  F.refused(function() c:plan{ type = "kontrakt", created_on = "2019-01-01" } end, "plans.created_on", "before the case opened")
  F.refused(function() c:plan{ type = "kontrakt", review_on = "2019-01-01", created_on = "2019-10-01" } end, "plans.review_on")
  F.refused(function() c:plan{ type = "kontrakt", goals = { 5 } } end, "plan_goals.goals")
  F.refused(function() c:plan{ type = "kontrakt", goals = { { text = "Praca", actions = { { text = "Szkolenie" } } } } } end,
    "plan_actions.institution", "responsible")
  eq(c:plan{ type = "kontrakt" }.type, "kontrakt socjalny")
end)

test("actions go planned → in progress → done, or not done with a reason", function()
  koop.today("2020-10-01")
  local c, p = ipw()
  local a = p:actions()
  F.refused(function() a[1]:start{ date = "2019-10-21" } end, "plan_actions.status", "agreed plan")
  p:agree{ date = "2019-10-20" }
  a[1]:start{ date = "2019-10-25" }
  eq({ a[1].status, a[1].started_on }, { "in_progress", "2019-10-25" })
  F.refused(function() a[1]:done{ date = "2019-10-24" } end, "plan_actions.done_on", "before the action started")
  a[1]:done{ date = "2019-12-10" }
  eq({ a[1].status, a[1].done_on }, { "done", "2019-12-10" })
  F.refused(function() a[1]:start{} end, "plan_actions.status", "done (2019-12-10); it cannot become in_progress")
  F.refused(function() a[2]:not_done{ date = "2019-12-01" } end, "plan_actions.not_done_reason", "required")
  a[2]:not_done{ reason = "rodzina odmówiła", date = "2019-12-01" }
  eq({ a[2].status, a[2].not_done_reason }, { "not_done", "rodzina odmówiła" })
  F.refused(function() a[3]:done{ date = "2019-10-19" } end, "plan_actions.done_on", "before the plan was agreed")
  ok(a[3]:done{ date = "2020-06-30" })
  eq(tostring(a[2]), 'Action#2 not_done "Rozmowa motywująca" — Gminna Komisja Rozwiązywania Problemów Alkoholowych w Bogorii, due 2019-11-30, not done 2019-12-01 (rodzina odmówiła)')
end)

test("revise makes v2 (a draft with the same goals and actions) and keeps v1", function()
  koop.today("2020-10-01")
  local c, p = ipw()
  F.refused(function() p:revise{ date = "2019-11-01" } end, "plans.status", "change the draft itself")
  p:agree{ date = "2019-10-20" }
  p:actions()[1]:done{ date = "2019-12-10" }
  local v2 = p:revise{ date = "2020-01-15", review_on = "2020-07-15" }
  eq({ v2.version, v2.status, v2.previous_id, v2.created_on, v2.review_on }, { 2, "draft", p.id, "2020-01-15", "2020-07-15" })
  eq({ p:reload().status, p.ended_on }, { "revised", "2020-01-15" })
  eq(p.next, v2)
  eq(v2.previous, p)
  eq(#v2:goals(), 4)
  local acts = v2:actions()
  eq(#acts, 3)
  eq({ acts[1].status, acts[1].done_on, acts[2].status }, { "done", "2019-12-10", "planned" }, "statuses kept")
  eq(#p:actions(), 3, "v1 keeps its own")
  F.refused(function() p:update{ review_on = "2020-05-01" } end, "plans.status", "revised: it is kept")
  v2:goal{ text = "Mieszkanie" }
  v2:agree{ date = "2020-01-20" }
  eq(c:current_plan(), v2)
  eq(#c:plans(), 2)
  F.refused(function() v2:revise{ date = "2020-01-19" } end, "plans.created_on", "before IPW v2 of BOG-2019-001 was agreed")
end)

test("plans end with their case; reviews_due lists plans in force by review date", function()
  koop.today("2020-04-10")
  local c, p = ipw()
  p:agree{ date = "2019-10-20" }
  local other = F.case("2019-09-03")
  F.consent(other)
  local k = other:plan{ type = "kontrakt", created_on = "2019-10-16", review_on = "2020-09-01", goals = { "Praca" } }
  k:agree{ date = "2019-10-20" }
  local due = plans.reviews_due()
  eq(#due, 1)
  eq(due[1], p)
  eq(#plans.reviews_due{ on = "2020-08-20" }, 2)
  koop.today("2020-10-01")
  c:close{ date = "2020-09-30", outcome = "sukces" }
  eq({ p:reload().status, p.ended_on }, { "completed", "2020-09-30" })
  other:close{ date = "2020-09-30", outcome = "rezygnacja" }
  eq(k:reload().status, "discontinued")
  eq(c:current_plan(), p, "a closed case shows the plan it ended with")
end)

test("a plan owns tasks (a review meeting); an ended plan sets none", function()
  koop.today("2020-04-10")
  local c, p = ipw()
  p:agree{ date = "2019-10-20" }
  local t = p:task{ text = "Przegląd IPW na posiedzeniu ZZK", due = "2020-04-20", owner = F.person.ops }
  eq({ t.source_kind, t.source_id, t.source }, { "plan", p.id, p })
  eq(#p:tasks(), 1)
  F.refused(function() p:task{ text = "Za wcześnie", due = "2019-10-01", created_on = "2019-10-01" } end, "tasks.due", "the plan was written")
  local v2 = p:revise{ date = "2020-04-10" }
  F.refused(function() p:task{ text = "Na starej wersji" } end, "tasks.source_id", "revised")
  ok(v2:task{ text = "Uzgodnić wersję 2", due = "2020-04-30" })
end)
