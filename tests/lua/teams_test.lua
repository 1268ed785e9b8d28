-- teams_test.lua — teams (G-PZK, PZK, WZK, ZZK) and their members: kinds
-- and their aliases, the gmina and agreement a team rests on, member roles
-- (a dictionary with aliases such as lider), a member's institution
-- defaulting to the person's, from/to dates, members on a day, removing
-- members, dissolving a team, and every bad input: unknown kind or role, a
-- member from an institution that is not a party of the agreement (except
-- ekspert/gość), dates outside the team's life, duplicates — each refused
-- with the field named and nothing written.
-- Run with: koop test tests/lua/teams_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

test("a G-PZK rests on an agreement, in a gmina; its name defaults to kind and gmina", function()
  F.setup()
  local a = F.gpzk({ "ops", "pcpr" })
  local t = teams.get(1)
  eq(t.kind, "G-PZK")
  eq(t.name, "G-PZK Bogoria")
  eq(t.gmina.terc, "2612012")
  eq(t.agreement, a)
  eq(t.formed_on, "2019-07-01")
  eq(tostring(t), 'Team#1 G-PZK "G-PZK Bogoria" (Bogoria), formed 2019-07-01')
  eq(#a:teams(), 1)
end)

test("kinds: aliases, unknown kinds refused", function()
  F.setup()
  local a = F.gpzk({ "ops", "pcpr" })
  eq(teams.add{ kind = "gpzk", gmina = "2612012", agreement = a, formed_on = "2019-08-01", name = "Drugi" }.kind, "G-PZK")
  eq(teams.add{ kind = "zzk", gmina = "2612012", formed_on = "2019-08-01" }.kind, "ZZK", "case-insensitive")
  local err = F.refused(function() teams.add{ kind = "GZK", gmina = "2612012", agreement = a } end, "teams.kind")
  ok(tostring(err):find("known: G-PZK, PZK, WZK, ZZK", 1, true), tostring(err))
end)

test("a team's agreement and gmina are checked", function()
  F.setup()
  local a = F.gpzk({ "ops", "pcpr" })
  F.refused(function() teams.add{ kind = "G-PZK", gmina = "2612012", formed_on = "2019-07-01" } end,
    "teams.agreement", "a G-PZK rests on an agreement")
  F.refused(function() teams.add{ kind = "G-PZK", gmina = "2612", agreement = a } end, "teams.gmina", "a G-PZK works in a gmina")
  F.refused(function() teams.add{ kind = "WZK", gmina = "2612012", agreement = a } end, "teams.gmina", "województwo")
  F.refused(function() teams.add{ kind = "G-PZK", gmina = "2612014", agreement = a } end, "teams.gmina", "part of a gmina")
  F.refused(function() teams.add{ kind = "G-PZK", gmina = "2612012" .. "9", agreement = a } end, "teams.gmina")
  F.refused(function() teams.add{ kind = "G-PZK", agreement = a } end, "teams.gmina", "is required")
  eq(teams.add{ kind = "WZK", gmina = "26", agreement = a, formed_on = "2019-07-01" }.name, "WZK świętokrzyskie")
  eq(teams.add{ kind = "PZK", gmina = "2612", agreement = a, formed_on = "2019-07-01" }.kind, "PZK")
  local b = agreements.add{ title = "Stare porozumienie" }
  b:add_party{ institution = F.inst.ops }
  b:add_party{ institution = F.inst.pcpr }
  b:sign{ date = "2018-01-01" }
  b:terminate{ date = "2018-12-31", reason = "koniec" }
  F.refused(function() teams.add{ kind = "G-PZK", gmina = "2612012", agreement = b } end, "teams.agreement", "is terminated")
end)

test("the database's gmina is the default", function()
  F.setup()
  gminas.set_home("2612012")
  local a = F.gpzk({ "ops", "pcpr" })
  eq(teams.add{ kind = "G-PZK", agreement = a, name = "Drugi", formed_on = "2020-01-01" }.gmina_terc, "2612012")
end)

test("add_member: institution from the person, role członek by default, aliases", function()
  koop.today("2019-07-01")
  F.setup()
  local _, t = F.gpzk()
  local m = t:add_member{ person = F.person.ops, role = "animator gminny" }
  eq(m.institution, F.inst.ops)
  eq(m.from, "2019-07-01", "from defaults to today")
  eq(m.to, nil)
  eq(t:add_member{ person = F.person.sp }.role, "członek")
  eq(t:add_member{ person = F.person.ug, role = "lider" }.role, "przewodniczący")
  eq(t:add_member{ person = F.person.gok, role = "protokolantka" }.role, "protokolant")
  local other = t:add_member{ person = F.person.pup, institution = F.inst.pcpr, role = "zastępca" }
  eq(other.institution, F.inst.pcpr, "a person may represent another party")
  eq(m.name, "Anna Nowak")
  eq(tostring(m), 'Member#1 Anna Nowak, animator gminny, OPS "Ośrodek Pomocy Społecznej w Bogorii", G-PZK Bogoria, from 2019-07-01')
end)

test("from defaults to the day the team was formed when that is later than today", function()
  koop.today("2019-06-20")
  F.setup()
  local _, t = F.gpzk()
  eq(t.state, "forming")
  eq(t:add_member{ person = F.person.ops }.from, "2019-07-01")
end)

test("an unknown member role is refused, naming the roles", function()
  F.setup()
  local _, t = F.gpzk()
  local err = F.refused(function() t:add_member{ person = F.person.ops, role = "kierownik", from = "2019-07-01" } end,
    "team_members.role", "unknown member role")
  ok(tostring(err):find("przewodniczący, zastępca, animator gminny, animator powiatowy, członek, protokolant, ekspert, gość", 1, true), tostring(err))
end)

test("a member from an institution that is not a party is refused, naming both", function()
  F.setup()
  local a, t = F.gpzk({ "ops", "pcpr" })
  F.refused(function() t:add_member{ person = F.person.ngo, from = "2019-07-01" } end, "team_members.institution",
    'Institution#11 NGO "Stowarzyszenie Razem dla Bogorii" is not a party of Agreement#1 "Porozumienie – pilotaż Modelu Kooperacji"')
  F.refused(function() t:add_member{ person = F.person.ops, institution = F.inst.kpp, from = "2019-07-01" } end,
    "team_members.institution", "is not a party")
  eq(t:add_member{ person = F.person.ngo, role = "ekspert", from = "2019-07-01" }.role, "ekspert")
  eq(t:add_member{ person = F.person.kpp, role = "gość", from = "2019-07-01" }.role, "gość")
  local m = t:members{ on = "2019-07-01" }
  eq(#m, 2)
  F.refused(function() m[1]:update{ role = "członek" } end, "team_members.institution", "is not a party")
  a:add_party{ institution = F.inst.ngo }
  eq(t:add_member{ person = F.person.ngo, from = "2019-07-01" }.role, "członek", "once a party, it may join")
end)

test("a public unit of a JST party may join", function()
  F.setup()
  local a = agreements.add{ title = "Porozumienie JST" }
  a:add_party{ unit = "2612012", signatory_name = "Wójt Gminy Bogoria" }
  a:add_party{ unit = "2612", signatory_name = "Starosta Staszowski" }
  a:sign{ date = "2019-06-04" }
  local t = teams.add{ kind = "G-PZK", gmina = "2612012", agreement = a, formed_on = "2019-07-01" }
  t:add_member{ person = F.person.ops, role = "animator gminny", from = "2019-07-01" }
  t:add_member{ person = F.person.pcpr, role = "animator powiatowy", from = "2019-07-01" }
  F.refused(function() t:add_member{ person = F.person.kpp, from = "2019-07-01" } end, "team_members.institution", "not a party")
end)

test("membership dates: not before the team was formed, to not before from", function()
  F.setup()
  local _, t = F.gpzk()
  F.refused(function() t:add_member{ person = F.person.ops, from = "2019-06-30" } end, "team_members.from",
    '2019-06-30 is before Team#1 "G-PZK Bogoria" was formed (2019-07-01)')
  F.refused(function() t:add_member{ person = F.person.ops, from = "2019-08-01", to = "2019-07-31" } end,
    "team_members.to", "before the membership began")
  F.refused(function() t:add_member{ person = F.person.ops, from = "2019-13-01" } end, "team_members.from", "not a real calendar date")
  local m = t:add_member{ person = F.person.ops, from = "2019-07-01" }
  F.refused(function() m:update{ to = "2019-06-01" } end, "team_members.to", "before the membership began")
  local zzk = teams.add{ kind = "ZZK", gmina = "2612012", formed_on = "2019-01-01" }
  F.refused(function() m:update{ team = zzk } end, "team_members.team", "cannot move")
end)

test("the same role twice at once is refused; another role, or later, is fine", function()
  F.setup()
  local _, t = F.gpzk()
  t:add_member{ person = F.person.ops, role = "animator gminny", from = "2019-07-01", to = "2019-12-31" }
  F.refused(function() t:add_member{ person = F.person.ops, role = "animator gminny", from = "2019-09-01" } end,
    "team_members.person", "is animator gminny of Team#1")
  t:add_member{ person = F.person.ops, role = "przewodniczący", from = "2019-09-01" }
  t:add_member{ person = F.person.ops, role = "animator gminny", from = "2020-01-01" }
  eq(#t:members{ all = true }, 3)
end)

test("inactive institutions and people cannot join", function()
  F.setup()
  local _, t = F.gpzk()
  F.person.sp:deactivate()
  F.refused(function() t:add_member{ person = F.person.sp, from = "2019-07-01" } end, "team_members.person", "inactive")
  F.inst.gok:deactivate()
  F.refused(function() t:add_member{ person = F.person.gok, from = "2019-07-01" } end, "team_members.institution", "inactive")
end)

test("members on a day, leaders first; remove_member ends a membership", function()
  F.setup()
  local _, t = F.gpzk()
  t:add_member{ person = F.person.sp, from = "2019-07-01" }
  t:add_member{ person = F.person.ops, role = "animator gminny", from = "2019-07-01" }
  t:add_member{ person = F.person.ug, role = "przewodniczący", from = "2019-07-01" }
  t:add_member{ person = F.person.pcpr, role = "animator powiatowy", from = "2019-09-01" }
  local function names(list)
    local out = {}
    for i, m in ipairs(list) do out[i] = m.role .. ":" .. m.name end
    return out
  end
  eq(names(t:members{ on = "2019-08-01" }), { "przewodniczący:Piotr Wójcik", "animator gminny:Anna Nowak",
    "członek:Tomasz Lewandowski" })
  eq(#t:members{ on = "2019-09-01" }, 4)
  eq(#t:members{ on = "2019-06-30" }, 0)
  eq(t:remove_member(F.person.sp, { date = "2019-12-31" }), 1)
  eq(#t:members{ on = "2019-12-31" }, 4, "the last day still counts")
  eq(#t:members{ on = "2020-01-01" }, 3)
  F.refused(function() t:remove_member(F.person.sp, { date = "2020-02-01" }) end, "team_members.person", "is not a member")
  F.refused(function() t:remove_member(F.person.ngo) end, "team_members.person", "is not a member")
  local shown = tostring(t:members{ on = "2019-09-01" })
  ok(shown:find("animator powiatowy", 1, true) and shown:find("┌", 1, true), shown)
end)

test("dissolving ends the memberships; no one joins a dissolved team", function()
  koop.today("2021-06-01")
  F.setup()
  local _, t = F.gpzk()
  t:add_member{ person = F.person.ops, from = "2019-07-01" }
  t:add_member{ person = F.person.sp, from = "2019-07-01", to = "2020-12-31" }
  F.refused(function() t:dissolve{ date = "2019-06-01" } end, "teams.dissolved_on", "before the team was formed")
  F.refused(function() t:update{ dissolved_on = "2021-03-31" } end, "teams.dissolved_on", "derived")
  t:dissolve{ date = "2021-03-31" }
  eq(t.dissolved_on, "2021-03-31")
  eq(t.state, "dissolved")
  local list = t:members{ all = true }
  eq({ list[1].name, list[1].to, list[2].name, list[2].to },
    { "Tomasz Lewandowski", "2020-12-31", "Anna Nowak", "2021-03-31" })
  F.refused(function() t:add_member{ person = F.person.ug, from = "2021-04-01" } end, "team_members.from", "dissolved")
  F.refused(function() t:dissolve{} end, "teams.dissolved_on", "dissolved already")
end)

test("formed_on cannot move past the first member or meeting", function()
  F.setup()
  local _, t = F.gpzk()
  t:add_member{ person = F.person.ops, from = "2019-07-15" }
  t:update{ formed_on = "2019-07-10" }
  F.refused(function() t:update{ formed_on = "2019-07-20" } end, "teams.formed_on", "after its first member joined")
end)

test("teams and members print as one line, list as tables and complete their methods", function()
  F.setup()
  local _, t = F.gpzk()
  t:add_member{ person = F.person.ops, from = "2019-07-01" }
  ok(not tostring(t):find("\n"))
  ok(tostring(teams.all()):find("G-PZK Bogoria", 1, true))
  local names = F.completions(t)
  for _, n in ipairs{ "add_member", "members", "remove_member", "dissolve", "meetings", "state", "kind", "formed_on" } do
    ok(names[n], "team completes " .. n)
  end
  local m = t:members()[1]
  names = F.completions(m)
  for _, n in ipairs{ "person", "institution", "role", "from", "to", "active_on", "name" } do
    ok(names[n], "member completes " .. n)
  end
  ok(m:active_on("2019-07-01"))
  ok(not m:active_on("2019-06-30"))
  eq(#teams.members.find{ role = "członek" }, 1)
end)
