-- tasks_test.lua — tasks: owners (a person, whose institution is the
-- default, or an institution), status open → in_progress → done |
-- cancelled with done_on, generic sources (source_kind + source_id), and
-- tasks.due{on=, within=, by=}: overdue and upcoming lists, grouped by
-- institution or person, respecting koop.today() (--today); and the bad
-- input: due before the task was set, done_on in the future or on a task
-- that is not done, unknown sources, a bad owner, bad options.
-- Run with: koop test tests/lua/tasks_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

test("a task's owner: a person (with her institution), or an institution", function()
  koop.today("2019-07-10")
  F.setup()
  local t = tasks.add{ text = "Zebrać oferty usług", owner = F.person.ops, due = "2019-08-31" }
  eq(t.owner_person, F.person.ops)
  eq(t.owner_institution, F.inst.ops, "the person's institution")
  eq(t.owner, F.person.ops)
  eq(t.owner_name, "Anna Nowak (Ośrodek Pomocy Społecznej w Bogorii)")
  eq(t.created_on, "2019-07-10", "set today")
  eq(t.status, "open")
  eq(tostring(t), 'Task#1 open due 2019-08-31 "Zebrać oferty usług" — Anna Nowak (Ośrodek Pomocy Społecznej w Bogorii)')
  local u = tasks.add{ text = "Wyznaczyć animatora", owner = F.inst.pcpr }
  eq(u.owner, F.inst.pcpr)
  eq(u.owner_person, nil)
  u:update{ owner = F.person.pup }
  eq({ u.owner_person_id, u.owner_institution_id }, { F.person.pup.id, F.inst.pcpr.id }, "an explicit institution stays")
  u:update{ owner = F.inst.gok }
  eq({ u.owner_person, u.owner_institution }, { nil, F.inst.gok })
  F.refused(function() tasks.add{ text = "x", owner = "OPS" } end, "tasks.owner", "a person or an institution")
  F.refused(function() tasks.add{ owner = F.inst.ops } end, "tasks.text", "is required")
end)

test("done, started, cancelled, reopened", function()
  koop.today("2019-08-15")
  F.setup()
  local t = tasks.add{ text = "Mapa zasobów", owner = F.inst.ops, due = "2019-09-30", created_on = "2019-07-10" }
  t:start()
  eq(t.status, "in_progress")
  t:done{ date = "2019-08-14" }
  eq({ t.status, t.done_on }, { "done", "2019-08-14" })
  t:reopen()
  eq({ t.status, t.done_on }, { "open", nil })
  t:done{}
  eq(t.done_on, "2019-08-15", "today by default")
  t:cancel()
  eq({ t.status, t.done_on }, { "cancelled", nil })
  t:update{ status = "in progress" }
  eq(t.status, "in_progress", "alias")
end)

test("bad dates of a task are refused", function()
  koop.today("2019-08-15")
  F.setup()
  F.refused(function() tasks.add{ text = "x", due = "2019-08-14" } end, "tasks.due", "2019-08-14 is before the task was set (2019-08-15)")
  local t = tasks.add{ text = "x", due = "2019-09-01", created_on = "2019-08-01" }
  F.refused(function() t:done{ date = "2019-08-16" } end, "tasks.done_on", "after today")
  F.refused(function() t:done{ date = "2019-07-31" } end, "tasks.done_on", "before the task was set")
  F.refused(function() t:done{ date = "31.07.2019" } end, "tasks.done_on", "not a date")
  F.refused(function() t:update{ done_on = "2019-08-10" } end, "tasks.done_on", "only a done task")
  F.refused(function() t:update{ status = "zrobione" } end, "tasks.status", "unknown task status")
  eq(t:reload().status, "open")
end)

test("sources: known kinds only, an existing source", function()
  F.setup()
  F.refused(function() tasks.add{ text = "x", source_kind = "wniosek", source_id = 1 } end, "tasks.source_kind",
    "unknown source kind 'wniosek'")
  F.refused(function() tasks.add{ text = "x", source_kind = "meeting", source_id = 99 } end, "tasks.source_id", "no meeting with id 99")
  F.refused(function() tasks.add{ text = "x", source_kind = "meeting" } end, "tasks.source_id", "together")
  F.refused(function() tasks.add{ text = "x", decision_no = 1 } end, "tasks.decision_no", "belongs to a source")
  eq(tasks.add{ text = "Bez źródła" }.source, nil)
end)

test("a kind of source declared by another module", function()
  koop.today("2019-08-01")
  F.setup()
  local _, team = F.gpzk()
  tasks.define_source{ kind = "zespol_test", collection = "teams", date = "formed_on", what = "its team" }
  F.refused(function() tasks.add{ text = "x", source_kind = "zespol_test", source_id = team.id, due = "2019-06-30", created_on = "2019-06-01" } end,
    "tasks.due", "before its team (Team#1 on 2019-07-01)")
  eq(tasks.add{ text = "x", source_kind = "zespol_test", source_id = team.id, due = "2019-08-30" }.source, team)
end)

-- Tasks of OPS, PCPR and GOK around 2019-10-01.
local function some_tasks()
  F.setup()
  local function task(text, owner, due, status)
    local t = tasks.add{ text = text, owner = owner, due = due, created_on = "2019-07-10" }
    if status == "done" then t:done{ date = "2019-07-20" } elseif status then t:update{ status = status } end
    return t
  end
  return {
    map = task("Mapa zasobów", F.inst.ops, "2019-09-30"),
    late = task("Regulamin na stronę", F.person.gok, "2019-08-31", "in_progress"),
    today = task("Lista kontaktów", F.person.pcpr, "2019-10-01"),
    soon = task("Zaproszenia na szkolenie", F.person.ops, "2019-10-15"),
    later = task("Sprawozdanie", F.inst.pcpr, "2019-10-16"),
    done = task("Protokół", F.person.ops, "2019-07-31", "done"),
    cancelled = task("Ankieta", F.inst.gok, "2019-09-01", "cancelled"),
    undated = task("Bez terminu", F.inst.ops, nil),
  }
end

local function ids(list)
  local out = {}
  for i, r in ipairs(list) do out[i] = r.text .. ":" .. r.state .. ":" .. r.days_left end
  return out
end

test("tasks.due: overdue before `on`, upcoming within 14 days, done and cancelled left out", function()
  some_tasks()
  local due = tasks.due{ on = "2019-10-01" }
  eq(ids(due), { "Regulamin na stronę:overdue:-31", "Mapa zasobów:overdue:-1", "Lista kontaktów:upcoming:0",
    "Zaproszenia na szkolenie:upcoming:14" })
  eq({ due.overdue, due.upcoming }, { 2, 2 })
  eq(due.columns, { "state", "due", "days_left", "institution", "person", "text", "id" })
  eq(due[1].person, "Katarzyna Zielińska")
  eq(due[1].institution, "Gminny Ośrodek Kultury w Bogorii")
  eq(#tasks.due{ on = "2019-10-01", within = 15 }, 5)
  eq(#tasks.due{ on = "2019-10-01", within = 0 }, 3)
  local shown = tostring(due)
  ok(shown:find("overdue", 1, true) and shown:find("Mapa zasobów", 1, true), shown)
end)

test("tasks.due follows today (--today, koop.today) and time travel", function()
  some_tasks()
  koop.today("2019-09-30")
  eq(ids(tasks.due{}), { "Regulamin na stronę:overdue:-30", "Mapa zasobów:upcoming:0", "Lista kontaktów:upcoming:1" })
  eq(tasks.due{}.overdue, 1)
  travel(1)
  eq(tasks.due{}.overdue, 2, "a task open past 2019-09-30 is overdue on 2019-10-01")
end)

test("tasks.due by institution and by person", function()
  some_tasks()
  local by_inst = tasks.due{ on = "2019-10-01", within = 30, by = "institution" }
  eq(by_inst.columns[1], "institution")
  local got = {}
  for i, r in ipairs(by_inst) do got[i] = r.institution .. "|" .. r.state .. "|" .. r.text end
  eq(got, {
    "Gminny Ośrodek Kultury w Bogorii|overdue|Regulamin na stronę",
    "Ośrodek Pomocy Społecznej w Bogorii|overdue|Mapa zasobów",
    "Ośrodek Pomocy Społecznej w Bogorii|upcoming|Zaproszenia na szkolenie",
    "Powiatowe Centrum Pomocy Rodzinie w Staszowie|upcoming|Lista kontaktów",
    "Powiatowe Centrum Pomocy Rodzinie w Staszowie|upcoming|Sprawozdanie",
  })
  local by_person = tasks.due{ on = "2019-10-01", within = 30, by = "person" }
  eq(by_person.columns[1], "person")
  got = {}
  for i, r in ipairs(by_person) do got[i] = (r.person or "-") .. "|" .. r.text end
  eq(got, {
    "Jan Kowalski|Lista kontaktów",
    "Anna Nowak|Zaproszenia na szkolenie",
    "Katarzyna Zielińska|Regulamin na stronę",
    "-|Mapa zasobów",
    "-|Sprawozdanie",
  })
end)

test("tasks.due refuses bad options", function()
  F.setup()
  F.refused(function() tasks.due{ on = "1.10.2019" } end, "tasks.on", "expected a date")
  F.refused(function() tasks.due{ within = -1 } end, "tasks.within", "at least 0")
  F.refused(function() tasks.due{ within = 1.5 } end, "tasks.within", "whole number")
  F.refused(function() tasks.due{ by = "gmina" } end, "tasks.by", "institution")
  F.refused(function() tasks.due{ until_ = "2019-10-01" } end, "tasks.until_", "unknown option")
  F.refused(function() tasks.due("2019-10-01") end, "tasks.due", "expects a table")
end)

test("a task prints as one line, lists as a table and completes its methods", function()
  koop.today("2019-10-01")
  F.setup()
  local t = tasks.add{ text = "Mapa zasobów", owner = F.inst.ops, due = "2019-09-30", created_on = "2019-07-10" }
  eq(tostring(t), 'Task#1 open (overdue) due 2019-09-30 "Mapa zasobów" — Ośrodek Pomocy Społecznej w Bogorii')
  ok(tostring(tasks.all()):find("Mapa zasobów", 1, true))
  local names = F.completions(t)
  for _, n in ipairs{ "done", "start", "cancel", "reopen", "owner", "source", "overdue", "due", "status" } do
    ok(names[n], "completes " .. n)
  end
  ok(audit.verify())
end)
