-- koop.territory — `gminas`: voivodeships, powiats and gminas keyed by their
-- TERC code (GUS TERYT register), with their kind (rodzaj) and validity.
--
-- TERC: WW (województwo, 2 digits), WWPP (powiat, 4), WWPPGGR (gmina, 7;
-- R = rodzaj: 1 miejska, 2 wiejska, 3 miejsko-wiejska, 4 miasto and 5 obszar
-- wiejski of a miejsko-wiejska gmina, 8 dzielnica, 9 delegatura).  A gmina
-- that changes kind gets a new code: Bogoria was 2612012 (wiejska) until
-- 2023-12-31 and is 2612013 (miejsko-wiejska) from 2024-01-01.  So a gmina
-- is known by its first six digits over time, and each code is one row with
-- valid_from/valid_to (empty: no known start/end).
--
--   gminas.import_terc(file)      load the GUS TERC CSV (WOJ;POW;GMI;RODZ;NAZWA;
--                                 NAZWA_DOD;STAN_NA) in one transaction
--   gminas.kind(name_or_terc [, date])   'wiejska', 'miejsko-wiejska', 'miejska' ...
--   gminas.valid_on(date [, conditions]) units in force on a date
--   gminas.ensure(terc)           the unit, added from the built-in scenario list
--                                 (Bogoria, Łoniów, Korycin) when missing
--   gminas.home() / gminas.set_home(terc)   the gmina this database belongs to
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local audit = require "koop.audit"
local dates = require "koop.dates"

-- CHECKs spell out x = 'a' OR x = 'b' ...: for x IN (list) of more than
-- two constants SQLite builds a temporary table on every write (~2 us).
schema.define(10, "territory (TERC)", [[
CREATE TABLE territory (
  terc        TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  level       TEXT NOT NULL CHECK (level = 'województwo' OR level = 'powiat' OR level = 'gmina'),
  rodzaj      INTEGER CHECK (rodzaj = 1 OR rodzaj = 2 OR rodzaj = 3 OR rodzaj = 4 OR rodzaj = 5 OR rodzaj = 8 OR rodzaj = 9),
  type        TEXT,                     -- NAZWA_DOD: "gmina wiejska", "powiat", ...
  parent_terc TEXT REFERENCES territory(terc),
  valid_from  TEXT,
  valid_to    TEXT,
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
) WITHOUT ROWID;
CREATE INDEX territory_name ON territory(name);
CREATE INDEX territory_parent ON territory(parent_terc);
]])

local M = {}

local LEVELS = { [2] = "województwo", [4] = "powiat", [7] = "gmina" }
local KINDS = { [1] = "miejska", [2] = "wiejska", [3] = "miejsko-wiejska", [4] = "miasto",
  [5] = "obszar wiejski", [8] = "dzielnica", [9] = "delegatura" }

local gminas
gminas = entity.collection {
  name = "gminas", table = "territory", entity = "territory", label = "Unit",
  key = "terc",
  fields = {
    { "terc", "text", check = "terc", required = true },
    { "name", "text", required = true },
    { "level", "enum", choices = { "województwo", "powiat", "gmina" }, derived = true },
    { "rodzaj", "integer", derived = true },
    { "type", "text" },
    { "parent", "ref", to = "gminas", column = "parent_terc", derived = true },
    { "valid_from", "date" },
    { "valid_to", "date" },
  },
  display = { "terc", "name", "type", "valid_from", "valid_to" },
  order = "terc",
  validate = function(row, old, coll)
    local terc = row.terc
    row.level = LEVELS[#terc]
    row.rodzaj = #terc == 7 and tonumber(terc:sub(7)) or nil
    local parent = #terc == 7 and terc:sub(1, 4) or #terc == 4 and terc:sub(1, 2) or nil
    if parent and not old and not coll.exists(parent) then
      coll.invalid("terc", "%s %s belongs to %s %s, which is not in the register: add it first (got '%s')",
        row.level, terc, LEVELS[#parent], parent, terc)
    end
    row.parent_terc = parent
    entity.period(coll, row, "valid_from", "valid_to")
  end,
  props = {
    kind = function(u)
      if u.level ~= "gmina" then return u.level end
      return KINDS[u.rodzaj]
    end,
  },
  methods = {
    --- Is the unit in force on `date` (default today)?
    valid_on = function(u, date)
      date = dates.check(date or dates.today(), "date")
      return (u.valid_from == nil or u.valid_from <= date) and (u.valid_to == nil or u.valid_to >= date)
    end,
  },
  tostring = function(u)
    local span = ""
    if u.valid_from and u.valid_to then span = (", %s – %s"):format(u.valid_from, u.valid_to)
    elseif u.valid_from then span = ", from " .. u.valid_from
    elseif u.valid_to then span = ", until " .. u.valid_to end
    if u.level == "gmina" then
      return ("Gmina %s %s (%s%s)"):format(u.terc, u.name, u.type or KINDS[u.rodzaj], span)
    end
    local what = u.level == "powiat" and "Powiat" or "Województwo"
    return ("%s %s %s%s"):format(what, u.terc, u.name, span ~= "" and " (" .. span:sub(3) .. ")" or "")
  end,
}
M.gminas = gminas

local VALID_ON = "(valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)"

--- Units in force on `date`, with further find conditions.
function gminas.valid_on(date, q)
  date = dates.check(date or dates.today(), "date")
  local cond = {}
  for k, v in pairs(q or {}) do cond[k] = v end
  local args = { date, date }
  if cond.where then
    cond.where = VALID_ON .. " AND (" .. cond.where .. ")"
    for _, a in ipairs(cond.args or {}) do args[#args + 1] = a end
  else
    cond.where = VALID_ON
  end
  cond.args = args
  return gminas.find(cond)
end

--- The kind of a gmina on a date: name or TERC code -> 'wiejska',
--- 'miejsko-wiejska', 'miejska' (or the kind of another unit); nil and a
--- message when the gmina is known but had no code in force that day.
function gminas.kind(what, date)
  date = dates.check(date or dates.today(), "date")
  if type(what) ~= "string" then
    entity.invalid("gminas", "kind", "expected a gmina name or TERC code, got %s", type(what))
  end
  local rows
  if what:match("^%s*%d") then
    local info, msg = koop.ids.terc(what)
    if not info then entity.invalid("gminas", "terc", "%s (got '%s')", msg, what) end
    local code = info.value
    if #code < 7 or tonumber(code:sub(7)) >= 8 then
      local u = gminas.get(code)
      if not u then entity.invalid("gminas", "terc", "%s is not in the register", code) end
      if not u:valid_on(date) then return nil, ("%s was not in force on %s"):format(tostring(u), date) end
      return u.kind
    end
    -- the gmina over time: every code with the same first six digits
    rows = gminas.find{ where = "terc LIKE ? AND rodzaj IN (1, 2, 3)", args = { code:sub(1, 6) .. "_" } }
    if #rows == 0 then entity.invalid("gminas", "terc", "gmina %s is not in the register", code) end
  else
    rows = gminas.find{ where = "pl_lower(name) = pl_lower(?) AND rodzaj IN (1, 2, 3)", args = { what } }
    if #rows == 0 then entity.invalid("gminas", "name", "no gmina named '%s' in the register", what) end
    local ids, seen = {}, {}
    for _, u in ipairs(rows) do
      local g = u.terc:sub(1, 6)
      if not seen[g] then seen[g] = true; ids[#ids + 1] = ("%s (%s, powiat %s)"):format(u.terc, u.kind, u.terc:sub(1, 4)) end
    end
    if #ids > 1 then
      entity.invalid("gminas", "name", "'%s' names %d gminas: %s; give the TERC code", what, #ids, table.concat(ids, ", "))
    end
  end
  for _, u in ipairs(rows) do
    if u:valid_on(date) then return u.kind end
  end
  return nil, ("gmina %s (%s) had no code in force on %s"):format(rows[1].name, rows[1].terc:sub(1, 6), date)
end

-- {==================== the GUS TERC file ====================

local TERC_COLUMNS = { "WOJ", "POW", "GMI", "RODZ", "NAZWA", "NAZWA_DOD", "STAN_NA" }

-- The rows of a TERC file as {terc=, name=, type=}, and its STAN_NA date.
local function read_terc(file)
  local enc = koop.csv.detect_encoding(file)
  if enc ~= "utf-8" and enc ~= "cp1250" then
    entity.invalid("gminas", "file", "%s is %s; save the TERC file as UTF-8", file, enc)
  end
  local reader <close> = koop.csv.open(file, { sep = ";", encoding = enc })
  local header = reader:header() or {}
  local have = {}
  for _, h in ipairs(header) do have[h] = true end
  for _, c in ipairs(TERC_COLUMNS) do
    if not have[c] then
      entity.invalid("gminas", "file", "%s is not a GUS TERC file: column %s is missing (expected %s)",
        file, c, table.concat(TERC_COLUMNS, ";"))
    end
  end
  local units, stan_na = {}, nil
  for r in reader:rows() do
    local line = reader:line()
    local terc = r.WOJ .. r.POW .. r.GMI .. r.RODZ
    local info, msg = koop.ids.terc(terc)
    if not info or info.value ~= terc then
      entity.invalid("gminas", "terc", "%s: line %d: %s (got '%s')", file, line, msg or "not a TERC code", terc)
    end
    if not dates.parse(r.STAN_NA) then
      entity.invalid("gminas", "valid_from", "%s: line %d: STAN_NA '%s' is not a date", file, line, r.STAN_NA)
    end
    if stan_na and r.STAN_NA ~= stan_na then
      entity.invalid("gminas", "valid_from", "%s: line %d: STAN_NA %s differs from %s on the lines before",
        file, line, r.STAN_NA, stan_na)
    end
    stan_na = r.STAN_NA
    local name = r.NAZWA
    if #terc == 2 then name = koop.text.lower(name) end     -- "ŚWIĘTOKRZYSKIE"
    units[#units + 1] = { terc = terc, name = name, type = r.NAZWA_DOD ~= "" and r.NAZWA_DOD or nil, line = line }
  end
  if #units == 0 then entity.invalid("gminas", "file", "%s has no units", file) end
  return units, stan_na
end

--- Load the GUS TERC register from `file` in one transaction; returns
--- {added=, changed=, closed=, unchanged=, date=}.  Units new in the file
--- start on its STAN_NA date (on the first import only units that replace a
--- known code, like Bogoria's, get a start: the others were in force before);
--- units of the file's voivodeships that it no longer lists end the day
--- before; a unit whose name or type changed is updated.  Importing the same
--- file again changes nothing; a file older than the last one is refused.
function gminas.import_terc(file)
  if type(file) ~= "string" then
    entity.invalid("gminas", "file", "import_terc expects a file name, got %s", type(file))
  end
  local db = entity.db()
  local units, stan_na = read_terc(file)
  local last = schema.meta(db, "terc_stan_na")
  if last and stan_na < last then
    entity.invalid("gminas", "file", "%s is the register of %s, older than the one already loaded (%s)", file, stan_na, last)
  end
  local day_before = dates.add(stan_na, -1)
  local counts = { added = 0, changed = 0, closed = 0, unchanged = 0, date = stan_na }
  db:tx(function()
    local in_file, vojs = {}, {}
    for _, u in ipairs(units) do in_file[u.terc] = true; vojs[u.terc:sub(1, 2)] = true end
    -- open units that the file drops, by gmina (first six digits)
    local dropped, dropped_gmina = {}, {}
    for _, u in ipairs(gminas.find{ valid_to = koop.null }) do
      if vojs[u.terc:sub(1, 2)] and not in_file[u.terc] then
        dropped[#dropped + 1] = u
        if #u.terc == 7 then dropped_gmina[u.terc:sub(1, 6)] = true end
      end
    end
    for _, u in ipairs(units) do
      local known = gminas.get(u.terc)
      if not known then
        local start = stan_na
        if not last and not (#u.terc == 7 and dropped_gmina[u.terc:sub(1, 6)]) then start = nil end
        gminas.add{ terc = u.terc, name = u.name, type = u.type, valid_from = start }
        counts.added = counts.added + 1
      else
        local change = {}
        if known.name ~= u.name then change.name = u.name end
        if known.type ~= u.type then change.type = u.type or koop.null end
        if known.valid_to and known.valid_to < stan_na then change.valid_to = koop.null end
        if next(change) then
          known:update(change)
          counts.changed = counts.changed + 1
        else
          counts.unchanged = counts.unchanged + 1
        end
      end
    end
    for _, u in ipairs(dropped) do
      if u.valid_from == nil or u.valid_from <= day_before then
        u:update{ valid_to = day_before }
        counts.closed = counts.closed + 1
      end
    end
    if not last or stan_na > last then schema.set_meta(db, "terc_stan_na", stan_na) end
    audit.append(db, "import", "gminas", nil, nil, require("koop.json").encode{
      file = file, date = stan_na, added = counts.added, changed = counts.changed,
      closed = counts.closed, unchanged = counts.unchanged })
  end)
  return counts
end

-- }====================

-- {==================== built-in units and the database's gmina ====================

-- The scenario's units (domain reference §3.4, §6), for databases set up
-- without the TERC file.
M.builtin = {
  { terc = "26", name = "świętokrzyskie", type = "województwo" },
  { terc = "2612", name = "staszowski", type = "powiat" },
  { terc = "2612012", name = "Bogoria", type = "gmina wiejska", valid_to = "2023-12-31" },
  { terc = "2612013", name = "Bogoria", type = "gmina miejsko-wiejska", valid_from = "2024-01-01" },
  { terc = "2612014", name = "Bogoria", type = "miasto", valid_from = "2024-01-01" },
  { terc = "2612015", name = "Bogoria", type = "obszar wiejski", valid_from = "2024-01-01" },
  { terc = "2609", name = "sandomierski", type = "powiat" },
  { terc = "2609052", name = "Łoniów", type = "gmina wiejska" },
  { terc = "20", name = "podlaskie", type = "województwo" },
  { terc = "2011", name = "sokólski", type = "powiat" },
  { terc = "2011032", name = "Korycin", type = "gmina wiejska" },
}

--- The unit with code `terc`; when it is missing, it is added with its powiat,
--- voivodeship and the other codes of its gmina from the built-in list.
function gminas.ensure(terc)
  local info, msg = koop.ids.terc(type(terc) == "string" and terc or tostring(terc))
  if not info then entity.invalid("gminas", "terc", "%s (got %s)", msg, entity.show(terc)) end
  terc = info.value
  local u = gminas.get(terc)
  if u then return u end
  local wanted = {}
  for _, b in ipairs(M.builtin) do
    if b.terc == terc:sub(1, #b.terc) or (#b.terc == 7 and #terc == 7 and b.terc:sub(1, 6) == terc:sub(1, 6)) then
      wanted[#wanted + 1] = b
    end
  end
  local found = false
  for _, b in ipairs(wanted) do found = found or b.terc == terc end
  if not found then
    entity.invalid("gminas", "terc", "%s is not in the register: import the GUS TERC file first (gminas.import_terc(file), or koop init --terc FILE)", terc)
  end
  local db = entity.db()
  db:tx(function()
    for _, b in ipairs(wanted) do
      if not gminas.exists(b.terc) then
        gminas.add{ terc = b.terc, name = b.name, type = b.type, valid_from = b.valid_from, valid_to = b.valid_to }
      end
    end
  end)
  return gminas.get(terc)
end

--- The gmina this database belongs to (set by koop init --gmina), or nil.
function gminas.home()
  local terc = schema.meta(entity.db(), "gmina")
  return terc and gminas.get(terc)
end

--- Make the database belong to gmina `terc` (a 7-digit code of a gmina
--- miejska, wiejska or miejsko-wiejska, added from the built-in list when
--- missing).  A database belongs to one gmina: another one is refused.
function gminas.set_home(terc)
  local info, msg = koop.ids.terc(type(terc) == "string" and terc or tostring(terc))
  if not info then entity.invalid("gminas", "terc", "%s (got %s)", msg, entity.show(terc)) end
  if info.level ~= "gmina" or info.rodzaj > 3 then
    entity.invalid("gminas", "terc", "%s is not a gmina (a 7-digit code ending in 1, 2 or 3)", info.value)
  end
  local db = entity.db()
  local current = schema.meta(db, "gmina")
  if current and current ~= info.value then
    local u = gminas.get(current)
    entity.invalid("gminas", "terc", "this database belongs to gmina %s%s; it cannot change to %s",
      current, u and " " .. u.name or "", info.value)
  end
  if current then return gminas.get(current) end
  local u = db:tx(function()
    local home = gminas.ensure(info.value)
    schema.set_meta(db, "gmina", home.terc)
    audit.append(db, "set", "database", "gmina", nil, require("koop.json").encode{ gmina = home.terc })
    return home
  end)
  entity.cache(db, "koop_meta").gmina = u.terc
  return u
end

require("koop.cli").topic {
  name = "gminas", summary = "voivodeships, powiats and gminas by TERC code, with their kind over time",
  text = [[
gminas holds the units of the GUS TERC register: województwo (2 digits),
powiat (4) and gmina (7: WWPPGGR, R = rodzaj 1 miejska, 2 wiejska,
3 miejsko-wiejska, 4 its town, 5 its rural area, 8 dzielnica, 9 delegatura),
each code valid from/to a date. A gmina that changes kind gets a new code:
Bogoria was 2612012 (wiejska) until 2023-12-31, 2612013 (miejsko-wiejska) since.
  gminas.import_terc(file)        load the register (CSV WOJ;POW;GMI;RODZ;NAZWA;
                                  NAZWA_DOD;STAN_NA from eteryt.stat.gov.pl);
                                  a later file closes and opens codes
  gminas.kind("Bogoria", "2020-01-01")   --> "wiejska" (name or code; date
                                  default today)
  gminas.get("2612013")  gminas.find{name = "Bogoria"}  gminas.valid_on(date)
  gminas.ensure(terc)             add a scenario unit (Bogoria, Łoniów, Korycin)
  gminas.home()                   the gmina of this database (koop init --gmina)
  u.kind  u.level  u.parent  u:valid_on(date)]],
}

-- }====================

return M
