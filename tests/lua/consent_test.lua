-- consent_test.lua — consent and statutory bases: scope (institutions and
-- data categories), legal basis (zgoda art. 6(1)(a)/9(2)(a), or a statute),
-- given / expiry / withdrawal dates, who recorded it; a referral carrying
-- personal data is refused outside every consent in force (the error names
-- the institution, or the categories not covered) unless it records a
-- statutory basis; withdrawal stops further sharing; a plan is agreed only
-- with a consent or statutory basis in force; a consent record is evidence
-- and cannot be edited; bad input is refused with nothing written.
-- Run with: koop test tests/lua/consent_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")

test("a consent records scope, basis, dates and who recorded it; consent.given fires", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local seen = F.events({ "consent.given" }, function() F.consent(c) end)
  eq(#seen, 1)
  local k = c:consents()[1]
  eq(k.basis_kind, "zgoda")
  eq(k.basis, "zgoda (art. 6 ust. 1 lit. a i art. 9 ust. 2 lit. a RODO)")
  eq(k.categories, "podstawowe,sytuacja rodzinna,zdrowie,nałogi")
  eq(k.given_on, "2019-10-15")
  eq(k.recorded_by.last_name, F.person.ops.last_name)
  eq(k.active, true)
  ok(k.scope:find("Ośrodek Pomocy Społecznej w Bogorii", 1, true) and k.scope:find(": podstawowe, sytuacja rodzinna", 1, true), k.scope)
  ok(tostring(k):find("^Consent#1 zgoda 2019%-10%-15: "), tostring(k))
end)

test("a statutory basis is recorded the same way, as kind ustawa", function()
  koop.today("2020-10-01")
  local c = F.case()
  local k = c:consent{ institutions = { F.inst.ops, F.inst.kpp }, categories = "podstawowe, karalność",
    basis = "art. 9c ustawy o przeciwdziałaniu przemocy domowej", recorded_by = F.person.ops, given = "2019-09-03" }
  eq(k.basis_kind, "ustawa")
  eq(k.categories, "podstawowe,karalność")
  eq(k.institutions, ("%d,%d"):format(F.inst.ops.id, F.inst.kpp.id))
end)

test("bad consents are refused naming the field, and nothing is written", function()
  koop.today("2020-10-01")
  local c = F.case()
  local ops = { F.inst.ops }
  F.refused(function() c:consent{ categories = { "podstawowe" }, recorded_by = F.person.ops } end, "consents.institutions", "required")
  F.refused(function() c:consent{ institutions = ops, recorded_by = F.person.ops } end, "consents.categories", "required")
  F.refused(function() c:consent{ institutions = ops, categories = { "poglądy" }, recorded_by = F.person.ops } end,
    "consents.categories", "unknown data category 'poglądy'")
  F.refused(function() c:consent{ institutions = ops, categories = { "zdrowie" } } end, "consents.recorded_by", "required")
  F.refused(function() c:consent{ institutions = { 999 }, categories = { "zdrowie" }, recorded_by = F.person.ops } end,
    "consents.institutions", "no institution with id 999")
  F.refused(function() c:consent{ institutions = ops, categories = { "zdrowie" }, recorded_by = F.person.ops, given = "2020-10-02" } end,
    "consents.given_on", "after today")
  F.refused(function() c:consent{ institutions = ops, categories = { "zdrowie" }, recorded_by = F.person.ops, given = "2019-10-01", expires = "2019-09-01" } end,
    "consents.expires_on")
  F.refused(function() c:consent{ institutions = ops, categories = { "zdrowie" }, recorded_by = F.person.ops, scope = "all" } end,
    "consents.scope")
  local other = F.case("2019-09-03", true)
  F.refused(function() c:consent{ institutions = ops, categories = { "zdrowie" }, recorded_by = F.person.ops, member = other:members()[1] } end,
    "consents.member", "not a member of this case")
end)

test("a consent is evidence: its scope and dates cannot be changed, only withdrawn", function()
  koop.today("2020-10-01")
  local c = F.case()
  local k = F.consent(c)
  F.refused(function() k:update{ categories = "podstawowe" } end, "consents.categories", "withdraw it")
  F.refused(function() k:update{ given_on = "2019-10-01" } end, "consents.given_on", "withdraw it")
  F.refused(function() k:update{ withdrawn_on = "2020-01-01" } end, "consents.withdrawn_on", "derived")
  k:update{ notes = "skan w teczce" }
  eq(k.notes, "skan w teczce")
  F.refused(function() k:withdraw{ date = "2019-10-01" } end, "consents.withdrawn_on", "before the consent was given")
  F.refused(function() k:withdraw{ date = "2020-10-02" } end, "consents.withdrawn_on", "after today")
  local seen = F.events({ "consent.withdrawn" }, function() k:withdraw{ date = "2020-02-01" } end)
  eq(#seen, 1)
  eq({ k.withdrawn_on, k.active }, { "2020-02-01", false })
  F.refused(function() k:withdraw{} end, "consents.withdrawn_on", "withdrawn already")
end)

test("a referral with personal data goes only where a consent in force reaches", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local err = F.refused(function() c:refer{ to = F.inst.pup, shared = { "podstawowe" }, date = "2019-10-20" } end, "referrals.to")
  ok(tostring(err):find("Powiatowy Urząd Pracy w Staszowie is outside the scope of every consent in force on 2019-10-20", 1, true), tostring(err))
  local k = F.consent(c)
  local r = c:refer{ to = F.inst.pup, shared = { "podstawowe", "zdrowie" }, date = "2019-10-20" }
  eq(r.consent_id, k.id)
  err = F.refused(function() c:refer{ to = F.inst.kpp, shared = { "zdrowie" }, date = "2019-11-05" } end, "referrals.to")
  ok(tostring(err):find("Komenda Powiatowa Policji w Staszowie is outside the scope", 1, true), tostring(err))
  ok(tostring(err):find("data shared: zdrowie", 1, true), tostring(err))
  err = F.refused(function() c:refer{ to = F.inst.pup, shared = { "podstawowe", "dochody", "karalność" }, date = "2019-11-05" } end, "referrals.to")
  ok(tostring(err):find("does not cover the data categories dochody, karalność", 1, true), tostring(err))
  err = F.refused(function() c:refer{ to = F.inst.pup, shared = { "podstawowe" }, date = "2019-10-14" } end, "referrals.to")
  ok(tostring(err):find("in force on 2019-10-14", 1, true), "the day before the consent: " .. tostring(err))
  -- no personal data: no consent needed
  eq(c:refer{ to = F.inst.kpp, reason = "zapytanie o dostępne programy", date = "2019-11-05" }.consent_id, nil)
end)

test("several consents together may cover a referral; a member's consent covers that member", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  F.consent(c, "2019-10-15", { "pup" }, { "podstawowe" })
  F.consent(c, "2019-10-16", { "pup" }, { "dochody" })
  ok(c:refer{ to = F.inst.pup, shared = { "podstawowe", "dochody" }, date = "2019-10-20" })
  local adam = c:members()[1]
  c:consent{ member = adam, institutions = { F.inst.poz }, categories = { "zdrowie" }, recorded_by = F.person.ops, given = "2019-10-15" }
  ok(c:refer{ to = F.inst.poz, member = adam, shared = { "zdrowie" }, date = "2019-10-20" }, "about Adam: his consent")
  F.refused(function() c:refer{ to = F.inst.poz, shared = { "zdrowie" }, date = "2019-10-20" } end, "referrals.to", "outside the scope")
  F.refused(function() c:refer{ to = F.inst.poz, member = c:members()[2], shared = { "zdrowie" }, date = "2019-10-20" } end,
    "referrals.to", "outside the scope")
end)

test("a statutory basis on the referral covers it without consent", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local r = c:refer{ to = F.inst.kpp, shared = { "podstawowe", "karalność" }, date = "2019-11-05",
    basis = "art. 9c ust. 1 ustawy o przeciwdziałaniu przemocy domowej" }
  eq({ r.basis, r.consent_id }, { "art. 9c ust. 1 ustawy o przeciwdziałaniu przemocy domowej", nil })
  F.refused(function() c:refer{ to = F.inst.kpp, shared = { "zdrowie" }, basis = "zgoda", date = "2019-11-05" } end,
    "referrals.to", "outside the scope")
end)

test("withdrawal stops further sharing, from its date on", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local k = F.consent(c)
  local before = c:refer{ to = F.inst.pup, shared = { "podstawowe" }, date = "2019-10-20" }
  k:withdraw{ date = "2020-01-10" }
  ok(c:refer{ to = F.inst.gkrpa, shared = { "nałogi" }, date = "2020-01-09" }, "the day before withdrawal")
  F.refused(function() c:refer{ to = F.inst.gkrpa, shared = { "nałogi" }, date = "2020-01-10" } end, "referrals.to", "outside the scope")
  before:reject{ reason = "brak miejsc", date = "2020-01-12" }
  F.refused(function() before:redirect{ to = F.inst.pcpr, date = "2020-01-12" } end, "referrals.to", "outside the scope")
  eq(before:reload().status, "rejected", "a refused redirect leaves the referral as it was")
end)

test("expired consent no longer covers", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  c:consent{ institutions = { F.inst.pup }, categories = { "podstawowe" }, recorded_by = F.person.ops,
    given = "2019-10-15", expires = "2019-12-31" }
  ok(c:refer{ to = F.inst.pup, shared = { "podstawowe" }, date = "2019-12-31" })
  F.refused(function() c:refer{ to = F.inst.pup, shared = { "podstawowe" }, date = "2020-01-01" } end, "referrals.to", "outside the scope")
end)

test("a plan is agreed only with a consent or a statutory basis in force", function()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  local err = F.refused(function() c:plan{ type = "IPW", agreed_on = "2019-10-20", goals = { "Zatrudnienie" } } end, "plans.agreed_on")
  ok(tostring(err):find("no consent or statutory basis in force", 1, true), tostring(err))
  local p = c:plan{ type = "IPW", created_on = "2019-10-10", goals = { "Zatrudnienie" } }
  F.refused(function() p:agree{ date = "2019-10-20" } end, "plans.agreed_on", "c:consent{")
  local k = F.consent(c)
  F.refused(function() p:agree{ date = "2019-10-14" } end, "plans.agreed_on", "no consent")
  p:agree{ date = "2019-10-20" }
  eq(p.status, "agreed")
  k:withdraw{ date = "2019-11-01" }
  local v2 = p:revise{ date = "2019-11-05" }
  F.refused(function() v2:agree{ date = "2019-11-06" } end, "plans.agreed_on", "no consent")
  v2:agree{ date = "2019-11-06", basis = "art. 108 ustawy o pomocy społecznej" }
  eq({ v2.status, v2.legal_basis }, { "agreed", "art. 108 ustawy o pomocy społecznej" })
  local kontrakt = c:plan{ type = "kontrakt socjalny", created_on = "2019-11-06", basis = "art. 108 ustawy o pomocy społecznej",
    goals = { "Praca" }, agreed_on = "2019-11-07" }
  eq(kontrakt.status, "agreed")
end)
