-- coop_fixture.lua — shared set-up for the cooperation-structure tests
-- (agreements, teams, meetings, tasks, indicators): gmina Bogoria, its
-- partner institutions with one person each, and helpers.  Loaded with
-- dofile by the *_test.lua files next to it; not a test file itself.
-- Every person here is fictional.
local F = {}

-- Institutions of the G-PZK Bogoria scenario (domain reference §6): key,
-- name, kind; all seated in gmina Bogoria (2612012).
F.institutions = {
  { "ops", "Ośrodek Pomocy Społecznej w Bogorii", "OPS" },
  { "pcpr", "Powiatowe Centrum Pomocy Rodzinie w Staszowie", "PCPR" },
  { "pup", "Powiatowy Urząd Pracy w Staszowie", "PUP" },
  { "ug", "Urząd Gminy Bogoria", "UG" },
  { "kpp", "Komenda Powiatowa Policji w Staszowie", "KPP" },
  { "sp", "Szkoła Podstawowa w Bogorii", "szkoła" },
  { "gok", "Gminny Ośrodek Kultury w Bogorii", "GOK" },
  { "poz", "Ośrodek Zdrowia w Bogorii", "POZ" },
  { "gkrpa", "Gminna Komisja Rozwiązywania Problemów Alkoholowych w Bogorii", "GKRPA" },
  { "zkss", "Zespół Kuratorskiej Służby Sądowej przy Sądzie Rejonowym w Staszowie", "ZKSS" },
  { "ngo", "Stowarzyszenie Razem dla Bogorii", "NGO" },
  { "dps", "Dom Pomocy Społecznej w Pęcławicach Górnych", "DPS" },
}

local first = { "Anna", "Jan", "Ewa", "Piotr", "Maria", "Tomasz", "Katarzyna", "Paweł",
  "Agnieszka", "Marek", "Barbara", "Krzysztof" }
local last = { "Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski",
  "Zielińska", "Szymański", "Woźniak", "Dąbrowski", "Kozłowska", "Jankowski" }

--- Bogoria with its institutions (F.inst.ops, ...) and one person in each
--- (F.person.ops, ...).  Returns F.
function F.setup()
  gminas.ensure("2612012")
  F.inst, F.person = {}, {}
  for i, d in ipairs(F.institutions) do
    local inst = institutions.add{ name = d[2], kind = d[3], gmina = "2612012" }
    F.inst[d[1]] = inst
    F.person[d[1]] = people.add{ first_name = first[i], last_name = last[i], institution = inst }
  end
  return F
end

--- A signed agreement (2019-06-04) whose parties are the institutions
--- named in `keys` (default: all), and the G-PZK Bogoria formed on
--- 2019-07-01 on it.  Returns agreement, team.
function F.gpzk(keys)
  local a = agreements.add{ title = "Porozumienie – pilotaż Modelu Kooperacji", scope = "G-PZK Bogoria" }
  if keys == nil then
    keys = {}
    for i, d in ipairs(F.institutions) do keys[i] = d[1] end
  end
  for _, k in ipairs(keys) do a:add_party{ institution = F.inst[k], signatory = F.person[k] } end
  a:sign{ date = "2019-06-04" }
  local t = teams.add{ kind = "G-PZK", gmina = "2612012", agreement = a, formed_on = "2019-07-01" }
  return a, t
end

--- Row counts of every table (audit_log included), to show that a failed
--- call wrote nothing.
function F.snapshot()
  local counts = {}
  for name in db:urows("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") do
    counts[name] = db:value('SELECT count(*) FROM "' .. name .. '"')
  end
  counts["audit seq"] = db:value("SELECT coalesce(max(seq), 0) FROM audit_log")
  return counts
end

--- fn must raise an "invalid" error naming `field` (e.g.
--- "team_members.role") whose message matches `pattern` (plain text, if
--- given), and leave every table as it was.  Returns the error.
function F.refused(fn, field, pattern)
  local before = F.snapshot()
  local err = raises(fn, "invalid")
  eq(err.field, field, "the error names the field")
  if pattern then ok(tostring(err):find(pattern, 1, true), ("message %q mentions %q"):format(tostring(err), pattern)) end
  eq(F.snapshot(), before, "nothing written")
  return err
end

--- The names TAB offers after `obj.` or `obj:` (its __autocomplete list:
--- names, or name = "function" for methods), as a set.
function F.completions(obj)
  local names = {}
  for k, v in pairs(getmetatable(obj).__autocomplete(obj)) do
    if type(k) == "number" then names[v] = true else names[k] = true end
  end
  return names
end

return F
