-- koop.indicators — `indicators`: the project's indicators, computed from
-- the data on demand and never typed in.
--
--   indicators.compute{[at=, gmina=, from=, to=]}
--       every indicator, as a result set of {code, name_pl, value}; its
--       field `values` maps code -> value
--   indicators.get(code, {...})      one indicator's value
--   indicators.list()                the indicators defined (code, name_pl)
--   indicators.define{code=, name=, compute=function(db, p) -> number}
--       add an indicator (the case-work module adds ipw_*); p has at, from,
--       to, gmina (a TERC code or nil) and p.in_gmina(column), an SQL
--       condition: column's TERC code lies in p.gmina (always true when
--       p.gmina is nil)
--
-- Parameters: at (default today) is the day for "who is in a team";
-- from..to (default: everything up to at) is the period for meetings;
-- gmina (a TERC code or a unit; default the database's own gmina, false
-- for all) selects teams by their gmina — a gmina's code covers its
-- codes over time (Bogoria 2612012 and 2612013) — and a powiat's or a
-- voivodeship's code everything in it.
--
-- Teams count while formed and not dissolved on `at`; members while their
-- membership runs on `at`, except experts and guests (ekspert, gość), who
-- are not partners.  Meetings count when held.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"

local M = {}
local list, by_code = {}, {}

local indicators = {}
M.indicators = indicators

-- Raise an "invalid" error about `field` of indicators.
local function invalid(field, fmt, ...) entity.invalid("indicators", field, fmt, ...) end

--- Define an indicator: {code=, name= (Polish, shown as name_pl),
--- compute=function(db, p) returning a number}.  Codes are unique.
function indicators.define(d)
  if type(d) ~= "table" then invalid("define", "expected a table {code=, name=, compute=}, got %s", entity.show(d)) end
  if type(d.code) ~= "string" or not d.code:match("^[%w_]+$") then
    invalid("code", "a code is a word of letters, digits and _ (got %s)", entity.show(d.code))
  end
  local name = d.name or d.name_pl
  if type(name) ~= "string" or name == "" then invalid("name", "is required (got %s)", entity.show(name)) end
  if type(d.compute) ~= "function" then invalid("compute", "expected function(db, p), got %s", type(d.compute)) end
  if by_code[d.code] then invalid("code", "indicator %s is defined already", d.code) end
  local ind = { code = d.code, name_pl = name, compute = d.compute }
  list[#list + 1] = ind
  by_code[d.code] = ind
  return ind
end

--- The indicators defined, in order: a result set of {code, name_pl}.
function indicators.list()
  local rows = {}
  for i, ind in ipairs(list) do rows[i] = { code = ind.code, name_pl = ind.name_pl } end
  return koop.resultset(rows, { "code", "name_pl" })
end

-- The checked parameters of a computation.
local function params(q)
  if q ~= nil and (type(q) ~= "table" or getmetatable(q)) then
    invalid("compute", "expected a table {at=, gmina=, from=, to=}, got %s", entity.show(q))
  end
  q = q or {}
  for k in pairs(q) do
    if k ~= "at" and k ~= "gmina" and k ~= "from" and k ~= "to" then
      invalid(tostring(k), "unknown parameter (known: at, gmina, from, to)")
    end
  end
  local p = {}
  for _, k in ipairs{ "at", "from", "to" } do
    local v = q[k]
    if v ~= nil and (type(v) ~= "string" or not dates.parse(v)) then
      invalid(k, "expected a date YYYY-MM-DD (got %s)", entity.show(v))
    end
    p[k] = v
  end
  p.at = p.at or dates.today()
  p.to = p.to or p.at
  if p.from and p.from > p.to then invalid("from", "%s is after to (%s)", p.from, p.to) end
  local db = entity.db()
  local g = q.gmina
  if g == nil then g = schema.meta(db, "gmina") end
  if g == false then g = nil end
  if g ~= nil then
    local units = entity.collection_named("gminas")
    if getmetatable(g) == units.mt then g = g.terc end
    local info, msg = koop.ids.terc(type(g) == "string" and g or tostring(g))
    if not info then invalid("gmina", "%s (got %s)", msg, entity.show(q.gmina)) end
    g = info.value
  end
  p.gmina = g
  -- a gmina over time is its first six digits; a powiat or voivodeship its code
  local prefix = g and (#g == 7 and g:sub(1, 6) or g)
  function p.in_gmina(column)
    if not prefix then return "1" end
    return ("%s LIKE '%s%%'"):format(column, prefix)
  end
  return p, db
end

-- Compute indicator ind with parameters p.
local function value_of(ind, db, p)
  local v = ind.compute(db, p)
  if type(v) ~= "number" then
    koop.raise{ code = "invalid", field = "indicators." .. ind.code,
      message = ("indicators.%s: compute returned %s, not a number"):format(ind.code, entity.show(v)) }
  end
  return v
end

--- Every indicator for {at=, gmina=, from=, to=}: a result set of
--- {code, name_pl, value}, with .values (code -> value) and the parameters
--- (.at, .from, .to, .gmina).
function indicators.compute(q)
  local p, db = params(q)
  local rows, values = {}, {}
  for i, ind in ipairs(list) do
    local v = value_of(ind, db, p)
    rows[i] = { code = ind.code, name_pl = ind.name_pl, value = v }
    values[ind.code] = v
  end
  rows = koop.resultset(rows, { "code", "name_pl", "value" })
  rows.values, rows.at, rows.from, rows.to, rows.gmina = values, p.at, p.from, p.to, p.gmina
  return rows
end

--- The value of indicator `code` for {at=, gmina=, from=, to=}.
function indicators.get(code, q)
  local ind = by_code[code]
  if not ind then
    local codes = {}
    for i, d in ipairs(list) do codes[i] = d.code end
    invalid("code", "unknown indicator %s (known: %s)", entity.show(code), table.concat(codes, ", "))
  end
  local p, db = params(q)
  return value_of(ind, db, p)
end

setmetatable(indicators, {
  __name = "Indicators",
  __tostring = function() return "indicators: computed project indicators (compute, get, list, define)" end,
  __index = function(_, k)
    koop.raise{ code = "invalid", field = "indicators." .. tostring(k),
      message = ("indicators has no function '%s' (compute, get, list, define)"):format(tostring(k)) }
  end,
})

-- {==================== the basic indicators ====================

-- Teams of the gmina in being on p.at (alias t).
local function teams_on(p)
  return p.in_gmina("t.gmina_terc") .. " AND t.formed_on <= :at AND (t.dissolved_on IS NULL OR t.dissolved_on >= :at)"
end

-- Team members in the sense of the indicators, on p.at (alias m).
local MEMBERS = [[
SELECT count(DISTINCT m.%s) FROM team_member m JOIN team t ON t.id = m.team_id
 WHERE %s AND m.from_date <= :at AND (m.to_date IS NULL OR m.to_date >= :at)
   AND m.role NOT IN ('ekspert', 'gość')]]

-- Held meetings of the gmina's teams in p.from..p.to (alias g for meeting).
local function meetings_in(p)
  return p.in_gmina("t.gmina_terc") .. " AND g.status = 'held' AND g.date <= :to AND (:from IS NULL OR g.date >= :from)"
end

local function args(p) return { at = p.at, from = p.from or koop.null, to = p.to } end

-- Held meetings of the given kinds.
local function count_meetings(kinds)
  local marks = {}
  for i, k in ipairs(kinds or {}) do marks[i] = "'" .. k .. "'" end
  local only = kinds and " AND g.kind IN (" .. table.concat(marks, ", ") .. ")" or ""
  return function(db, p)
    return db:value("SELECT count(*) FROM meeting g JOIN team t ON t.id = g.team_id WHERE "
      .. meetings_in(p) .. only, args(p))
  end
end

indicators.define {
  code = "podmioty_w_zespolach", name = "Podmioty (instytucje) w zespołach kooperacji",
  compute = function(db, p) return db:value(MEMBERS:format("institution_id", teams_on(p)), args(p)) end,
}
indicators.define {
  code = "osoby_w_zespolach", name = "Osoby w zespołach kooperacji",
  compute = function(db, p) return db:value(MEMBERS:format("person_id", teams_on(p)), args(p)) end,
}
indicators.define {
  code = "liczba_zespolow", name = "Zespoły kooperacji",
  compute = function(db, p) return db:value("SELECT count(*) FROM team t WHERE " .. teams_on(p), args(p)) end,
}
indicators.define { code = "spotkania", name = "Spotkania (razem)", compute = count_meetings(nil) }
for _, k in ipairs{
  { "spotkania_posiedzenia", "posiedzenie zespołu" },
  { "spotkania_warsztaty", "warsztat" },
  { "spotkania_szkola_kooperacji", "Szkoła Kooperacji" },
  { "spotkania_wizyty_studyjne", "wizyta studyjna" },
  { "spotkania_coaching", "coaching" },
  { "spotkania_superwizja", "superwizja" },
  { "spotkania_badania_fokusowe", "badanie fokusowe" },
  { "spotkania_konsultacje", "konsultacje" },
} do
  indicators.define { code = k[1], name = "Spotkania: " .. k[2], compute = count_meetings{ k[2] } }
end
indicators.define {
  code = "szkolenia", name = "Szkolenia (Szkoła Kooperacji i warsztaty)",
  compute = count_meetings{ "Szkoła Kooperacji", "warsztat" },
}
indicators.define {
  code = "osoby_coaching", name = "Osoby objęte coachingiem",
  compute = function(db, p)
    return db:value("SELECT count(DISTINCT a.person_id) FROM attendance a JOIN meeting g ON g.id = a.meeting_id"
      .. " JOIN team t ON t.id = g.team_id WHERE " .. meetings_in(p)
      .. " AND g.kind = 'coaching' AND a.status IN ('obecny', 'zdalnie')", args(p))
  end,
}

-- }====================

require("koop.cli").topic {
  name = "indicators", summary = "project indicators computed from the data",
  text = [[
indicators.compute{at=, gmina=, from=, to=}   a table of code, name_pl, value
indicators.get(code, {...})    one value      indicators.list()
  at       the day for team membership (default today)
  from,to  the period for meetings (default: up to at)
  gmina    a TERC code (a gmina over its codes in time, or a powiat or a
           voivodeship), default the database's gmina; false for all
Basic: podmioty_w_zespolach, osoby_w_zespolach (members on `at`, without
ekspert/gość), liczba_zespolow, spotkania and spotkania_<kind> (held),
szkolenia (Szkoła Kooperacji + warsztat), osoby_coaching.
indicators.define{code=, name=, compute=function(db, p) ... end} adds one;
p has at, from, to, gmina and p.in_gmina(column) (an SQL condition).]],
}

return M
