-- indicators_test.lua — the basic indicators computed from the data
-- (never typed in): institutions and persons in teams on a day, teams,
-- held meetings by kind and in total over a period, trainings, persons
-- coached; the gmina filter (a gmina over its TERC codes, a powiat);
-- the scenario's team (domain reference §6 step 4: 10 institutions, 11
-- persons); indicators defined by other modules; and bad parameters.
-- Run with: koop test tests/lua/indicators_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

-- The G-PZK of scenario step 4: animator gminny (OPS), animator powiatowy
-- (PCPR) and 9 further members from 8 institutions.
local function scenario_team()
  F.setup()
  local _, t = F.gpzk()
  t:add_member{ person = F.person.ops, role = "animator gminny", from = "2019-07-01" }
  t:add_member{ person = F.person.pcpr, role = "animator powiatowy", from = "2019-07-01" }
  for _, k in ipairs{ "pup", "ug", "kpp", "sp", "gok", "poz", "gkrpa", "ngo" } do
    t:add_member{ person = F.person[k], from = "2019-07-01" }
  end
  local teacher = people.add{ first_name = "Zofia", last_name = "Pawlak", institution = F.inst.sp, position = "pedagog" }
  t:add_member{ person = teacher, from = "2019-07-01" }
  return t
end

test("scenario step 4: 10 institutions and 11 persons in the team", function()
  local t = scenario_team()
  local ind = indicators.compute{ at = "2019-07-01", gmina = "2612012" }
  eq(ind.values.podmioty_w_zespolach, 10)
  eq(ind.values.osoby_w_zespolach, 11)
  eq(ind.values.liczba_zespolow, 1)
  eq(indicators.get("podmioty_w_zespolach", { at = "2019-07-01", gmina = "2612012" }), 10)
  eq(indicators.get("osoby_w_zespolach", { at = "2019-06-30", gmina = "2612012" }), 0, "before the team was formed")
  eq(#t:members{ on = "2019-07-01" }, 11)
end)

test("the result prints as a table of code, name_pl, value", function()
  scenario_team()
  local ind = indicators.compute{ at = "2019-07-01", gmina = "2612012" }
  eq(ind.columns, { "code", "name_pl", "value" })
  eq(ind[1], { code = "podmioty_w_zespolach", name_pl = "Podmioty (instytucje) w zespołach kooperacji", value = 10 })
  eq({ ind.at, ind.to, ind.from, ind.gmina }, { "2019-07-01", "2019-07-01", nil, "2612012" })
  local shown = tostring(ind)
  ok(shown:find("podmioty_w_zespolach", 1, true) and shown:find("┌", 1, true), shown)
  local codes = {}
  for i, r in ipairs(indicators.list()) do codes[i] = r.code end
  eq({ table.unpack(codes, 1, 5) }, { "podmioty_w_zespolach", "osoby_w_zespolach", "liczba_zespolow", "spotkania",
    "spotkania_posiedzenia" })
end)

test("members count while their membership runs; experts and guests do not count", function()
  local t = scenario_team()
  t:remove_member(F.person.ngo, { date = "2019-12-31" })
  t:add_member{ person = F.person.dps, role = "ekspert", from = "2019-07-01" }
  t:add_member{ person = F.person.zkss, role = "gość", from = "2019-07-01" }
  local function at(d) return indicators.compute{ at = d, gmina = "2612012" }.values end
  eq({ at("2019-12-31").podmioty_w_zespolach, at("2019-12-31").osoby_w_zespolach }, { 10, 11 })
  eq({ at("2020-01-01").podmioty_w_zespolach, at("2020-01-01").osoby_w_zespolach }, { 9, 10 })
  t:add_member{ person = F.person.ops, role = "przewodniczący", from = "2019-07-01" }
  eq(at("2019-12-31").osoby_w_zespolach, 11, "a person with two roles counts once")
end)

test("teams count while formed and not dissolved", function()
  local t = scenario_team()
  local a = t.agreement
  teams.add{ kind = "ZZK", gmina = "2612012", formed_on = "2020-03-01", name = "ZZK rodzina A" }
  local function n(d) return indicators.get("liczba_zespolow", { at = d, gmina = "2612012" }) end
  eq({ n("2019-06-30"), n("2019-07-01"), n("2020-03-01") }, { 0, 1, 2 })
  t:dissolve{ date = "2021-03-31" }
  eq({ n("2021-03-31"), n("2021-04-01") }, { 2, 1 })
  eq(indicators.get("podmioty_w_zespolach", { at = "2021-04-01", gmina = "2612012" }), 0)
  ok(a)
end)

-- Held meetings of the team: 5 posiedzenia (one cancelled, one planned
-- more), a focus study, two Szkoła Kooperacji days, a workshop, two
-- coaching sessions and a study visit.
local function meetings_of(t)
  local function m(date, kind, status) return meetings.add{ team = t, date = date, kind = kind, status = status or "held" } end
  for _, d in ipairs{ "2019-07-10", "2019-09-05", "2019-11-07", "2020-01-16", "2020-03-05" } do m(d, "posiedzenie") end
  m("2020-04-02", "posiedzenie", "cancelled")
  m("2030-01-01", "posiedzenie", "planned")
  m("2019-08-20", "badanie fokusowe")
  m("2019-09-12", "Szkoła Kooperacji")
  m("2019-10-10", "Szkoła Kooperacji")
  m("2019-10-24", "warsztat")
  local c1 = m("2019-10-15", "coaching")
  local c2 = m("2019-11-15", "coaching")
  m("2019-09-23", "wizyta studyjna")
  return c1, c2
end

test("meetings by kind and in total, trainings, persons coached", function()
  koop.today("2020-06-30")
  local t = scenario_team()
  local c1, c2 = meetings_of(t)
  c1:attend(F.person.ops)
  c1:attend(F.person.sp, "zdalnie")
  c1:attend(F.person.gok, "usprawiedliwiony")
  c2:attend(F.person.ops)
  c2:attend(F.person.ug)
  local v = indicators.compute{ at = "2020-06-30", gmina = "2612012" }.values
  eq(v.spotkania, 12)
  eq(v.spotkania_posiedzenia, 5, "cancelled and planned meetings do not count")
  eq(v.spotkania_badania_fokusowe, 1)
  eq(v.spotkania_szkola_kooperacji, 2)
  eq(v.spotkania_warsztaty, 1)
  eq(v.spotkania_coaching, 2)
  eq(v.spotkania_wizyty_studyjne, 1)
  eq(v.spotkania_superwizja, 0)
  eq(v.spotkania_konsultacje, 0)
  eq(v.szkolenia, 3)
  eq(v.osoby_coaching, 3, "present or remote, each person once")
end)

test("the period from..to selects meetings; at is the default end", function()
  koop.today("2020-06-30")
  local t = scenario_team()
  meetings_of(t)
  local function n(q) q.gmina = "2612012"; return indicators.get("spotkania", q) end
  eq(n{ from = "2019-07-01", to = "2019-09-30" }, 5)
  eq(n{ at = "2019-09-30" }, 5, "up to at")
  eq(n{ from = "2019-10-01", to = "2019-12-31" }, 5)
  eq(n{ from = "2020-01-01" }, 2)
  eq(indicators.get("szkolenia", { from = "2019-09-12", to = "2019-09-12", gmina = "2612012" }), 1)
end)

test("the gmina filter: a gmina over its codes, a powiat, all, and the database's own gmina", function()
  koop.today("2024-06-30")
  scenario_team()
  gminas.ensure("2609052")
  local ops = institutions.add{ name = "Gminny Ośrodek Pomocy Społecznej w Łoniowie", kind = "OPS", gmina = "2609052" }
  local p = people.add{ first_name = "Irena", last_name = "Sowa", institution = ops }
  local a = agreements.add{ title = "Porozumienie Łoniów" }
  a:add_party{ institution = ops }
  a:add_party{ unit = "2609" }
  a:sign{ date = "2019-06-04" }
  local lt = teams.add{ kind = "G-PZK", gmina = "2609052", agreement = a, formed_on = "2019-07-01" }
  lt:add_member{ person = p, from = "2019-07-01" }
  -- Bogoria's later code (miejsko-wiejska since 2024) is the same gmina
  local bt = teams.add{ kind = "ZZK", gmina = "2612013", formed_on = "2024-02-01", name = "ZZK Bogoria 2024" }
  bt:add_member{ person = F.person.ops, from = "2024-02-01" }
  local function n(g) return indicators.get("liczba_zespolow", { at = "2024-06-30", gmina = g }) end
  eq(n("2612012"), 2)
  eq(n("2612013"), 2)
  eq(n(gminas.get("2612013")), 2, "a unit object")
  eq(n("2609052"), 1)
  eq(n("2612"), 2, "a powiat: its gminas")
  eq(n("26"), 3, "a voivodeship")
  eq(n(false), 3, "all")
  eq(indicators.get("liczba_zespolow", { at = "2024-06-30" }), 3, "no gmina set: all")
  gminas.set_home("2609052")
  eq(indicators.get("liczba_zespolow", { at = "2024-06-30" }), 1, "the database's gmina")
  eq(indicators.get("osoby_w_zespolach", { at = "2024-06-30" }), 1)
end)

test("other modules define indicators", function()
  scenario_team()
  local code = "test_czlonkowie_ops"
  indicators.define{ code = code, name = "Członkowie z OPS", compute = function(db, p)
    return db:value("SELECT count(*) FROM team_member m JOIN team t ON t.id = m.team_id JOIN institution i ON i.id = m.institution_id"
      .. " WHERE i.kind = 'OPS' AND m.from_date <= ? AND " .. p.in_gmina("t.gmina_terc"), p.at)
  end }
  eq(indicators.get(code, { at = "2019-07-01", gmina = "2612012" }), 1)
  eq(indicators.get(code, { at = "2019-07-01", gmina = "2609052" }), 0)
  local all = indicators.compute{ at = "2019-07-01" }
  eq(all[#all].code, code)
  eq(all.values[code], 1)
  local err = raises(function() indicators.define{ code = code, name = "x", compute = function() return 0 end } end, "invalid")
  eq(err.field, "indicators.code")
  indicators.define{ code = "test_zly", name = "Zły", compute = function() return "dużo" end }
  err = raises(function() indicators.get("test_zly") end, "invalid")
  eq(err.field, "indicators.test_zly")
  ok(tostring(err):find("not a number", 1, true))
  raises(function() indicators.define{ code = "bad code", name = "x", compute = function() return 0 end } end, "invalid")
  raises(function() indicators.define{ code = "no_name", compute = function() return 0 end } end, "invalid")
  raises(function() indicators.define{ code = "no_fn", name = "x" } end, "invalid")
end)

test("bad parameters are refused, naming them", function()
  F.setup()
  local function refused(q, field, text)
    local err = raises(function() indicators.compute(q) end, "invalid")
    eq(err.field, field)
    ok(tostring(err):find(text, 1, true), tostring(err))
  end
  refused({ at = "2019-02-30" }, "indicators.at", "expected a date")
  refused({ from = "2020-01-01", to = "2019-01-01" }, "indicators.from", "is after to")
  refused({ gmina = "1234567" }, "indicators.gmina", "1234567")
  refused({ gmina = "2612012", date = "2019-01-01" }, "indicators.date", "unknown parameter")
  local err = raises(function() indicators.get("spotkania_razem") end, "invalid")
  eq(err.field, "indicators.code")
  ok(tostring(err):find("known: podmioty_w_zespolach", 1, true))
  raises(function() return indicators.calculate end, "invalid")
end)
