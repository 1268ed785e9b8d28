-- rodzina_test.lua — tests of examples/procedures/rodzina.lua (the
-- multi-problem family procedure): which cases it takes on, its tasks and
-- deadlines, the stage requirements, what an agreed IPW, a rejected or
-- unanswered referral and a domestic-violence reason do.
--   koop test examples/procedures/rodzina_test.lua
-- People and the family are fictional.

-- A gmina with its OPS (and a worker), PCPR, PUP and GKRPA; the procedure
-- installed; today 2024-03-04 (a Monday).
local function setup()
  koop.today("2024-03-04")
  gminas.ensure("2612012")
  gminas.set_home("2612012")
  local g = {}
  for key, i in pairs{ ops = { "Ośrodek Pomocy Społecznej w Bogorii", "OPS" },
      pcpr = { "Powiatowe Centrum Pomocy Rodzinie w Staszowie", "PCPR" },
      pup = { "Powiatowy Urząd Pracy w Staszowie", "PUP" },
      gkrpa = { "Gminna Komisja Rozwiązywania Problemów Alkoholowych w Bogorii", "GKRPA" } } do
    g[key] = institutions.add{ name = i[1], kind = i[2], gmina = "2612012" }
  end
  g.worker = people.add{ first_name = "Anna", last_name = "Nowak", institution = g.ops }
  procedures.install("rodzina.lua")
  return g
end

-- A case opened today by the OPS, coordinated by its worker.
local function family(g)
  return cases.open{ source_institution = g.ops, coordinator = g.worker }
end

-- The texts of the case's open tasks with their due dates.
local function open_tasks(c)
  local out = {}
  for _, t in ipairs(c:tasks()) do
    if t.status == "open" then out[#out + 1] = t.text .. " @ " .. t.due end
  end
  return out
end

-- The case's procedure deadlines as "what: due status".
local function deadlines(c)
  local out = {}
  for _, d in ipairs(c:deadlines()) do out[#out + 1] = ("%s: %s %s"):format(d.what, d.due, d.status) end
  return out
end

test("a family with reason 9 is taken on when it is noted: diagnosis task and deadline", function()
  local g = setup()
  local c = family(g)
  eq(#c:procedures(), 0, "not before a reason says it is a family case")
  c:reason("9")
  eq(c:procedures()[1].name, "rodzina")
  eq(open_tasks(c), { "Wywiad środowiskowy i diagnoza rodziny @ 2024-03-18" })
  eq(tostring(c:tasks()[1].owner), tostring(g.worker), "the coordinator's task")
  eq(deadlines(c), { "Diagnoza sytuacji rodziny: 2024-04-03 open" })
end)

test("one reason outside the family set is not a family case; a second family reason is", function()
  local g = setup()
  local c = family(g)
  c:reason("6")
  c:reason("1")
  eq(#c:procedures(), 0)
  c:reason("4")
  eq(#c:procedures(), 1, "ubóstwo and bezrobocie together")
end)

test("the plan stage needs consent; reaching it meets the diagnosis deadline", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  c:set_stage("diagnoza")
  local err = raises(function() c:set_stage("plan") end, "veto")
  ok(tostring(err):find("nie wyraziła zgody", 1, true), tostring(err))
  ok(tostring(err):find('procedure rodzina 2024-1, requires["plan"] (rodzina.lua:', 1, true), tostring(err))
  eq(c.status, "diagnoza", "the move was undone")
  travel(7)
  c:consent{ institutions = { g.ops, g.pup, g.gkrpa }, categories = { "podstawowe", "sytuacja rodzinna" },
    recorded_by = g.worker }
  c:set_stage("plan")
  eq(deadlines(c), { "Uzgodnienie IPW z rodziną: 2024-04-02 open", "Diagnoza sytuacji rodziny: 2024-04-03 met" },
    "21 days from 11 March end on Easter Monday, so the IPW deadline moves to Tuesday (KPA art. 57 §4)")
end)

test("an agreed IPW moves the case to realizacja, meets its deadline and schedules the review", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  c:set_stage("diagnoza")
  c:consent{ institutions = { g.ops, g.pup }, categories = { "podstawowe" }, recorded_by = g.worker }
  travel(10)
  local p = c:plan{ type = "IPW", review_on = "2024-06-14", goals = { "Zatrudnienie" } }
  p:agree{}
  c = cases.get(c.id)
  eq(c.status, "realizacja")
  eq(deadlines(c), { "Uzgodnienie IPW z rodziną: 2024-03-25 met", "Diagnoza sytuacji rodziny: 2024-04-03 met" })
  eq(open_tasks(c), { "Wywiad środowiskowy i diagnoza rodziny @ 2024-03-18",
    "Przegląd realizacji IPW na posiedzeniu zespołu @ 2024-06-14" })
end)

test("realizacja without an agreed IPW is refused", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  c:set_stage("diagnoza")
  c:consent{ institutions = { g.ops }, categories = { "podstawowe" }, recorded_by = g.worker }
  c:set_stage("plan")
  raises(function() c:set_stage("realizacja") end, "IPW nie jest uzgodniony")
end)

test("a rejected referral gives the coordinator a task; an unanswered one a reminder", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  local r = c:refer{ to = g.pcpr, service = "terapia" }
  r:reject{ reason = "brak wolnych terminów" }
  local r2 = c:refer{ to = g.pup, service = "poradnictwo" }
  eq(open_tasks(c), { "Odmowa skierowania (brak wolnych terminów): znaleźć inną instytucję @ 2024-03-11",
    "Wywiad środowiskowy i diagnoza rodziny @ 2024-03-18" })
  travel(15)                                        -- 2024-03-19: PUP's answer was due on 18 March
  procedures.tick()
  eq(open_tasks(c)[3], ("Brak odpowiedzi na skierowanie #%d: przypomnieć instytucji @ 2024-03-21"):format(r2.id))
  procedures.tick()
  eq(#open_tasks(c), 3, "the sweep fires each overdue referral once")
end)

test("domestic violence starts the Niebieska Karta task for the next working day, with a note", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  travel(4)                                         -- Friday 2024-03-08
  c:reason("7", "2024-03-08")
  eq(open_tasks(c)[1], "Przemoc domowa: procedura Niebieskiej Karty, zgłoszenie do zespołu interdyscyplinarnego @ 2024-03-11")
  eq(procedures.notes(c)[1].text, "przemoc domowa: sprawa zgłoszona do procedury Niebieskiej Karty")
end)

test("closing needs the case's tasks finished; then its open deadlines are cancelled", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  raises(function() c:close{ outcome = "brak zasadności" } end, "jest otwarte")
  eq(c.status, "zgłoszona")
  for _, t in ipairs(c:tasks()) do t:cancel() end
  c:close{ outcome = "brak zasadności" }
  eq(deadlines(c), { "Diagnoza sytuacji rodziny: 2024-04-03 cancelled" })
end)

test("an overdue task gets a note for the team meeting", function()
  local g = setup()
  local c = family(g)
  c:reason("9")
  travel(15)
  procedures.tick()                                 -- what `koop due` runs (each thing once)
  procedures.tick()
  eq(#procedures.notes(c), 1)
  ok(procedures.notes(c)[1].text:find("po terminie (2024-03-18)", 1, true))
end)
