-- koop.agreements — `agreements`: the porozumienia a G-PZK rests on, their
-- parties (institutions, and the JST: gmina, powiat, województwo by TERC),
-- their annexes (aneksy) and their lifecycle
--   draft → signed → in_force → amended → expired | terminated.
--
--   agreements.add{title=, [valid_from=, valid_to=, scope=, document_ref=, notes=]}
--   a:add_party{institution= | unit=TERC, [signatory=person | signatory_name=,
--               signatory_function=], [role=]}
--   a:sign{[date=]}          needs two parties; valid_from defaults to the date
--   a:amend{date=, text=, [field = value...]}   annex n+1, with its changes
--   a:terminate{date=, reason=}   a:expire{[date=]}
--   a.state / a:state_on(date)    the state on a day (today: koop.today())
--   a:parties()  a:annexes()  a:covers(institution)  a:teams()
--
-- `status` is the last recorded step (draft, signed, amended, expired,
-- terminated) and changes only through the methods above; `state` is what
-- the agreement is on a given day: a signed agreement is `in_force` from
-- valid_from, `amended` once an annex is dated, `expired` after valid_to.
-- A terminated agreement is closed: every change to it, its parties or its
-- annexes is refused.
--
-- An institution is a party when it is listed itself, or when a listed JST
-- is its own self-government: a public institution (sector publiczny) of the
-- same level seated in that unit (OPS and Urząd Gminy for a gmina, PCPR and
-- PUP for a powiat), except state bodies that no JST runs (KPP, ZKSS).
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"

-- CHECKs spell out x = 'a' OR x = 'b' ...: for x IN (list) of more than two
-- constants SQLite builds a temporary table on every INSERT (~1.5 us a row).
schema.define(30, "agreements, their parties and annexes", [[
CREATE TABLE agreement (
  id           INTEGER PRIMARY KEY,
  title        TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'draft'
               CHECK (status = 'draft' OR status = 'signed' OR status = 'amended'
                      OR status = 'expired' OR status = 'terminated'),
  signed_on    TEXT,
  valid_from   TEXT,
  valid_to     TEXT,
  scope        TEXT,
  document_ref TEXT,
  ended_on     TEXT,                  -- explicit expiry or termination
  end_reason   TEXT,
  notes        TEXT,
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to),
  CHECK ((status = 'draft') = (signed_on IS NULL))
);
CREATE TABLE agreement_party (
  id                 INTEGER PRIMARY KEY,
  agreement_id       INTEGER NOT NULL REFERENCES agreement(id),
  institution_id     INTEGER REFERENCES institution(id),
  unit_terc          TEXT REFERENCES territory(terc),
  signatory_id       INTEGER REFERENCES person(id),
  signatory_name     TEXT,
  signatory_function TEXT,
  role               TEXT,
  notes              TEXT,
  CHECK ((institution_id IS NULL) <> (unit_terc IS NULL))
);
CREATE UNIQUE INDEX agreement_party_institution ON agreement_party(agreement_id, institution_id)
  WHERE institution_id IS NOT NULL;
CREATE UNIQUE INDEX agreement_party_unit ON agreement_party(agreement_id, unit_terc)
  WHERE unit_terc IS NOT NULL;
CREATE INDEX agreement_party_institution_ix ON agreement_party(institution_id);
CREATE TABLE agreement_annex (
  id           INTEGER PRIMARY KEY,
  agreement_id INTEGER NOT NULL REFERENCES agreement(id),
  no           INTEGER NOT NULL CHECK (no >= 1),
  date         TEXT NOT NULL,
  text         TEXT NOT NULL,
  UNIQUE (agreement_id, no)
);
]])

local M = {}

-- {==================== agreements ====================

-- Derived values (status, signed_on, ended_on, end_reason) that the next
-- write of an agreement records: set only by the lifecycle methods, for
-- the one update each makes, and taken by validate().
local pending = nil

local STATUSES = { "draft", "signed", "amended", "expired", "terminated" }

--- A short reference to agreement a for messages: Agreement#1 "title".
function M.ref(a) return ('Agreement#%d "%s"'):format(a.id, a.title) end
local ref = M.ref

-- Raise the error for a change to terminated agreement a.
local function refuse_closed(a)
  entity.invalid("agreements", "status", "%s is terminated (%s%s): it cannot be changed",
    ref(a), a.ended_on or "?", a.end_reason and ": " .. a.end_reason or "")
end

local ANNEX_DATED = "SELECT 1 FROM agreement_annex WHERE agreement_id = ? AND date <= ? LIMIT 1"

-- The state of agreement a on day d.
local function state_on(a, d)
  local st = a.status
  if st == "draft" or d < a.signed_on then return "draft" end
  if (st == "terminated" or st == "expired") and a.ended_on and a.ended_on <= d then return st end
  if a.valid_to and a.valid_to < d then return "expired" end
  if a.valid_from and d < a.valid_from then return "signed" end
  if entity.db():value(ANNEX_DATED, a.id, d) then return "amended" end
  return "in_force"
end

local agreements, parties, annexes
local methods = {}

-- Make the one update of a lifecycle step of a, recording `derived`.
local function step(a, derived, changes)
  pending = derived
  local ok, res = pcall(a.update, a, changes or {})
  pending = nil
  if not ok then error(res, 0) end
  return res
end

-- The options table t of method `what` (nil means {}).
local function options(what, t, known)
  if t == nil then return {} end
  if type(t) ~= "table" or getmetatable(t) then
    entity.invalid("agreements", what, "expected a table {%s}, got %s", known, entity.show(t))
  end
  return t
end

-- The date option v (default today) for field `field` of collection `coll`.
local function date_option(coll, field, v)
  if v == nil then return dates.today() end
  if type(v) ~= "string" or not dates.parse(v) then
    entity.invalid(coll, field, "expected a date YYYY-MM-DD (got %s)", entity.show(v))
  end
  return v
end

--- The state on day `date` (default today).
function methods.state_on(a, date)
  return state_on(a, date_option("agreements", "date", date))
end

--- Sign on `date` (default today).  The agreement needs two parties;
--- valid_from defaults to the signing date.
function methods.sign(a, t)
  t = options("sign", t, "date=")
  local date = date_option("agreements", "signed_on", t.date)
  if a.status == "terminated" then refuse_closed(a) end
  if a.status ~= "draft" then
    entity.invalid("agreements", "signed_on", "%s was signed already", ref(a))
  end
  local n = entity.db():value("SELECT count(*) FROM agreement_party WHERE agreement_id = ?", a.id)
  if n < 2 then
    entity.invalid("agreements", "parties", "%s has %d part%s: an agreement is signed by at least two (a:add_party{...})",
      ref(a), n, n == 1 and "y" or "ies")
  end
  return step(a, { status = "signed", signed_on = date }, a.valid_from == nil and { valid_from = date } or nil)
end

--- Terminate (rozwiązanie) on `date` (default today) for `reason` (required).
function methods.terminate(a, t)
  t = options("terminate", t, "date=, reason=")
  local date = date_option("agreements", "ended_on", t.date)
  if a.status == "terminated" then refuse_closed(a) end
  if a.status == "draft" then
    entity.invalid("agreements", "status", "%s is a draft, never signed: there is nothing to terminate", ref(a))
  end
  if type(t.reason) ~= "string" or not t.reason:find("%S") then
    entity.invalid("agreements", "end_reason", "a termination needs its reason: a:terminate{date=, reason=...} (got %s)", entity.show(t.reason))
  end
  if date < a.signed_on then
    entity.invalid("agreements", "ended_on", "%s is before the agreement was signed (%s)", date, a.signed_on)
  end
  return step(a, { status = "terminated", ended_on = date, end_reason = t.reason })
end

--- Record that the agreement ended on `date` (default today) before or
--- without its valid_to (e.g. its purpose fulfilled).
function methods.expire(a, t)
  t = options("expire", t, "date=")
  local date = date_option("agreements", "ended_on", t.date)
  if a.status == "terminated" then refuse_closed(a) end
  if a.status == "draft" then
    entity.invalid("agreements", "status", "%s is a draft, never signed: it cannot expire", ref(a))
  end
  if a.status == "expired" then
    entity.invalid("agreements", "status", "%s expired already (%s)", ref(a), a.ended_on)
  end
  if date < a.signed_on then
    entity.invalid("agreements", "ended_on", "%s is before the agreement was signed (%s)", date, a.signed_on)
  end
  return step(a, { status = "expired", ended_on = date })
end

-- }====================

-- {==================== parties ====================

local KIND_OF_LEVEL = { gmina = "Gmina", powiat = "Powiat", ["województwo"] = "Województwo" }

-- A JST (territorial self-government) as a party: "Gmina Bogoria (2612012)".
local function unit_name(u)
  return ("%s %s (%s)"):format(KIND_OF_LEVEL[u.level] or u.level, u.name, u.terc)
end

parties = entity.collection {
  name = "agreement_parties", table = "agreement_party", label = "Party",
  fields = {
    { "agreement", "ref", to = "agreements", required = true },
    { "institution", "ref", to = "institutions" },
    { "unit", "ref", to = "gminas", column = "unit_terc" },
    { "signatory", "ref", to = "people" },
    { "signatory_name", "text" },
    { "signatory_function", "text" },
    { "role", "text" },
    { "notes", "text" },
  },
  display = { "id", "agreement_id", "name", "signed_by", "role" },
  order = { "agreement_id", "id" },
  validate = function(row, old, coll)
    local a = agreements.get(row.agreement_id)
    if a.status == "terminated" then refuse_closed(a) end
    if old and row.agreement_id ~= old.agreement_id then
      coll.invalid("agreement", "a party cannot move to another agreement (add it there)")
    end
    local db = entity.db()
    if row.institution_id and row.unit_terc then
      coll.invalid("unit", "a party is an institution or a JST unit, not both")
    elseif row.unit_terc then
      local u = db:first("SELECT level, rodzaj FROM territory WHERE terc = ?", row.unit_terc)
      if u.level == "gmina" and u.rodzaj > 3 then
        coll.invalid("unit", "%s is part of a gmina, not a JST: give the gmina's code (ending in 1, 2 or 3)", row.unit_terc)
      end
      if db:value("SELECT 1 FROM agreement_party WHERE agreement_id = ? AND unit_terc = ? AND id IS NOT ?",
          row.agreement_id, row.unit_terc, row.id) then
        coll.invalid("unit", "%s is a party of %s already", row.unit_terc, ref(a))
      end
    elseif row.institution_id then
      if db:value("SELECT 1 FROM agreement_party WHERE agreement_id = ? AND institution_id = ? AND id IS NOT ?",
          row.agreement_id, row.institution_id, row.id) then
        coll.invalid("institution", "%s is a party of %s already",
          tostring(entity.collection_named("institutions").get(row.institution_id)), ref(a))
      end
    else
      coll.invalid("institution", "is required: a party is an institution (institution=) or a JST (unit=TERC)")
    end
    if row.signatory_id then
      if row.signatory_name then
        coll.invalid("signatory_name", "give the signatory as a person (signatory=) or by name (signatory_name=), not both")
      end
      local works_at = db:value("SELECT institution_id FROM person WHERE id = ?", row.signatory_id)
      if row.institution_id and works_at ~= row.institution_id then
        local people = entity.collection_named("people")
        coll.invalid("signatory", "%s works at %s, not at the party %s", tostring(people.get(row.signatory_id)),
          tostring(entity.collection_named("institutions").get(works_at)),
          tostring(entity.collection_named("institutions").get(row.institution_id)))
      end
    end
  end,
  props = {
    --- The party itself: an Institution or a Unit (gmina, powiat, województwo).
    party = function(p) return p.institution or p.unit end,
    --- The party's name.
    name = function(p)
      if p.institution_id then return p.institution.name end
      return unit_name(p.unit)
    end,
    --- Who signed for the party: "Anna Nowak, dyrektor".
    signed_by = function(p)
      local who, fn = p.signatory_name, p.signatory_function
      if p.signatory_id then
        local s = p.signatory
        who, fn = s.first_name .. " " .. s.last_name, fn or s.position
      end
      if who and fn then return who .. ", " .. fn end
      return who or fn
    end,
  },
  tostring = function(p)
    local party = p.institution_id and ('%s "%s"'):format(p.institution.kind, p.institution.name) or unit_name(p.unit)
    local s = ("Party#%d of Agreement#%d: %s"):format(p.id, p.agreement_id, party)
    local by = p.signed_by
    if by then s = s .. " — " .. by end
    if p.role then s = s .. " (" .. p.role .. ")" end
    return s
  end,
}

--- Add a party: {institution=} or {unit=TERC | a gmina/powiat/województwo}
--- (or party= either), with signatory= (a person) or signatory_name= and
--- signatory_function=, and role=.  A JST missing from the register is
--- added from the built-in list (gminas.ensure).
function methods.add_party(a, t)
  t = options("add_party", t, "institution= | unit=, signatory=, signatory_name=, signatory_function=, role=")
  if a.status == "terminated" then refuse_closed(a) end
  local input = { agreement = a }
  for k, v in pairs(t) do input[k] = v end
  local party = input.party
  input.party = nil
  if party ~= nil then
    local mt = getmetatable(party)
    if mt == entity.collection_named("institutions").mt then
      input.institution = party
    else
      input.unit = party
    end
  end
  local db = entity.db()
  return db:tx(function()
    if type(input.unit) == "string" or math.type(input.unit) == "integer" then
      input.unit = entity.collection_named("gminas").ensure(tostring(input.unit))
    end
    return parties.add(input)
  end)
end

--- The parties, as a result set.
function methods.parties(a) return parties.find{ agreement = a } end

local COVERS = [[
SELECT id FROM agreement_party WHERE agreement_id = ?1 AND institution_id = ?2
UNION ALL
SELECT p.id FROM agreement_party p JOIN territory t ON t.terc = p.unit_terc
  JOIN institution i ON i.id = ?2
 WHERE p.agreement_id = ?1 AND i.sector = 'publiczny' AND i.level = t.level
   AND i.kind NOT IN ('KPP', 'ZKSS')
   AND i.gmina_terc LIKE (CASE t.level WHEN 'gmina' THEN substr(t.terc, 1, 6) ELSE t.terc END) || '%'
LIMIT 1]]

--- The id of the party of agreement `agreement_id` that institution
--- `institution_id` is, or belongs to (see the top of this file); nil if none.
function M.covers(agreement_id, institution_id)
  return entity.db():value(COVERS, agreement_id, institution_id)
end

--- The party that `institution` is or belongs to, or nil.
function methods.covers(a, institution)
  local institutions = entity.collection_named("institutions")
  local i = getmetatable(institution) == institutions.mt and institution or institutions.get(institution)
  if not i then entity.invalid("agreements", "institution", "no such institution (got %s)", entity.show(institution)) end
  local id = M.covers(a.id, i.id)
  return id and parties.get(id)
end

-- }====================

-- {==================== annexes ====================

annexes = entity.collection {
  name = "agreement_annexes", table = "agreement_annex", label = "Annex",
  fields = {
    { "agreement", "ref", to = "agreements", required = true },
    { "no", "integer", derived = true },
    { "date", "date", required = true },
    { "text", "text", required = true },
  },
  display = { "agreement_id", "no", "date", "text" },
  order = { "agreement_id", "no" },
  validate = function(row, old, coll)
    local a = agreements.get(row.agreement_id)
    if a.status == "terminated" then refuse_closed(a) end
    if old then
      if row.agreement_id ~= old.agreement_id then coll.invalid("agreement", "an annex cannot move to another agreement") end
    else
      if a.status == "draft" then
        coll.invalid("agreement", "%s is a draft: change it with a:update{...}; annexes amend signed agreements", ref(a))
      end
      if a.status == "expired" then
        coll.invalid("agreement", "%s expired on %s: an expired agreement cannot be amended", ref(a), a.ended_on)
      end
      row.no = entity.db():value("SELECT coalesce(max(no), 0) + 1 FROM agreement_annex WHERE agreement_id = ?", row.agreement_id)
    end
    if row.date < a.signed_on then
      coll.invalid("date", "%s is before the agreement was signed (%s)", row.date, a.signed_on)
    end
    if a.valid_to and row.date > a.valid_to and not old then
      coll.invalid("date", "%s is after the agreement expired (valid_to %s): an expired agreement cannot be amended", row.date, a.valid_to)
    end
  end,
  tostring = function(x)
    local text = x.text
    if utf8.len(text) > 60 then text = text:sub(1, utf8.offset(text, 58) - 1) .. "..." end
    return ('Annex#%d no %d of Agreement#%d, %s "%s"'):format(x.id, x.no, x.agreement_id, x.date, text)
  end,
}

--- Amend (aneks): {date= (default today), text= (required), and any fields
--- of the agreement the annex changes, e.g. valid_to=}.  Returns the annex,
--- numbered 1, 2, ... per agreement.
function methods.amend(a, t)
  t = options("amend", t, "date=, text=, fields the annex changes")
  if a.status == "terminated" then refuse_closed(a) end
  local changes = {}
  for k, v in pairs(t) do
    if k ~= "date" and k ~= "text" then changes[k] = v end
  end
  local db = entity.db()
  return db:tx(function()
    local annex = annexes.add{ agreement = a, date = date_option("agreement_annexes", "date", t.date), text = t.text }
    step(a, { status = "amended" }, changes)
    return annex
  end)
end

--- The annexes, in order.
function methods.annexes(a) return annexes.find{ agreement = a } end

--- The teams based on this agreement.
function methods.teams(a) return entity.collection_named("teams").find{ agreement = a } end

-- }====================

-- {==================== the collection ====================

agreements = entity.collection {
  name = "agreements", table = "agreement", label = "Agreement",
  fields = {
    { "title", "text", required = true },
    { "status", "enum", choices = STATUSES, derived = true },
    { "signed_on", "date", derived = true },
    { "valid_from", "date" },
    { "valid_to", "date" },
    { "scope", "text" },
    { "document_ref", "text" },
    { "ended_on", "date", derived = true },
    { "end_reason", "text", derived = true },
    { "notes", "text" },
  },
  display = { "id", "title", "state", "signed_on", "valid_from", "valid_to" },
  validate = function(row, old, coll)
    if old and old.status == "terminated" then refuse_closed(agreements.wrap(old)) end
    if pending then
      for k, v in pairs(pending) do row[k] = v ~= koop.null and v or nil end
      pending = nil
    elseif not old then
      row.status = "draft"
    end
    entity.period(coll, row, "valid_from", "valid_to")
    if row.signed_on and row.valid_to and row.valid_to < row.signed_on then
      coll.invalid("valid_to", "valid_to %s is before the agreement was signed (%s)", row.valid_to, row.signed_on)
    end
  end,
  props = {
    --- What the agreement is today: draft, signed, in_force, amended, expired, terminated.
    state = function(a) return state_on(a, dates.today()) end,
  },
  methods = methods,
  tostring = function(a)
    local s = ('Agreement#%d %s "%s"'):format(a.id, state_on(a, dates.today()), a.title)
    if a.signed_on then s = s .. " signed " .. a.signed_on end
    return s
  end,
}
M.agreements = agreements
agreements.parties = parties
agreements.annexes = annexes

-- }====================

require("koop.cli").topic {
  name = "agreements", summary = "porozumienia: parties, signing, annexes, termination",
  text = [[
a = agreements.add{title=, valid_from=, valid_to=, scope=, document_ref=}
a:add_party{institution=inst, signatory=person, role=}     an institution
a:add_party{unit="2612", signatory_name=, signatory_function=}   a JST by TERC
a:sign{date=}              needs two parties; valid_from defaults to the date
a:amend{date=, text=, valid_to=...}   annex (aneks) no 1, 2, ... with changes
a:terminate{date=, reason=}   a:expire{date=}   a:parties()  a:annexes()
a.state, a:state_on(date)  draft, signed, in_force, amended, expired or
                           terminated: from the dates and today (--today)
An institution is a party when listed, or when a listed JST runs it (a
public institution of the JST's level seated in it: OPS, UG for a gmina;
PCPR, PUP for a powiat). A terminated agreement cannot be changed.]],
}

return M
