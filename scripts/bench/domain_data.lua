-- scripts/bench/domain_data.lua — the rows of the issue-3 benchmark
-- (w_domain.sh), the same for both contenders: 10,000 institutions, 20,000
-- people (two per institution), 50 teams on one agreement, 5,000 held
-- meetings with 8 attendees each (40,000 attendance rows).  Every value is
-- a function of its index, so both databases hold the same rows.
local D = {}

D.INSTITUTIONS, D.PEOPLE, D.TEAMS, D.MEETINGS, D.ATTENDEES = 10000, 20000, 50, 5000, 8
D.GMINA = "2612012"

local KINDS = { "OPS", "PCPR", "PUP", "szkoła", "GOK", "NGO", "POZ", "DPS", "ŚDS", "biblioteka" }
local KIND_NAMES = { OPS = "Ośrodek Pomocy Społecznej", PCPR = "Powiatowe Centrum Pomocy Rodzinie",
  PUP = "Powiatowy Urząd Pracy", ["szkoła"] = "Szkoła Podstawowa", GOK = "Gminny Ośrodek Kultury",
  NGO = "Stowarzyszenie Razem", POZ = "Ośrodek Zdrowia", DPS = "Dom Pomocy Społecznej",
  ["ŚDS"] = "Środowiskowy Dom Samopomocy", biblioteka = "Gminna Biblioteka Publiczna" }
local FIRST = { "Anna", "Jan", "Ewa", "Piotr", "Małgorzata", "Łukasz", "Żaneta", "Zdzisław", "Agnieszka", "Bożena" }
local LAST = { "Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska",
  "Szymański", "Woźniak", "Dąbrowska", "Kozłowski", "Jankowska", "Mazur" }
local MEETING_KINDS = { "posiedzenie zespołu", "warsztat", "Szkoła Kooperacji", "wizyta studyjna",
  "coaching", "superwizja", "badanie fokusowe", "konsultacje" }

-- A synthetic REGON-9 (prefix 99, valid check digit).
local function regon(n)
  local digits = ("99%06d"):format(n)
  local weights, sum = { 8, 9, 2, 3, 4, 5, 6, 7 }, 0
  for i = 1, 8 do sum = sum + (digits:byte(i) - 48) * weights[i] end
  return digits .. (sum % 11) % 10
end

--- Institution i: name, kind, regon, city, postal_code.
function D.institution(i)
  local kind = KINDS[(i - 1) % #KINDS + 1]
  return { name = ("%s nr %d w Bogorii"):format(KIND_NAMES[kind], i), kind = kind, regon = regon(i),
    city = "Bogoria", postal_code = "28-210" }
end

--- Person i: first_name, last_name, institution (its index), position.
function D.person(i)
  return { first_name = FIRST[(i - 1) % #FIRST + 1], last_name = LAST[(i - 1) % #LAST + 1],
    institution = (i + 1) // 2, position = i % 2 == 1 and "kierownik" or "pracownik socjalny" }
end

-- Serial day number of 2019-07-01 (days since 1970-01-01).
local START = 18078

--- Meeting i: team (its index), kind, date, place.
function D.meeting(i)
  local t = os.date("!*t", (START + (i - 1) % 1500) * 86400)
  return { team = (i - 1) % D.TEAMS + 1, kind = MEETING_KINDS[(i - 1) % #MEETING_KINDS + 1],
    date = ("%04d-%02d-%02d"):format(t.year, t.month, t.day), place = "Urząd Gminy Bogoria" }
end

--- Attendee k (1..8) of meeting i: person (its index), status.
function D.attendee(i, k)
  return (i * D.ATTENDEES + k - 1) % D.PEOPLE + 1, k == D.ATTENDEES and "usprawiedliwiony" or "obecny"
end

--- The start of the runs by plain SQL (domain_plain.lua, domain_floor.lua):
--- the territory rows that gminas.ensure writes for the domain API, by
--- db:exec; returns the institution kinds' level and sector by code.
function D.plain_start(db)
  db:exec([[INSERT INTO territory (terc, name, level, rodzaj, type, parent_terc, valid_from, valid_to) VALUES
    ('26', 'świętokrzyskie', 'województwo', NULL, 'województwo', NULL, NULL, NULL),
    ('2612', 'staszowski', 'powiat', NULL, 'powiat', '26', NULL, NULL),
    ('2612012', 'Bogoria', 'gmina', 2, 'gmina wiejska', '2612', NULL, '2023-12-31'),
    ('2612013', 'Bogoria', 'gmina', 3, 'gmina miejsko-wiejska', '2612', '2024-01-01', NULL),
    ('2612014', 'Bogoria', 'gmina', 4, 'miasto', '2612', '2024-01-01', NULL),
    ('2612015', 'Bogoria', 'gmina', 5, 'obszar wiejski', '2612', '2024-01-01', NULL)]])
  local kind = {}
  for code, level, sector in db:urows("SELECT code, level, sector FROM institution_kind") do
    kind[code] = { level = level, sector = sector }
  end
  return kind
end

return D
