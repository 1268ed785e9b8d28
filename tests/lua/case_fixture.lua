-- case_fixture.lua — shared set-up for the case-work tests (cases,
-- consent, plans, referrals, services, privacy): the Bogoria partners of
-- coop_fixture.lua, Bogoria as the database's gmina, and the scenario's
-- family (domain reference §6 step 6) with its four synthetic PESELs.
-- Loaded with dofile by the *_test.lua files next to it; not a test file
-- itself.  Every person here is fictional (the family's surname differs
-- from every staff member's, so a search for it finds only the family).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

-- The scenario's family: synthetic PESELs (each passes the checksum and
-- encodes a real date), names invented.
F.family_members = {
  { first_name = "Adam", last_name = "Mazur", pesel = "84031201236", relation = "wnioskodawca" },
  { first_name = "Beata", last_name = "Mazur", pesel = "87093004582", relation = "małżonek/partner" },
  { first_name = "Kacper", last_name = "Mazur", pesel = "11250707812", relation = "dziecko" },
  { first_name = "Zuzanna", last_name = "Mazur", pesel = "14211909029", relation = "dziecko" },
}

--- Bogoria's partners (F.inst, F.person) with Bogoria as the home gmina.
function F.bogoria()
  F.setup()
  gminas.set_home("2612012")
  return F
end

--- A case opened on `opened` (default 2019-09-02) by the OPS, coordinated
--- by its worker; with `members` true, the four family members too.
--- (Tests pin today first: records dated after today are refused.)
function F.case(opened, members)
  if institutions.count() == 0 then F.bogoria() end
  local c = cases.open{ opened_on = opened or "2019-09-02", source_institution = F.inst.ops,
    coordinator = F.person.ops }
  if members then
    for _, m in ipairs(F.family_members) do c:add_member(m) end
  end
  return c
end

--- Consent of the household on `given` (default 2019-10-15) for the
--- institutions named by key (default OPS, PUP, GKRPA, school, PCPR) and
--- the categories (default podstawowe, sytuacja rodzinna, zdrowie, nałogi).
function F.consent(c, given, keys, categories)
  local list = {}
  for i, k in ipairs(keys or { "ops", "pup", "gkrpa", "sp", "pcpr" }) do list[i] = F.inst[k] end
  return c:consent{ institutions = list,
    categories = categories or { "podstawowe", "sytuacja rodzinna", "zdrowie", "nałogi" },
    given = given or "2019-10-15", recorded_by = F.person.ops }
end

--- The audit rows written after seq `since`, as a list of "action entity".
function F.audit_since(since)
  local out = {}
  for action, entity in db:urows("SELECT action, entity FROM audit_log WHERE seq > ? ORDER BY seq", since) do
    out[#out + 1] = action .. " " .. entity
  end
  return out
end

--- The highest audit seq so far.
function F.seq() return db:value("SELECT coalesce(max(seq), 0) FROM audit_log") end

--- Record the events `names` while fn runs: a list of {name, object}.
function F.events(names, fn)
  local seen, offs = {}, {}
  for _, n in ipairs(names) do
    offs[#offs + 1] = koop.on(n, function(obj, e) seen[#seen + 1] = { e.name, obj, e } end)
  end
  local ok, err = pcall(fn)
  for _, off in ipairs(offs) do off() end
  if not ok then error(err, 0) end
  return seen
end

return F
