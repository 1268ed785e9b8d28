-- scripts/bench/domain_plain.lua — the same rows as domain_api.lua by plain
-- db:exec INSERTs in one transaction: no validation, no audit log, no
-- events (the floor the domain API is measured against).
-- Run by w_domain.sh: koop -d DB domain_plain.lua
local here = arg[0]:match("^(.*/)") or "./"
local D = dofile(here .. "domain_data.lua")

db:tx(function()
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
  for i = 1, D.INSTITUTIONS do
    local r = D.institution(i)
    db:exec("INSERT INTO institution (id, name, kind, sector, level, gmina_terc, regon, city, postal_code, active) "
      .. "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", i, r.name, r.kind, kind[r.kind].sector, kind[r.kind].level,
      D.GMINA, r.regon, r.city, r.postal_code)
  end
  for i = 1, D.PEOPLE do
    local r = D.person(i)
    db:exec("INSERT INTO person (id, first_name, last_name, institution_id, position, active) VALUES (?, ?, ?, ?, ?, 1)",
      i, r.first_name, r.last_name, r.institution, r.position)
  end
  db:exec("INSERT INTO agreement (id, title, status, signed_on, valid_from) VALUES (1, 'Porozumienie o współpracy', 'signed', '2019-06-04', '2019-06-04')")
  db:exec("INSERT INTO agreement_party (agreement_id, institution_id) VALUES (1, 1), (1, 2)")
  for i = 1, D.TEAMS do
    db:exec("INSERT INTO team (id, kind, gmina_terc, name, agreement_id, formed_on) VALUES (?, 'G-PZK', ?, ?, 1, '2019-07-01')",
      i, D.GMINA, "Zespół " .. i)
  end
  for i = 1, D.MEETINGS do
    local r = D.meeting(i)
    db:exec("INSERT INTO meeting (id, team_id, kind, date, days, place, status) VALUES (?, ?, ?, ?, 1, ?, 'held')",
      i, r.team, r.kind, r.date, r.place)
    for k = 1, D.ATTENDEES do
      local p, status = D.attendee(i, k)
      db:exec("INSERT INTO attendance (meeting_id, person_id, institution_id, status) VALUES (?, ?, ?, ?)",
        i, p, D.person(p).institution, status)
    end
  end
end)
