-- niepelnosprawnosc_test.lua — tests of examples/procedures/
-- niepelnosprawnosc.lua (a person with a disability: WTZ, ŚDS, PCPR): the
-- certificate task and deadline, the deadline for a day centre's answer,
-- the referral to the PCPR when there is no place, and the veto of a plan
-- whose action has no date.
--   koop test examples/procedures/niepelnosprawnosc_test.lua
-- People are fictional.

-- OPS (and a worker), a WTZ, an ŚDS and the PCPR; the procedure installed;
-- today 2024-09-02 (a Monday).
local function setup()
  koop.today("2024-09-02")
  gminas.ensure("2612012")
  gminas.set_home("2612012")
  local g = {
    ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", gmina = "2612012" },
    wtz = institutions.add{ name = "Warsztat Terapii Zajęciowej w Staszowie", kind = "WTZ", gmina = "2612012" },
    sds = institutions.add{ name = "Środowiskowy Dom Samopomocy w Bogorii", kind = "ŚDS", gmina = "2612012" },
    pcpr = institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "PCPR", gmina = "2612012" },
  }
  g.worker = people.add{ first_name = "Ewa", last_name = "Wiśniewska", institution = g.ops }
  procedures.install("niepelnosprawnosc.lua")
  return g
end

-- A case with reason 5 (niepełnosprawność), opened today.
local function person(g)
  local c = cases.open{ source_institution = g.ops, coordinator = g.worker }
  c:reason("5")
  return c
end

test("reason 5 brings the certificate task and deadline", function()
  local g = setup()
  local c = person(g)
  eq(c:procedures()[1].name, "niepelnosprawnosc")
  eq(c:tasks()[1].due, "2024-09-16")
  local d = c:deadlines()[1]
  eq({ d.key, d.due, d.counted }, { "orzeczenie", "2024-10-02", "30 dni" })
end)

test("a referral to a day centre has 30 days for an answer; accepting meets it, with a note", function()
  local g = setup()
  local c = person(g)
  local r = c:refer{ to = g.sds, service = "terapia" }
  local pcpr = c:refer{ to = g.pcpr, service = "poradnictwo" }
  local list = procedures.deadlines{ case = c, status = "open" }
  eq(#list, 2, "none for the referral to the PCPR (when=)")
  eq(list[2].key .. " " .. list[2].due .. " " .. list[2].subject_id, "odpowiedź placówki 2024-10-02 " .. r.id)
  travel(3)
  r:accept{}
  eq(procedures.deadlines{ case = c, status = "met" }[1].closed_on, "2024-09-05")
  eq(procedures.notes(c)[1].text, "przyjęta do Środowiskowy Dom Samopomocy w Bogorii od 2024-09-05")
  ok(pcpr.open)
end)

test("no place in the WTZ: a referral to the PCPR and a waiting-list task", function()
  local g = setup()
  local c = person(g)
  local r = c:refer{ to = g.wtz, service = "terapia" }
  travel(10)
  r:reject{ reason = "brak miejsc" }
  local refs = c:referrals()
  eq(#refs, 2)
  eq(refs[2].to.kind, "PCPR")
  eq(refs[2].sent_on, "2024-09-12")
  ok(refs[2].reason:find("brak miejsca w Warsztat Terapii Zajęciowej w Staszowie", 1, true))
  eq(c:tasks()[2].text, "Lista oczekujących w Warsztat Terapii Zajęciowej w Staszowie i kontakt co miesiąc")
  eq(c:tasks()[2].due, "2024-10-14", "a month from 12 September ends on Saturday 12 October: Monday 14 October")
  eq(#procedures.deadlines{ case = c, status = "met" }, 1, "the rejection answered the WTZ deadline")
end)

test("a plan with an action without a date is vetoed, and stays a draft", function()
  local g = setup()
  local c = person(g)
  c:consent{ institutions = { g.ops, g.wtz }, categories = { "podstawowe", "zdrowie" }, recorded_by = g.worker }
  local p = c:plan{ type = "IPW", goals = { { text = "Aktywność zawodowa",
    actions = { { text = "Zajęcia w WTZ", institution = g.wtz, due = "2024-12-20" },
      { text = "Wsparcie rodziny", institution = g.ops } } } } }
  local err = raises(function() p:agree{} end, "veto")
  ok(tostring(err):find('procedure niepelnosprawnosc 2024-1, on["plan.agreed"] (niepelnosprawnosc.lua:', 1, true), tostring(err))
  ok(tostring(err):find('vetoed the change: działanie "Wsparcie rodziny" nie ma terminu realizacji', 1, true), tostring(err))
  eq(c:plans()[1].status, "draft")
  eq(#db:query("SELECT 1 FROM plan WHERE status = 'agreed'"), 0)
  p:actions()[2]:update{ due = "2024-10-31" }
  p:agree{}
  eq(c:plans()[1].status, "agreed", "with dates it is agreed")
end)
