-- koop.tasks — `tasks`: what someone has to do by a date, from a meeting's
-- decision now, and from plans, cases and procedures later.  A task knows
-- its source generically (source_kind + source_id; each kind is declared
-- with tasks.define_source by the module that owns it).
--
--   tasks.add{text=, [owner=person | institution, owner_person=,
--             owner_institution=, due=, status=, created_on=, notes=,
--             source_kind=, source_id=, decision_no=]}
--   t:done{[date=]}  t:start()  t:cancel()  t:reopen()
--   t.owner  t.source  t.overdue
--   tasks.due{[on=, within=14, by="institution" | "person"]}
--            the open tasks overdue on `on` (default today) and due within
--            `within` days after it, as a table grouped by owner if asked
--
-- Status open → in_progress → done | cancelled (done and cancelled may be
-- reopened); done_on is set when a task is done (default today) and only
-- then.  A task is never due before it was set: before created_on, and
-- before its source's date (a meeting's task before the meeting).  The
-- owner's institution defaults to the owner person's.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"

-- CHECKs spell out x = 'a' OR x = 'b' ...: for x IN (list) of more than two
-- constants SQLite builds a temporary table on every INSERT (~1.5 us a row).
schema.define(33, "tasks", [[
CREATE TABLE task (
  id                   INTEGER PRIMARY KEY,
  text                 TEXT NOT NULL,
  owner_person_id      INTEGER REFERENCES person(id),
  owner_institution_id INTEGER REFERENCES institution(id),
  due                  TEXT,
  status               TEXT NOT NULL DEFAULT 'open'
                       CHECK (status = 'open' OR status = 'in_progress' OR status = 'done'
                              OR status = 'cancelled'),
  done_on              TEXT,
  created_on           TEXT NOT NULL,
  source_kind          TEXT,             -- 'meeting', ... (tasks.define_source)
  source_id            INTEGER,
  decision_no          INTEGER,          -- of a meeting source: the decision
  notes                TEXT,
  CHECK ((source_kind IS NULL) = (source_id IS NULL)),
  CHECK ((status = 'done') = (done_on IS NOT NULL))
);
CREATE INDEX task_due_ix ON task(status, due);
CREATE INDEX task_source_ix ON task(source_kind, source_id);
CREATE INDEX task_owner_institution_ix ON task(owner_institution_id);
CREATE INDEX task_owner_person_ix ON task(owner_person_id);
]])

local M = {}
local db = entity.db

-- {==================== sources ====================

-- kind -> {collection=, date=, what=, check=}
local sources = {}
-- The collection of each source kind, known before its module loads (a
-- task read in a fresh process may name a source no module declared yet).
local source_collections = { meeting = "meetings", case = "cases" }

--- Declare a kind of task source: {kind=, collection= (its objects), date=
--- (the field a task may not be due before, or nil), what= ("its meeting",
--- for messages), check= function(row, source, tasks) (more rules, or nil)}.
function M.define_source(s)
  assert(type(s.kind) == "string" and type(s.collection) == "string", "define_source{kind=, collection=}")
  sources[s.kind] = s
  source_collections[s.kind] = s.collection
end

-- The declaration of source kind `kind`, loading its module (a kind whose
-- module declares nothing more is just its collection); nil if unknown.
local function source_kind(kind)
  local s = sources[kind]
  if s == nil and source_collections[kind] then
    entity.collection_named(source_collections[kind])
    s = sources[kind] or { kind = kind, collection = source_collections[kind] }
  end
  return s
end

-- }====================

-- {==================== status ====================

local STATUSES = { "open", "in_progress", "done", "cancelled" }
local STATUS_ALIASES = { ["in progress"] = "in_progress", started = "in_progress", closed = "done" }

local tasks
local methods = {}

-- owner= (a Person or an Institution) into owner_person/owner_institution.
local function owner_fields(input)
  local owner = input.owner
  if owner == nil then return input end
  local out = {}
  for k, v in pairs(input) do if k ~= "owner" then out[k] = v end end
  local mt = getmetatable(owner)
  if mt == entity.collection_named("people").mt then
    out.owner_person = owner
  elseif mt == entity.collection_named("institutions").mt then
    out.owner_institution = owner
  else
    entity.invalid("tasks", "owner", "expected a person or an institution (got %s)", entity.show(owner))
  end
  return out
end

--- Done on {date=} (default today).
function methods.done(t, q)
  if q ~= nil and (type(q) ~= "table" or getmetatable(q)) then
    entity.invalid("tasks", "done_on", "t:done{date=} expects a table, got %s", entity.show(q))
  end
  return t:update{ status = "done", done_on = q and q.date or dates.today() }
end

--- Started.
function methods.start(t) return t:update{ status = "in_progress" } end

--- Cancelled (no longer to be done).
function methods.cancel(t) return t:update{ status = "cancelled" } end

--- Open again (after done or cancelled).
function methods.reopen(t) return t:update{ status = "open" } end

-- }====================

-- {==================== due and overdue ====================

local DUE = [[
SELECT t.id, t.text, t.due, t.status, t.source_kind, t.source_id,
       i.name AS institution, p.first_name || ' ' || p.last_name AS person
  FROM task t
  LEFT JOIN institution i ON i.id = t.owner_institution_id
  LEFT JOIN person p ON p.id = t.owner_person_id
 WHERE t.status IN ('open', 'in_progress') AND t.due IS NOT NULL AND t.due <= ?
 ORDER BY %s t.due, t.id]]
local DUE_BY = {
  none = DUE:format(""),
  institution = DUE:format("i.name IS NULL, i.name COLLATE PL, t.due < ?2 DESC,"),
  person = DUE:format("p.id IS NULL, p.last_name COLLATE PL, p.first_name COLLATE PL, p.id, t.due < ?2 DESC,"),
}
local DUE_COLUMNS = {
  none = { "state", "due", "days_left", "institution", "person", "text", "id" },
  institution = { "institution", "state", "due", "days_left", "person", "text", "id" },
  person = { "person", "institution", "state", "due", "days_left", "text", "id" },
}

--- Tasks overdue on {on=} (default today: --today, koop.today()) and due
--- in the next {within=} days (default 14), open or in progress; {by=
--- "institution" | "person"} sorts them by owner.  A result set of rows
--- {state = "overdue" | "upcoming", due, days_left (negative: days late),
--- institution, person, text, id, task (the object)}; its fields overdue
--- and upcoming count each.
local function due_list(q)
  if q ~= nil and (type(q) ~= "table" or getmetatable(q)) then
    entity.invalid("tasks", "due", "tasks.due{on=, within=, by=} expects a table, got %s", entity.show(q))
  end
  q = q or {}
  for k in pairs(q) do
    if k ~= "on" and k ~= "within" and k ~= "by" then
      entity.invalid("tasks", tostring(k), "tasks.due: unknown option (known: on, within, by)")
    end
  end
  local on = q.on or dates.today()
  if type(on) ~= "string" or not dates.parse(on) then
    entity.invalid("tasks", "on", "expected a date YYYY-MM-DD (got %s)", entity.show(on))
  end
  local within = q.within or 14
  if math.type(within) ~= "integer" or within < 0 then
    entity.invalid("tasks", "within", "expected a whole number of days, at least 0 (got %s)", entity.show(within))
  end
  local by = q.by or "none"
  if not DUE_BY[by] then
    entity.invalid("tasks", "by", "expected \"institution\" or \"person\" (got %s)", entity.show(q.by))
  end
  local until_ = dates.add(on, within)
  local today = dates.serial(on)
  local rows = by == "none" and db():query(DUE_BY[by], until_) or db():query(DUE_BY[by], until_, on)
  local overdue = 0
  for _, r in ipairs(rows) do
    r.state = r.due < on and "overdue" or "upcoming"
    if r.state == "overdue" then overdue = overdue + 1 end
    r.days_left = dates.serial(r.due) - today
    r.task = tasks.get(r.id)
  end
  rows = koop.resultset(rows, DUE_COLUMNS[by])
  rows.overdue, rows.upcoming, rows.on, rows.within = overdue, #rows - overdue, on, within
  return rows
end

-- }====================

-- {==================== the collection ====================

tasks = entity.collection {
  name = "tasks", table = "task", label = "Task",
  fields = {
    { "text", "text", required = true },
    { "owner_person", "ref", to = "people" },
    { "owner_institution", "ref", to = "institutions",
      default = function(row)
        return row.owner_person_id and db():value("SELECT institution_id FROM person WHERE id = ?", row.owner_person_id)
      end },
    { "due", "date" },
    { "status", "enum", choices = STATUSES, aliases = STATUS_ALIASES, default = "open", what = "task status" },
    { "done_on", "date" },
    { "created_on", "date", required = true, default = function() return dates.today() end },
    { "source_kind", "text" },
    { "source_id", "integer" },
    { "decision_no", "integer", min = 1 },
    { "notes", "text" },
  },
  display = { "id", "status", "due", "text", "owner_name" },
  order = { "due", "id" },
  validate = function(row, old, coll)
    if row.status == "done" then
      row.done_on = row.done_on or dates.today()
    elseif row.done_on then
      if old and old.status == "done" and row.done_on == old.done_on then
        row.done_on = nil                  -- reopened: no longer done
      else
        coll.invalid("done_on", "only a done task has a done_on date (status is %s)", row.status)
      end
    end
    if (row.source_kind == nil) ~= (row.source_id == nil) then
      coll.invalid(row.source_kind and "source_id" or "source_kind", "a source is given by source_kind and source_id together")
    end
    if row.decision_no and not row.source_kind then
      coll.invalid("decision_no", "a decision belongs to a source (a meeting)")
    end
    if row.source_kind and (not old or row.source_kind ~= old.source_kind or row.source_id ~= old.source_id
        or row.due ~= old.due or row.decision_no ~= old.decision_no or row.status ~= old.status) then
      local s = source_kind(row.source_kind)
      if not s then
        local known = {}
        for k in pairs(source_collections) do known[#known + 1] = k end
        table.sort(known)
        coll.invalid("source_kind", "unknown source kind '%s' (known: %s)", row.source_kind, table.concat(known, ", "))
      end
      local src = entity.collection_named(s.collection).get(row.source_id)
      if not src then coll.invalid("source_id", "no %s with id %s", s.kind, tostring(row.source_id)) end
      local d = s.date and src[s.date]
      if d and row.due and row.due < d then
        coll.invalid("due", "%s is before %s (%s#%s on %s)", row.due, s.what or "its source",
          getmetatable(src).__name, tostring(src.id), d)
      end
      if s.check then s.check(row, src, coll) end
    end
    if row.done_on and row.done_on > dates.today() and (not old or row.done_on ~= old.done_on) then
      coll.invalid("done_on", "%s is after today (%s): a task is marked done when it is done", row.done_on, dates.today())
    end
    if row.done_on and row.done_on < row.created_on then
      coll.invalid("done_on", "%s is before the task was set (%s)", row.done_on, row.created_on)
    end
    if row.due and row.due < row.created_on then
      coll.invalid("due", "%s is before the task was set (%s)", row.due, row.created_on)
    end
  end,
  props = {
    --- The owner: the person if there is one, else the institution.
    owner = function(t) return t.owner_person or t.owner_institution end,
    --- "Anna Nowak (OPS w Bogorii)", or the institution's name.
    owner_name = function(t)
      local c = db()
      local i = t.owner_institution_id and c:value("SELECT name FROM institution WHERE id = ?", t.owner_institution_id)
      if t.owner_person_id then
        local p = c:first("SELECT first_name, last_name FROM person WHERE id = ?", t.owner_person_id)
        local s = p.first_name .. " " .. p.last_name
        return i and s .. " (" .. i .. ")" or s
      end
      return i
    end,
    --- The object the task comes from (a Meeting, ...), or nil.
    source = function(t)
      local s = t.source_kind and source_kind(t.source_kind)
      return s and entity.collection_named(s.collection).get(t.source_id)
    end,
    --- Open or in progress, and due before today?
    overdue = function(t)
      return (t.status == "open" or t.status == "in_progress") and t.due ~= nil and t.due < dates.today()
    end,
  },
  methods = methods,
  tostring = function(t)
    local s = ("Task#%d %s"):format(t.id, t.status)
    if t.overdue then s = s .. " (overdue)" end
    if t.due then s = s .. " due " .. t.due end
    if t.done_on then s = s .. " done " .. t.done_on end
    s = s .. ' "' .. t.text .. '"'
    local who = t.owner_name
    if who then s = s .. " — " .. who end
    return s
  end,
}
M.tasks = tasks
tasks.due = due_list
tasks.define_source = M.define_source

local plain_add = tasks.add

--- Add a task (see the top of this file); owner= takes a person or an institution.
function tasks.add(input)
  if type(input) == "table" and getmetatable(input) == nil then input = owner_fields(input) end
  return plain_add(input)
end

local plain_update = tasks.methods.update

--- Change fields of a task; owner= takes a person or an institution.
function tasks.methods.update(t, input)
  if type(input) == "table" and getmetatable(input) == nil and input.owner ~= nil then
    input = owner_fields(input)
    if input.owner_person == nil then input.owner_person = koop.null end
  end
  return plain_update(t, input)
end

-- }====================

require("koop.cli").topic {
  name = "tasks", summary = "tasks and what is due: tasks.due{}",
  text = [[
t = tasks.add{text=, owner=person|institution, due=}   (or m:task{...})
t:done{date=}  t:start()  t:cancel()  t:reopen()
t.owner  t.source (e.g. its meeting)  t.overdue
tasks.due{on=, within=14, by="institution"|"person"}
    open tasks overdue on `on` (default today: --today, koop.today()) and
    due within `within` days: a table of state (overdue, upcoming), due,
    days_left, institution, person, text; .overdue and .upcoming count them
Status open → in_progress → done | cancelled; done_on only when done.]],
}

return M
