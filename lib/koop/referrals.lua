-- koop.referrals — `referrals`: a case handed from one institution to
-- another for a service, with what personal data goes along and on what
-- legal basis.
--
--   r = c:refer{to=, [from=, service=, reason=, shared={...}, basis=,
--               member=, action=, date=, notes=]}     (referrals.add{case=, ...})
--   r:receive{[date=]}  r:accept{[date=]}  r:reject{reason=, [date=]}
--   r:redirect{to=, [date=, reason=]} -> the new referral, chained to r
--   r:start{[date=]}  r:complete{feedback=, [date=]}  r:cancel{[reason=, date=]}
--   r.overdue  r.previous  r.next      referrals.overdue{[on=]}
--
-- Lifecycle: sent → received → accepted | rejected | redirected →
-- in_progress → completed | cancelled (accepting or rejecting marks a sent
-- referral received the same day; an accepted one may be completed without
-- a separate start).  A rejected referral may still be redirected: the new
-- referral goes from the same sender to another institution.
--
-- Personal data.  `shared` lists the data categories sent (koop.cases
-- categories; none: no personal data).  Such a referral is refused unless
-- a consent of the case in force on its date covers the receiving
-- institution and every category — or the referral records its statutory
-- basis (basis=, a citation of the statute).  The consent used is kept
-- with the referral (consent_id) as evidence.
--
-- The answer is due `referral_response_days` (koop_meta, default 14)
-- calendar days after sending, or working days (koop.workdays) when
-- koop_meta referral_response_working is 1; response_due keeps the date
-- and `overdue` compares it with today (--today).
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local events = require "koop.events"
local dates = require "koop.dates"
local cases_mod = require "koop.cases"

local M = {}
local db = entity.db
local invalid, show = entity.invalid, entity.show
local options, date_option, not_future, text_option =
  cases_mod.options, cases_mod.date_option, cases_mod.not_future, cases_mod.text_option
local concat = table.concat

schema.define(56, "referrals", cases_mod.ddl[[
CREATE TABLE referral (
  id                  INTEGER PRIMARY KEY,
  case_id             INTEGER NOT NULL REFERENCES case_file(id),
  from_institution_id INTEGER NOT NULL REFERENCES institution(id),
  to_institution_id   INTEGER NOT NULL REFERENCES institution(id),
  service_type        TEXT REFERENCES service_type(code),
  reason              TEXT,
  member_id           INTEGER REFERENCES case_member(id),
  shared              TEXT,                -- data categories sent; NULL: no personal data
  legal_basis         TEXT,                -- a statutory basis instead of consent
  consent_id          INTEGER REFERENCES consent(id),
  sent_on             TEXT NOT NULL,
  response_due        TEXT NOT NULL,
  status              TEXT NOT NULL DEFAULT 'sent' CHECK (status IN
                      ('sent', 'received', 'accepted', 'rejected', 'redirected', 'in_progress', 'completed', 'cancelled')),
  received_on         TEXT,
  responded_on        TEXT,                -- accepted, rejected or redirected on
  response_note       TEXT,                -- why rejected or redirected
  started_on          TEXT,
  closed_on           TEXT,                -- completed or cancelled on
  feedback            TEXT,                -- the receiver's report on completion
  cancel_reason       TEXT,
  previous_id         INTEGER REFERENCES referral(id),   -- redirected from
  action_id           INTEGER REFERENCES plan_action(id),
  notes               TEXT,
  CHECK (from_institution_id <> to_institution_id),
  CHECK (status <> 'completed' OR feedback IS NOT NULL),
  CHECK (status <> 'rejected' OR response_note IS NOT NULL),
  CHECK (response_due >= sent_on)
);
CREATE INDEX referral_case_ix ON referral(case_id);
CREATE INDEX referral_open_ix ON referral(status, response_due);
CREATE INDEX referral_to_ix ON referral(to_institution_id);
CREATE INDEX referral_previous_ix ON referral(previous_id) WHERE previous_id IS NOT NULL;
]])

local STATUSES = { "sent", "received", "accepted", "rejected", "redirected", "in_progress", "completed", "cancelled" }
local OPEN = { sent = true, received = true, accepted = true, in_progress = true }
M.statuses = STATUSES

-- From each status, the statuses a referral may go to.
local NEXT = {
  sent = { received = true, accepted = true, rejected = true, redirected = true, cancelled = true },
  received = { accepted = true, rejected = true, redirected = true, cancelled = true },
  accepted = { in_progress = true, completed = true, cancelled = true },
  in_progress = { completed = true, cancelled = true },
  rejected = { redirected = true },
  redirected = {}, completed = {}, cancelled = {},
}

-- Derived fields the next write records (the lifecycle methods), and the
-- previous referral of the next add (redirect).
local pending = nil

local referrals
local plain_add           -- the framework's add (referrals.add goes through refer)

-- "Referral#3 OPS w Bogorii → PCPR w Staszowie" for messages.
local function ref(r)
  return ("Referral#%d %s → %s"):format(r.id, cases_mod.short_name(r.from_institution_id), cases_mod.short_name(r.to_institution_id))
end
M.ref = ref

--- The day an answer to a referral sent on `sent` is due (koop_meta
--- referral_response_days and referral_response_working).
function M.response_due(sent)
  local c = db()
  local days = math.tointeger(tonumber(schema.meta(c, "referral_response_days") or "14"))
  if not days or days < 0 then
    invalid("referrals", "response_due", "koop_meta referral_response_days must be a whole number of days (got %s)",
      show(schema.meta(c, "referral_response_days")))
  end
  if schema.meta(c, "referral_response_working") == "1" then return koop.workdays(days, sent) end
  return dates.add(sent, days)
end

-- Is `basis` a statutory basis (and not just the word "zgoda")?
local function statutory(basis)
  if not basis then return false end
  local low = koop.text and koop.text.lower(basis) or basis:lower()
  return not (low == "zgoda" or low == "consent" or low:find("zgod", 1, true))
end

referrals = entity.collection {
  name = "referrals", table = "referral", label = "Referral",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "from", "ref", to = "institutions", column = "from_institution_id", required = true },
    { "to", "ref", to = "institutions", column = "to_institution_id", required = true },
    { "service", "enum", dict = "service_types", column = "service_type", what = "service type" },
    { "reason", "text" },
    { "member", "ref", to = "case_members" },
    { "shared", "text", check = function(v)
        local ok, res = pcall(cases_mod.category_list, v, "referrals", "shared")
        if not ok then return nil, (tostring(res.message or res):gsub("^referrals%.shared: ", "")) end
        return res or koop.null
      end },
    { "basis", "text", column = "legal_basis" },
    { "consent", "ref", to = "consents", derived = true },
    { "sent_on", "date", required = true, default = function() return dates.today() end },
    { "response_due", "date", derived = true },
    { "status", "enum", choices = STATUSES, derived = true },
    { "received_on", "date", derived = true },
    { "responded_on", "date", derived = true },
    { "response_note", "text", derived = true },
    { "started_on", "date", derived = true },
    { "closed_on", "date", derived = true },
    { "feedback", "text", derived = true },
    { "cancel_reason", "text", derived = true },
    { "previous", "ref", to = "referrals", derived = true },
    { "action", "ref", to = "plan_actions" },
    { "notes", "text" },
  },
  display = { "id", "status", "sent_on", "from.name", "to.name", "service_type", "response_due" },
  order = { "sent_on", "id" },
  validate = function(row, old, coll)
    local p = pending
    pending = nil
    local c = db()
    if old then
      for _, f in ipairs{ "case_id", "from_institution_id", "to_institution_id", "shared", "legal_basis", "sent_on", "member_id" } do
        if row[f] ~= old[f] then
          coll.invalid(f:gsub("_institution_id$", ""):gsub("_id$", ""):gsub("^legal_", ""),
            "a sent referral keeps it: cancel it and send a new one")
        end
      end
      if p then for k, v in pairs(p) do row[k] = v end end
      return
    end
    local cr = c:first("SELECT code, status, opened_on, closed_on FROM case_file WHERE id = ?", row.case_id)
    if cr.status == "zakończona" then coll.invalid("case", "%s is closed (%s)", cr.code, cr.closed_on) end
    if row.sent_on < cr.opened_on then
      coll.invalid("sent_on", "%s is before the case opened (%s)", row.sent_on, cr.opened_on)
    end
    not_future("referrals", "sent_on", row.sent_on)
    if row.from_institution_id == row.to_institution_id then
      coll.invalid("to", "a referral cannot go to the sending institution itself (%s)",
        cases_mod.institution_name(row.to_institution_id))
    end
    if c:value("SELECT active FROM institution WHERE id = ?", row.to_institution_id) == 0 then
      coll.invalid("to", "%s is inactive", cases_mod.institution_name(row.to_institution_id))
    end
    if row.member_id and c:value("SELECT case_id FROM case_member WHERE id = ?", row.member_id) ~= row.case_id then
      coll.invalid("member", "Member#%d is not a member of %s", row.member_id, cr.code)
    end
    if row.action_id and c:value("SELECT p.case_id FROM plan_action a JOIN plan p ON p.id = a.plan_id WHERE a.id = ?",
        row.action_id) ~= row.case_id then
      coll.invalid("action", "Action#%d belongs to another case's plan", row.action_id)
    end
    row.status = "sent"
    row.previous_id = p and p.previous_id
    row.response_due = M.response_due(row.sent_on)
    row.consent_id = nil
    if row.shared and not statutory(row.legal_basis) then
      local k, why = cases_mod.coverage(row.case_id, row.member_id, row.to_institution_id, row.shared, row.sent_on)
      if not k then
        coll.invalid("to", "%s (data shared: %s); record a consent that covers it (c:consent{...}), or the referral's statutory basis (basis=)",
          why, row.shared:gsub(",", ", "))
      end
      row.consent_id = k.id
    end
  end,
  props = {
    --- The statutory basis the referral records (column legal_basis).
    basis = function(r) return r.legal_basis end,
    --- Waiting for an answer past response_due (today: --today)?
    overdue = function(r)
      return (r.status == "sent" or r.status == "received") and r.response_due < dates.today()
    end,
    --- Still open (sent, received, accepted or in progress)?
    open = function(r) return OPEN[r.status] == true end,
    --- The referral this one was redirected to, or nil.
    ["next"] = function(r)
      local id = db():value("SELECT id FROM referral WHERE previous_id = ?", r.id)
      return id and referrals.get(id)
    end,
  },
  tostring = function(r)
    local s = ("%s %s, sent %s"):format(ref(r), r.status, r.sent_on)
    if r.service_type then s = s .. ", " .. r.service_type end
    if r.status == "sent" or r.status == "received" then
      s = s .. (r.response_due < dates.today() and ", answer OVERDUE since " or ", answer due ") .. r.response_due
    end
    if r.response_note then s = s .. " (" .. r.response_note .. ")" end
    return s
  end,
}
M.referrals = referrals

-- The institution id of `v` (object or id) for the `field` of a referral.
local function institution_id(v, field)
  if v == nil then return nil end
  local id = cases_mod.id_of("institutions", v)
  if not id then invalid("referrals", field, "expected an institution or its id, got %s", show(v)) end
  return id
end

--- Send a referral for case c (see the top of this file); emits referral.sent.
function M.refer(c, q)
  q = options("referrals", "refer", q, { "to", "from", "service", "reason", "shared", "basis", "member", "action", "date", "notes" })
  local from = institution_id(q.from, "from")
  if not from then
    from = c.coordinator_id and db():value("SELECT institution_id FROM person WHERE id = ?", c.coordinator_id)
      or c.source_institution_id
    if not from then
      invalid("referrals", "from", "is required (the case has no coordinator or source institution to send from)")
    end
  end
  local row = { case = c, from = from, to = q.to, service = q.service, reason = q.reason, member = q.member,
    shared = cases_mod.category_list(q.shared, "referrals", "shared"), basis = q.basis, action = q.action,
    sent_on = q.date, notes = q.notes }
  if row.to == nil then invalid("referrals", "to", "is required: the institution the case is referred to") end
  return db():tx(function()
    local r = plain_add(row)
    events.emit("referral.sent", r, { case = c, date = r.sent_on })
    return r
  end)
end

plain_add = referrals.add

--- referrals.add{case=, to=, ...}: the same as case:refer{to=, ...}.
function referrals.add(input)
  if type(input) ~= "table" or getmetatable(input) then return plain_add(input) end
  local rest, case = {}, input.case
  for k, v in pairs(input) do if k ~= "case" then rest[k] = v end end
  if rest.sent_on then rest.date, rest.sent_on = rest.sent_on, nil end
  local cases = entity.collection_named("cases")
  local c = getmetatable(case) == cases.mt and case or cases.get(case)
  if not c then invalid("referrals", "case", "expected a case or its id, got %s", show(case)) end
  return M.refer(c, rest)
end

-- Move r to `status` with the derived fields `set`, in a transaction that
-- also emits `event` (when given).
local function move(r, status, set, event)
  if not NEXT[r.status][status] then
    local why = r.status
    if r.status == "rejected" then why = why .. " (" .. (r.response_note or "") .. ", " .. tostring(r.responded_on) .. ")" end
    if r.closed_on then why = why .. " (" .. r.closed_on .. ")" end
    local can = {}
    for _, s in ipairs(STATUSES) do if NEXT[r.status][s] then can[#can + 1] = s end end
    invalid("referrals", "status", "%s is %s; it cannot become %s (from %s: %s)", ref(r), why, status, r.status,
      #can > 0 and concat(can, ", ") or "nothing, it is finished")
  end
  local date = set.date
  set.date = nil
  local last = r.closed_on or r.started_on or r.responded_on or r.received_on or r.sent_on
  if date < last then
    invalid("referrals", set.field or "status", "%s is before the referral's last step (%s)", date, last)
  end
  local field = set.field
  set.field = nil
  not_future("referrals", field or "status", date)
  set.status = status
  return cases_mod.changing(r, function()
    pending = set
    local ok, err = pcall(r.update, r, {})
    pending = nil
    if not ok then error(err, 0) end
    if event then events.emit(event, r, { case = r.case, date = date }) end
    return r
  end)
end

local methods = referrals.methods

--- Received by the institution on {date=} (default today).
function methods.receive(r, q)
  q = options("referrals", "receive", q, { "date" })
  local date = date_option("referrals", "received_on", q.date)
  return move(r, "received", { date = date, received_on = date, field = "received_on" }, "referral.received")
end

--- Accepted on {date=} (default today); emits referral.accepted.
function methods.accept(r, q)
  q = options("referrals", "accept", q, { "date" })
  local date = date_option("referrals", "responded_on", q.date)
  return move(r, "accepted", { date = date, received_on = r.received_on or date, responded_on = date,
    field = "responded_on" }, "referral.accepted")
end

--- Rejected for {reason=} (required) on {date=}; emits referral.rejected.
function methods.reject(r, q)
  q = options("referrals", "reject", q, { "reason", "date" })
  local reason = text_option(q.reason, "referrals", "reason")
  if not reason then invalid("referrals", "reason", "is required: say why the referral is rejected") end
  local date = date_option("referrals", "responded_on", q.date)
  return move(r, "rejected", { date = date, received_on = r.received_on or date, responded_on = date,
    response_note = reason, field = "responded_on" }, "referral.rejected")
end

--- Redirect to institution {to=} on {date=} ({reason=} optional): this
--- referral ends as "redirected" and a new one, chained to it, goes from
--- the same sender; returns the new referral.
function methods.redirect(r, q)
  q = options("referrals", "redirect", q, { "to", "date", "reason", "shared", "basis" })
  if q.to == nil then invalid("referrals", "to", "is required: the institution the case is redirected to") end
  local date = date_option("referrals", "sent_on", q.date)
  local reason = text_option(q.reason, "referrals", "reason")
  local c = r.case
  return cases_mod.changing(r, function()
    move(r, "redirected", { date = date, received_on = r.received_on or date, responded_on = r.responded_on or date,
      response_note = r.response_note or reason, field = "sent_on" }, "referral.redirected")
    pending = { previous_id = r.id }
    local row = { case = c, from = r.from_institution_id, to = q.to, service = r.service_type, reason = r.reason,
      member = r.member_id, shared = q.shared ~= nil and cases_mod.category_list(q.shared, "referrals", "shared") or r.shared,
      basis = q.basis or r.legal_basis, action = r.action_id, sent_on = date,
      notes = reason and ("przekierowane: " .. reason) or nil }
    local ok, new = pcall(plain_add, row)
    pending = nil
    if not ok then error(new, 0) end
    events.emit("referral.sent", new, { case = c, date = date, previous = r })
    return new
  end)
end

--- Work started on {date=} (default today).
function methods.start(r, q)
  q = options("referrals", "start", q, { "date" })
  local date = date_option("referrals", "started_on", q.date)
  return move(r, "in_progress", { date = date, started_on = date, field = "started_on" }, "referral.started")
end

--- Completed on {date=} with the receiver's {feedback=} (required).
function methods.complete(r, q)
  q = options("referrals", "complete", q, { "feedback", "date" })
  local feedback = text_option(q.feedback, "referrals", "feedback")
  if not feedback then
    invalid("referrals", "feedback", "is required: what was done and with what result (the receiver's feedback)")
  end
  local date = date_option("referrals", "closed_on", q.date)
  return move(r, "completed", { date = date, closed_on = date, feedback = feedback, field = "closed_on" },
    "referral.completed")
end

--- Cancelled on {date=}, for {reason=} (optional).
function methods.cancel(r, q)
  q = options("referrals", "cancel", q, { "reason", "date" })
  local date = date_option("referrals", "closed_on", q.date)
  return move(r, "cancelled", { date = date, closed_on = date, cancel_reason = text_option(q.reason, "referrals", "reason"),
    field = "closed_on" }, "referral.cancelled")
end

--- Referrals waiting for an answer past their response_due on {on=}
--- (default today), oldest first.
function M.overdue(q)
  q = options("referrals", "overdue", q, { "on" })
  local on = date_option("referrals", "on", q.on)
  return referrals.find{ status = { "sent", "received" }, where = "response_due < ?", args = { on },
    order = { "response_due", "id" } }
end
referrals.overdue = M.overdue

return M
