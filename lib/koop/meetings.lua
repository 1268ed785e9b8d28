-- koop.meetings — `meetings` of the teams (posiedzenia, warsztaty, Szkoła
-- Kooperacji, wizyty studyjne, coaching, superwizja, badania fokusowe,
-- konsultacje), who attended them, their numbered decisions (ustalenia) and
-- the tasks they set.
--
--   meetings.add{team=, date=, [kind=, days=, place=, agenda=, protocol_no=,
--                protocol=, status=, notes=]}
--   m:attend(person | {person...}, [status])   obecny (default), nieobecny,
--                usprawiedliwiony, zdalnie; again for the same person updates
--   m:decide(text | {text=, votes_for=, votes_against=, votes_abstain=})
--                decision no 1, 2, 3... of this meeting
--   m:task{text=, owner=person | institution, due=, [decision=n | false]}
--                a task of this meeting, of its last decision unless told
--   m:hold()  m:cancel()  m:attendance()  m:decisions()  m:tasks()
--   meetings.kinds            the kinds and their short aliases
--
-- Status planned → held | cancelled (a cancelled meeting may be planned
-- again; a held one stays held).  A meeting becoming held fires the event
-- `meeting.held` (also when it is added as held), in the transaction of the
-- change.  A meeting before its team was formed or after it was dissolved,
-- and a held meeting dated after today, are refused.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"
local events = require "koop.events"
local tasks_mod = require "koop.tasks"
local teams_mod = require "koop.teams"

-- CHECKs spell out x = 'a' OR x = 'b' ...: for x IN (list) of more than two
-- constants SQLite builds a temporary table on every INSERT (~1.5 us a row).
schema.define(32, "meetings, attendance and decisions", [[
CREATE TABLE meeting (
  id          INTEGER PRIMARY KEY,
  team_id     INTEGER NOT NULL REFERENCES team(id),
  kind        TEXT NOT NULL,
  date        TEXT NOT NULL,
  days        INTEGER NOT NULL DEFAULT 1 CHECK (days >= 1),
  place       TEXT,
  agenda      TEXT,
  protocol_no TEXT,
  protocol    TEXT,
  status      TEXT NOT NULL DEFAULT 'planned'
              CHECK (status = 'planned' OR status = 'held' OR status = 'cancelled'),
  notes       TEXT
);
CREATE INDEX meeting_team_ix ON meeting(team_id, date);
CREATE INDEX meeting_date_ix ON meeting(date);
CREATE TABLE attendance (
  id             INTEGER PRIMARY KEY,
  meeting_id     INTEGER NOT NULL REFERENCES meeting(id),
  person_id      INTEGER NOT NULL REFERENCES person(id),
  institution_id INTEGER NOT NULL REFERENCES institution(id),
  status         TEXT NOT NULL CHECK (status = 'obecny' OR status = 'nieobecny'
                                   OR status = 'usprawiedliwiony' OR status = 'zdalnie'),
  notes          TEXT,
  UNIQUE (meeting_id, person_id)
);
CREATE INDEX attendance_person_ix ON attendance(person_id);
CREATE TABLE decision (
  id            INTEGER PRIMARY KEY,
  meeting_id    INTEGER NOT NULL REFERENCES meeting(id),
  no            INTEGER NOT NULL CHECK (no >= 1),
  text          TEXT NOT NULL,
  votes_for     INTEGER CHECK (votes_for >= 0),
  votes_against INTEGER CHECK (votes_against >= 0),
  votes_abstain INTEGER CHECK (votes_abstain >= 0),
  notes         TEXT,
  UNIQUE (meeting_id, no)
);
]])

local M = {}

local KINDS = { "posiedzenie zespołu", "warsztat", "Szkoła Kooperacji", "wizyta studyjna",
  "coaching", "superwizja", "badanie fokusowe", "konsultacje" }
local KIND_ALIASES = {
  posiedzenie = "posiedzenie zespołu", ["posiedzenie G-PZK"] = "posiedzenie zespołu",
  warsztaty = "warsztat", ["szkoła"] = "Szkoła Kooperacji", szkola = "Szkoła Kooperacji",
  SK = "Szkoła Kooperacji", wizyta = "wizyta studyjna", fokus = "badanie fokusowe",
  focus = "badanie fokusowe", ["badanie"] = "badanie fokusowe", konsultacja = "konsultacje",
}
M.kinds = { list = KINDS, aliases = KIND_ALIASES }

local ATTENDANCE = { "obecny", "nieobecny", "usprawiedliwiony", "zdalnie" }
local ATTENDANCE_ALIASES = {
  obecna = "obecny", nieobecna = "nieobecny", usprawiedliwiona = "usprawiedliwiony",
  ["usprawiedliwiony/a"] = "usprawiedliwiony", zdalna = "zdalnie", online = "zdalnie",
}

local db = entity.db

-- The object `id` of collection `name`.
local function get(name, id) return entity.collection_named(name).get(id) end

-- {==================== held, cancelled ====================

local meetings, attendance, decisions
local methods = {}

--- Mark the meeting held (its date must not be after today).
function methods.hold(m) return m:update{ status = "held" } end

--- Mark the meeting cancelled.
function methods.cancel(m) return m:update{ status = "cancelled" } end

-- Refuse to record something at a cancelled meeting.
local function refuse_cancelled(coll, meeting_id)
  if db():value("SELECT status FROM meeting WHERE id = ?", meeting_id) == "cancelled" then
    coll.invalid("meeting", "%s was cancelled", tostring(meetings.get(meeting_id)))
  end
end

-- }====================

-- {==================== attendance ====================

-- The person's institution, and whether the meeting is not cancelled, in
-- one read: a row of attendance takes the institution of its person
-- unless told, and is refused at a cancelled meeting.
local INSTITUTION_IF_OPEN = "SELECT p.institution_id FROM person p, meeting m"
  .. " WHERE p.id = ? AND m.id = ? AND m.status <> 'cancelled'"
local INSTITUTION = "SELECT institution_id FROM person WHERE id = ?"

-- The last row whose meeting person_institution found not cancelled, so
-- that validate, which runs next, need not read it again.
local seen_open

-- Default of attendance.institution: the institution of the row's person.
local function person_institution(row)
  local pid, mid = row.person_id, row.meeting_id
  if not pid then return nil end
  local id = mid and db():value(INSTITUTION_IF_OPEN, pid, mid)
  if id then seen_open = row; return id end
  return db():value(INSTITUTION, pid)     -- validate says why, if the meeting is cancelled
end

attendance = entity.collection {
  name = "attendance", table = "attendance", label = "Attendance",
  fields = {
    { "meeting", "ref", to = "meetings", required = true },
    { "person", "ref", to = "people", required = true },
    { "institution", "ref", to = "institutions", required = true, default = person_institution },
    { "status", "enum", choices = ATTENDANCE, aliases = ATTENDANCE_ALIASES, required = true,
      default = "obecny", what = "attendance status" },
    { "notes", "text" },
  },
  display = { "id", "name", "institution.name", "status" },
  order = { "meeting_id", "id" },
  validate = function(row, old, coll)
    if old and (row.meeting_id ~= old.meeting_id or row.person_id ~= old.person_id) then
      coll.invalid(row.meeting_id ~= old.meeting_id and "meeting" or "person",
        "an attendance row belongs to one meeting and person: add another")
    end
    if row ~= seen_open then refuse_cancelled(coll, row.meeting_id) end
  end,
  props = {
    --- The person's name.
    name = function(a)
      local p = db():first("SELECT first_name, last_name FROM person WHERE id = ?", a.person_id)
      return p.first_name .. " " .. p.last_name
    end,
  },
  tostring = function(a)
    local inst = db():value("SELECT name FROM institution WHERE id = ?", a.institution_id)
    return ("Attendance#%d %s (%s) %s at Meeting#%d"):format(a.id, a.name, inst, a.status, a.meeting_id)
  end,
}

local ATTENDANCE_ROW = "SELECT id FROM attendance WHERE meeting_id = ? AND person_id = ?"

-- The collection of people (loaded on first use).
local people_coll
local function people()
  people_coll = people_coll or entity.collection_named("people")
  return people_coll
end

-- The id of `person` (a Person or its id), or raise.
local function person_id(person)
  local coll = people()
  if getmetatable(person) == coll.mt then return person.id end
  local id = math.tointeger(person)
  if not (id and coll.exists(id)) then
    entity.invalid("attendance", "person", "expected a person or the id of one (got %s)", entity.show(person))
  end
  return id
end

-- Record one person's attendance; returns the row.  A person has one row
-- per meeting (a UNIQUE index): adding is tried first, and only when it
-- fails is the person's row looked for, to update it.
local function attend_one(m, person, status, extra)
  local pid = person_id(person)
  local input = { meeting = m, person = person, status = status }
  if extra then for k, v in pairs(extra) do input[k] = v end end
  local ok, res = pcall(attendance.add, input)
  if ok then return res end
  local id = db():value(ATTENDANCE_ROW, m.id, pid)
  if not id then error(res, 0) end
  local a = attendance.get(id)
  local change = { status = status or a.status }
  if extra then for k, v in pairs(extra) do change[k] = v end end
  return a:update(change)
end

--- Record attendance: m:attend(person, status) or m:attend({p1, p2, ...},
--- status), or m:attend{person=, status=, institution=, notes=}.  A new
--- row is obecny unless told; a person's second call updates it.  Returns
--- the attendance row (a list of them for a list of people).
function methods.attend(m, who, status)
  local mt = getmetatable(who)
  if mt ~= people().mt and type(who) == "table" then
    if mt == nil and who.person ~= nil then
      local extra = {}
      for k, v in pairs(who) do if k ~= "person" and k ~= "status" then extra[k] = v end end
      return attend_one(m, who.person, who.status, extra)
    end
    local list = {}
    db():tx(function()
      for i, p in ipairs(who) do list[i] = attend_one(m, p, status) end
    end)
    return koop.resultset(list, attendance.display)
  end
  return attend_one(m, who, status)
end

local ATTENDANCE_LIST = [[
SELECT a.* FROM attendance a JOIN person p ON p.id = a.person_id
 WHERE a.meeting_id = ?
 ORDER BY CASE a.status WHEN 'obecny' THEN 1 WHEN 'zdalnie' THEN 2 WHEN 'usprawiedliwiony' THEN 3 ELSE 4 END,
          p.last_name COLLATE PL, p.first_name COLLATE PL]]

--- Who attended, present first, as a result set.
function methods.attendance(m)
  local rows = db():query(ATTENDANCE_LIST, m.id)
  for i = 1, #rows do rows[i] = attendance.wrap(rows[i]) end
  return koop.resultset(rows, attendance.display)
end

--- How many attended (obecny or zdalnie).
function methods.present(m)
  return db():value("SELECT count(*) FROM attendance WHERE meeting_id = ? AND status IN ('obecny', 'zdalnie')", m.id)
end

-- }====================

-- {==================== decisions ====================

decisions = entity.collection {
  name = "decisions", table = "decision", label = "Decision",
  fields = {
    { "meeting", "ref", to = "meetings", required = true },
    { "no", "integer", derived = true },
    { "text", "text", required = true },
    { "votes_for", "integer", min = 0 },
    { "votes_against", "integer", min = 0 },
    { "votes_abstain", "integer", min = 0 },
    { "notes", "text" },
  },
  display = { "no", "text", "votes_for", "votes_against", "votes_abstain" },
  order = { "meeting_id", "no" },
  validate = function(row, old, coll)
    if old then
      if row.meeting_id ~= old.meeting_id then coll.invalid("meeting", "a decision cannot move to another meeting") end
    else
      refuse_cancelled(coll, row.meeting_id)
      row.no = db():value("SELECT coalesce(max(no), 0) + 1 FROM decision WHERE meeting_id = ?", row.meeting_id)
    end
  end,
  tostring = function(d)
    local text = d.text
    if utf8.len(text) > 70 then text = text:sub(1, utf8.offset(text, 68) - 1) .. "..." end
    return ('Decision#%d no %d of Meeting#%d "%s"'):format(d.id, d.no, d.meeting_id, text)
  end,
}

--- Record a decision (ustalenie): m:decide(text) or m:decide{text=,
--- votes_for=, votes_against=, votes_abstain=, notes=}; numbered 1, 2, ...
function methods.decide(m, what)
  local input = { meeting = m }
  if type(what) == "table" and getmetatable(what) == nil then
    for k, v in pairs(what) do
      if k == "meeting" then entity.invalid("decisions", "meeting", "decide records a decision of this meeting; do not give meeting=") end
      input[k] = v
    end
  else
    input.text = what
  end
  return decisions.add(input)
end

--- The decisions, by number.
function methods.decisions(m) return decisions.find{ meeting = m } end

-- }====================

-- {==================== tasks of a meeting ====================

tasks_mod.define_source {
  kind = "meeting", collection = "meetings", date = "date", what = "its meeting",
  check = function(row, m, coll)
    if m.status == "cancelled" and (row.status == "open" or row.status == "in_progress") then
      coll.invalid("source", "%s was cancelled: it sets no tasks", tostring(m))
    end
    if row.decision_no and not db():value("SELECT 1 FROM decision WHERE meeting_id = ? AND no = ?", m.id, row.decision_no) then
      coll.invalid("decision_no", "%s has no decision no %d", tostring(m), row.decision_no)
    end
  end,
}

--- A task set by this meeting: {text=, owner= (a person or an institution),
--- due=, decision= (its number; default the last decision, false for none),
--- status=, notes=}.  Due before the meeting is refused.
function methods.task(m, t)
  if type(t) ~= "table" or getmetatable(t) then
    entity.invalid("tasks", "text", "m:task expects a table {text=, owner=, due=, decision=}, got %s", entity.show(t))
  end
  local input = { source_kind = "meeting", source_id = m.id, created_on = m.date }
  for k, v in pairs(t) do
    if k ~= "decision" then input[k] = v end
  end
  local d = t.decision
  if d == nil then
    input.decision_no = db():value("SELECT max(no) FROM decision WHERE meeting_id = ?", m.id)
  elseif d ~= false then
    if getmetatable(d) == decisions.mt then
      if d.meeting_id ~= m.id then
        entity.invalid("tasks", "decision_no", "%s is a decision of another meeting", tostring(d))
      end
      d = d.no
    end
    input.decision_no = d
  end
  return entity.collection_named("tasks").add(input)
end

--- The tasks this meeting set.
function methods.tasks(m)
  return entity.collection_named("tasks").find{ source_kind = "meeting", source_id = m.id }
end

-- }====================

-- {==================== the collection ====================

meetings = entity.collection {
  name = "meetings", table = "meeting", label = "Meeting",
  fields = {
    { "team", "ref", to = "teams", required = true },
    { "kind", "enum", choices = KINDS, aliases = KIND_ALIASES, required = true,
      default = "posiedzenie zespołu", what = "meeting kind" },
    { "date", "date", required = true },
    { "days", "integer", min = 1, max = 366, default = 1 },
    { "place", "text" },
    { "agenda", "text" },
    { "protocol_no", "text" },
    { "protocol", "text" },
    { "status", "enum", choices = { "planned", "held", "cancelled" }, default = "planned", what = "meeting status" },
    { "notes", "text" },
  },
  display = { "id", "date", "kind", "status", "team.name", "place", "protocol_no" },
  order = "date",
  validate = function(row, old, coll)
    local c = db()
    local team = c:first("SELECT formed_on, dissolved_on FROM team WHERE id = ?", row.team_id)
    if row.date < team.formed_on then
      coll.invalid("date", "%s is before %s was formed (%s)", row.date, teams_mod.ref(get("teams", row.team_id)), team.formed_on)
    end
    if team.dissolved_on and row.date > team.dissolved_on then
      coll.invalid("date", "%s is after %s was dissolved (%s)", row.date, teams_mod.ref(get("teams", row.team_id)), team.dissolved_on)
    end
    if old and old.status == "held" and row.status ~= "held" then
      coll.invalid("status", "%s was held: it cannot become %s", tostring(meetings.wrap(old)), row.status)
    end
    if row.status == "held" and row.date > dates.today()
        and (not old or old.status ~= "held" or row.date ~= old.date) then
      coll.invalid("status", "a meeting on %s cannot be held yet (today is %s)", row.date, dates.today())
    end
    if row.protocol_no and (not old or row.protocol_no ~= old.protocol_no or row.team_id ~= old.team_id) then
      local other = c:value("SELECT id FROM meeting WHERE team_id = ? AND protocol_no = ? AND id IS NOT ?",
        row.team_id, row.protocol_no, row.id)
      if other then
        coll.invalid("protocol_no", "%s is the protocol of %s already", row.protocol_no, tostring(meetings.get(other)))
      end
    end
    if old and row.date > old.date then
      local due = c:value("SELECT min(due) FROM task WHERE source_kind = 'meeting' AND source_id = ?", row.id)
      if due and due < row.date then
        coll.invalid("date", "%s is after %s, the due date of a task of this meeting", row.date, due)
      end
    end
  end,
  methods = methods,
  tostring = function(m)
    local team = db():value("SELECT name FROM team WHERE id = ?", m.team_id)
    local s = ("Meeting#%d %s %s (%s), %s"):format(m.id, m.date, m.kind, m.status, team)
    if m.days > 1 then s = s .. (", %d days"):format(m.days) end
    if m.protocol_no then s = s .. ", protocol " .. m.protocol_no end
    return s
  end,
}
M.meetings = meetings
meetings.attendance = attendance
meetings.decisions = decisions
meetings.kinds = M.kinds

-- add and update fire meeting.held when a meeting becomes held, in the
-- same transaction (a handler's error undoes the change); with no handler
-- they are the plain ones.
local plain_add, plain_update = meetings.add, meetings.methods.update

--- Add a meeting (see the top of this file).
function meetings.add(input)
  if not events.listening("meeting.held") then return plain_add(input) end
  return db():tx(function()
    local m = plain_add(input)
    if m.status == "held" then events.emit("meeting.held", m) end
    return m
  end)
end

--- Change fields of a meeting.
function meetings.methods.update(m, input)
  if not events.listening("meeting.held") then return plain_update(m, input) end
  local was = m.status
  return db():tx(function()
    plain_update(m, input)
    if m.status == "held" and was ~= "held" then events.emit("meeting.held", m) end
    return m
  end)
end

-- }====================

require("koop.cli").topic {
  name = "meetings", summary = "meetings, attendance, decisions and their tasks",
  text = [[
m = meetings.add{team=, date=, kind=, days=, place=, agenda=, protocol_no=,
                 protocol=, status="held"}
    kinds: posiedzenie zespołu (posiedzenie), warsztat, Szkoła Kooperacji
    (szkoła), wizyta studyjna (wizyta), coaching, superwizja, badanie
    fokusowe (fokus), konsultacje; status planned, held, cancelled
m:attend(person, "obecny")   also nieobecny, usprawiedliwiony, zdalnie; a
                             list of people; again for a person updates
m:decide(text)               decisions numbered 1, 2, 3... per meeting
m:task{text=, owner=person|institution, due=, decision=n}
m:hold()  m:cancel()  m:attendance()  m:decisions()  m:tasks()  m:present()
Not before the team was formed; a task not due before its meeting. A
meeting that becomes held fires the event meeting.held (koop.on).]],
}

return M
