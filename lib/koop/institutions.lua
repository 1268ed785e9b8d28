-- koop.institutions — the partners of a G-PZK: `institutions` (OPS, PCPR,
-- schools, NGOs...), `people` (their staff and representatives; never
-- beneficiaries, who belong to cases) and `resources`, the resource map
-- (mapa zasobów): which institution offers which service, to whom, how much.
--
--   institutions.add{name=, kind=, [sector=, level=, gmina=, regon=, nip=,
--                    postal_code=, city=, address=, phone=, email=, www=, short=]}
--   institutions.kinds / institutions.add_kind{code=, name=, level=, sector=}
--   inst:deactivate() / inst:activate() / inst:people() / inst:resources()
--   people.add{first_name=, last_name=, institution=, [position=, email=, phone=]}
--   resources.add{institution=, service_type=, [description=, eligibility=,
--                 capacity=, contact=, valid_from=, valid_to=]}
--   resources.service_types / resources.add_service_type{code=, name=, unit=}
--   resources.offering(service_type [, date])   who offers it on a date
--
-- Kinds and service types are dictionaries (tables), so a gmina adds its
-- own; a kind carries the usual level and sector of such an institution,
-- used when an institution does not say.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"

local M = {}

local LEVELS = { "gmina", "powiat", "województwo" }
local LEVEL_ALIASES = { wojewodztwo = "województwo" }
local SECTORS = { "publiczny", "pozarządowy", "prywatny", "kościelny" }
local UNITS = { "godzina", "sesja", "osoba", "zdarzenie" }

-- Built-in institution kinds: code, name, usual level, usual sector.
M.builtin_kinds = {
  { "OPS", "ośrodek pomocy społecznej (OPS, GOPS, MOPS)", "gmina", "publiczny" },
  { "PCPR", "powiatowe centrum pomocy rodzinie", "powiat", "publiczny" },
  { "PUP", "powiatowy urząd pracy", "powiat", "publiczny" },
  { "KPP", "policja (KPP, KMP, posterunek)", "powiat", "publiczny" },
  { "szkoła", "szkoła", "gmina", "publiczny" },
  { "przedszkole", "przedszkole", "gmina", "publiczny" },
  { "PPP", "poradnia psychologiczno-pedagogiczna", "powiat", "publiczny" },
  { "POZ", "podstawowa opieka zdrowotna, ośrodek zdrowia", "gmina", "publiczny" },
  { "GOK", "gminny ośrodek kultury", "gmina", "publiczny" },
  { "biblioteka", "biblioteka", "gmina", "publiczny" },
  { "ZKSS", "sąd, zespół kuratorskiej służby sądowej (kuratorzy)", "powiat", "publiczny" },
  { "NGO", "organizacja pozarządowa (stowarzyszenie, fundacja)", "gmina", "pozarządowy" },
  { "WTZ", "warsztat terapii zajęciowej", "powiat", "pozarządowy" },
  { "ZAZ", "zakład aktywności zawodowej", "powiat", "publiczny" },
  { "ŚDS", "środowiskowy dom samopomocy", "gmina", "publiczny" },
  { "DPS", "dom pomocy społecznej", "powiat", "publiczny" },
  { "GKRPA", "gminna komisja rozwiązywania problemów alkoholowych", "gmina", "publiczny" },
  { "ZI", "zespół interdyscyplinarny", "gmina", "publiczny" },
  { "UG", "urząd gminy", "gmina", "publiczny" },
  { "starostwo", "starostwo powiatowe", "powiat", "publiczny" },
  { "ROPS", "regionalny ośrodek polityki społecznej", "województwo", "publiczny" },
  { "parafia", "parafia", "gmina", "kościelny" },
  { "inne", "inna instytucja", "gmina", "publiczny" },
}

-- Built-in service types (the "koszyk usług" of the projekt socjalny).
M.builtin_service_types = {
  { "poradnictwo", "poradnictwo", "godzina" },
  { "diagnostyka", "diagnostyka", "sesja" },
  { "terapia", "terapia", "sesja" },
  { "rehabilitacja", "rehabilitacja", "sesja" },
  { "warsztaty", "warsztaty", "zdarzenie" },
  { "klub", "klub (utworzenie i prowadzenie)", "zdarzenie" },
  { "wolontariat", "centrum wolontariatu", "osoba" },
  { "edukacja", "edukacja społeczności", "zdarzenie" },
  { "szkolenia", "szkolenia kompetencyjne kadr", "osoba" },
}

-- SQL literal of a string.
local function lit(s) return "'" .. s:gsub("'", "''") .. "'" end

-- The seed rows of the two dictionaries as INSERT statements.
local function seeds()
  local out = {}
  for _, k in ipairs(M.builtin_kinds) do
    out[#out + 1] = ("INSERT INTO institution_kind VALUES (%s, %s, %s, %s);"):format(lit(k[1]), lit(k[2]), lit(k[3]), lit(k[4]))
  end
  for _, t in ipairs(M.builtin_service_types) do
    out[#out + 1] = ("INSERT INTO service_type VALUES (%s, %s, %s);"):format(lit(t[1]), lit(t[2]), lit(t[3]))
  end
  return table.concat(out, "\n")
end

-- CHECKs spell out x = 'a' OR x = 'b' ...: for x IN (list) of more than
-- two constants SQLite builds a temporary table on every write (~2 us).
schema.define(20, "institution kinds and service types", [[
CREATE TABLE institution_kind (
  code   TEXT PRIMARY KEY,
  name   TEXT NOT NULL,
  level  TEXT NOT NULL CHECK (level = 'gmina' OR level = 'powiat' OR level = 'województwo'),
  sector TEXT NOT NULL CHECK (sector = 'publiczny' OR sector = 'pozarządowy' OR sector = 'prywatny' OR sector = 'kościelny')
) WITHOUT ROWID;
CREATE TABLE service_type (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  unit TEXT NOT NULL CHECK (unit = 'godzina' OR unit = 'sesja' OR unit = 'osoba' OR unit = 'zdarzenie')
) WITHOUT ROWID;
]] .. seeds())

schema.define(21, "institutions", [[
CREATE TABLE institution (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  short       TEXT,
  kind        TEXT NOT NULL REFERENCES institution_kind(code),
  sector      TEXT NOT NULL CHECK (sector = 'publiczny' OR sector = 'pozarządowy' OR sector = 'prywatny' OR sector = 'kościelny'),
  level       TEXT NOT NULL CHECK (level = 'gmina' OR level = 'powiat' OR level = 'województwo'),
  gmina_terc  TEXT REFERENCES territory(terc),
  regon       TEXT UNIQUE,
  nip         TEXT,
  postal_code TEXT,
  city        TEXT,
  address     TEXT,
  phone       TEXT,
  email       TEXT,
  www         TEXT,
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  notes       TEXT
);
CREATE INDEX institution_kind_ix ON institution(kind);
CREATE INDEX institution_gmina_ix ON institution(gmina_terc);
]])

schema.define(22, "people", [[
CREATE TABLE person (
  id             INTEGER PRIMARY KEY,
  first_name     TEXT NOT NULL,
  last_name      TEXT NOT NULL,
  institution_id INTEGER NOT NULL REFERENCES institution(id),
  position       TEXT,
  email          TEXT,
  phone          TEXT,
  active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  notes          TEXT
);
CREATE INDEX person_institution_ix ON person(institution_id);
]])

schema.define(23, "resource map", [[
CREATE TABLE resource (
  id             INTEGER PRIMARY KEY,
  institution_id INTEGER NOT NULL REFERENCES institution(id),
  service_type   TEXT NOT NULL REFERENCES service_type(code),
  description    TEXT,
  eligibility    TEXT,
  capacity       INTEGER CHECK (capacity >= 0),
  contact        TEXT,
  valid_from     TEXT,
  valid_to       TEXT,
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX resource_institution_ix ON resource(institution_id);
CREATE INDEX resource_service_ix ON resource(service_type);
]])

-- A dictionary code: one word (letters, digits, - and _), at most 20 characters.
local function code_check(v)
  if not v:match("^[%w%-_\128-\255]+$") then return nil, "a code is one word (letters, digits, - and _)" end
  if utf8.len(v) > 20 then return nil, "a code has at most 20 characters" end
  return v
end

-- {==================== dictionaries ====================

local kinds = entity.collection {
  name = "institution_kinds", table = "institution_kind", label = "InstitutionKind", key = "code",
  fields = {
    { "code", "text", required = true, check = code_check },
    { "name", "text", required = true },
    { "level", "enum", choices = LEVELS, aliases = LEVEL_ALIASES, default = "gmina" },
    { "sector", "enum", choices = SECTORS, default = "publiczny" },
  },
  display = { "code", "name", "level", "sector" },
  tostring = function(k) return ("InstitutionKind %s (%s)"):format(k.code, k.name) end,
}

local service_types = entity.collection {
  name = "service_types", table = "service_type", label = "ServiceType", key = "code",
  fields = {
    { "code", "text", required = true, check = code_check },
    { "name", "text", required = true },
    { "unit", "enum", choices = UNITS, default = "godzina", what = "unit" },
  },
  display = { "code", "name", "unit" },
  tostring = function(t) return ("ServiceType %s (%s, per %s)"):format(t.code, t.name, t.unit) end,
}

-- }====================

-- The usual value of field `what` (level or sector) for the kind of the
-- row being built.  The kinds read are kept per connection for as long as
-- its transaction (db:txid()) lasts and no kind changes through koop.
local KIND_DEFAULTS = "SELECT level, sector FROM institution_kind WHERE code = ?"
local kind_rows = setmetatable({}, { __mode = "k" })   -- db -> {txid =, [code] = {level =, sector =}}
local function from_kind(what)
  return function(row)
    local code = row.kind
    if not code then return nil end
    local db = entity.db()
    local known, txid = kind_rows[db], db:txid()
    if not known or known.txid ~= txid then
      known = { txid = txid }
      kind_rows[db] = known
    end
    local k = known[code]
    if not k then
      k = db:first(KIND_DEFAULTS, code) or {}
      known[code] = k
    end
    return k[what]
  end
end

-- The database's gmina, for institutions of gmina level (once set, it
-- never changes, so it is kept per connection).
local function home_gmina(row)
  if row.level ~= "gmina" then return nil end
  local db = entity.db()
  local meta = entity.cache(db, "koop_meta")
  if meta.gmina == nil then meta.gmina = schema.meta(db, "gmina") end
  return meta.gmina
end

local function set_active(flag)
  return function(self) return self:update{ active = flag } end
end

local institutions = entity.collection {
  name = "institutions", table = "institution", label = "Institution",
  fields = {
    { "name", "text", required = true },
    { "short", "text" },
    { "kind", "enum", dict = "institution_kinds", required = true, what = "institution kind" },
    { "sector", "enum", choices = SECTORS, default = from_kind("sector") },
    { "level", "enum", choices = LEVELS, aliases = LEVEL_ALIASES, default = from_kind("level") },
    { "gmina", "ref", to = "gminas", column = "gmina_terc", default = home_gmina },
    { "regon", "text", check = "regon" },
    { "nip", "text", check = "nip" },
    { "postal_code", "text", check = "postal" },
    { "city", "text" },
    { "address", "text" },
    { "phone", "text", check = "phone" },
    { "email", "text", check = "email" },
    { "www", "text", check = "www" },
    { "active", "bool", default = true },
    { "notes", "text" },
  },
  display = { "id", "kind", "name", "level", "gmina_terc", "active" },
  brief = { "kind", "name" },
  order = "name",
  methods = {
    deactivate = set_active(false),
    activate = set_active(true),
    --- The institution's people (staff, representatives).
    people = function(self) return M.people.find{ institution = self } end,
    --- The institution's entries in the resource map.
    resources = function(self) return M.resources.find{ institution = self } end,
  },
  tostring = function(i)
    local s = ('Institution#%d %s "%s"'):format(i.id, i.kind, i.name)
    return i.active and s or s .. " (inactive)"
  end,
}
institutions.kinds = kinds
institutions.add_kind = kinds.add

-- A kind changed through koop: forget the kinds read (see from_kind).
local plain_kind_update = kinds.methods.update
function kinds.methods.update(k, input)
  for db in pairs(kind_rows) do kind_rows[db] = nil end
  return plain_kind_update(k, input)
end
M.institutions = institutions

M.people = entity.collection {
  name = "people", table = "person", entity = "person", label = "Person",
  fields = {
    { "first_name", "text", required = true },
    { "last_name", "text", required = true },
    { "institution", "ref", to = "institutions", required = true },
    { "position", "text" },
    { "email", "text", check = "email" },
    { "phone", "text", check = "phone" },
    { "active", "bool", default = true },
    { "notes", "text" },
  },
  display = { "id", "first_name", "last_name", "position", "institution.name" },
  order = { "last_name", "first_name" },
  props = {
    full_name = function(p) return p.first_name .. " " .. p.last_name end,
  },
  methods = { deactivate = set_active(false), activate = set_active(true) },
  tostring = function(p)
    local s = ("Person#%d %s %s"):format(p.id, p.first_name, p.last_name)
    if p.position then s = s .. ", " .. p.position end
    return p.active and s or s .. " (inactive)"
  end,
}

local resources = entity.collection {
  name = "resources", table = "resource", label = "Resource",
  fields = {
    { "institution", "ref", to = "institutions", required = true },
    { "service_type", "enum", dict = "service_types", required = true, what = "service type" },
    { "description", "text" },
    { "eligibility", "text" },
    { "capacity", "integer", min = 0 },
    { "contact", "text" },
    { "valid_from", "date" },
    { "valid_to", "date" },
  },
  display = { "id", "institution.name", "service_type", "capacity", "valid_from", "valid_to" },
  brief = { "service_type", "description" },
  order = { "service_type", "institution_id" },
  validate = function(row, old, coll)
    entity.period(coll, row, "valid_from", "valid_to")
    if not old or row.institution_id ~= old.institution_id then
      local i = institutions.get(row.institution_id)
      if i and not i.active then
        coll.invalid("institution", 'Institution#%d "%s" is inactive (activate it first)', i.id, i.name)
      end
    end
  end,
  methods = {
    --- Is the offer in force on `date` (default today)?
    valid_on = function(r, date)
      date = dates.check(date or dates.today(), "date")
      return (r.valid_from == nil or r.valid_from <= date) and (r.valid_to == nil or r.valid_to >= date)
    end,
  },
}
resources.service_types = service_types
resources.add_service_type = service_types.add
M.resources = resources

--- The resource map for one service type on a date (default today): offers
--- in force, of active institutions.
function resources.offering(service_type, date)
  date = dates.check(date or dates.today(), "date")
  return resources.find{ service_type = service_type,
    where = "(valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)"
      .. " AND institution_id IN (SELECT id FROM institution WHERE active = 1)",
    args = { date, date } }
end

require("koop.cli").topic {
  name = "institutions", summary = "institutions, their people, and the resource map",
  text = [[
institutions.add{name=, kind=, [short=, sector=, level=, gmina=, regon=, nip=,
  postal_code=, city=, address=, phone=, email=, www=, notes=]}
  kind: OPS, PCPR, PUP, KPP, szkoła, przedszkole, PPP, POZ, GOK, biblioteka,
  ZKSS, NGO, WTZ, ZAZ, ŚDS, DPS, GKRPA, ZI, UG, starostwo, ROPS, parafia, inne
  (institutions.kinds; institutions.add_kind{code=, name=, level=, sector=}
  adds one). level (gmina, powiat, województwo) and sector (publiczny,
  pozarządowy, prywatny, kościelny) default to the kind's; gmina to the
  database's own for gmina-level institutions. NIP and REGON (9 or 14
  digits) are checked and kept as digits; a REGON is used once; postal
  code NN-NNN.
  inst:deactivate()  inst:activate()  inst:people()  inst:resources()
people.add{first_name=, last_name=, institution=, [position=, email=, phone=]}
  staff and representatives only (beneficiaries belong to cases)
resources.add{institution=, service_type=, [description=, eligibility=,
  capacity=, contact=, valid_from=, valid_to=]}       the resource map
  service types: poradnictwo, diagnostyka, terapia, rehabilitacja, warsztaty,
  klub, wolontariat, edukacja, szkolenia (resources.service_types;
  resources.add_service_type{code=, name=, unit=} adds one)
  resources.offering("terapia" [, date])   who offers it, in force that day]],
}

return M
