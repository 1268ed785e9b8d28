-- institutions_test.lua — institutions, people and the resource map
-- (lib/koop/institutions.lua): the scenario's institutions with their kinds,
-- levels and sectors (from the kind unless given), the database's gmina,
-- NIP/REGON/postal code/e-mail/phone normalised and every bad input the
-- issue lists (invalid and all-zero NIP/REGON, postal codes, unknown kind,
-- duplicate REGON, bad e-mail/phone) refused with the field named and
-- nothing written (rows and audit log unchanged); gminas adding kinds and
-- service types; deactivation; people (required fields, their institution
-- as object or id); resources (service types, capacity, validity, offers of
-- active institutions on a date); find/print as the REPL shows them.
-- Run with: koop test tests/lua/institutions_test.lua


local function setup()
  gminas.set_home("2612013")
  return institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", short = "OPS Bogoria", kind = "OPS",
    nip = "866-000-00-16", regon = "990000016", postal_code = "28-210", city = "Bogoria",
    address = "ul. Opatowska 13", phone = "15 867 40 00", email = "ops@bogoria.pl", www = "www.bogoria.pl" }
end

local function state()
  return { institutions = institutions.count(), people = people.count(), resources = resources.count(),
    kinds = institutions.kinds.count(), audit = db:value("SELECT count(*) FROM audit_log") }
end

-- input must be refused with an error on `field` whose message has `text`,
-- writing nothing.
local function refused(fn, field, text)
  local before = state()
  local err = raises(fn, "invalid")
  eq(err.field, field, tostring(err))
  ok(err.message:find(text, 1, true), ("%q should contain %q"):format(err.message, text))
  eq(state(), before, "nothing written")
  return err
end

------------------------------------------------------------------ institutions

test("an institution: identifiers normalised, level/sector from its kind, the home gmina", function()
  local ops = setup()
  eq({ ops.id, ops.kind, ops.level, ops.sector, ops.gmina_terc, ops.active },
     { 1, "OPS", "gmina", "publiczny", "2612013", true })
  eq({ ops.nip, ops.regon, ops.postal_code }, { "8660000016", "990000016", "28-210" })
  eq(ops.gmina.name, "Bogoria")
  eq(tostring(ops), 'Institution#1 OPS "Ośrodek Pomocy Społecznej w Bogorii"')
  local pcpr = institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "pcpr",
    regon = "99000001600012" }
  eq({ pcpr.kind, pcpr.level, pcpr.sector, pcpr.gmina_terc }, { "PCPR", "powiat", "publiczny", nil })
  local ngo = institutions.add{ name = "Stowarzyszenie Razem dla Bogorii", kind = "NGO" }
  eq({ ngo.level, ngo.sector, ngo.gmina_terc }, { "gmina", "pozarządowy", "2612013" })
  local poz = institutions.add{ name = "Centrum Medyczne Auxilium w Bogorii", kind = "POZ", sector = "prywatny" }
  eq(poz.sector, "prywatny")
  local rops = institutions.add{ name = "Regionalny Ośrodek Polityki Społecznej w Kielcach", kind = "ROPS", level = "wojewodztwo" }
  eq(rops.level, "województwo")
end)

test("NIP: checksum, all-zero and length errors name institutions.nip", function()
  setup()
  refused(function() institutions.add{ name = "X", kind = "NGO", nip = "1234563217" } end,
    "institutions.nip", "NIP checksum digit is 7, expected 8 (got '1234563217')")
  refused(function() institutions.add{ name = "X", kind = "NGO", nip = "0000000000" } end, "institutions.nip", "all-zero")
  refused(function() institutions.add{ name = "X", kind = "NGO", nip = "123456321" } end, "institutions.nip", "(got '123456321')")
  refused(function() institutions.add{ name = "X", kind = "NGO", nip = "12345632AB" } end, "institutions.nip", "(got '12345632AB')")
  eq(institutions.add{ name = "Y", kind = "NGO", nip = "PL1234563218" }.nip, "1234563218")
end)

test("REGON-9 and REGON-14: checksum, all-zero, duplicate", function()
  local ops = setup()
  refused(function() institutions.add{ name = "X", kind = "NGO", regon = "123456786" } end, "institutions.regon", "(got '123456786')")
  refused(function() institutions.add{ name = "X", kind = "NGO", regon = "000000000" } end, "institutions.regon", "all-zero")
  refused(function() institutions.add{ name = "X", kind = "NGO", regon = "12345678512348" } end, "institutions.regon", "(got '12345678512348')")
  refused(function() institutions.add{ name = "X", kind = "NGO", regon = "1234" } end, "institutions.regon", "(got '1234')")
  refused(function() institutions.add{ name = "Drugi OPS", kind = "OPS", regon = "990000016" } end,
    "institutions.regon", "'990000016' is already used by Institution#1 OPS \"Ośrodek Pomocy Społecznej w Bogorii\"")
  local other = institutions.add{ name = "Y", kind = "NGO", regon = "12345678512347" }
  refused(function() other:update{ regon = "990000016" } end, "institutions.regon", "already used by Institution#1")
  eq(institutions.get(other.id).regon, "12345678512347")
  eq(ops.regon, "990000016")
end)

test("postal code NN-NNN, e-mail, phone, web address", function()
  setup()
  eq(institutions.add{ name = "A", kind = "GOK", postal_code = "28210" }.postal_code, "28-210")
  refused(function() institutions.add{ name = "X", kind = "GOK", postal_code = "28-2100" } end, "institutions.postal_code", "NN-NNN")
  refused(function() institutions.add{ name = "X", kind = "GOK", postal_code = "00-000" } end, "institutions.postal_code", "all-zero")
  refused(function() institutions.add{ name = "X", kind = "GOK", email = "gok.bogoria.pl" } end, "institutions.email", "(got 'gok.bogoria.pl')")
  refused(function() institutions.add{ name = "X", kind = "GOK", phone = "867" } end, "institutions.phone", "9 to 15 digits")
  refused(function() institutions.add{ name = "X", kind = "GOK", www = "strona gminy" } end, "institutions.www", "web address")
  refused(function() institutions.add{ name = "X", kind = "GOK", gmina = "2612099" } end, "institutions.gmina", "no Unit with terc 2612099")
  refused(function() institutions.add{ name = "X", kind = "GOK", level = "kraj" } end, "institutions.level", "known: gmina, powiat, województwo")
  refused(function() institutions.add{ name = "X", kind = "GOK", sector = "rządowy" } end, "institutions.sector", "unknown sector")
  refused(function() institutions.add{ kind = "GOK" } end, "institutions.name", "is required")
  refused(function() institutions.add{ name = "X" } end, "institutions.kind", "is required")
end)

test("kinds: unknown ones are refused; a gmina adds its own", function()
  setup()
  local err = refused(function() institutions.add{ name = "Jadłodajnia Gminna w Bogorii", kind = "jadłodajnia" } end,
    "institutions.kind", "unknown institution kind; known: ")
  ok(err.message:find("OPS", 1, true) and err.message:find("ŚDS", 1, true), err.message)
  local k = institutions.add_kind{ code = "jadłodajnia", name = "jadłodajnia gminna", sector = "publiczny" }
  eq(tostring(k), "InstitutionKind jadłodajnia (jadłodajnia gminna)")
  eq(institutions.add{ name = "Jadłodajnia Gminna w Bogorii", kind = "Jadłodajnia" }.kind, "jadłodajnia")
  refused(function() institutions.add_kind{ code = "dom kultury", name = "x" } end, "institution_kinds.code", "one word")
  refused(function() institutions.add_kind{ code = "OPS", name = "x" } end, "institution_kinds.code", "already used")
  refused(function() institutions.add_kind{ code = "x" } end, "institution_kinds.name", "is required")
  eq(#institutions.kinds.all(), 24)
end)

test("deactivate and activate; an inactive institution prints so", function()
  local ops = setup()
  ops:deactivate()
  eq(ops.active, false)
  eq(institutions.get(1).active, false)
  eq(tostring(ops), 'Institution#1 OPS "Ośrodek Pomocy Społecznej w Bogorii" (inactive)')
  eq(#institutions.find{ active = true }, 0)
  ops:activate()
  eq(institutions.count{ active = true }, 1)
  eq(#audit.log{ entity = "institutions", action = "update" }, 2)
end)

test("find{kind=} reads naturally and prints as a table", function()
  setup()
  institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "PCPR" }
  institutions.add{ name = "Środowiskowy Dom Samopomocy w Bogorii", kind = "ŚDS" }
  institutions.add{ name = "Szkoła Podstawowa w Bogorii", kind = "szkoła" }
  institutions.add{ name = "Urząd Gminy Bogoria", kind = "UG" }
  eq(institutions.find{ kind = "PCPR" }[1].name, "Powiatowe Centrum Pomocy Rodzinie w Staszowie")
  local names = {}
  for _, i in ipairs(institutions.all()) do names[#names + 1] = i.name:match("^%S+") end
  eq(names, { "Ośrodek", "Powiatowe", "Szkoła", "Środowiskowy", "Urząd" })   -- Polish order
  local text = koop.format(institutions.find{ level = "gmina", limit = 2 }, "box")
  eq(text, [[
┌────┬────────┬─────────────────────────────────────┬───────┬────────────┬────────┐
│ id │  kind  │                name                 │ level │ gmina_terc │ active │
├────┼────────┼─────────────────────────────────────┼───────┼────────────┼────────┤
│  1 │ OPS    │ Ośrodek Pomocy Społecznej w Bogorii │ gmina │ 2612013    │ true   │
│  4 │ szkoła │ Szkoła Podstawowa w Bogorii         │ gmina │ 2612013    │ true   │
└────┴────────┴─────────────────────────────────────┴───────┴────────────┴────────┘
]])
end)

------------------------------------------------------------------ people

test("people: staff of an institution, given as object or id", function()
  local ops = setup()
  local a = people.add{ first_name = "Anna", last_name = "Nowak", institution = ops, position = "kierownik",
    email = "a.nowak@bogoria.pl", phone = "+48 15 867 40 01" }
  local j = people.add{ first_name = "Jan", last_name = "Kowalski", institution = ops.id, position = "pracownik socjalny" }
  eq(a.institution, ops)
  eq(a.full_name, "Anna Nowak")
  eq(tostring(j), "Person#2 Jan Kowalski, pracownik socjalny")
  eq(#ops:people(), 2)
  eq(people.all()[1].last_name, "Kowalski")
  refused(function() people.add{ first_name = "Ewa", institution = ops } end, "people.last_name", "is required")
  refused(function() people.add{ first_name = "Ewa", last_name = "Wiśniewska" } end, "people.institution", "is required")
  refused(function() people.add{ first_name = "Ewa", last_name = "Wiśniewska", institution = 42 } end,
    "people.institution", "no Institution with id 42")
  refused(function() people.add{ first_name = "Ewa", last_name = "Wiśniewska", institution = a } end,
    "people.institution", "expected an Institution, got Person#1")
  refused(function() people.add{ first_name = "Ewa", last_name = "W", institution = ops, email = "ewa@" } end,
    "people.email", "(got 'ewa@')")
  refused(function() people.add{ first_name = "Ewa", last_name = "W", institution = ops, pesel = "44051401359" } end,
    "people.pesel", "no such field")
  j:deactivate()
  eq(tostring(j), "Person#2 Jan Kowalski, pracownik socjalny (inactive)")
  local text = koop.format(people.all(), "csv")
  eq(text, "id,first_name,last_name,position,institution.name\n"
    .. "2,Jan,Kowalski,pracownik socjalny,Ośrodek Pomocy Społecznej w Bogorii\n"
    .. "1,Anna,Nowak,kierownik,Ośrodek Pomocy Społecznej w Bogorii\n")
end)

------------------------------------------------------------------ resources

test("the resource map: service types, capacity, validity, offers on a date", function()
  local ops = setup()
  local pcpr = institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "PCPR" }
  local r1 = resources.add{ institution = ops, service_type = "poradnictwo", description = "porady socjalne",
    eligibility = "mieszkańcy gminy", capacity = 20, contact = "pok. 3", valid_from = "2019-07-01" }
  resources.add{ institution = pcpr, service_type = "terapia", capacity = 5, valid_from = "2019-01-01", valid_to = "2019-12-31" }
  resources.add{ institution = ops, service_type = "terapia", valid_from = "2020-01-01" }
  eq(tostring(r1), 'Resource#1 poradnictwo "porady socjalne"')
  eq(r1["institution.name"], "Ośrodek Pomocy Społecznej w Bogorii")
  eq(#resources.offering("terapia", "2019-06-01"), 1)
  eq(resources.offering("terapia", "2019-06-01")[1].institution, pcpr)
  eq(resources.offering("terapia", "2020-06-01")[1].institution, ops)
  eq(#resources.offering("poradnictwo", "2019-06-01"), 0)
  ok(r1:valid_on("2019-07-01") and not r1:valid_on("2019-06-30"))
  eq(#ops:resources(), 2)
  ops:deactivate()
  eq(#resources.offering("terapia", "2020-06-01"), 0)
  refused(function() resources.add{ institution = ops, service_type = "klub" } end, "resources.institution", "is inactive")
  ops:activate()
  refused(function() resources.add{ institution = ops, service_type = "masaż" } end, "resources.service_type", "unknown service type; known: ")
  refused(function() resources.add{ institution = ops, service_type = "klub", capacity = -1 } end, "resources.capacity", "at least 0")
  refused(function() resources.add{ institution = ops, service_type = "klub", valid_from = "2020-01-01", valid_to = "2019-01-01" } end,
    "resources.valid_to", "valid_to 2019-01-01 is before valid_from 2020-01-01")
  refused(function() resources.add{ service_type = "klub" } end, "resources.institution", "is required")
  refused(function() r1:update{ valid_to = "2019-06-30" } end, "resources.valid_to", "is before valid_from 2019-07-01")
end)

test("service types: the catalogue, and a gmina's own", function()
  setup()
  eq(#resources.service_types.all(), 9)
  eq(resources.service_types.get("edukacja").name, "edukacja społeczności")
  local t = resources.add_service_type{ code = "dowóz", name = "dowóz na zajęcia", unit = "zdarzenie" }
  eq(tostring(t), "ServiceType dowóz (dowóz na zajęcia, per zdarzenie)")
  eq(resources.add{ institution = 1, service_type = "dowóz" }.service_type, "dowóz")
  refused(function() resources.add_service_type{ code = "x", name = "y", unit = "litr" } end, "service_types.unit", "unknown unit")
end)

test("every refused input above left the audit chain intact", function()
  setup()
  pcall(institutions.add, { name = "X", kind = "NGO", nip = "1234563217" })
  pcall(institutions.add, { name = "Y", kind = "OPS", regon = "990000016" })
  eq(audit.verify(), true)
end)
