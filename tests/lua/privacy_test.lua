-- privacy_test.lua — members of a case and their personal data: PESEL
-- validated (checksum, a real encoded date, all zeros refused) with its
-- birth date and sex stored, or birth date and sex given; names and PESEL
-- masked in every view but the case view, whose reads are written to the
-- audit log; the audit log itself never holds them (only a hash); the
-- keyed pesel_hash finds a person in other cases without a second copy of
-- the PESEL; corrections; one applicant per case.
-- Run with: koop test tests/lua/privacy_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")
local cases_mod = require "koop.cases"

-- Does any audit row contain `text`?
local function in_audit(text)
  return db:value("SELECT count(*) FROM audit_log WHERE instr(coalesce(after_json, '') || coalesce(before_json, ''), ?) > 0", text) > 0
end

-- The "access" rows of the audit log after seq `since`.
local function accesses(since)
  return db:query("SELECT entity, entity_id, after_json FROM audit_log WHERE seq > ? AND action = 'access' ORDER BY seq", since)
end

test("the scenario's four synthetic PESELs are valid, and give birth date and sex", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local list = c:members{ identified = true }
  eq(#list, 4)
  eq({ list[1].birth_date, list[1].sex }, { "1984-03-12", "M" })
  eq({ list[2].birth_date, list[2].sex }, { "1987-09-30", "K" })
  eq({ list[3].birth_date, list[3].sex }, { "2011-05-07", "M" })
  eq({ list[4].birth_date, list[4].sex }, { "2014-01-19", "K" })
  eq(list[3].relation, "dziecko")
end)

test("a bad PESEL is refused naming the field, and nothing is written", function()
  koop.today("2020-10-01")
  local c = F.case()
  local function with(p) return { first_name = "Jan", last_name = "Nowak", relation = "wnioskodawca", pesel = p } end
  F.refused(function() c:add_member(with("84031201237")) end, "case_members.pesel", "checksum")
  F.refused(function() c:add_member(with("00022900003")) end, "case_members.pesel", "1900-02-29")
  F.refused(function() c:add_member(with("00000000000")) end, "case_members.pesel", "all-zero")
  F.refused(function() c:add_member(with("8403120123")) end, "case_members.pesel")
  F.refused(function() c:add_member(with({})) end, "case_members.pesel", "11 digits")
  eq(c.member_count, 0)
end)

test("without a PESEL, birth date and sex are required; with one, they must agree with it", function()
  koop.today("2020-10-01")
  local c = F.case()
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "wnioskodawca" } end,
    "case_members.birth_date", "no PESEL")
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "wnioskodawca", birth_date = "1980-01-01" } end,
    "case_members.sex", "no PESEL")
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "wnioskodawca", birth_date = "1980-02-30", sex = "M" } end,
    "case_members.birth_date", "not a real calendar date")
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "szwagier", birth_date = "1980-01-01", sex = "M" } end,
    "case_members.relation")
  F.refused(function() c:add_member{ last_name = "Nowak", pesel = "84031201236", relation = "inna" } end, "case_members.first_name")
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "inna", birth_date = "2030-01-01", sex = "M" } end,
    "case_members.birth_date", "after today")
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "inna", pesel = "84031201236", sex = "K" } end,
    "case_members.sex", "encodes M")
  F.refused(function() c:add_member{ first_name = "Jan", last_name = "Nowak", relation = "inna", pesel = "84031201236", birth_date = "1984-03-13" } end,
    "case_members.birth_date", "encodes 1984-03-12")
  local m = c:add_member{ first_name = "Olena", last_name = "Kowal", relation = "wnioskodawca", birth_date = "1990-06-01", sex = "kobieta" }
  eq({ m.sex, m.birth_date, m.pesel, m.pesel_hash, m.born }, { "K", "1990-06-01", nil, nil, 1990 })
  local j = c:add_member{ first_name = "Jan", last_name = "Kowal", relation = "mąż", pesel = "84031201236", sex = "M", birth_date = "1984-03-12" }
  eq(j.relation, "małżonek/partner")
end)

test("a case has one applicant, and a person is a member of it once", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  F.refused(function() c:add_member{ first_name = "Adam", last_name = "Nowy", relation = "wnioskodawca", birth_date = "1970-01-01", sex = "M" } end,
    "case_members.relation", "applicant already")
  F.refused(function() c:add_member{ first_name = "Adam", last_name = "Mazur", relation = "inna", pesel = "84031201236" } end,
    "case_members.pesel", "already a member of BOG-2019-001")
end)

test("names and PESEL are masked in every view but the case view", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local m = c:members()[1]
  eq(m.name, "A. M***")
  eq(m.pesel, "8403*******")
  eq(tostring(m), "Member#1 A. M***, wnioskodawca, M 1984, PESEL 8403*******")
  eq(c:members()[4].name, "Z. M***")
  local shown = koop.format(c:members())
  ok(shown:find("A. M***", 1, true) and shown:find("1421*******", 1, true), shown)
  ok(not shown:find("Mazur", 1, true) and not shown:find("84031201236", 1, true), shown)
  local card = tostring(c:card())
  ok(not card:find("Mazur", 1, true) and not card:find("1125070781", 1, true), card)
  -- a member object has no field holding the clear text
  for _, k in ipairs{ "first_name", "last_name" } do
    raises(function() return m[k] end, "invalid")
  end
  eq(cases_mod.mask_name("Łucja", "Żak"), "Ł. Ż***")
end)

test("the case view shows them, and each read is written to the audit log", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local seq = F.seq()
  local list = c:members{ identified = true }
  eq({ list[1].first_name, list[1].last_name, list[1].pesel }, { "Adam", "Mazur", "84031201236" })
  local card = c:card{ identified = true }
  ok(tostring(card):find("Zuzanna Mazur, dziecko, K, 6 l., PESEL 14211909029", 1, true), tostring(card))
  local m = c:members()[2]
  eq(m:identify(), { first_name = "Beata", last_name = "Mazur", pesel = "87093004582" })
  local rows = accesses(seq)
  eq(#rows, 3)
  eq({ rows[1].entity, rows[1].entity_id }, { "cases", tostring(c.id) })
  ok(rows[1].after_json:find("names and PESEL of 4 members", 1, true), rows[1].after_json)
  ok(rows[2].after_json:find("case card", 1, true), rows[2].after_json)
  eq({ rows[3].entity, rows[3].entity_id }, { "case_members", tostring(m.id) })
  -- masked views write nothing
  seq = F.seq()
  c:members(); c:card(); tostring(m)
  eq(F.seq(), seq, "no audit rows for masked views")
end)

test("the audit log never holds a member's names or PESEL: a hash of them instead", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  c:members()[1]:correct{ last_name = "Mazur-Nowak" }
  for _, m in ipairs(F.family_members) do
    ok(not in_audit(m.pesel), "PESEL " .. m.pesel .. " not in the audit log")
    ok(not in_audit(m.first_name) and not in_audit(m.last_name), m.last_name .. " not in the audit log")
  end
  ok(not in_audit("Mazur-Nowak"))
  local idn = db:first("SELECT after_json FROM audit_log WHERE entity = 'case_member_identities' ORDER BY seq LIMIT 1")
  eq(require("koop.json").decode(idn.after_json),
    { fields = "first_name,last_name,pesel",
      sha256 = koop.sha256_fields(require("koop.schema").meta(db, "pesel_key"), "Adam", "Mazur", "84031201236") })
  ok(audit.verify(), "the chain verifies")
end)

test("pesel_hash is keyed (not a bare SHA-256) and finds the person in other cases", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local m = c:members()[1]
  ok(m.pesel_hash ~= koop.sha256("84031201236"), "keyed")
  eq(#m.pesel_hash, 64)
  ok(require("koop.schema").meta(db, "pesel_key"), "the key is in koop_meta")
  eq(m.other_cases, nil)
  local other = F.case("2020-02-01")
  other:add_member{ first_name = "Adam", last_name = "Mazur", pesel = "84031201236", relation = "wnioskodawca" }
  eq(m.other_cases, { "BOG-2020-001" })
  ok(tostring(c:card()):find("(also in BOG-2020-001)", 1, true))
  local seq = F.seq()
  local found = cases.with_pesel("84031201236")
  eq(#found, 2)
  eq({ found[1].code, found[2].code }, { "BOG-2019-001", "BOG-2020-001" })
  eq(#accesses(seq), 1, "the search is audited")
  eq(#cases.with_pesel("44051401359"), 0)
  F.refused(function() cases.with_pesel("44051401358") end, "cases.pesel", "checksum")
  eq(db:value("SELECT count(*) FROM case_member_identity WHERE pesel = '84031201236'"), 2,
    "the PESEL is only in the identity table")
end)

test("correcting names or the PESEL keeps birth date, sex and hash in step", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local m = c:members()[1]
  local old = m.pesel_hash
  m:correct{ pesel = "44051401359" }
  eq({ m.birth_date, m.sex }, { "1944-05-14", "M" })
  ok(m.pesel_hash ~= old)
  eq(m:identify().pesel, "44051401359")
  F.refused(function() m:correct{ pesel = "87093004582" } end, "case_members.pesel", "already a member")
  F.refused(function() m:correct{ first_name = "" } end, "case_members.first_name", "required")
  F.refused(function() m:correct{ nick = "Jasiu" } end, "case_members.nick")
  m:correct{ pesel = koop.null }
  eq({ m.pesel, m.pesel_hash, m.birth_date }, { nil, nil, "1944-05-14" })
end)
