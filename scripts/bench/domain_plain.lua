-- scripts/bench/domain_plain.lua — the same rows as domain_api.lua by plain
-- db:exec INSERTs in one transaction: no validation, no audit log, no
-- events (the floor the domain API is measured against).
-- Run by w_domain.sh: koop -d DB domain_plain.lua
local here = arg[0]:match("^(.*/)") or "./"
local D = dofile(here .. "domain_data.lua")

db:tx(function()
  local kind = D.plain_start(db)
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
