-- seniorzy_test.lua — tests of examples/procedures/seniorzy.lua (activity
-- and isolation of older people): which households it takes on, the first
-- home visit in working days, the chain of regular visits and what a
-- missed one does, the club and the volunteer from the resource map.
--   koop test examples/procedures/seniorzy_test.lua
-- People are fictional; PESELs are synthetic (valid checksums).

-- Bogoria's OPS (and a worker), GOK (club) and an NGO (volunteers); the
-- procedure installed; today 2024-04-29 (a Monday before 1 and 3 May).
local function setup()
  koop.today("2024-04-29")
  gminas.ensure("2612012")
  gminas.set_home("2612012")
  local g = {
    ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", gmina = "2612012" },
    gok = institutions.add{ name = "Gminny Ośrodek Kultury w Bogorii", kind = "GOK", gmina = "2612012" },
    ngo = institutions.add{ name = "Stowarzyszenie Razem dla Bogorii", kind = "NGO", gmina = "2612012" },
  }
  g.worker = people.add{ first_name = "Anna", last_name = "Nowak", institution = g.ops }
  procedures.install("seniorzy.lua")
  return g
end

-- A case of a woman born in 1948 living alone (PESEL 48051201234 is
-- synthetic: born 1948-05-12).
local function senior(g)
  local c = cases.open{ source_institution = g.ops, coordinator = g.worker }
  c:add_member{ first_name = "Helena", last_name = "Wrona", birth_date = "1948-05-12", sex = "K", relation = "wnioskodawca" }
  return c
end

-- The case's procedure deadlines as "key: due status".
local function deadlines(c)
  local out = {}
  for _, d in ipairs(c:deadlines()) do out[#out + 1] = ("%s: %s %s"):format(d.key, d.due, d.status) end
  return out
end

-- A visit of the volunteers' NGO on `date`.
local function visit(g, c, date)
  return c:deliver{ provider = g.ngo, service = "wolontariat", date = date, units = 1 }
end

test("a new senior case gets a home visit within 7 working days", function()
  local g = setup()
  local c = senior(g)
  eq(c:procedures()[1].name, "seniorzy", "taken on when the senior is added")
  -- 1 May and 3 May are holidays: seven working days from 29 April end on 10 May
  eq(#tasks.due{ on = "2024-05-10", within = 0 }, 1)
  eq(tasks.due{ on = "2024-05-10", within = 0 }[1].due, "2024-05-10")
  -- the needs assessment: 20 working days (the procedure counts working days)
  eq(deadlines(c), { "pierwsza wizyta: 2024-05-10 open", "diagnoza: 2024-05-29 open" })
end)

test("a household without anyone aged 60 or more is not taken on", function()
  local g = setup()
  local c = cases.open{ source_institution = g.ops }
  c:add_member{ first_name = "Jan", last_name = "Kos", birth_date = "1980-01-01", sex = "M", relation = "wnioskodawca" }
  c:reason("6")
  eq(#c:procedures(), 0)
  eq(#c:tasks(), 0)
end)

test("each visit meets the running deadline and starts the next two-week one", function()
  local g = setup()
  local c = senior(g)
  travel(7)
  visit(g, c, "2024-05-06")
  -- the next visit counts calendar days (working = false): 14 days after 6 May
  eq(deadlines(c), { "pierwsza wizyta: 2024-05-10 met", "kolejna wizyta: 2024-05-20 open", "diagnoza: 2024-05-29 open" })
  travel(9)
  visit(g, c, "2024-05-15")
  eq(deadlines(c), { "pierwsza wizyta: 2024-05-10 met", "kolejna wizyta: 2024-05-20 met",
    "diagnoza: 2024-05-29 open", "kolejna wizyta: 2024-05-29 open" })
end)

test("a missed visit calls for an urgent contact the next working day", function()
  local g = setup()
  local c = senior(g)
  visit(g, c, "2024-04-29")
  koop.today("2024-05-14")                       -- the next visit was due on 13 May
  eq(procedures.tick().deadline, 1)
  local urgent = c:tasks()[#c:tasks()]
  eq(urgent.text, "Brak kontaktu z seniorem od terminu 2024-05-13: pilna wizyta albo telefon")
  eq(urgent.due, "2024-05-15")
  eq(procedures.tick().deadline, 0, "once")
end)

test("the agreed plan invites to the club and finds a volunteer, from the resource map", function()
  local g = setup()
  resources.add{ institution = g.gok, service_type = "klub", description = "Klub Seniora w GOK" }
  resources.add{ institution = g.ngo, service_type = "wolontariat", description = "wolontariusze odwiedzający" }
  local c = senior(g)
  c:set_stage("diagnoza")
  raises(function() c:set_stage("plan") end, "zgoda seniora")
  c:consent{ institutions = { g.ops, g.gok, g.ngo }, categories = { "podstawowe" }, recorded_by = g.worker }
  c:set_stage("plan")
  c:plan{ type = "plan pracy z rodziną", goals = { "Wyjście z domu raz w tygodniu" } }:agree{}
  local owners = {}
  for _, t in ipairs(c:tasks()) do owners[t.text] = t.owner_institution and t.owner_institution.kind end
  eq(owners["Zaproszenie do klubu seniora i pomoc w dotarciu"], "GOK")
  eq(owners["Dobór wolontariusza do regularnych odwiedzin"], "NGO")
end)

test("monitoring starts a three-month review deadline", function()
  local g = setup()
  local c = senior(g)
  c:set_stage("diagnoza")
  c:consent{ institutions = { g.ops }, categories = { "podstawowe" }, recorded_by = g.worker }
  c:set_stage("plan")
  c:plan{ type = "IPW", goals = { "Klub" } }:agree{}
  c:set_stage("realizacja")
  c:set_stage("monitoring")
  local d = c:deadlines()
  eq(d[#d].key .. " " .. d[#d].due, "ocena 2024-07-29")
end)
