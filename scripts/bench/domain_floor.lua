-- scripts/bench/domain_floor.lua — the rows of domain_plain.lua with what
-- the domain API's design writes for each of them and nothing else: a
-- savepoint around the row, and its audit-log row (the row as JSON by
-- column, hashed into the chain by audit.append).  No validation, no
-- objects, no events: the SQL floor of the design, which w_domain.sh puts
-- between the plain INSERTs and the domain API to show where the time goes.
-- Run by w_domain.sh: koop -d DB domain_floor.lua
local here = arg[0]:match("^(.*/)") or "./"
local D = dofile(here .. "domain_data.lua")
local audit = require "koop.audit"
local json = require "koop.json"

local sqls = {}
-- add(tbl, cols, ...): INSERT the values of the column list cols (one
-- string, "a, b, c") and append the audit row of the new row, in a savepoint.
local function write(tbl, cols, ...)
  local sql = sqls[cols]
  if not sql then
    local marks = cols:gsub("[%w_]+", "?")
    sql = { ("INSERT INTO %s (%s) VALUES (%s)"):format(tbl, cols, marks), {} }
    for c in cols:gmatch("[%w_]+") do sql[2][#sql[2] + 1] = c end
    sqls[cols] = sql
  end
  db:exec(sql[1], ...)
  local row, names = {}, sql[2]
  for i = 1, #names do row[names[i]] = (select(i, ...)) end
  audit.append(db, "add", tbl, db:last_insert_id(), nil, json.encode(row))
end
local function add(tbl, cols, ...) return db:tx(write, tbl, cols, ...) end

db:tx(function()
  local kind = D.plain_start(db)
  for i = 1, D.INSTITUTIONS do
    local r = D.institution(i)
    add("institution", "id, name, kind, sector, level, gmina_terc, regon, city, postal_code, active",
      i, r.name, r.kind, kind[r.kind].sector, kind[r.kind].level, D.GMINA, r.regon, r.city, r.postal_code, 1)
  end
  for i = 1, D.PEOPLE do
    local r = D.person(i)
    add("person", "id, first_name, last_name, institution_id, position, active",
      i, r.first_name, r.last_name, r.institution, r.position, 1)
  end
  add("agreement", "id, title, status, signed_on, valid_from", 1, "Porozumienie o współpracy", "signed", "2019-06-04", "2019-06-04")
  add("agreement_party", "agreement_id, institution_id", 1, 1)
  add("agreement_party", "agreement_id, institution_id", 1, 2)
  for i = 1, D.TEAMS do
    add("team", "id, kind, gmina_terc, name, agreement_id, formed_on", i, "G-PZK", D.GMINA, "Zespół " .. i, 1, "2019-07-01")
  end
  for i = 1, D.MEETINGS do
    local r = D.meeting(i)
    add("meeting", "id, team_id, kind, date, days, place, status", i, r.team, r.kind, r.date, 1, r.place, "held")
    for k = 1, D.ATTENDEES do
      local p, status = D.attendee(i, k)
      add("attendance", "meeting_id, person_id, institution_id, status", i, p, D.person(p).institution, status)
    end
  end
end)
