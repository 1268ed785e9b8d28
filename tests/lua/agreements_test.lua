-- agreements_test.lua — agreements (porozumienia): parties (institutions
-- and JST by TERC, with signatories), the lifecycle draft → signed →
-- in_force → amended → expired | terminated (derived from the dates and
-- koop.today(), or explicit), numbered annexes, who counts as a party
-- (covers), and every bad input: valid_to before valid_from, signing
-- without two parties, a status set by hand, bad parties, and any change
-- to a terminated agreement — each refused with the field named and
-- nothing written (no row, no audit row).
-- Run with: koop test tests/lua/agreements_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

-- A draft with OPS and PCPR as parties.
local function draft(t)
  F.setup()
  local input = { title = "Porozumienie o współpracy" }
  for k, v in pairs(t or {}) do input[k] = v end
  local a = agreements.add(input)
  a:add_party{ institution = F.inst.ops, signatory = F.person.ops, role = "lider" }
  a:add_party{ institution = F.inst.pcpr, signatory = F.person.pcpr }
  return a
end

test("a new agreement is a draft, written with its audit row", function()
  F.setup()
  local seq = db:value("SELECT max(seq) FROM audit_log")
  local a = agreements.add{ title = "Porozumienie – pilotaż Modelu Kooperacji", scope = "współpraca w G-PZK",
    document_ref = "OPS.4011.1.2019" }
  eq(a.status, "draft")
  eq(a.state, "draft")
  eq(a.signed_on, nil)
  eq(db:value("SELECT count(*) FROM audit_log WHERE seq > ? AND entity = 'agreements' AND action = 'add'", seq), 1)
  eq(tostring(a), 'Agreement#1 draft "Porozumienie – pilotaż Modelu Kooperacji"')
end)

test("parties: institutions with a signatory person, JST by TERC with a named signatory", function()
  local a = draft()
  local p = a:add_party{ unit = "2612", signatory_name = "Jan Kowalski", signatory_function = "Starosta Staszowski" }
  eq(p.unit.terc, "2612")
  eq(p.name, "Powiat staszowski (2612)")
  eq(p.signed_by, "Jan Kowalski, Starosta Staszowski")
  local g = a:add_party{ party = gminas.get("2612012"), signatory_name = "Wójt Gminy Bogoria" }
  eq(g.unit_terc, "2612012")
  local w = a:add_party{ unit = "26", signatory_name = "Marszałek Województwa Świętokrzyskiego", role = "strona" }
  eq(w.name, "Województwo świętokrzyskie (26)")
  local list = a:parties()
  eq(#list, 5)
  eq(list[1].name, "Ośrodek Pomocy Społecznej w Bogorii")
  eq(list[1].signed_by, "Anna Nowak")
  eq(list[1].role, "lider")
  eq(list[1].party, F.inst.ops)
  ok(tostring(list[1]):find('OPS "Ośrodek Pomocy Społecznej w Bogorii" — Anna Nowak (lider)', 1, true), tostring(list[1]))
end)

test("signing needs two parties; valid_from defaults to the signing day", function()
  F.setup()
  local a = agreements.add{ title = "Porozumienie" }
  F.refused(function() a:sign{ date = "2019-06-04" } end, "agreements.parties", "has 0 parties")
  a:add_party{ institution = F.inst.ops }
  F.refused(function() a:sign{ date = "2019-06-04" } end, "agreements.parties", "has 1 party")
  a:add_party{ institution = F.inst.pcpr }
  a:sign{ date = "2019-06-04" }
  eq(a.status, "signed")
  eq(a.signed_on, "2019-06-04")
  eq(a.valid_from, "2019-06-04")
  F.refused(function() a:sign{ date = "2019-06-05" } end, "agreements.signed_on", "was signed already")
  F.refused(function() a:sign{ date = "2019-02-30" } end, "agreements.signed_on", "2019-02-30")
end)

test("scenario step 3: signed 2019-06-04, in force that day", function()
  koop.today("2019-06-04")
  local a = draft()
  a:sign{}
  eq(a.signed_on, "2019-06-04")
  eq(a.state, "in_force")
  ok(tostring(a):find("in_force", 1, true))
end)

test("state on a day: draft before signing, signed before valid_from, then in force", function()
  local a = draft{ valid_from = "2019-07-01", valid_to = "2021-03-31" }
  a:sign{ date = "2019-06-04" }
  eq(a:state_on("2019-06-01"), "draft")
  eq(a:state_on("2019-06-20"), "signed")
  eq(a:state_on("2019-07-01"), "in_force")
  eq(a:state_on("2021-03-31"), "in_force")
  eq(a:state_on("2021-04-01"), "expired")
end)

test("expired follows valid_to and today (time travel)", function()
  koop.today("2021-03-30")
  local a = draft{ valid_to = "2021-03-31" }
  a:sign{ date = "2019-06-04" }
  eq(a.state, "in_force")
  travel(1)
  eq(a.state, "in_force")
  travel(1)
  eq(a.state, "expired")
  eq(a.status, "signed", "expiry by date is derived, not written")
end)

test("explicit expiry", function()
  koop.today("2020-06-30")
  local a = draft()
  a:sign{ date = "2019-06-04" }
  a:expire{ date = "2020-06-30" }
  eq(a.status, "expired")
  eq(a.ended_on, "2020-06-30")
  eq(a.state, "expired")
  eq(a:state_on("2020-06-29"), "in_force")
  F.refused(function() a:expire{} end, "agreements.status", "expired already")
  F.refused(function() a:amend{ date = "2020-07-01", text = "Aneks" } end, "agreement_annexes.agreement", "cannot be amended")
end)

test("valid_to before valid_from is refused, on add and on update", function()
  F.setup()
  F.refused(function() agreements.add{ title = "P", valid_from = "2019-07-01", valid_to = "2019-06-30" } end,
    "agreements.valid_to", "2019-06-30 is before valid_from 2019-07-01")
  local a = agreements.add{ title = "P", valid_from = "2019-07-01" }
  F.refused(function() a:update{ valid_to = "2019-01-01" } end, "agreements.valid_to", "before valid_from")
  eq(a.valid_to, nil)
  a:add_party{ institution = F.inst.ops }
  a:add_party{ institution = F.inst.pcpr }
  a:sign{ date = "2019-06-04" }
  a:update{ valid_from = koop.null }
  F.refused(function() a:update{ valid_to = "2019-06-01" } end, "agreements.valid_to", "before the agreement was signed")
end)

test("the lifecycle fields are set only by the methods", function()
  local a = draft()
  F.refused(function() a:update{ status = "signed" } end, "agreements.status", "derived")
  F.refused(function() a:update{ signed_on = "2019-06-04" } end, "agreements.signed_on", "derived")
  F.refused(function() agreements.add{ title = "X", status = "in_force" } end, "agreements.status", "derived")
  eq(a.status, "draft")
end)

test("annexes are numbered per agreement and apply their changes", function()
  koop.today("2020-06-01")
  local a = draft{ valid_to = "2020-12-31" }
  F.refused(function() a:amend{ date = "2019-07-01", text = "Aneks" } end, "agreement_annexes.agreement", "is a draft")
  a:sign{ date = "2019-06-04" }
  local x1 = a:amend{ date = "2019-12-01", text = "Aneks nr 1: nowi członkowie" }
  eq(x1.no, 1)
  eq(a.status, "amended")
  eq(a.state, "amended")
  eq(a:state_on("2019-11-30"), "in_force")
  local x2 = a:amend{ date = "2020-05-15", text = "Aneks nr 2: przedłużenie", valid_to = "2021-03-31" }
  eq(x2.no, 2)
  eq(a.valid_to, "2021-03-31")
  local other = draft()
  other:sign{ date = "2019-06-04" }
  eq(other:amend{ date = "2019-08-01", text = "Aneks" }.no, 1, "numbering is per agreement")
  local list = a:annexes()
  eq({ list[1].no, list[2].no }, { 1, 2 })
  eq(list[2].text, "Aneks nr 2: przedłużenie")
  F.refused(function() a:amend{ date = "2020-05-20" } end, "agreement_annexes.text", "is required")
  F.refused(function() a:amend{ date = "2019-06-01", text = "Aneks" } end, "agreement_annexes.date", "before the agreement was signed")
  F.refused(function() a:amend{ date = "2021-04-01", text = "Aneks" } end, "agreement_annexes.date", "after the agreement expired")
  F.refused(function() a:amend{ date = "2020-05-20", text = "Aneks", valid_to = "2018-01-01" } end,
    "agreements.valid_to", "before valid_from")
  eq(#a:annexes(), 2, "a refused annex leaves no annex behind")
end)

test("terminate needs a reason and a signed agreement", function()
  local a = draft()
  F.refused(function() a:terminate{ date = "2019-07-01", reason = "x" } end, "agreements.status", "is a draft")
  a:sign{ date = "2019-06-04" }
  F.refused(function() a:terminate{ date = "2020-01-31" } end, "agreements.end_reason", "needs its reason")
  F.refused(function() a:terminate{ date = "2020-01-31", reason = "   " } end, "agreements.end_reason", "needs its reason")
  F.refused(function() a:terminate{ date = "2019-06-01", reason = "x" } end, "agreements.ended_on", "before the agreement was signed")
  a:terminate{ date = "2020-01-31", reason = "wypowiedzenie przez PCPR" }
  eq(a.status, "terminated")
  eq(a.end_reason, "wypowiedzenie przez PCPR")
  eq(a:state_on("2020-01-30"), "in_force")
  eq(a:state_on("2020-01-31"), "terminated")
end)

test("every change to a terminated agreement is refused, naming it and its state", function()
  local a = draft()
  a:sign{ date = "2019-06-04" }
  a:terminate{ date = "2020-01-31", reason = "zakończenie projektu" }
  local msg = 'Agreement#1 "Porozumienie o współpracy" is terminated (2020-01-31: zakończenie projektu)'
  F.refused(function() a:update{ scope = "nowy zakres" } end, "agreements.status", msg)
  F.refused(function() a:update{} end, "agreements.status", msg)
  F.refused(function() a:amend{ date = "2020-02-01", text = "Aneks" } end, "agreements.status", msg)
  F.refused(function() a:add_party{ institution = F.inst.pup } end, "agreements.status", msg)
  F.refused(function() a:terminate{ date = "2020-02-01", reason = "again" } end, "agreements.status", msg)
  F.refused(function() a:expire{} end, "agreements.status", msg)
  F.refused(function() a:parties()[1]:update{ role = "partner" } end, "agreements.status", msg)
  F.refused(function() agreements.parties.add{ agreement = a, institution = F.inst.pup } end, "agreements.status", msg)
  eq(a.scope, nil)
end)

test("bad parties are refused", function()
  local a = draft()
  F.refused(function() a:add_party{} end, "agreement_parties.institution", "is required")
  F.refused(function() a:add_party{ institution = F.inst.pup, unit = "2612" } end, "agreement_parties.unit", "not both")
  F.refused(function() a:add_party{ institution = F.inst.ops } end, "agreement_parties.institution", "is a party of")
  a:add_party{ unit = "2612012" }
  F.refused(function() a:add_party{ unit = "2612012" } end, "agreement_parties.unit", "is a party of")
  F.refused(function() a:add_party{ unit = "2612014" } end, "agreement_parties.unit", "not a JST")
  F.refused(function() a:add_party{ unit = "2612019" } end, "gminas.terc")
  F.refused(function() a:add_party{ institution = F.inst.pup, signatory = F.person.ops } end,
    "agreement_parties.signatory", "works at")
  F.refused(function() a:add_party{ institution = F.inst.pup, signatory = F.person.pup, signatory_name = "X" } end,
    "agreement_parties.signatory_name", "not both")
  F.refused(function() a:add_party{ institution = 999 } end, "agreement_parties.institution", "no Institution with id 999")
  F.refused(function() a:add_party{ institution = F.inst.pup, colour = "red" } end, "agreement_parties.colour", "no such field")
  local other = agreements.add{ title = "Inne" }
  F.refused(function() a:parties()[1]:update{ agreement = other } end, "agreement_parties.agreement", "cannot move")
end)

test("covers: listed institutions, and the public units of a listed JST", function()
  F.setup()
  local a = agreements.add{ title = "Porozumienie JST" }
  a:add_party{ unit = "2612012", signatory_name = "Wójt Gminy Bogoria" }
  a:add_party{ unit = "2612", signatory_name = "Starosta Staszowski" }
  a:add_party{ institution = F.inst.ngo }
  eq(a:covers(F.inst.ngo).institution, F.inst.ngo)
  eq(a:covers(F.inst.ops).unit_terc, "2612012", "OPS is a unit of the gmina")
  eq(a:covers(F.inst.ug).unit_terc, "2612012")
  eq(a:covers(F.inst.sp).unit_terc, "2612012")
  eq(a:covers(F.inst.pcpr).unit_terc, "2612", "PCPR is a unit of the powiat")
  eq(a:covers(F.inst.pup).unit_terc, "2612")
  eq(a:covers(F.inst.kpp), nil, "the police is no JST's unit")
  eq(a:covers(F.inst.zkss), nil, "nor the court's probation officers")
  local other = institutions.add{ name = "Fundacja Pomocy", kind = "NGO", gmina = "2612012" }
  eq(a:covers(other), nil, "an NGO is nobody's unit")
  gminas.ensure("2609052")
  local lops = institutions.add{ name = "Gminny Ośrodek Pomocy Społecznej w Łoniowie", kind = "OPS", gmina = "2609052" }
  eq(a:covers(lops), nil, "another gmina's OPS")
end)

test("an agreement prints as one line, lists as a table, completes its methods", function()
  local a = draft()
  a:sign{ date = "2019-06-04" }
  local line = tostring(a)
  ok(not line:find("\n"), line)
  ok(line:find('^Agreement#1 [%a_]+ "Porozumienie o współpracy" signed 2019%-06%-04$'), line)
  local shown = tostring(agreements.all())
  ok(shown:find("Porozumienie o współpracy", 1, true) and shown:find("┌", 1, true), shown)
  local names = F.completions(a)
  for _, n in ipairs{ "sign", "amend", "terminate", "expire", "add_party", "parties", "annexes", "covers",
      "state", "state_on", "title", "valid_to", "update" } do
    ok(names[n], "completes " .. n)
  end
  eq(#agreements.find{ status = "signed" }, 1)
end)

test("signing writes one audit row with the change of status", function()
  local a = draft()
  local seq = db:value("SELECT max(seq) FROM audit_log")
  a:sign{ date = "2019-06-04" }
  local rows = audit.log{ entity = "agreements", id = a.id, action = "update" }
  eq(#rows, 1)
  eq(db:value("SELECT count(*) FROM audit_log WHERE seq > ?", seq), 1)
  ok(rows[1].change:find('status: "draft" → "signed"', 1, true), rows[1].change)
  ok(audit.verify())
end)
