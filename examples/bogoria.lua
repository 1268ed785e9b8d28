-- examples/bogoria.lua — the G-PZK of gmina Bogoria (powiat staszowski,
-- woj. świętokrzyskie) in the pilot of the Model Kooperacji, 2019–2020.
--
--   koop -d gmina.db examples/bogoria.lua
--
-- Sourced facts (../shared/reference/domain.md §1.1 and the issue): the
-- agreement of 4 June 2019 signed in Kielce by województwo świętokrzyskie,
-- powiat staszowski and gmina Bogoria; the institutions that signed on for
-- the G-PZK (PCPR and PUP w Staszowie, OPS, GOK, the gmina canteen, the
-- primary school, Centrum Medyczne Auxilium, the fire brigade association
-- and the Urząd Gminy in Bogoria, DPS w Pęcławicach Górnych); five G-PZK
-- meetings, a focus study, two one-day Szkoła Kooperacji trainings and a
-- study visit to gmina Narewka.
--
-- ILLUSTRATIVE (dane ilustracyjne): every person, the exact dates of the
-- meetings, attendance, decisions and tasks, the REGON numbers (synthetic:
-- prefix 99, which no real unit has, with a valid check digit) and the
-- signatories' names.  Rows carrying invented data say so in `notes`.
--
-- The whole script is one transaction: it adds everything or nothing.  Run
-- on a database that has the G-PZK Bogoria already, it adds nothing and
-- only shows it.
local ILLUSTRATIVE = "dane ilustracyjne"
local GMINA = "2612012"         -- Bogoria, gmina wiejska until 2023-12-31
local TEAM = "G-PZK Bogoria"

-- A synthetic REGON-9: 99, six digits of n, and the check digit.
local function regon(n)
  local digits = ("99%06d"):format(n)
  local weights, sum = { 8, 9, 2, 3, 4, 5, 6, 7 }, 0
  for i = 1, 8 do sum = sum + tonumber(digits:sub(i, i)) * weights[i] end
  return digits .. (sum % 11) % 10
end

-- Show the team, its members and meetings, and the indicators.
local function show(team)
  print(team)
  print(team:members{ on = "2020-03-31" })
  print(team:meetings())
  print("Wskaźniki gminy Bogoria, 2019-06-04 – 2020-03-31 (stan na 2020-03-31):")
  print(indicators.compute{ gmina = GMINA, from = "2019-06-04", to = "2020-03-31", at = "2020-03-31" })
end

local existing = teams.find{ name = TEAM }[1]
if existing then
  print(("%s is in %s already: nothing added."):format(TEAM, db:path()))
  show(existing)
  return
end

local team = db:tx(function()
  gminas.ensure(GMINA)

  -- {---- institutions and their people ----
  local inst, person = {}, {}
  local function institution(key, t)
    t.notes = t.notes or ("REGON syntetyczny (%s)"):format(ILLUSTRATIVE)
    inst[key] = institutions.add(t)
  end
  institution("pcpr", { name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", short = "PCPR Staszów", kind = "PCPR",
    gmina = "2612012", regon = regon(1), city = "Staszów" })
  institution("pup", { name = "Powiatowy Urząd Pracy w Staszowie", short = "PUP Staszów", kind = "PUP",
    gmina = "2612012", regon = regon(2), city = "Staszów" })
  institution("ops", { name = "Ośrodek Pomocy Społecznej w Bogorii", short = "OPS Bogoria", kind = "OPS",
    gmina = GMINA, regon = regon(3), postal_code = "28-210", city = "Bogoria" })
  institution("gok", { name = "Gminny Ośrodek Kultury w Bogorii", short = "GOK Bogoria", kind = "GOK",
    gmina = GMINA, regon = regon(4), postal_code = "28-210", city = "Bogoria" })
  institution("dps", { name = "Dom Pomocy Społecznej w Pęcławicach Górnych", short = "DPS Pęcławice", kind = "DPS",
    gmina = GMINA, regon = regon(5), city = "Pęcławice Górne" })
  institution("jadlodajnia", { name = "Jadłodajnia Gminna w Bogorii", kind = "inne", level = "gmina",
    sector = "publiczny", gmina = GMINA, regon = regon(6), postal_code = "28-210", city = "Bogoria" })
  institution("sp", { name = "Szkoła Podstawowa w Bogorii", short = "SP Bogoria", kind = "szkoła",
    gmina = GMINA, regon = regon(7), postal_code = "28-210", city = "Bogoria" })
  institution("auxilium", { name = "Centrum Medyczne Auxilium w Bogorii", kind = "POZ", sector = "prywatny",
    gmina = GMINA, regon = regon(8), postal_code = "28-210", city = "Bogoria" })
  institution("osp", { name = "Stowarzyszenie Straż Pożarna w Bogorii", kind = "NGO",
    gmina = GMINA, regon = regon(9), postal_code = "28-210", city = "Bogoria" })
  institution("ug", { name = "Urząd Gminy Bogoria", short = "UG Bogoria", kind = "UG",
    gmina = GMINA, regon = regon(10), postal_code = "28-210", city = "Bogoria", address = "ul. Opatowska 13",
    notes = "adres: domain.md §3.5; REGON syntetyczny (" .. ILLUSTRATIVE .. ")" })
  -- the region's ROPS supports both pilot gminas (examples/bogoria.lua, loniow.lua)
  inst.rops = institutions.find{ regon = regon(900) }[1]
  if not inst.rops then
    institution("rops", { name = "Regionalny Ośrodek Polityki Społecznej w Kielcach", short = "ROPS Kielce",
      kind = "ROPS", regon = regon(900), city = "Kielce" })
  end

  -- staff and representatives: all invented (dane ilustracyjne)
  for _, p in ipairs{
    { "ops_kier", "ops", "Małgorzata", "Wrona", "kierownik OPS" },
    { "ops", "ops", "Agata", "Cichoń", "pracownik socjalny" },
    { "pcpr", "pcpr", "Tomasz", "Madej", "specjalista pracy z rodziną" },
    { "pup", "pup", "Renata", "Gil", "doradca zawodowy" },
    { "gok", "gok", "Łukasz", "Pietras", "instruktor" },
    { "dps", "dps", "Elżbieta", "Kosiba", "pracownik socjalny DPS" },
    { "jadlodajnia", "jadlodajnia", "Halina", "Sobczyk", "kierownik jadłodajni" },
    { "sp", "sp", "Jolanta", "Dziuba", "pedagog szkolny" },
    { "auxilium", "auxilium", "Marek", "Bania", "lekarz rodzinny" },
    { "osp", "osp", "Stanisław", "Łata", "prezes stowarzyszenia" },
    { "ug", "ug", "Grzegorz", "Kot", "sekretarz gminy" },
    { "rops", "rops", "Iwona", "Ślusarczyk", "ekspert ds. modelu" },
  } do
    -- the ROPS expert may be in the database already (examples/loniow.lua)
    local known = people.find{ first_name = p[3], last_name = p[4], institution = inst[p[2]] }[1]
    person[p[1]] = known or people.add{ first_name = p[3], last_name = p[4], position = p[5],
      institution = inst[p[2]], notes = ILLUSTRATIVE }
  end
  -- }----

  -- {---- the agreement of 4 June 2019 ----
  local a = agreements.add{
    title = "Porozumienie o współpracy w ramach projektu „Liderzy kooperacji” – gmina Bogoria",
    scope = "testowanie Modelu Kooperacji w gminie wiejskiej: powołanie G-PZK, mapa zasobów, "
      .. "Indywidualne Programy Współpracy, pakiet socjalny",
    valid_from = "2019-06-04", valid_to = "2021-03-31",
    notes = "strony i data: domain.md §1.1; sygnatariusze i okres obowiązywania: " .. ILLUSTRATIVE,
  }
  a:add_party{ unit = "26", role = "lider (ROPS Kielce)", signatory_name = "Członek Zarządu Województwa",
    notes = ILLUSTRATIVE }
  a:add_party{ unit = "2612", signatory_name = "Starosta Staszowski", notes = ILLUSTRATIVE }
  a:add_party{ unit = GMINA, signatory_name = "Wójt Gminy Bogoria", notes = ILLUSTRATIVE }
  for _, k in ipairs{ "pcpr", "pup", "ops", "gok", "dps", "jadlodajnia", "sp", "auxilium", "osp", "ug" } do
    a:add_party{ institution = inst[k], role = "partner G-PZK",
      signatory = k == "ops" and person.ops_kier or person[k], notes = ILLUSTRATIVE }
  end
  a:sign{ date = "2019-06-04" }
  -- }----

  -- {---- the G-PZK and its members ----
  local t = teams.add{ kind = "G-PZK", gmina = GMINA, agreement = a, name = TEAM, formed_on = "2019-07-01",
    notes = "data powołania: " .. ILLUSTRATIVE }
  local function member(key, role) t:add_member{ person = person[key], role = role, from = "2019-07-01" } end
  member("ops_kier", "przewodniczący")
  member("ops", "animator gminny")
  member("pcpr", "animator powiatowy")
  for _, k in ipairs{ "pup", "gok", "dps", "jadlodajnia", "sp", "auxilium", "osp" } do member(k, "członek") end
  member("ug", "protokolant")
  member("rops", "ekspert")
  -- }----

  -- {---- meetings (dates, attendance, decisions and tasks illustrative) ----
  local everyone = { "ops_kier", "ops", "pcpr", "pup", "gok", "dps", "jadlodajnia", "sp", "auxilium", "osp", "ug" }
  local function meeting(t_, date, kind, extra)
    local input = { team = t_, date = date, kind = kind, status = "held", notes = ILLUSTRATIVE }
    for k, v in pairs(extra or {}) do input[k] = v end
    return meetings.add(input)
  end
  -- everyone present except the people in `away` (excused)
  local function attendance(m, away)
    local excused = {}
    for _, k in ipairs(away or {}) do excused[k] = true end
    for _, k in ipairs(everyone) do m:attend(person[k], excused[k] and "usprawiedliwiony" or "obecny") end
  end

  local m1 = meeting(t, "2019-07-10", "posiedzenie zespołu", { protocol_no = "1/2019",
    place = "Urząd Gminy Bogoria, sala konferencyjna",
    agenda = "1. Ukonstytuowanie się G-PZK. 2. Regulamin pracy. 3. Mapa zasobów gminy." })
  attendance(m1, { "auxilium", "dps" })
  m1:attend(person.rops, "obecny")
  m1:decide("Przyjęto regulamin pracy G-PZK Bogoria.")
  m1:decide("Opracować mapę zasobów gminy do 30 września 2019 r.")
  m1:task{ text = "Opracować mapę zasobów gminy", owner = inst.ops, due = "2019-09-30" }:done{ date = "2019-09-27" }
  m1:task{ text = "Zebrać od partnerów oferty usług do mapy zasobów", owner = person.pcpr, due = "2019-08-31" }
    :done{ date = "2019-08-29" }

  local fokus = meeting(t, "2019-08-20", "badanie fokusowe", { place = "GOK w Bogorii",
    agenda = "Badanie fokusowe: potrzeby mieszkańców i współpraca instytucji" })
  attendance(fokus, { "ug", "auxilium", "jadlodajnia" })

  local m2 = meeting(t, "2019-09-05", "posiedzenie zespołu", { protocol_no = "2/2019", place = "OPS w Bogorii",
    agenda = "1. Projekt mapy zasobów. 2. Wybór rodzin do Indywidualnych Programów Współpracy." })
  attendance(m2, { "osp" })
  m2:decide("Przyjęto projekt mapy zasobów do uzupełnienia przez partnerów.")
  m2:decide("Wskazać rodziny do objęcia IPW na kolejnym posiedzeniu.")
  m2:task{ text = "Przygotować listę rodzin do IPW (kody spraw, bez danych osobowych)", owner = person.ops,
    due = "2019-11-07" }

  local sk1 = meeting(t, "2019-09-12", "Szkoła Kooperacji", { place = "Kielce",
    agenda = "Szkoła Kooperacji, dzień 1: komunikacja i budowanie współpracy" })
  attendance(sk1, { "auxilium", "osp", "jadlodajnia", "ug" })
  local sk2 = meeting(t, "2019-10-10", "Szkoła Kooperacji", { place = "Kielce",
    agenda = "Szkoła Kooperacji, dzień 2: negocjacje, metody pracy z rodziną" })
  attendance(sk2, { "auxilium", "osp", "dps" })

  local visit = meeting(t, "2019-10-23", "wizyta studyjna", { days = 3, place = "gmina Narewka (woj. podlaskie)",
    agenda = "Wizyta studyjna: współpraca instytucji w gminie Narewka" })
  attendance(visit, { "auxilium", "osp", "jadlodajnia", "dps", "gok" })

  local m3 = meeting(t, "2019-11-07", "posiedzenie zespołu", { protocol_no = "3/2019", place = "OPS w Bogorii",
    agenda = "1. Rodziny objęte IPW. 2. Pakiet socjalny." })
  attendance(m3, { "pup" })
  m3:decide("Objąć IPW cztery rodziny wskazane przez OPS.")
  m3:decide("Przygotować propozycję podziału pakietu socjalnego.")
  m3:task{ text = "Propozycja podziału pakietu socjalnego na usługi", owner = inst.ops, due = "2020-01-16" }

  local m4 = meeting(t, "2020-01-16", "posiedzenie zespołu", { protocol_no = "1/2020", place = "GOK w Bogorii",
    agenda = "1. Przegląd IPW. 2. Pakiet socjalny: usługi i wykonawcy." })
  attendance(m4, { "auxilium", "sp" })
  m4:decide{ text = "Przyjęto podział pakietu socjalnego na usługi.", votes_for = 10, votes_against = 0,
    votes_abstain = 0 }
  m4:task{ text = "Umowy z wykonawcami usług z pakietu socjalnego", owner = person.ug, due = "2020-02-28" }

  local m5 = meeting(t, "2020-03-05", "posiedzenie zespołu", { protocol_no = "2/2020", place = "Urząd Gminy Bogoria",
    agenda = "1. Monitoring IPW. 2. Harmonogram na II kwartał." })
  attendance(m5, { "dps", "osp" })
  m5:decide("Kolejne posiedzenie w trybie zdalnym.")
  -- }----

  return t
end)

print(("%s: added to %s."):format(TEAM, db:path()))
show(team)
