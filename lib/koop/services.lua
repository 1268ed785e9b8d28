-- koop.services — `services`: the service deliveries of a case — who
-- provided what, when, how much of it, at what cost — linked to the plan
-- action or the referral they carry out.
--
--   s = c:deliver{provider=, service=, [date=, units=, unit=, cost=,
--                 status=, action=, referral=, notes=]}   (services.add{case=, ...})
--   s:done{[date=]}  s:no_show()  s:cancel()      (a scheduled delivery)
--   services.total{case=, from=, to=}             {count=, cost=, units=}
--
-- units is a number (quarter hours: 1.25); unit is godziny, sesje, osoby or
-- zdarzenia (default: the service type's unit); cost is an amount like
-- every amount in koop (a koop.money value, its text "150,00 zł", or a
-- number of złoty: 150 or 120.5), stored as integer grosze and read back
-- as grosze (s.cost, event.cost, services.total{}.cost).
-- Status scheduled → delivered | no_show | cancelled; a delivery dated
-- after today starts scheduled, else delivered.  Provider and service type
-- default to the referral's receiver and service, or the action's.
--
-- A delivery is refused for a closed case and before the case opened
-- (a trigger guards both, whatever path the row takes).  Each delivered
-- service emits "service.delivered" inside its transaction, with event.cost
-- (grosze): the budget module books costs from it (budget_line_id and
-- commitment_id are left for it).
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local events = require "koop.events"
local audit = require "koop.audit"
local json = require "koop.json"
local dates = require "koop.dates"
local cases_mod = require "koop.cases"

local M = {}
local db = entity.db
local invalid, show = entity.invalid, entity.show
local options, date_option, not_future = cases_mod.options, cases_mod.date_option, cases_mod.not_future

schema.define(57, "service deliveries", cases_mod.ddl[[
CREATE TABLE service_delivery (
  id             INTEGER PRIMARY KEY,
  case_id        INTEGER NOT NULL REFERENCES case_file(id),
  provider_id    INTEGER NOT NULL REFERENCES institution(id),
  service_type   TEXT NOT NULL REFERENCES service_type(code),
  date           TEXT NOT NULL,
  units          REAL NOT NULL CHECK (units > 0),
  unit           TEXT NOT NULL CHECK (unit IN ('godziny', 'sesje', 'osoby', 'zdarzenia')),
  cost           INTEGER NOT NULL DEFAULT 0 CHECK (typeof(cost) = 'integer' AND cost >= 0),  -- grosze
  status         TEXT NOT NULL CHECK (status IN ('scheduled', 'delivered', 'no_show', 'cancelled')),
  action_id      INTEGER REFERENCES plan_action(id),
  referral_id    INTEGER REFERENCES referral(id),
  budget_line_id INTEGER,            -- for the budget module (its own migration adds the link)
  commitment_id  INTEGER,
  notes          TEXT
);
CREATE INDEX service_delivery_case_ix ON service_delivery(case_id, date);
CREATE INDEX service_delivery_referral_ix ON service_delivery(referral_id) WHERE referral_id IS NOT NULL;
CREATE INDEX service_delivery_action_ix ON service_delivery(action_id) WHERE action_id IS NOT NULL;
-- The rules of the case hold for every row, however written.
CREATE TRIGGER service_delivery_case_rules BEFORE INSERT ON service_delivery
BEGIN
  SELECT CASE WHEN f.status = 'zakończona' THEN RAISE(ABORT, 'services.case: the case is closed')
              WHEN NEW.date < f.opened_on THEN RAISE(ABORT, 'services.date: the delivery is before the case opened')
         END
    FROM case_file f WHERE f.id = NEW.case_id;
END;
]])

local STATUSES = { "scheduled", "delivered", "no_show", "cancelled" }
local STATUS_ALIASES = { ["no show"] = "no_show", ["no-show"] = "no_show", ["nieobecność"] = "no_show" }
local UNITS = { "godziny", "sesje", "osoby", "zdarzenia" }
local UNIT_ALIASES = { godzina = "godziny", h = "godziny", sesja = "sesje", osoba = "osoby", zdarzenie = "zdarzenia",
  hours = "godziny", sessions = "sesje", persons = "osoby" }
-- The catalogue's units (koop.institutions service_type.unit) as units here.
local FROM_CATALOGUE = { godzina = "godziny", sesja = "sesje", osoba = "osoby", zdarzenie = "zdarzenia" }
M.statuses, M.units = STATUSES, UNITS

-- Quantities: a positive number with at most two decimal places.
entity.types.quantity = entity.types.quantity or {
  check = function(v)
    local n = tonumber(v)
    if type(v) ~= "number" and type(v) ~= "string" or not n then
      return nil, "expected a number, got " .. type(v)
    end
    if n ~= n or n == math.huge or n <= 0 then return nil, "must be a number above 0" end
    if math.abs(n * 100 - math.floor(n * 100 + 0.5)) > 1e-6 then return nil, "has more than two decimal places" end
    return math.tointeger(n) or n
  end,
}

-- Derived fields of the next status change (taken by validate).
local pending = nil

local services
local methods = {}
local plain_add           -- the framework's add (services.add goes through deliver)

-- The unit of service type `code` in this module's words.
local function catalogue_unit(code)
  local u = code and db():value("SELECT unit FROM service_type WHERE code = ?", code)
  return u and FROM_CATALOGUE[u]
end

-- Fill provider and service type from the referral or the action.
local function defaults(row)
  local c = db()
  if row.referral ~= nil and (row.provider == nil or row.service == nil) then
    local id = cases_mod.id_of("referrals", row.referral)
    local r = id and c:first("SELECT to_institution_id, service_type FROM referral WHERE id = ?", id)
    if r then
      row.provider = row.provider or r.to_institution_id
      row.service = row.service or r.service_type
    end
  end
  if row.action ~= nil and (row.provider == nil or row.service == nil) then
    local id = cases_mod.id_of("plan_actions", row.action)
    local a = id and c:first("SELECT institution_id, service_type FROM plan_action WHERE id = ?", id)
    if a then
      row.provider = row.provider or a.institution_id
      row.service = row.service or a.service_type
    end
  end
end

-- Emit service.delivered for s (inside the caller's transaction).
local function delivered(s)
  events.emit("service.delivered", s, { case_id = s.case_id, date = s.date, cost = s.cost })
end

local KNOWN = { "provider", "service", "date", "units", "unit", "cost", "status", "action", "referral", "notes",
  "line", "budget_line_id" }
local KNOWN_SET = {}
for _, k in ipairs(KNOWN) do KNOWN_SET[k] = true end
local STATUS_SET, UNIT_SET = {}, {}
for _, v in ipairs(STATUSES) do STATUS_SET[v] = true end
for _, v in ipairs(UNITS) do UNIT_SET[v] = true end

-- The framework's path: every rule of the collection, its messages.
local function framework_deliver(cn, c, q)
  local row = { case = c }
  for k, v in pairs(q) do row[k] = v end
  defaults(row)
  local s = plain_add(row)
  if s.status == "delivered" then delivered(s) end
  return s
end

-- {---- the fast path ----
-- case:deliver is the bulk path of case work (a gmina records every hour
-- of every service), so the ordinary delivery skips the framework's
-- generic conversion: fast_row takes the common shapes of input (objects
-- or ids, a known service type, ISO dates, numbers) and gives up (nil) on
-- anything else, which then goes through the framework, whose checks and
-- messages are the rules.  Dictionary codes and dates are remembered per
-- connection; the case's state is read from the object the method is
-- called on, and the trigger checks it again in SQLite, so a stale object
-- cannot slip a delivery past a closed case.

local INSERT = "INSERT INTO service_delivery (case_id, provider_id, service_type, date, units, unit, cost, status, "
  .. "action_id, referral_id, budget_line_id, commitment_id, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
local null = koop.null

-- Per connection: service type code -> this module's unit, and dates seen valid.
local known_types = setmetatable({}, { __mode = "k" })
local good_dates = {}
local ngood = 0

-- The unit of service type `code` (nil: not a service type), remembered.
local function type_unit(cn, code)
  local t = known_types[cn]
  if not t then t = {}; known_types[cn] = t end
  local u = t[code]
  if u == nil then
    local cu = cn:value("SELECT unit FROM service_type WHERE code = ?", code)
    if not cu then return nil end
    u = FROM_CATALOGUE[cu]
    t[code] = u
  end
  return u
end

-- Is `d` an ISO date (remembered: a year of deliveries has 365 of them)?
local function good_date(d)
  if good_dates[d] then return true end
  if type(d) ~= "string" or not dates.parse(d) then return false end
  if ngood > 10000 then good_dates, ngood = {}, 0 end
  good_dates[d], ngood = true, ngood + 1
  return true
end

local cost_field        -- the field spec of cost, for the money type's check

-- The stored row for a delivery in one of the common shapes, or nil.
local function fast_row(cn, c, q, cases, institutions)
  if getmetatable(c) ~= cases.mt or c.status == "zakończona" then return nil end
  local case_id = c.id
  local provider, service, referral, action = q.provider, q.service, q.referral, q.action
  local referral_id, action_id = nil, nil
  if referral ~= nil then
    local rs = entity.collection_named("referrals")
    if getmetatable(referral) ~= rs.mt or referral.case_id ~= case_id then return nil end
    referral_id = referral.id
    provider = provider or referral.to_institution_id
    service = service or referral.service_type
  end
  if action ~= nil then
    local as = entity.collection_named("plan_actions")
    if getmetatable(action) ~= as.mt then return nil end
    local a = cn:first("SELECT p.case_id, a.institution_id, a.service_type FROM plan_action a JOIN plan p ON p.id = a.plan_id WHERE a.id = ?", action.id)
    if a.case_id ~= case_id then return nil end
    action_id = action.id
    provider = provider or a.institution_id
    service = service or a.service_type
  end
  if getmetatable(provider) == institutions.mt then
    provider = provider.id
  elseif math.type(provider) ~= "integer" then
    return nil
  end
  if type(service) ~= "string" then return nil end
  local catalogue = type_unit(cn, service)
  if not catalogue then return nil end
  local date = q.date
  local today = dates.today()
  if date == nil then date = today elseif not good_date(date) then return nil end
  if date < c.opened_on then return nil end
  local units = q.units
  if units == nil then
    units = 1
  elseif type(units) ~= "number" or not (units > 0) or units == math.huge
      or (math.type(units) == "float" and (units * 100) % 1 ~= 0) then
    return nil
  end
  local unit = q.unit
  if unit == nil then unit = catalogue elseif not UNIT_SET[unit] then return nil end
  local cost = q.cost
  if cost == nil then
    cost = 0
  else
    cost = entity.types.money.check(cost, cost_field, cn)
    if not cost or cost < 0 then return nil end
  end
  local status = q.status
  if status == nil then
    status = date > today and "scheduled" or "delivered"
  elseif not STATUS_SET[status] or (status ~= "scheduled" and status ~= "cancelled" and date > today) then
    return nil
  end
  local notes = q.notes
  if notes ~= nil then
    if type(notes) ~= "string" then return nil end
    notes = notes:match("^%s*(.-)%s*$")
    if notes == "" then notes = nil elseif not utf8.len(notes) then return nil end
  end
  local line, commitment = q.budget_line_id, q.commitment_id
  if line ~= nil and math.type(line) ~= "integer" or commitment ~= nil and math.type(commitment) ~= "integer" then
    return nil
  end
  return { case_id = case_id, provider_id = provider, service_type = service, date = date, units = math.tointeger(units) or units,
    unit = unit, cost = cost, status = status, action_id = action_id, referral_id = referral_id,
    budget_line_id = line, commitment_id = commitment, notes = notes }
end

local encode = json.encode
local listening, emit = events.listening, events.emit

-- Write a checked row, its audit record and its events (in db:tx: a
-- savepoint inside the caller's transaction).
local function insert_row(cn, r)
  local n = null
  cn:exec(INSERT, r.case_id, r.provider_id, r.service_type, r.date, r.units, r.unit, r.cost, r.status,
    r.action_id or n, r.referral_id or n, r.budget_line_id or n, r.commitment_id or n, r.notes or n)
  r.id = cn:last_insert_id()
  audit.append(cn, "add", "services", r.id, nil, encode(r))
  local s = services.wrap(r)
  if listening("service.added") then emit("service.added", s) end
  if r.status == "delivered" and listening("service.delivered") then delivered(s) end
  return s
end

-- The collections the fast path compares metatables with (loaded once).
local coll_cases, coll_institutions

-- }----

--- Record a delivery for case c (see the top of this file).
function M.deliver(c, q)
  if type(q) ~= "table" or getmetatable(q) then
    invalid("services", "deliver", "expected a table {%s}, got %s", table.concat(KNOWN, ", "), show(q))
  end
  for k in pairs(q) do
    if not KNOWN_SET[k] then invalid("services", tostring(k), "unknown option of deliver (known: %s)", table.concat(KNOWN, ", ")) end
  end
  if q.line ~= nil then         -- a budget line; koop.budgets books the cost on delivery
    if q.budget_line_id ~= nil then invalid("services", "line", "given twice (as line and budget_line_id)") end
    local copy = {}
    for k, v in pairs(q) do copy[k] = v end
    copy.budget_line_id, copy.line = require("koop.budgets").line_id(q.line), nil
    q = copy
  end
  local cn = db()
  if not coll_cases then
    coll_cases, coll_institutions = entity.collection_named("cases"), entity.collection_named("institutions")
  end
  local row = fast_row(cn, c, q, coll_cases, coll_institutions)
  if row then
    local ok, s = pcall(cn.tx, cn, insert_row, cn, row)
    if ok then return s end
    if not (koop.is_error(s) and s.code == "constraint") then error(s, 0) end
    -- a rule the fast path cannot see (a provider that does not exist, a
    -- case closed through another object): the framework names it
  end
  return cn:tx(framework_deliver, cn, c, q)
end

-- Change the status of a scheduled delivery.
local function set_status(s, status, date)
  return cases_mod.changing(s, function()
    pending = { status = status, date = date }
    local ok, err = pcall(s.update, s, {})
    pending = nil
    if not ok then error(err, 0) end
    if status == "delivered" then delivered(s) end
    return s
  end)
end

--- A scheduled delivery took place (on {date=}, default its date).
function methods.done(s, q)
  q = options("services", "done", q, { "date" })
  return set_status(s, "delivered", date_option("services", "date", q.date, s.date))
end
--- The person did not come.
function methods.no_show(s) return set_status(s, "no_show") end
--- A scheduled delivery is called off.
function methods.cancel(s) return set_status(s, "cancelled") end

services = entity.collection {
  name = "services", table = "service_delivery", entity = "service", label = "Service",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "provider", "ref", to = "institutions", column = "provider_id", required = true },
    { "service", "enum", dict = "service_types", column = "service_type", required = true, what = "service type" },
    { "date", "date", required = true, default = function() return dates.today() end },
    { "units", "quantity", required = true, default = 1 },
    { "unit", "enum", choices = UNITS, aliases = UNIT_ALIASES, required = true, what = "unit",
      default = function(row) return catalogue_unit(row.service_type) end },
    { "cost", "money", required = true, default = 0, nonnegative = true },
    { "status", "enum", choices = STATUSES, aliases = STATUS_ALIASES, required = true, what = "status",
      default = function(row) return row.date and row.date > dates.today() and "scheduled" or "delivered" end },
    { "action", "ref", to = "plan_actions" },
    { "referral", "ref", to = "referrals" },
    { "budget_line_id", "integer" },
    { "commitment_id", "integer" },
    { "notes", "text" },
  },
  display = { "id", "date", "service_type", "provider.name", "units", "unit", "cost", "status" },
  order = { "date", "id" },
  validate = function(row, old, coll)
    local p = pending
    pending = nil
    local c = db()
    local cr = c:first("SELECT code, status, opened_on, closed_on FROM case_file WHERE id = ?", row.case_id)
    if cr.status == "zakończona" then
      coll.invalid(old and "status" or "case", "%s is closed (%s): no deliveries are recorded for it", cr.code, cr.closed_on)
    end
    if row.date < cr.opened_on then
      coll.invalid("date", "%s is before the case opened (%s)", row.date, cr.opened_on)
    end
    if old then
      for _, f in ipairs{ "case_id" } do
        if row[f] ~= old[f] then coll.invalid("case", "a delivery stays with its case") end
      end
      if p then
        row.status = p.status
        if p.date then row.date = p.date end
      end
      if row.status ~= old.status and old.status ~= "scheduled" then
        coll.invalid("status", "Service#%d is %s; only a scheduled delivery changes status", row.id, old.status)
      end
    end
    if row.status == "delivered" or row.status == "no_show" then
      not_future("services", "date", row.date)
    end
    if row.referral_id and (not old or row.referral_id ~= old.referral_id)
        and c:value("SELECT case_id FROM referral WHERE id = ?", row.referral_id) ~= row.case_id then
      coll.invalid("referral", "Referral#%d belongs to another case", row.referral_id)
    end
    if row.action_id and (not old or row.action_id ~= old.action_id)
        and c:value("SELECT p.case_id FROM plan_action a JOIN plan p ON p.id = a.plan_id WHERE a.id = ?", row.action_id) ~= row.case_id then
      coll.invalid("action", "Action#%d belongs to another case's plan", row.action_id)
    end
  end,
  methods = methods,
  tostring = function(s)
    return ("Service#%d %s %s %s, %s %s, %s, %s"):format(s.id, s.date, s.service_type,
      cases_mod.short_name(s.provider_id), tostring(s.units), s.unit, cases_mod.money_text(s.cost), s.status)
  end,
}
M.services = services
for _, f in ipairs(services.fields) do if f.name == "cost" then cost_field = f end end

plain_add = services.add

--- services.add{case=, ...}: the same as case:deliver{...}.
function services.add(input)
  if type(input) ~= "table" or getmetatable(input) then return plain_add(input) end
  local cases = entity.collection_named("cases")
  local c = getmetatable(input.case) == cases.mt and input.case or cases.get(input.case)
  if not c then invalid("services", "case", "expected a case or its id, got %s", show(input.case)) end
  local rest = {}
  for k, v in pairs(input) do if k ~= "case" then rest[k] = v end end
  return M.deliver(c, rest)
end

--- Totals of delivered services: {case=, from=, to=} -> {count=, cost=
--- (grosze), units = {godziny = n, ...}}.
function M.total(q)
  q = options("services", "total", q, { "case", "from", "to" })
  local where, args = { "status = 'delivered'" }, {}
  if q.case ~= nil then where[#where + 1] = "case_id = ?"; args[#args + 1] = cases_mod.id_of("cases", q.case) or -1 end
  if q.from ~= nil then where[#where + 1] = "date >= ?"; args[#args + 1] = date_option("services", "from", q.from) end
  if q.to ~= nil then where[#where + 1] = "date <= ?"; args[#args + 1] = date_option("services", "to", q.to) end
  local cond = table.concat(where, " AND ")
  local c = db()
  local t = c:first("SELECT count(*) AS count, coalesce(sum(cost), 0) AS cost FROM service_delivery WHERE " .. cond,
    table.unpack(args))
  t.units = {}
  for unit, n in c:urows("SELECT unit, sum(units) FROM service_delivery WHERE " .. cond .. " GROUP BY unit",
      table.unpack(args)) do
    t.units[unit] = n
  end
  return t
end
services.total = M.total

return M
