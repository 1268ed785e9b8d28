-- examples/loniow.lua — the G-PZK of gmina Łoniów (powiat sandomierski,
-- woj. świętokrzyskie) in the pilot of the Model Kooperacji, 2019–2020.
--
--   koop -d gmina.db examples/loniow.lua
--
-- Sourced facts (../shared/reference/domain.md §1.1 and the issue): the
-- agreement of 4 June 2019 signed in Kielce by województwo świętokrzyskie,
-- powiat sandomierski and gmina Łoniów; the G-PZK's partners (PCPR and PUP
-- w Sandomierzu, OPS and GOK w Łoniowie, Publiczna Szkoła Podstawowa w
-- Łoniowie, Stowarzyszenie Aktywnej Społeczności w Świniarach Starych,
-- Środowiskowy Dom Samopomocy Fundacji La Zebra w Krzcinie, Warsztat
-- Terapii Zajęciowej w Śmiechowicach, Gmina Łoniów); seven meetings, a
-- focus study, two trainings and a three-day study visit to gmina Narewka.
--
-- ILLUSTRATIVE (dane ilustracyjne): every person, the exact dates of the
-- meetings, attendance, decisions and tasks, the REGON numbers (synthetic:
-- prefix 99, which no real unit has, with a valid check digit), the
-- signatories' names and the gmina of the partners outside Łoniów (left
-- empty where not known).  Rows carrying invented data say so in `notes`.
--
-- The whole script is one transaction: it adds everything or nothing.  Run
-- on a database that has the G-PZK Łoniów already, it adds nothing and only
-- shows it.
local ILLUSTRATIVE = "dane ilustracyjne"
local GMINA = "2609052"         -- Łoniów, gmina wiejska
local TEAM = "G-PZK Łoniów"

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
  print("Wskaźniki gminy Łoniów, 2019-06-04 – 2020-03-31 (stan na 2020-03-31):")
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
  institution("pcpr", { name = "Powiatowe Centrum Pomocy Rodzinie w Sandomierzu", short = "PCPR Sandomierz",
    kind = "PCPR", regon = regon(101), city = "Sandomierz" })
  institution("pup", { name = "Powiatowy Urząd Pracy w Sandomierzu", short = "PUP Sandomierz", kind = "PUP",
    regon = regon(102), city = "Sandomierz" })
  institution("ops", { name = "Ośrodek Pomocy Społecznej w Łoniowie", short = "OPS Łoniów", kind = "OPS",
    gmina = GMINA, regon = regon(103), city = "Łoniów" })
  institution("gok", { name = "Gminny Ośrodek Kultury w Łoniowie", short = "GOK Łoniów", kind = "GOK",
    gmina = GMINA, regon = regon(104), city = "Łoniów" })
  institution("psp", { name = "Publiczna Szkoła Podstawowa w Łoniowie", short = "PSP Łoniów", kind = "szkoła",
    gmina = GMINA, regon = regon(105), city = "Łoniów" })
  institution("sas", { name = "Stowarzyszenie Aktywnej Społeczności w Świniarach Starych", kind = "NGO",
    gmina = GMINA, regon = regon(106), city = "Świniary Stare" })
  institution("sds", { name = "Środowiskowy Dom Samopomocy Fundacji La Zebra w Krzcinie", kind = "ŚDS",
    sector = "pozarządowy", gmina = GMINA, regon = regon(107), city = "Krzcin" })
  institution("wtz", { name = "Warsztat Terapii Zajęciowej w Śmiechowicach", kind = "WTZ",
    regon = regon(108), city = "Śmiechowice" })
  institution("ug", { name = "Urząd Gminy Łoniów", short = "UG Łoniów", kind = "UG",
    gmina = GMINA, regon = regon(109), city = "Łoniów" })
  -- the region's ROPS supports both pilot gminas (examples/bogoria.lua, loniow.lua)
  inst.rops = institutions.find{ regon = regon(900) }[1]
  if not inst.rops then
    institution("rops", { name = "Regionalny Ośrodek Polityki Społecznej w Kielcach", short = "ROPS Kielce",
      kind = "ROPS", regon = regon(900), city = "Kielce" })
  end

  -- staff and representatives: all invented (dane ilustracyjne)
  for _, p in ipairs{
    { "ops_kier", "ops", "Beata", "Giza", "kierownik OPS" },
    { "ops", "ops", "Karolina", "Stępień", "pracownik socjalny" },
    { "pcpr", "pcpr", "Dariusz", "Frąk", "koordynator pieczy zastępczej" },
    { "pup", "pup", "Monika", "Rusin", "pośrednik pracy" },
    { "gok", "gok", "Rafał", "Sroka", "animator kultury" },
    { "psp", "psp", "Ewelina", "Pyzik", "pedagog szkolny" },
    { "sas", "sas", "Zdzisława", "Myszka", "prezes stowarzyszenia" },
    { "sds", "sds", "Paulina", "Wach", "terapeuta ŚDS" },
    { "wtz", "wtz", "Artur", "Koza", "instruktor terapii zajęciowej" },
    { "ug", "ug", "Henryk", "Dudek", "podinspektor ds. oświaty i spraw społecznych" },
    { "rops", "rops", "Iwona", "Ślusarczyk", "ekspert ds. modelu" },
  } do
    -- the ROPS expert may be in the database already (examples/bogoria.lua)
    local known = people.find{ first_name = p[3], last_name = p[4], institution = inst[p[2]] }[1]
    person[p[1]] = known or people.add{ first_name = p[3], last_name = p[4], position = p[5],
      institution = inst[p[2]], notes = ILLUSTRATIVE }
  end
  -- }----

  -- {---- the agreement of 4 June 2019 ----
  local a = agreements.add{
    title = "Porozumienie o współpracy w ramach projektu „Liderzy kooperacji” – gmina Łoniów",
    scope = "testowanie Modelu Kooperacji w gminie wiejskiej: powołanie G-PZK, mapa zasobów, "
      .. "Indywidualne Programy Współpracy, pakiet socjalny",
    valid_from = "2019-06-04", valid_to = "2021-03-31",
    notes = "strony i data: domain.md §1.1; sygnatariusze i okres obowiązywania: " .. ILLUSTRATIVE,
  }
  a:add_party{ unit = "26", role = "lider (ROPS Kielce)", signatory_name = "Członek Zarządu Województwa",
    notes = ILLUSTRATIVE }
  a:add_party{ unit = "2609", signatory_name = "Starosta Sandomierski", notes = ILLUSTRATIVE }
  a:add_party{ unit = GMINA, role = "partner G-PZK", signatory_name = "Wójt Gminy Łoniów", notes = ILLUSTRATIVE }
  for _, k in ipairs{ "pcpr", "pup", "ops", "gok", "psp", "sas", "sds", "wtz" } do
    a:add_party{ institution = inst[k], role = "partner G-PZK",
      signatory = k == "ops" and person.ops_kier or person[k], notes = ILLUSTRATIVE }
  end
  a:sign{ date = "2019-06-04" }
  -- }----

  -- {---- the G-PZK and its members ----
  -- Urząd Gminy Łoniów sits in the team for Gmina Łoniów, a party (a JST
  -- covers its own office).
  local t = teams.add{ kind = "G-PZK", gmina = GMINA, agreement = a, name = TEAM, formed_on = "2019-07-02",
    notes = "data powołania: " .. ILLUSTRATIVE }
  local function member(key, role) t:add_member{ person = person[key], role = role, from = "2019-07-02" } end
  member("ops_kier", "przewodniczący")
  member("ops", "animator gminny")
  member("pcpr", "animator powiatowy")
  for _, k in ipairs{ "pup", "gok", "psp", "sas", "sds", "wtz" } do member(k, "członek") end
  member("ug", "protokolant")
  member("rops", "ekspert")
  -- }----

  -- {---- meetings (dates, attendance, decisions and tasks illustrative) ----
  local everyone = { "ops_kier", "ops", "pcpr", "pup", "gok", "psp", "sas", "sds", "wtz", "ug" }
  local function meeting(date, kind, extra)
    local input = { team = t, date = date, kind = kind, status = "held", notes = ILLUSTRATIVE }
    for k, v in pairs(extra or {}) do input[k] = v end
    return meetings.add(input)
  end
  -- everyone present except the people in `away` (excused)
  local function attendance(m, away)
    local excused = {}
    for _, k in ipairs(away or {}) do excused[k] = true end
    for _, k in ipairs(everyone) do m:attend(person[k], excused[k] and "usprawiedliwiony" or "obecny") end
  end

  local m1 = meeting("2019-07-11", "posiedzenie zespołu", { protocol_no = "1/2019", place = "Urząd Gminy Łoniów",
    agenda = "1. Ukonstytuowanie się G-PZK. 2. Regulamin pracy. 3. Diagnoza zasobów gminy." })
  attendance(m1, { "wtz" })
  m1:attend(person.rops, "obecny")
  m1:decide("Przyjęto regulamin pracy G-PZK Łoniów.")
  m1:decide("Przygotować diagnozę zasobów i potrzeb gminy do 30 września 2019 r.")
  m1:task{ text = "Diagnoza zasobów i potrzeb gminy", owner = inst.ops, due = "2019-09-30" }
  m1:task{ text = "Ankieta wśród seniorów (aktywność, samotność)", owner = person.sas, due = "2019-09-15" }
    :done{ date = "2019-09-10" }

  local m2 = meeting("2019-08-08", "posiedzenie zespołu", { protocol_no = "2/2019", place = "OPS w Łoniowie",
    agenda = "1. Oferta partnerów dla osób starszych i niepełnosprawnych." })
  attendance(m2, { "pup", "psp" })
  m2:decide("Klub seniora w GOK – przygotować koncepcję.")
  m2:task{ text = "Koncepcja klubu seniora", owner = person.gok, due = "2019-10-10" }

  local fokus = meeting("2019-08-22", "badanie fokusowe", { place = "GOK w Łoniowie",
    agenda = "Badanie fokusowe: izolacja osób starszych, dostęp do usług" })
  attendance(fokus, { "pup", "wtz" })

  local sk1 = meeting("2019-09-13", "Szkoła Kooperacji", { place = "Kielce",
    agenda = "Szkoła Kooperacji, dzień 1: komunikacja i budowanie współpracy" })
  attendance(sk1, { "wtz", "sas", "ug" })

  local m3 = meeting("2019-09-19", "posiedzenie zespołu", { protocol_no = "3/2019", place = "PSP w Łoniowie",
    agenda = "1. Wyniki ankiety wśród seniorów. 2. Wolontariat młodzieży szkolnej." })
  attendance(m3, { "sds" })
  m3:decide("Uczniowie PSP jako wolontariusze w klubie seniora.")

  local sk2 = meeting("2019-10-11", "Szkoła Kooperacji", { place = "Kielce",
    agenda = "Szkoła Kooperacji, dzień 2: negocjacje, superwizja grupowa" })
  attendance(sk2, { "wtz", "pup" })

  local m4 = meeting("2019-10-17", "posiedzenie zespołu", { protocol_no = "4/2019", place = "GOK w Łoniowie",
    agenda = "1. Koncepcja klubu seniora. 2. Przygotowanie wizyty studyjnej." })
  attendance(m4, { "pcpr" })
  m4:decide("Przyjęto koncepcję klubu seniora.")

  local visit = meeting("2019-10-23", "wizyta studyjna", { days = 3, place = "gmina Narewka (woj. podlaskie)",
    agenda = "Wizyta studyjna: współpraca instytucji w gminie Narewka" })
  attendance(visit, { "pup", "wtz", "psp" })

  local m5 = meeting("2019-11-21", "posiedzenie zespołu", { protocol_no = "5/2019", place = "OPS w Łoniowie",
    agenda = "1. Wnioski z wizyty w Narewce. 2. Rodziny objęte IPW." })
  attendance(m5, { "sas" })
  m5:decide("Objąć IPW trzy rodziny wskazane przez OPS.")
  m5:task{ text = "Listy rodzin do IPW (kody spraw, bez danych osobowych)", owner = person.ops, due = "2019-12-12" }

  local m6 = meeting("2020-01-23", "posiedzenie zespołu", { protocol_no = "1/2020", place = "Urząd Gminy Łoniów",
    agenda = "1. Pakiet socjalny: usługi dla seniorów i osób niepełnosprawnych." })
  attendance(m6, { "sds", "wtz" })
  m6:decide{ text = "Przyjęto podział pakietu socjalnego na usługi.", votes_for = 9, votes_against = 0,
    votes_abstain = 1 }

  local m7 = meeting("2020-02-27", "posiedzenie zespołu", { protocol_no = "2/2020", place = "GOK w Łoniowie",
    agenda = "1. Otwarcie klubu seniora. 2. Monitoring IPW." })
  attendance(m7, { "pup" })
  m7:decide("Klub seniora rusza w marcu 2020 r.")
  -- }----

  return t
end)

print(("%s: added to %s."):format(TEAM, db:path()))
show(team)
