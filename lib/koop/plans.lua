-- koop.plans — the plans of a case: IPW (indywidualny program współpracy),
-- kontrakt socjalny and plan pracy z rodziną, each in versions, with goals
-- and the actions that serve them.
--
--   p = c:plan{type=, [review_on=, agreed_on=, basis=, goals={...}, notes=,
--              created_on=]}              v1 draft (agreed at once with agreed_on=)
--   p:goal{text=, [notes=]} -> goal      g:action{text=, [institution=,
--              person=, service=, due=, notes=]} -> action
--   p:agree{[date=, basis=]}             p:revise{[date=, review_on=, notes=]} -> v2
--   a:start{[date=]}  a:done{[date=]}  a:not_done{reason=, [date=]}
--   p:goals()  p:actions()  g:actions()  p.previous  p.next
--   plans.reviews_due{[on=, within=]}    plans in force whose review is due
--
-- A plan is written as a draft: goals and actions are added to drafts only.
-- Agreeing it needs at least one goal and, on that day, a consent or a
-- statutory basis of the case (koop.cases) — or the plan's own statutory
-- basis (basis=, e.g. art. 108 u.p.s. for a kontrakt socjalny).  A revision
-- copies the goals and actions into version n+1 (a draft) and leaves
-- version n as it was, with status "revised" and a link forward; actions
-- change status only while their plan is agreed.  Goals inline:
-- goals = { "text", {text=, actions = {{text=, institution=, due=}, ...}} }.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local events = require "koop.events"
local dates = require "koop.dates"
local cases_mod = require "koop.cases"

local M = {}
local db = entity.db
local invalid, show = entity.invalid, entity.show
local options, date_option, not_future, text_option, pick =
  cases_mod.options, cases_mod.date_option, cases_mod.not_future, cases_mod.text_option, cases_mod.pick
local concat = table.concat

schema.define(55, "plans, goals and actions", cases_mod.ddl[[
CREATE TABLE plan (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES case_file(id),
  type        TEXT NOT NULL CHECK (type IN ('IPW', 'kontrakt socjalny', 'plan pracy z rodziną')),
  version     INTEGER NOT NULL CHECK (version >= 1),
  previous_id INTEGER REFERENCES plan(id),
  status      TEXT NOT NULL DEFAULT 'draft'
              CHECK (status IN ('draft', 'agreed', 'revised', 'completed', 'discontinued')),
  created_on  TEXT NOT NULL,
  agreed_on   TEXT,
  review_on   TEXT,
  ended_on    TEXT,                  -- revised, completed or discontinued on
  legal_basis TEXT,                  -- a statutory basis of its own, if any
  notes       TEXT,
  UNIQUE (case_id, type, version),
  CHECK ((status IN ('agreed', 'revised', 'completed')) <= (agreed_on IS NOT NULL)),
  CHECK ((status IN ('draft', 'agreed')) = (ended_on IS NULL))
);
CREATE INDEX plan_case_ix ON plan(case_id);
CREATE TABLE plan_goal (
  id      INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plan(id),
  no      INTEGER NOT NULL,
  text    TEXT NOT NULL,
  notes   TEXT,
  UNIQUE (plan_id, no)
);
CREATE TABLE plan_action (
  id              INTEGER PRIMARY KEY,
  plan_id         INTEGER NOT NULL REFERENCES plan(id),
  goal_id         INTEGER NOT NULL REFERENCES plan_goal(id),
  text            TEXT NOT NULL,
  institution_id  INTEGER REFERENCES institution(id),
  person_id       INTEGER REFERENCES person(id),
  service_type    TEXT REFERENCES service_type(code),
  due             TEXT,
  status          TEXT NOT NULL DEFAULT 'planned'
                  CHECK (status IN ('planned', 'in_progress', 'done', 'not_done')),
  started_on      TEXT,
  done_on         TEXT,              -- done or found not done
  not_done_reason TEXT,
  notes           TEXT,
  CHECK ((status = 'not_done') = (not_done_reason IS NOT NULL)),
  CHECK ((status IN ('done', 'not_done')) = (done_on IS NOT NULL))
);
CREATE INDEX plan_action_plan_ix ON plan_action(plan_id);
CREATE INDEX plan_action_goal_ix ON plan_action(goal_id);
]])

local TYPES = { "IPW", "kontrakt socjalny", "plan pracy z rodziną" }
local TYPE_ALIASES = { ipw = "IPW", kontrakt = "kontrakt socjalny", ["kontrakt_socjalny"] = "kontrakt socjalny",
  ["plan pracy"] = "plan pracy z rodziną", ["plan pracy z rodzina"] = "plan pracy z rodziną",
  ["plan_pracy_z_rodzina"] = "plan pracy z rodziną" }
local STATUSES = { "draft", "agreed", "revised", "completed", "discontinued" }
local ACTION_STATUSES = { "planned", "in_progress", "done", "not_done" }
local ACTION_ALIASES = { ["in progress"] = "in_progress", ["not done"] = "not_done" }
M.types = TYPES

-- Derived fields the next plan or action write records, taken by validate.
local pending_plan, pending_action = nil, nil

local plans, goals, actions

-- 'IPW v1 of BOG-2019-001' for messages.
local function ref(p)
  return ("%s v%d of %s"):format(p.type, p.version, db():value("SELECT code FROM case_file WHERE id = ?", p.case_id))
end
M.ref = ref

-- The case row of a plan (status, dates) for checks.
local function case_row(case_id)
  return db():first("SELECT code, status, opened_on, closed_on FROM case_file WHERE id = ?", case_id)
end

-- {==================== plans ====================

local plan_methods = {}


-- Refuse changes to the goals and actions of a plan that is not a draft.
local function must_be_draft(p, what)
  if p.status ~= "draft" then
    invalid("plans", "status", "%s is %s: %s a new version (p:revise{})", ref(p), p.status,
      what == "goal" and "goals are added to" or "actions are added to")
  end
end

-- Add the inline goals list to plan p (inside the caller's transaction).
local function add_goals(p, list)
  if type(list) ~= "table" or getmetatable(list) then
    invalid("plan_goals", "goals", "expected a list of goals (texts or {text=, actions={...}}), got %s", show(list))
  end
  for _, g in ipairs(list) do
    local spec = type(g) == "string" and { text = g } or g
    if type(spec) ~= "table" or getmetatable(spec) then
      invalid("plan_goals", "goals", "a goal is a text or {text=, actions={...}}, got %s", show(g))
    end
    local acts = spec.actions
    local fields = {}
    for k, v in pairs(spec) do if k ~= "actions" then fields[k] = v end end
    local goal = plan_methods.goal(p, fields)
    for _, a in ipairs(acts or {}) do goal:action(a) end
  end
end

--- A new plan of case c: v1 draft, agreed at once when agreed_on= is given.
function M.new(c, q)
  q = options("plans", "plan", q, { "type", "review_on", "agreed_on", "basis", "goals", "notes", "created_on" })
  local agreed_on = q.agreed_on ~= nil and date_option("plans", "agreed_on", q.agreed_on) or nil
  local created = q.created_on or agreed_on
  return db():tx(function()
    local p = plans.add{ case = c, type = q.type, review_on = q.review_on, legal_basis = q.basis, notes = q.notes,
      created_on = created }
    if q.goals then add_goals(p, q.goals) end
    if agreed_on then plan_methods.agree(p, { date = agreed_on }) end
    return p
  end)
end

--- The case's plan in force (of type ptype, or of any type: the newest),
--- or, for a closed case, the one it ended with; nil when it has none.
function M.current(c, ptype)
  local t = ptype and pick(ptype, TYPES, TYPE_ALIASES)
  if ptype and not t then invalid("plans", "type", "unknown plan type %s (types: %s)", show(ptype), concat(TYPES, ", ")) end
  local id = db():value([[SELECT id FROM plan WHERE case_id = ? AND (?2 IS NULL OR type = ?2) AND status <> 'revised'
    ORDER BY status IN ('draft', 'agreed') DESC, id DESC LIMIT 1]], c.id, t)
  return id and plans.get(id)
end

-- Does case `case_id` have a consent or statutory basis in force on `date`?
local ANY_BASIS = [[
SELECT id FROM consent WHERE case_id = ?1 AND given_on <= ?2 AND (withdrawn_on IS NULL OR withdrawn_on > ?2)
   AND (expires_on IS NULL OR expires_on >= ?2) LIMIT 1]]

--- Agree the plan on {date=} (default today), with {basis=} a statutory
--- basis of its own if there is no consent; emits plan.agreed.
function plan_methods.agree(p, q)
  q = options("plans", "agree", q, { "date", "basis" })
  local date = date_option("plans", "agreed_on", q.date)
  local basis = text_option(q.basis, "plans", "basis") or p.legal_basis
  if p.status ~= "draft" then invalid("plans", "status", "%s is %s, not a draft: only a draft is agreed", ref(p), p.status) end
  local cn = db()
  local cr = case_row(p.case_id)
  if cr.status == "zakończona" then invalid("plans", "case", "%s is closed (%s)", cr.code, cr.closed_on) end
  if date < p.created_on then invalid("plans", "agreed_on", "%s is before the plan was written (%s)", date, p.created_on) end
  not_future("plans", "agreed_on", date)
  if cn:value("SELECT count(*) FROM plan_goal WHERE plan_id = ?", p.id) == 0 then
    invalid("plans", "goals", "%s has no goals: add them with p:goal{text=} before agreeing it", ref(p))
  end
  if not basis and not cn:value(ANY_BASIS, p.case_id, date) then
    invalid("plans", "agreed_on", "%s cannot be agreed on %s: the case has no consent or statutory basis in force then; record one with c:consent{...} (or give the plan's statutory basis, basis=)",
      ref(p), date)
  end
  if p.review_on and p.review_on < date then
    invalid("plans", "review_on", "%s is before the plan is agreed (%s)", p.review_on, date)
  end
  return cases_mod.changing(p, function()
    pending_plan = { status = "agreed", agreed_on = date, legal_basis = basis }
    local ok, err = pcall(p.update, p, {})
    pending_plan = nil
    if not ok then error(err, 0) end
    events.emit("plan.agreed", p, { case = p.case, date = date })
    return p
  end)
end

local COPY_GOALS = "SELECT id, no, text, notes FROM plan_goal WHERE plan_id = ? ORDER BY no"
local COPY_ACTIONS = "SELECT * FROM plan_action WHERE goal_id = ? ORDER BY id"

--- A new version of the plan (a draft with the same goals and actions,
--- their statuses kept); this one becomes "revised".  {date=, review_on=,
--- notes=}.
function plan_methods.revise(p, q)
  q = options("plans", "revise", q, { "date", "review_on", "notes" })
  local date = date_option("plans", "created_on", q.date)
  if p.status ~= "agreed" then
    invalid("plans", "status", "%s is %s: only an agreed plan is revised%s", ref(p), p.status,
      p.status == "draft" and " (change the draft itself)" or "")
  end
  if date < p.agreed_on then invalid("plans", "created_on", "%s is before %s was agreed (%s)", date, ref(p), p.agreed_on) end
  local cn = db()
  return cases_mod.changing(p, function()
    pending_plan = { status = "revised", ended_on = date }
    local ok, err = pcall(p.update, p, {})
    pending_plan = nil
    if not ok then error(err, 0) end
    pending_plan = { version = p.version + 1, previous_id = p.id }
    ok, err = pcall(plans.add, { case = p.case_id, type = p.type, created_on = date,
      review_on = q.review_on, legal_basis = p.legal_basis, notes = q.notes or p.notes })
    pending_plan = nil
    if not ok then error(err, 0) end
    local v2 = err
    for _, g in ipairs(cn:query(COPY_GOALS, p.id)) do
      local ng = goals.add{ plan = v2, no = g.no, text = g.text, notes = g.notes }
      for _, a in ipairs(cn:query(COPY_ACTIONS, g.id)) do
        pending_action = { status = a.status, started_on = a.started_on, done_on = a.done_on,
          not_done_reason = a.not_done_reason, copied = true }
        ok, err = pcall(actions.add, { plan = v2, goal = ng, text = a.text, institution = a.institution_id,
          person = a.person_id, service = a.service_type, due = a.due, notes = a.notes })
        pending_action = nil
        if not ok then error(err, 0) end
      end
    end
    events.emit("plan.revised", v2, { previous = p, case = p.case, date = date })
    return v2
  end)
end

--- Add a goal to a draft plan: {text=, notes=}.
function plan_methods.goal(p, q)
  q = options("plan_goals", "goal", q, { "text", "notes" })
  must_be_draft(p, "goal")
  local no = (db():value("SELECT max(no) FROM plan_goal WHERE plan_id = ?", p.id) or 0) + 1
  return goals.add{ plan = p, no = no, text = q.text, notes = q.notes }
end

--- A task for the plan (a review meeting, a document to collect): {text=,
--- due=, owner= (person or institution), notes=}.
function plan_methods.task(p, q)
  q = options("tasks", "task", q, { "text", "due", "owner", "owner_person", "owner_institution", "notes", "created_on" })
  local row = { source_kind = "plan", source_id = p.id }
  for k, v in pairs(q) do row[k] = v end
  return entity.collection_named("tasks").add(row)
end

--- The plan's tasks.
function plan_methods.tasks(p)
  return entity.collection_named("tasks").find{ source_kind = "plan", source_id = p.id }
end

--- The plan's goals, in order.
function plan_methods.goals(p) return goals.find{ plan = p, order = "no" } end
--- The plan's actions, by goal.
function plan_methods.actions(p) return actions.find{ plan = p, order = { "goal_id", "id" } } end

--- Called by koop.cases when case c closes: plans in force end with it
--- (completed after sukces or częściowy, else discontinued).
function M.case_closed(c, date, outcome)
  local cn = db()
  for id, status in cn:urows("SELECT id, status FROM plan WHERE case_id = ? AND status IN ('draft', 'agreed') ORDER BY id", c.id) do
    local p = plans.get(id)
    local done = status == "agreed" and (outcome == "sukces" or outcome == "częściowy")
    pending_plan = { status = done and "completed" or "discontinued", ended_on = date }
    local ok, err = pcall(p.update, p, {})
    pending_plan = nil
    if not ok then error(err, 0) end
  end
end

--- Plans in force whose review falls on or before {on=} + {within=} days
--- (default today, 14): a result set of plans.
function M.reviews_due(q)
  q = options("plans", "reviews_due", q, { "on", "within" })
  local on = date_option("plans", "on", q.on)
  local within = q.within or 14
  if math.type(within) ~= "integer" or within < 0 then
    invalid("plans", "within", "expected a whole number of days, at least 0 (got %s)", show(within))
  end
  return plans.find{ status = "agreed", where = "review_on IS NOT NULL AND review_on <= ?",
    args = { dates.add(on, within) }, order = "review_on" }
end

plans = entity.collection {
  name = "plans", table = "plan", label = "Plan",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "type", "enum", choices = TYPES, aliases = TYPE_ALIASES, required = true, what = "plan type" },
    { "version", "integer", derived = true },
    { "previous", "ref", to = "plans", derived = true },
    { "status", "enum", choices = STATUSES, derived = true },
    { "created_on", "date", required = true, default = function() return dates.today() end },
    { "agreed_on", "date", derived = true },
    { "review_on", "date" },
    { "ended_on", "date", derived = true },
    { "legal_basis", "text" },
    { "notes", "text" },
  },
  display = { "id", "type", "version", "status", "created_on", "agreed_on", "review_on" },
  order = { "case_id", "type", "version" },
  validate = function(row, old, coll)
    local p = pending_plan
    pending_plan = nil
    local cr = case_row(row.case_id)
    if not old then
      row.version, row.previous_id, row.status = p and p.version or 1, p and p.previous_id, "draft"
      if cr.status == "zakończona" then coll.invalid("case", "%s is closed (%s)", cr.code, cr.closed_on) end
      if row.created_on < cr.opened_on then
        coll.invalid("created_on", "%s is before the case opened (%s)", row.created_on, cr.opened_on)
      end
      not_future("plans", "created_on", row.created_on)
      local live = db():first("SELECT id, version, status FROM plan WHERE case_id = ? AND type = ? AND status IN ('draft', 'agreed')",
        row.case_id, row.type)
      if live then
        coll.invalid("type", "%s has %s v%d already (%s): revise it with p:revise{} instead", cr.code, row.type, live.version, live.status)
      end
    else
      for _, f in ipairs{ "case_id", "type", "created_on" } do
        if row[f] ~= old[f] then coll.invalid(f == "case_id" and "case" or f, "a plan keeps its %s", f:gsub("_id$", "")) end
      end
      if p then
        for k, v in pairs(p) do row[k] = v end
      elseif old.status ~= "draft" and old.status ~= "agreed" then
        coll.invalid("status", "%s is %s: it is kept as it was", ref(old), old.status)
      end
    end
    local start = row.agreed_on or row.created_on
    if row.review_on and row.review_on < start then
      coll.invalid("review_on", "%s is before the plan was %s (%s)", row.review_on, row.agreed_on and "agreed" or "written", start)
    end
  end,
  props = {
    --- The next version (the revision of this one), or nil.
    ["next"] = function(p)
      local id = db():value("SELECT id FROM plan WHERE previous_id = ?", p.id)
      return id and plans.get(id)
    end,
  },
  methods = plan_methods,
  tostring = function(p)
    local s = ("Plan#%d %s"):format(p.id, ref(p))
    s = s .. " " .. p.status
    if p.agreed_on then s = s .. " (agreed " .. p.agreed_on .. ")" end
    if p.review_on and (p.status == "agreed" or p.status == "draft") then s = s .. ", review " .. p.review_on end
    local n = db():value("SELECT count(*) FROM plan_goal WHERE plan_id = ?", p.id)
    return s .. (", %d goal%s"):format(n, n == 1 and "" or "s")
  end,
}
M.plans = plans
plans.reviews_due = M.reviews_due

-- }====================

-- A plan's task is not due before the plan was written; a plan that
-- ended (revised, completed, discontinued) sets no new tasks.
require("koop.tasks").define_source {
  kind = "plan", collection = "plans", date = "created_on", what = "the plan was written",
  check = function(row, p, coll)
    if p.status ~= "draft" and p.status ~= "agreed" and not row.id then
      coll.invalid("source_id", "%s is %s: it sets no new tasks", ref(p), p.status)
    end
  end,
}

-- {==================== goals ====================

goals = entity.collection {
  name = "plan_goals", table = "plan_goal", label = "Goal",
  fields = {
    { "plan", "ref", to = "plans", required = true },
    { "no", "integer", required = true, min = 1 },
    { "text", "text", required = true },
    { "notes", "text" },
  },
  display = { "no", "text" },
  order = { "plan_id", "no" },
  validate = function(row, old, coll)
    if old and row.plan_id ~= old.plan_id then coll.invalid("plan", "a goal stays in its plan") end
    if old then
      local p = plans.get(row.plan_id)
      if p.status ~= "draft" then coll.invalid("text", "%s is %s: goals change in a new version (p:revise{})", ref(p), p.status) end
    end
  end,
  methods = {
    --- Add an action to the goal: {text=, institution=, person=, service=, due=, notes=}.
    action = function(g, q)
      q = options("plan_actions", "action", q, { "text", "institution", "person", "service", "due", "notes" })
      local p = plans.get(g.plan_id)
      must_be_draft(p, "action")
      return actions.add{ plan = p, goal = g, text = q.text, institution = q.institution, person = q.person,
        service = q.service, due = q.due, notes = q.notes }
    end,
    --- The goal's actions.
    actions = function(g) return actions.find{ goal = g } end,
  },
  tostring = function(g)
    local n = db():value("SELECT count(*) FROM plan_action WHERE goal_id = ?", g.id)
    return ('Goal#%d %d. "%s" (%d action%s)'):format(g.id, g.no, g.text, n, n == 1 and "" or "s")
  end,
}
M.goals = goals

-- }====================

-- {==================== actions ====================

-- The next status of an action and its date (start, done, not_done).
local function move(a, status, date, reason)
  local p = plans.get(a.plan_id)
  if p.status ~= "agreed" then
    invalid("plan_actions", "status", "%s is %s: actions are carried out under an agreed plan", ref(p), p.status)
  end
  local allowed = { planned = { in_progress = true, done = true, not_done = true },
    in_progress = { done = true, not_done = true } }
  if not (allowed[a.status] and allowed[a.status][status]) then
    invalid("plan_actions", "status", "Action#%d is %s%s; it cannot become %s", a.id, a.status,
      a.done_on and (" (" .. a.done_on .. ")") or "", status)
  end
  if date < p.agreed_on then invalid("plan_actions", status == "in_progress" and "started_on" or "done_on",
    "%s is before the plan was agreed (%s)", date, p.agreed_on) end
  if a.started_on and date < a.started_on then
    invalid("plan_actions", "done_on", "%s is before the action started (%s)", date, a.started_on)
  end
  not_future("plan_actions", status == "in_progress" and "started_on" or "done_on", date)
  pending_action = status == "in_progress" and { status = status, started_on = date }
    or { status = status, done_on = date, not_done_reason = reason }
  local ok, err = pcall(a.update, a, {})
  pending_action = nil
  if not ok then error(err, 0) end
  return a
end

local function person_institution(row)
  return row.person_id and db():value("SELECT institution_id FROM person WHERE id = ?", row.person_id)
end

actions = entity.collection {
  name = "plan_actions", table = "plan_action", label = "Action",
  fields = {
    { "plan", "ref", to = "plans", required = true },
    { "goal", "ref", to = "plan_goals", required = true },
    { "text", "text", required = true },
    { "institution", "ref", to = "institutions", default = person_institution },
    { "person", "ref", to = "people" },
    { "service", "enum", dict = "service_types", column = "service_type", what = "service type" },
    { "due", "date" },
    { "status", "enum", choices = ACTION_STATUSES, aliases = ACTION_ALIASES, derived = true },
    { "started_on", "date", derived = true },
    { "done_on", "date", derived = true },
    { "not_done_reason", "text", derived = true },
    { "notes", "text" },
  },
  display = { "id", "status", "text", "institution.name", "service_type", "due" },
  order = { "plan_id", "goal_id", "id" },
  validate = function(row, old, coll)
    local p = pending_action
    pending_action = nil
    if not old then
      row.status = "planned"
      if p then for k, v in pairs(p) do if k ~= "copied" then row[k] = v end end end
    elseif p then
      for k, v in pairs(p) do row[k] = v end
    end
    local c = db()
    if c:value("SELECT plan_id FROM plan_goal WHERE id = ?", row.goal_id) ~= row.plan_id then
      coll.invalid("goal", "Goal#%d belongs to another plan", row.goal_id)
    end
    if not row.institution_id and not row.person_id and not (p and p.copied) then
      coll.invalid("institution", "an action needs a responsible institution or person")
    end
    if row.due and not (p and p.copied) then
      local created = c:value("SELECT created_on FROM plan WHERE id = ?", row.plan_id)
      if row.due < created and (not old or row.due ~= old.due) then
        coll.invalid("due", "%s is before the plan was written (%s)", row.due, created)
      end
    end
    if old and not p then
      local st = c:value("SELECT status FROM plan WHERE id = ?", row.plan_id)
      if st ~= "draft" then
        coll.invalid("text", "the plan is %s: actions change in a new version (p:revise{}); their progress with a:start{}, a:done{}, a:not_done{}", st)
      end
    end
  end,
  props = {
    --- Due before today and not finished?
    overdue = function(a)
      return (a.status == "planned" or a.status == "in_progress") and a.due ~= nil and a.due < dates.today()
    end,
  },
  methods = {
    --- Started on {date=} (default today).
    start = function(a, q)
      q = options("plan_actions", "start", q, { "date" })
      return move(a, "in_progress", date_option("plan_actions", "started_on", q.date))
    end,
    --- Done on {date=} (default today).
    done = function(a, q)
      q = options("plan_actions", "done", q, { "date" })
      return move(a, "done", date_option("plan_actions", "done_on", q.date))
    end,
    --- Not done, for {reason=} (required), found on {date=} (default today).
    not_done = function(a, q)
      q = options("plan_actions", "not_done", q, { "reason", "date" })
      local reason = text_option(q.reason, "plan_actions", "not_done_reason")
      if not reason then invalid("plan_actions", "not_done_reason", "is required: say why the action was not done") end
      return move(a, "not_done", date_option("plan_actions", "done_on", q.date), reason)
    end,
  },
  tostring = function(a)
    local s = ('Action#%d %s "%s"'):format(a.id, a.status, a.text)
    if a.institution_id then s = s .. " — " .. cases_mod.short_name(a.institution_id) end
    if a.due then s = s .. ", due " .. a.due end
    if a.done_on then s = s .. (a.status == "done" and ", done " or ", not done ") .. a.done_on end
    if a.not_done_reason then s = s .. " (" .. a.not_done_reason .. ")" end
    return s
  end,
}
M.actions = actions

-- }====================

return M
