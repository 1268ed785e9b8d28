-- koop.procedures — each gmina's cooperation procedure as a versioned Lua
-- file: loaded and checked, installed into the database, pinned per case,
-- run on the domain's events inside their transactions, and tried out on
-- the open cases before it is adopted.
--
--   procedures.install(file)         -> the installed version (same name,
--                                       version and source again: a no-op)
--   procedures.list()  procedures.show(name [, version])
--   procedures.migrate(name, {to=, case=})   move open cases to a version
--   procedures.activate(name, version)       the version new cases get
--   procedures.dryrun(file)          what a file would do to the open cases
--   procedures.check(case, stage)    the requirements a stage change misses
--   procedures.tick{[on=]}           fire task.overdue, referral.overdue,
--                                    deadline.missed and plan.review_due once
--   procedures.deadlines{[case=, status=]}   procedures.notes(case)
--   c:has_consent([date])  c:procedures()  c:deadlines()   (case methods)
--
-- A procedure file returns koop.procedure{name=, version=, applies=,
-- stages=, requires=, on=, deadlines=, migrate=, settings=}; `koop help
-- procedures` documents the vocabulary (the text is at the end of this
-- file).  The file is checked when it loads: unknown events or stages,
-- wrong types and syntax errors are refused with the file and the line.
--
-- Design.  Installed versions live in procedure_version (source, SHA-256,
-- installed_at/by); a case is pinned to the version of each procedure that
-- took it on (case_procedure); new cases get the active version.  At load
-- this module registers one dispatcher for each event of the vocabulary;
-- a dispatcher finds the connection's procedures (koop.db; compiled once
-- per connection and version; the set is read again when a transaction
-- starts and the koop_meta counter procedures_generation has moved), the
-- case of the event and its pins, and runs the pinned versions' rules,
-- stage requirements and deadlines — all inside the transaction of the
-- change, so an error or a veto undoes it.  Rules run in an environment
-- without io, os, load, require, debug or package, under an instruction
-- limit: a count hook that raises only while procedure code runs (koop's
-- own code finishes its step first, so its state stays whole) and, once
-- the limit is passed, checks every instruction, so a pcall in the rule
-- cannot swallow the error.  The hook is set only when no other is (with
-- --timeout or after Ctrl-C the host's hook stops a runaway rule instead).
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local events = require "koop.events"
local audit = require "koop.audit"
local json = require "koop.json"
local dates = require "koop.dates"
local cases_mod = require "koop.cases"
-- The module itself uses debug (hooks, frames); rules never see it, nor
-- do --safe scripts: lib.c hands it to koop's modules as a third argument.
local debug = select(3, ...).debug

local M = {}
local db = entity.db
local invalid, show = entity.invalid, entity.show
local concat = table.concat
local getinfo, gethook, sethook = debug.getinfo, debug.gethook, debug.sethook
local is_error = koop.is_error

local DEFAULT_LIMIT = 10000000
local STAGES = cases_mod.stages
local CLOSED = "zakończona"
local STAGE_INDEX = {}
for i, s in ipairs(STAGES) do STAGE_INDEX[s] = i end

-- {==================== schema ====================

schema.define(90, "procedures: installed versions and the cases pinned to them", [[
CREATE TABLE procedure_version (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  version      TEXT NOT NULL,
  title        TEXT,
  file         TEXT NOT NULL,              -- the name errors and tracebacks use
  source       TEXT NOT NULL,
  hash         TEXT NOT NULL CHECK (length(hash) = 64),   -- SHA-256 of source
  installed_at TEXT NOT NULL,              -- UTC, YYYY-MM-DDTHH:MM:SSZ
  installed_by TEXT NOT NULL,
  active       INTEGER NOT NULL DEFAULT 0 CHECK (active = 0 OR active = 1),
  UNIQUE (name, version)
);
CREATE UNIQUE INDEX procedure_version_active_ix ON procedure_version(name) WHERE active = 1;
CREATE TABLE case_procedure (
  id           INTEGER PRIMARY KEY,
  case_id      INTEGER NOT NULL REFERENCES case_file(id),
  name         TEXT NOT NULL,
  procedure_id INTEGER NOT NULL REFERENCES procedure_version(id),
  since        TEXT NOT NULL,              -- the day the procedure took the case on
  UNIQUE (case_id, name)
);
-- covers the lookup every event of a case makes (its versions)
CREATE INDEX case_procedure_case_ix ON case_procedure(case_id, procedure_id);
CREATE INDEX case_procedure_procedure_ix ON case_procedure(procedure_id);
]])

schema.define(91, "procedure deadlines and notes", [[
CREATE TABLE procedure_deadline (
  id           INTEGER PRIMARY KEY,
  case_id      INTEGER NOT NULL REFERENCES case_file(id),
  procedure_id INTEGER NOT NULL REFERENCES procedure_version(id),
  key          TEXT NOT NULL,              -- its name in deadlines{}, or the rule's
  what         TEXT NOT NULL,
  subject_kind TEXT,                       -- 'referral', ...: the object it is about
  subject_id   INTEGER,                    --   (NULL: the case itself)
  started_on   TEXT NOT NULL,
  due          TEXT NOT NULL,
  counted      TEXT NOT NULL,              -- "14 dni roboczych": how due was counted
  status       TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'met' OR status = 'cancelled'),
  closed_on    TEXT,
  CHECK ((status = 'open') = (closed_on IS NULL)),
  CHECK (due >= started_on),
  CHECK ((subject_kind IS NULL) = (subject_id IS NULL))
);
CREATE INDEX procedure_deadline_case_ix ON procedure_deadline(case_id, status);
CREATE INDEX procedure_deadline_due_ix ON procedure_deadline(status, due);
CREATE TABLE procedure_note (
  id           INTEGER PRIMARY KEY,
  case_id      INTEGER NOT NULL REFERENCES case_file(id),
  procedure_id INTEGER NOT NULL REFERENCES procedure_version(id),
  rule         TEXT NOT NULL,
  date         TEXT NOT NULL,
  text         TEXT NOT NULL
);
CREATE INDEX procedure_note_case_ix ON procedure_note(case_id);
-- What procedures.tick has announced: each thing once per due date.
CREATE TABLE overdue_event (
  kind      TEXT NOT NULL,                 -- task, referral, deadline, plan
  object_id INTEGER NOT NULL,
  due       TEXT NOT NULL,
  fired_on  TEXT NOT NULL,
  PRIMARY KEY (kind, object_id, due)
) WITHOUT ROWID;
]])

-- }====================

-- {==================== small helpers ====================

-- Raise an "invalid" error of collection "procedures" about `field`.
local function refuse(field, fmt, ...) invalid("procedures", field, fmt, ...) end

-- The code points of s, as a list.
local function codepoints(s)
  local out = {}
  for _, c in utf8.codes(s) do out[#out + 1] = c end
  return out
end

-- Levenshtein distance of two UTF-8 strings.
local function distance(a, b)
  local x, y = codepoints(a), codepoints(b)
  local prev = {}
  for j = 0, #y do prev[j] = j end
  for i = 1, #x do
    local cur = { [0] = i }
    for j = 1, #y do
      local cost = x[i] == y[j] and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#y]
end

--- The name of `list` closest to `word` (nil when none is close).
function M.closest(word, list)
  if type(word) ~= "string" or not utf8.len(word) then return nil end
  local best, best_d = nil, math.max(2, utf8.len(word) // 2) + 1
  for _, name in ipairs(list) do
    local d = distance(word, name)
    if d < best_d then best, best_d = name, d end
  end
  return best
end

-- " (did you mean 'x'?)" or "".
local function suggest(word, list)
  local c = M.closest(word, list)
  return c and (" (did you mean '%s'?)"):format(c) or ""
end

-- A read-only view of table t (calls and reads go through; writes fail).
local function readonly(t, name)
  local mt = getmetatable(t)
  return setmetatable({}, {
    __index = t,
    __newindex = function(_, k)
      koop.raise{ code = "misuse", message = ("a procedure cannot change %s.%s"):format(name, tostring(k)) }
    end,
    __call = (type(mt) == "table" and mt.__call) and function(_, ...) return t(...) end or nil,
    __tostring = function() return tostring(t) end,
    __metatable = false,
  })
end

-- A copy of library table t without the names in `drop`.
local function copy(t, drop)
  local out = {}
  for k, v in pairs(t) do if not (drop and drop[k]) then out[k] = v end end
  return out
end

-- UTC timestamp of now.
local function timestamp() return os.date("!%Y-%m-%dT%H:%M:%SZ") end

-- The date of an event: its `date` field, else today.
local function event_date(event)
  local d = event and rawget(event, "date")
  if type(d) == "string" and dates.parse(d) then return d end
  return dates.today()
end

-- }====================

-- {==================== the vocabulary ====================

-- Each event a procedure may handle: what it is, and how to find its case
-- (nil: the event concerns no one case; the active versions handle it).
-- Case events pass the case; the others pass their object and give the
-- case as event.case (or event.case_id).
-- (The dispatcher asks before it gives the event its metatable: plain reads.)
local function case_itself(obj) return obj.id end
local function case_field(_, event)
  local id = event.case_id
  if id then return id end
  local c = event.case
  return c and c.id
end

M.events = {
  { "case.opened", "obj = the case; event.late: the procedure took the case on after it opened (a reason or a member added, a migration)", case_itself },
  { "case.reason_added", "obj = the case; event.code, event.reason", case_itself },
  { "case.stage_changed", "obj = the case; event.from, event.to", case_itself },
  { "case.closed", "obj = the case; event.outcome, event.forced", case_itself },
  { "consent.given", "obj = the consent (or statutory basis)", case_field },
  { "consent.withdrawn", "obj = the consent", case_field },
  { "plan.agreed", "obj = the plan", case_field },
  { "plan.revised", "obj = the new version; event.previous", case_field },
  { "plan.review_due", "obj = the plan: its review date came (event.due) *", case_field },
  { "referral.sent", "obj = the referral; event.previous when it was redirected", case_field },
  { "referral.received", "obj = the referral", case_field },
  { "referral.accepted", "obj = the referral", case_field },
  { "referral.rejected", "obj = the referral (its response_note says why)", case_field },
  { "referral.redirected", "obj = the old referral (the new one comes as referral.sent)", case_field },
  { "referral.started", "obj = the referral", case_field },
  { "referral.completed", "obj = the referral (its feedback)", case_field },
  { "referral.cancelled", "obj = the referral", case_field },
  { "referral.overdue", "obj = the referral: no answer by its response_due (event.due) *", case_field },
  { "service.delivered", "obj = the delivery; event.cost (grosze)", case_field },
  { "task.overdue", "obj = the task (of the case or its plan): past event.due *", case_field },
  { "deadline.missed", "obj = the procedure deadline: past event.due *", case_field },
  { "budget.line_low", "obj = the budget line; event.uncommitted, event.threshold; no case: every active version handles it", nil },
  { "meeting.held", "obj = the meeting; its case when the team is a case's task team (ZZK), else every active version handles it", nil },
}
local EVENT_NAMES, EVENT_CASE = {}, {}
-- Events that may concern no case: then the active versions handle them.
local ANY_CASE = { ["budget.line_low"] = true, ["meeting.held"] = true }
for i, e in ipairs(M.events) do
  EVENT_NAMES[i] = e[1]
  EVENT_CASE[e[1]] = e[3] or false
end

-- The case of a meeting of a case's task team (ZZK), or nil.
EVENT_CASE["meeting.held"] = function(obj)
  return db():value("SELECT id FROM case_file WHERE team_id = ? ORDER BY id LIMIT 1", obj.team_id)
end

local SPEC_KEYS = { "name", "version", "title", "description", "applies", "stages", "requires", "on",
  "deadlines", "migrate", "settings" }
local SPEC_SET = {}
for _, k in ipairs(SPEC_KEYS) do SPEC_SET[k] = true end
local SETTINGS = { working_days = "boolean", instruction_limit = "integer" }
local SETTING_NAMES = { "working_days", "instruction_limit" }
local DEADLINE_KEYS = { "what", "from", "when", "days", "weeks", "months", "working", "done", "stage" }

-- }====================

-- {==================== loading a procedure file ====================

-- The line of source `ctx` where one of the plain strings first occurs
-- outside a comment line; nil when none does.
local function line_of(ctx, ...)
  for _, needle in ipairs{ ... } do
    for i, line in ipairs(ctx.lines) do
      if not line:match("^%s*%-%-") and line:find(needle, 1, true) then return i end
    end
  end
  return nil
end

-- The line of source where brackets nest deepest (strings and comments
-- counted too: it only points at where the parser gave up).
local function deepest_line(source)
  local depth, deepest, line, at = 0, 0, 1, 1
  for c in source:gmatch("[%[%]{}()\n]") do
    if c == "\n" then
      line = line + 1
    elseif c == "{" or c == "(" or c == "[" then
      depth = depth + 1
      if depth > deepest then deepest, at = depth, line end
    else
      depth = depth - 1
    end
  end
  return at
end

-- Raise a load error at file:line (code "invalid", field procedure.<what>).
local function load_error(ctx, line, what, fmt, ...)
  koop.raise{ code = "invalid", field = "procedure." .. what,
    message = ("%s:%d: %s"):format(ctx.file, line or ctx.line or 1, fmt:format(...)) }
end

-- The line of a key `k` of a table in the source.
local function key_line(ctx, k)
  return line_of(ctx, '["' .. k .. '"]', "['" .. k .. "']", k .. " =", k .. "=")
end

-- The line of a string literal `v` in the source.
local function literal_line(ctx, v)
  return line_of(ctx, '"' .. v .. '"', "'" .. v .. "'")
end

-- The line a function was defined on.
local function fn_line(f) return getinfo(f, "S").linedefined end

-- Check that `v` is a stage name; returns it.
local function check_stage(ctx, v, what, line)
  if type(v) ~= "string" then
    load_error(ctx, line, what, "%s: a stage is a name (one of %s), got %s", what, concat(STAGES, ", "), show(v))
  end
  if not STAGE_INDEX[v] then
    load_error(ctx, line or literal_line(ctx, v) or key_line(ctx, v), what, "unknown stage '%s' in %s%s (stages: %s)",
      v, what, suggest(v, STAGES), concat(STAGES, ", "))
  end
  return v
end

-- Check that `v` is an event of the vocabulary; returns it.
local function check_event(ctx, v, what, line)
  if type(v) ~= "string" then
    load_error(ctx, line, what, "%s: an event is a name such as \"case.opened\", got %s", what, show(v))
  end
  if EVENT_CASE[v] == nil then
    load_error(ctx, line or literal_line(ctx, v) or key_line(ctx, v), what, "unknown event '%s' in %s%s (see koop help procedures)",
      v, what, suggest(v, EVENT_NAMES))
  end
  return v
end

-- `v` as a list of event names (one name or a list).
local function event_list(ctx, v, what)
  if v == nil then return {} end
  if type(v) == "string" then return { check_event(ctx, v, what) } end
  if type(v) ~= "table" then load_error(ctx, nil, what, "%s: expected an event name or a list of them, got %s", what, show(v)) end
  local out = {}
  for i, e in ipairs(v) do out[i] = check_event(ctx, e, what) end
  return out
end

-- "7 dni roboczych", "30 dni", "2 tygodnie", "3 miesiące" (Polish plurals).
local function plural(n, one, few, many)
  if n == 1 then return one end
  local t, h = n % 10, n % 100
  if t >= 2 and t <= 4 and (h < 12 or h > 14) then return few end
  return many
end
local function counted_text(d)
  if d.weeks then return ("%d %s"):format(d.weeks, plural(d.weeks, "tydzień", "tygodnie", "tygodni")) end
  if d.months then return ("%d %s"):format(d.months, plural(d.months, "miesiąc", "miesiące", "miesięcy")) end
  if d.working then
    return ("%d %s"):format(d.days, plural(d.days, "dzień roboczy", "dni robocze", "dni roboczych"))
  end
  return ("%d %s"):format(d.days, plural(d.days, "dzień", "dni", "dni"))
end

-- Check a deadline's length {days=|weeks=|months=, working=} for `what`;
-- returns the normalised {days=, weeks=, months=, working=}.
local function check_length(spec, working_default, fail)
  local out, given = {}, 0
  for _, f in ipairs{ "days", "weeks", "months" } do
    local n = spec[f]
    if n ~= nil then
      if math.type(n) ~= "integer" or n < 0 then fail(f, "%s must be a whole number of %s, at least 0 (got %s)", f, f, show(n)) end
      out[f], given = n, given + 1
    end
  end
  if given ~= 1 then fail("days", "give exactly one of days=, weeks= or months=") end
  if spec.working ~= nil and type(spec.working) ~= "boolean" then
    fail("working", "working must be true or false (got %s)", show(spec.working))
  end
  if out.days then
    out.working = spec.working
    if out.working == nil then out.working = working_default end
  elseif spec.working then
    fail("working", "working days count only with days=, not weeks or months")
  end
  out.counted = counted_text(out)
  return out
end

-- The last day of a deadline of length d counted from `from`.
local function due_date(d, from)
  return koop.deadline{ from = from, days = d.days, weeks = d.weeks, months = d.months, working = d.working or nil }
end

-- A list of rule records {P=, fn=, label=} from `v` (a function or a
-- list of them).
local function rule_list(ctx, P, v, label, line)
  if type(v) == "function" then return { { P = P, fn = v, label = label } } end
  if type(v) ~= "table" or #v == 0 then
    load_error(ctx, line, "on", "%s must be a function(obj, event) or a list of them, got %s", label, show(v))
  end
  local out = {}
  for i, f in ipairs(v) do
    if type(f) ~= "function" then
      load_error(ctx, line, "on", "%s[%d] must be a function(obj, event), got %s", label, i, show(f))
    end
    out[i] = { P = P, fn = f, label = ("%s[%d]"):format(label, i) }
  end
  return out
end

-- The checked procedure P of a declaration `spec` made in source ctx.
local function validate(ctx, spec)
  local P = { file = ctx.file, chunkname = ctx.chunkname, on = {}, requires = {}, starts = {}, ends = {},
    stage_ends = {}, deadlines = {}, deadline_by_key = {}, listens = {}, actors = {} }
  for k in pairs(spec) do
    if type(k) ~= "string" or not SPEC_SET[k] then
      load_error(ctx, type(k) == "string" and key_line(ctx, k) or nil, "spec", "unknown field '%s' in koop.procedure{}%s (fields: %s)",
        tostring(k), suggest(tostring(k), SPEC_KEYS), concat(SPEC_KEYS, ", "))
    end
  end
  -- name and version
  local name = spec.name
  if type(name) ~= "string" or not name:match("^[%w_%-%.\128-\255]+$") or not utf8.len(name) or #name > 60 then
    load_error(ctx, key_line(ctx, "name"), "name", "name must be one word (letters, digits, _ - .), got %s", show(name))
  end
  local version = spec.version
  if math.type(version) == "integer" then version = tostring(version) end
  if type(version) ~= "string" or not version:match("^[%w_%-%.]+$") or #version > 40 then
    load_error(ctx, key_line(ctx, "version"), "version", "version must be text such as \"2024-1\" (letters, digits, _ - .), got %s",
      show(spec.version))
  end
  P.name, P.version = name, version
  for _, f in ipairs{ "title", "description" } do
    if spec[f] ~= nil and type(spec[f]) ~= "string" then
      load_error(ctx, key_line(ctx, f), f, "%s must be text, got %s", f, show(spec[f]))
    end
  end
  P.title, P.description = spec.title, spec.description
  -- settings
  local settings = spec.settings or {}
  if type(settings) ~= "table" then load_error(ctx, key_line(ctx, "settings"), "settings", "settings must be a table, got %s", show(settings)) end
  for k, v in pairs(settings) do
    local want = SETTINGS[k]
    if not want then
      load_error(ctx, key_line(ctx, tostring(k)), "settings", "unknown setting '%s'%s (settings: %s)", tostring(k),
        suggest(tostring(k), SETTING_NAMES), concat(SETTING_NAMES, ", "))
    end
    if (want == "integer" and math.type(v) ~= "integer") or (want == "boolean" and type(v) ~= "boolean") then
      load_error(ctx, key_line(ctx, k), "settings", "settings.%s must be %s, got %s", k,
        want == "integer" and "a whole number" or "true or false", show(v))
    end
  end
  P.working_days = settings.working_days == true
  P.limit = settings.instruction_limit or DEFAULT_LIMIT
  if P.limit < 1000 or P.limit > 1000000000 then
    load_error(ctx, key_line(ctx, "instruction_limit"), "settings", "settings.instruction_limit must be from 1000 to 1000000000, got %d", P.limit)
  end
  -- applies, migrate
  for _, f in ipairs{ "applies", "migrate" } do
    if spec[f] ~= nil and type(spec[f]) ~= "function" then
      load_error(ctx, key_line(ctx, f), f, "%s must be a function(case, event), got %s", f, show(spec[f]))
    end
  end
  P.applies = spec.applies and { P = P, fn = spec.applies, label = "applies" }
  P.migrate = spec.migrate and { P = P, fn = spec.migrate, label = "migrate" }
  -- stages
  if spec.stages ~= nil then
    if type(spec.stages) ~= "table" or #spec.stages == 0 then
      load_error(ctx, key_line(ctx, "stages"), "stages", "stages must be a list of stage names (%s), got %s", concat(STAGES, ", "), show(spec.stages))
    end
    P.stages, P.stage_set = {}, {}
    for i, s in ipairs(spec.stages) do
      check_stage(ctx, s, "stages", type(s) ~= "string" and key_line(ctx, "stages") or nil)
      if P.stage_set[s] then load_error(ctx, literal_line(ctx, s), "stages", "stage '%s' is listed twice", s) end
      P.stages[i], P.stage_set[s] = s, true
    end
  end
  -- requires
  if spec.requires ~= nil then
    if type(spec.requires) ~= "table" then load_error(ctx, key_line(ctx, "requires"), "requires", "requires must be a table {stage = function(case, event)}, got %s", show(spec.requires)) end
    for stage, f in pairs(spec.requires) do
      local line = type(f) == "function" and fn_line(f) or nil
      check_stage(ctx, stage, "requires", line)
      if P.stage_set and not P.stage_set[stage] then
        load_error(ctx, line, "requires", "requires.%s: the stage is not in this procedure's stages (%s)", stage, concat(P.stages, ", "))
      end
      if type(f) ~= "function" then
        load_error(ctx, key_line(ctx, stage), "requires", "requires[\"%s\"] must be a function(case, event) returning true or a message, got %s", stage, show(f))
      end
      P.requires[stage] = { P = P, fn = f, label = ('requires["%s"]'):format(stage) }
    end
  end
  -- rules
  if spec.on ~= nil then
    if type(spec.on) ~= "table" then load_error(ctx, key_line(ctx, "on"), "on", "on must be a table {[\"event.name\"] = function(obj, event)}, got %s", show(spec.on)) end
    for ev, f in pairs(spec.on) do
      local line = type(f) == "function" and fn_line(f) or nil
      check_event(ctx, ev, "on", line)
      P.on[ev] = rule_list(ctx, P, f, ('on["%s"]'):format(ev), line or key_line(ctx, ev))
      P.listens[ev] = true
    end
  end
  -- deadlines
  if spec.deadlines ~= nil then
    if type(spec.deadlines) ~= "table" then load_error(ctx, key_line(ctx, "deadlines"), "deadlines", "deadlines must be a table {name = {from=, days=, ...}}, got %s", show(spec.deadlines)) end
    local keys = {}
    for k in pairs(spec.deadlines) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, key in ipairs(keys) do
      local d = spec.deadlines[key]
      local line = type(key) == "string" and key_line(ctx, key) or nil
      local function fail(_, fmt, ...)
        load_error(ctx, line, "deadlines", "deadlines[\"%s\"]: " .. fmt, tostring(key), ...)
      end
      if type(key) ~= "string" then load_error(ctx, nil, "deadlines", "a deadline is named by text, got %s", show(key)) end
      if type(d) ~= "table" then fail("", "expected a table {from=, days=, done=, ...}, got %s", show(d)) end
      for k in pairs(d) do
        local known = false
        for _, n in ipairs(DEADLINE_KEYS) do known = known or n == k end
        if not known then fail(k, "unknown field '%s'%s (fields: %s)", tostring(k), suggest(tostring(k), DEADLINE_KEYS), concat(DEADLINE_KEYS, ", ")) end
      end
      local D = check_length(d, P.working_days, fail)
      D.key = key
      D.what = d.what or key
      if type(D.what) ~= "string" then fail("what", "what must be text, got %s", show(d.what)) end
      D.from = check_event(ctx, d.from or "case.opened", "deadlines[\"" .. key .. "\"].from")
      if not EVENT_CASE[D.from] then
        fail("from", "a deadline belongs to a case: %s concerns no case", D.from)
      end
      D.subject = D.from:match("^(%a+)%.")
      if D.subject == "case" then D.subject = nil end
      if d.when ~= nil and type(d.when) ~= "function" then fail("when", "when must be a function(obj, event), got %s", show(d.when)) end
      D.when = d.when and { P = P, fn = d.when, label = ('deadlines["%s"].when'):format(key) }
      D.done = event_list(ctx, d.done, "deadlines[\"" .. key .. "\"].done")
      if d.stage ~= nil then
        D.stage = check_stage(ctx, d.stage, "deadlines[\"" .. key .. "\"].stage")
        if P.stage_set and not P.stage_set[D.stage] then
          fail("stage", "stage %s is not in this procedure's stages (%s)", D.stage, concat(P.stages, ", "))
        end
      end
      for _, e in ipairs(D.done) do
        if e == D.from then D.subject = nil end    -- recurring: each event meets the last and starts the next
      end
      if #D.done == 0 and not D.stage then
        fail("done", "say when it is met: done = \"event.name\" (or a list), or stage = \"stage\"")
      end
      P.deadlines[#P.deadlines + 1] = D
      P.deadline_by_key[key] = D
      local s = P.starts[D.from] or {}
      s[#s + 1] = D
      P.starts[D.from], P.listens[D.from] = s, true
      for _, e in ipairs(D.done) do
        local list = P.ends[e] or {}
        list[#list + 1] = D
        P.ends[e], P.listens[e] = list, true
      end
      if D.stage then P.stage_ends[#P.stage_ends + 1] = D end
    end
  end
  if P.stage_set or next(P.requires) or #P.stage_ends > 0 then
    P.listens["case.stage_changed"] = true   -- stage lists, requirements, stage deadlines
  end
  return P
end

-- }====================

-- {==================== the sandbox and the instruction limit ====================

-- Chunk names of every compiled procedure: the limit hook raises only in
-- frames of these sources.
local sources = {}
local depth = 0            -- rules running, nested (a rule's change runs more rules)
local current = nil        -- the innermost running rule {P=, label=}
local armed_limit = DEFAULT_LIMIT

-- The count hook of the instruction limit: after the limit, check every
-- instruction and raise as soon as procedure code runs.
local function on_limit()
  sethook(on_limit, "", 1)
  local info = getinfo(2, "S")
  if info and sources[info.source] then
    error(koop.error{ code = "limit",
      message = ("instruction limit of %d exceeded (does it loop forever?)"):format(armed_limit) }, 0)
  end
end

-- Marker of an error caught by guarded(): {CAUGHT, error, line}.
local CAUGHT = {}

-- xpcall message handler: the error and the line of the innermost frame
-- of procedure code (where a rule called what failed).
local function catch(e)
  for level = 2, 200 do
    local info = getinfo(level, "Sl")
    if not info then break end
    if sources[info.source] and info.currentline and info.currentline > 0 then
      return { CAUGHT, e, info.currentline }
    end
  end
  return { CAUGHT, e, nil }
end

-- Raise the error `e` of rule rec (line: where in the procedure it came).
local function rule_error(rec, e, line)
  if is_error(e) and e.procedure then error(e, 0) end    -- a nested rule's, named already
  local P = rec.P
  local code, msg, field
  if is_error(e) then
    code, msg, field = e.code, e.message, e.field
  else
    code, msg = "procedure", tostring(e):gsub("^[^\n]-:%d+: ", "", 1)
  end
  local at = ("%s:%s"):format(P.file, line and tostring(line) or "?")
  local text
  if code == "veto" then
    text = ("procedure %s %s, %s (%s) vetoed the change: %s"):format(P.name, P.version, rec.label, at, msg)
  else
    text = ("procedure %s %s, %s (%s): %s"):format(P.name, P.version, rec.label, at, msg)
  end
  koop.raise{ code = code, field = field, message = text, procedure = P.name, version = P.version,
    rule = rec.label, file = P.file, line = line, cause = e }
end

-- The audit actor while rules of P run: "anna [procedura seniorzy 2024-1]".
local function actor_of(P, base)
  base = base or "unknown"
  local a = P.actors[base]
  if not a then
    a = ("%s [procedura %s %s]"):format(base, P.name, P.version)
    P.actors[base] = a
  end
  return a
end

-- The actor when the outermost running rule began.
local base_actor = nil

--- Run rule rec = {P=, fn=, label=} with the arguments, sandboxed in time:
--- the instruction limit, errors named by procedure, rule and line.
local function guarded(rec, ...)
  local hook = gethook()
  if depth > 0 and hook == nil then
    -- rules are running but no hook is set: an interrupt or --timeout
    -- stopped them (the host's hook raises at every instruction, so the
    -- restoring below never ran) and the host cleared its hook since
    depth, current, koop.actor = 0, nil, base_actor
  end
  local armed = false
  if depth == 0 then
    base_actor = koop.actor
    if hook == nil then
      armed_limit = rec.P.limit
      sethook(on_limit, "", armed_limit)
      armed = true
    end
  end
  depth = depth + 1
  local outer, actor = current, koop.actor
  current = rec
  koop.actor = actor_of(rec.P, actor)
  local ok, a, b = xpcall(rec.fn, catch, ...)
  koop.actor, current = actor, outer
  depth = depth - 1
  if armed and gethook() == on_limit then sethook() end
  if not ok then
    if type(a) == "table" and a[1] == CAUGHT then rule_error(rec, a[2], a[3]) end
    rule_error(rec, a, nil)
  end
  return a, b
end

--- koop.veto(message): refuse the change the running rule reacts to.
function M.veto(msg)
  if msg ~= nil and type(msg) ~= "string" then msg = show(msg) end
  error(koop.error{ code = "veto", message = msg or "vetoed" }, 2)
end
koop.veto = M.veto

-- The declarations the sandboxed chunk returns.
local DECLARED = {}

-- The domain collections a rule may use (read-only views).
local DOMAIN = { gminas = true, institutions = true, people = true, resources = true, agreements = true,
  teams = true, meetings = true, tasks = true, cases = true, reasons = true, referrals = true,
  services = true, budgets = true, indicators = true }

-- A new environment for one procedure chunk: no io, os, load, require,
-- debug, package, coroutine, collectgarbage; domain collections read-only.
local function sandbox()
  local env = {}
  for _, k in ipairs{ "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring",
      "type", "xpcall", "rawequal", "rawlen", "rawget" } do
    env[k] = _G[k]
  end
  env.string = copy(string, { dump = true })
  env.table = copy(table)
  env.math = copy(math, { random = true, randomseed = true })
  env.utf8 = copy(utf8)
  local k = {
    today = function(d)
      if d ~= nil then koop.raise{ code = "misuse", message = "a procedure cannot set today's date" } end
      return dates.today()
    end,
    days = function(...) return koop.days(...) end,
    workdays = function(...) return koop.workdays(...) end,
    deadline = function(...) return koop.deadline(...) end,
    is_workday = function(...) return koop.is_workday(...) end,
    holidays = function(...) return koop.holidays(...) end,
    null = koop.null, veto = M.veto, raise = koop.raise, error = koop.error, is_error = koop.is_error,
    dates = readonly({ parse = dates.parse, add = dates.add, diff = dates.diff, weekday = dates.weekday,
      serial = dates.serial, from_serial = dates.from_serial, format_pl = dates.format_pl,
      days_in_month = dates.days_in_month }, "koop.dates"),
    procedure = function(spec)
      if type(spec) ~= "table" then
        koop.raise{ code = "invalid", field = "procedure", message = "koop.procedure{...} expects a table, got " .. show(spec) }
      end
      local info = getinfo(2, "l")
      return { [DECLARED] = true, spec = spec, line = info and info.currentline }
    end,
  }
  if rawget(koop, "money") then k.money = readonly(koop.money, "koop.money") end
  if rawget(koop, "text") then k.text = readonly(koop.text, "koop.text") end
  env.koop = readonly(k, "koop")
  local views = {}
  return setmetatable(env, {
    __index = function(_, name)
      if not DOMAIN[name] then return nil end
      local v = views[name]
      if v == nil then
        local coll = require("koop.domain").load(name)
        v = coll and readonly(coll, name) or false
        views[name] = v
      end
      return v or nil
    end,
  })
end

-- Compile procedure source: load it in a sandbox, run it under the
-- limit, check the declaration.  chunkname "@file".  Returns P.
local function compile(source, file)
  local chunkname = "@" .. file
  local ctx = { file = file, chunkname = chunkname, lines = {} }
  for line in (source .. "\n"):gmatch("([^\n]*)\n") do ctx.lines[#ctx.lines + 1] = line end
  if source:byte(1) == 27 then
    koop.raise{ code = "syntax", field = "procedure", message = file .. ":1: a procedure is Lua text, not a binary chunk" }
  end
  local chunk, err = load(source, chunkname, "t", sandbox())
  if not chunk then
    if not err:find(":%d+: ") then   -- a parser limit that Lua reports without a line
      err = ("%s:%d: %s (brackets nest too deeply)"):format(file, deepest_line(source), err)
    end
    koop.raise{ code = "syntax", field = "procedure", message = err }
  end
  sources[chunkname] = true
  local top = { P = { name = file, version = "", file = file, limit = DEFAULT_LIMIT, actors = {} },
    fn = chunk, label = "loading" }
  local ok, decl = pcall(guarded, top)
  if not ok then
    if not is_error(decl) or not decl.rule then error(decl, 0) end
    local cause = decl.cause
    local line = decl.line and decl.line > 0 and decl.line or line_of(ctx, "koop.procedure", "procedure") or 1
    koop.raise{ code = decl.code, field = "procedure", message = ("%s:%d: %s"):format(file, line,
      is_error(cause) and cause.message or tostring(cause):gsub("^[^\n]-:%d+: ", "", 1)) }
  end
  if type(decl) ~= "table" or not decl[DECLARED] then
    local last = #ctx.lines
    while last > 1 and not ctx.lines[last]:find("%S") do last = last - 1 end
    load_error(ctx, last, "spec", "the file must return koop.procedure{...} (it returned %s)", show(decl))
  end
  -- a tail call (`return koop.procedure{...}`) leaves no caller line: find it
  ctx.line = decl.line and decl.line > 0 and decl.line or line_of(ctx, "koop.procedure", "procedure") or 1
  local P = validate(ctx, decl.spec)
  P.source = source
  P.hash = koop.sha256(source)
  return P
end
M.compile = compile

-- }====================

-- {==================== collections ====================

-- Derived values the next write of a version sets (activation only).
local pending_version = nil

-- Text kept byte for byte (a procedure's source: its SHA-256 is of the
-- file as it was), unlike the text type, which trims.
entity.types.verbatim = entity.types.verbatim or {
  check = function(v)
    if type(v) ~= "string" then return nil, "expected text, got " .. type(v) end
    if not utf8.len(v) then return nil, "not valid UTF-8 text" end
    return v
  end,
}

local procedures = entity.collection {
  name = "procedures", table = "procedure_version", label = "Procedure",
  fields = {
    { "name", "text", required = true },
    { "version", "text", required = true },
    { "title", "text" },
    { "file", "text", required = true },
    { "source", "verbatim", required = true },
    { "hash", "text", required = true },
    { "installed_at", "text", required = true },
    { "installed_by", "text", required = true },
    { "active", "bool", derived = true },
  },
  display = { "id", "name", "version", "active", "installed_at", "installed_by", "short_hash" },
  order = { "name", "id" },
  validate = function(row, old, coll)
    local p = pending_version
    pending_version = nil
    if old then
      for _, f in ipairs{ "name", "version", "title", "file", "source", "hash", "installed_at", "installed_by" } do
        if row[f] ~= old[f] then coll.invalid(f, "an installed procedure does not change: install a new version") end
      end
      if not p then coll.invalid("active", "use procedures.activate(name, version)") end
    end
    row.active = p and p.active or false
  end,
  props = {
    --- The first 12 hex digits of the SHA-256 of the source.
    short_hash = function(p) return p.hash:sub(1, 12) end,
    --- The number of cases pinned to this version (open ones).
    open_cases = function(p)
      return db():value([[SELECT count(*) FROM case_procedure cp JOIN case_file f ON f.id = cp.case_id
        WHERE cp.procedure_id = ? AND f.status <> 'zakończona']], p.id)
    end,
  },
  tostring = function(p)
    return ("Procedure#%d %s %s%s sha256 %s, installed %s by %s"):format(p.id, p.name, p.version,
      p.active and " (active)" or "", p.hash:sub(1, 12), p.installed_at, p.installed_by)
  end,
}
M.procedures = procedures
local plain_add = procedures.add        -- install's; procedures.add refuses

-- Version of the pin the next case_procedure update records (migrate).
local pins = entity.collection {
  name = "case_procedures", table = "case_procedure", label = "CaseProcedure",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "name", "text", required = true },
    { "procedure", "ref", to = "procedures", required = true },
    { "since", "date", required = true },
  },
  display = { "case_id", "name", "version", "since" },
  order = { "case_id", "name" },
  validate = function(row, old, coll)
    if old and (row.case_id ~= old.case_id or row.name ~= old.name) then
      coll.invalid("case", "a pin keeps its case and procedure: migrate moves it to another version")
    end
    if db():value("SELECT name FROM procedure_version WHERE id = ?", row.procedure_id) ~= row.name then
      coll.invalid("procedure", "Procedure#%d is not a version of %s", row.procedure_id, row.name)
    end
  end,
  props = {
    version = function(p) return db():value("SELECT version FROM procedure_version WHERE id = ?", p.procedure_id) end,
  },
  tostring = function(p)
    local r = db():first([[SELECT f.code, v.version FROM case_file f, procedure_version v
      WHERE f.id = ? AND v.id = ?]], p.case_id, p.procedure_id)
    return ("%s under %s %s since %s"):format(r.code, p.name, r.version, p.since)
  end,
}

local DEADLINE_STATUSES = { "open", "met", "cancelled" }
-- The status and date the next deadline update records (met, cancel).
local pending_deadline = nil

local deadlines
deadlines = entity.collection {
  name = "procedure_deadlines", table = "procedure_deadline", label = "Deadline",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "procedure", "ref", to = "procedures", required = true },
    { "key", "text", required = true },
    { "what", "text", required = true },
    { "subject_kind", "text" },
    { "subject_id", "integer" },
    { "started_on", "date", required = true },
    { "due", "date", required = true },
    { "counted", "text", required = true },
    { "status", "enum", choices = DEADLINE_STATUSES, derived = true, what = "deadline status" },
    { "closed_on", "date", derived = true },
  },
  display = { "id", "status", "due", "what", "counted", "case.code" },
  order = { "due", "id" },
  validate = function(row, old, coll)
    local p = pending_deadline
    pending_deadline = nil
    if not old then
      row.status = "open"
    elseif p then
      row.status, row.closed_on = p.status, p.closed_on
    end
    if row.due < row.started_on then coll.invalid("due", "%s is before the deadline started (%s)", row.due, row.started_on) end
  end,
  props = {
    --- Open and past its due date (today: --today)?
    overdue = function(d) return d.status == "open" and d.due < dates.today() end,
    --- Was it met after its due date?
    late = function(d) return d.status == "met" and d.closed_on > d.due end,
  },
  methods = {
    --- Met on {date=} (default today).
    met = function(d, q)
      q = cases_mod.options("procedure_deadlines", "met", q, { "date" })
      if d.status ~= "open" then invalid("procedure_deadlines", "status", "Deadline#%d is %s already", d.id, d.status) end
      pending_deadline = { status = "met", closed_on = cases_mod.date_option("procedure_deadlines", "closed_on", q.date) }
      local ok, err = pcall(d.update, d, {})
      pending_deadline = nil
      if not ok then error(err, 0) end
      return d
    end,
    --- No longer counted (the case closed, the procedure changed).
    cancel = function(d, q)
      q = cases_mod.options("procedure_deadlines", "cancel", q, { "date" })
      if d.status ~= "open" then invalid("procedure_deadlines", "status", "Deadline#%d is %s already", d.id, d.status) end
      pending_deadline = { status = "cancelled", closed_on = cases_mod.date_option("procedure_deadlines", "closed_on", q.date) }
      local ok, err = pcall(d.update, d, {})
      pending_deadline = nil
      if not ok then error(err, 0) end
      return d
    end,
  },
  tostring = function(d)
    local r = db():first([[SELECT f.code, v.name, v.version FROM case_file f, procedure_version v
      WHERE f.id = ? AND v.id = ?]], d.case_id, d.procedure_id)
    local s = ('Deadline#%d %s due %s'):format(d.id, d.status, d.due)
    if d.status == "open" and d.due < dates.today() then s = s .. " (overdue)" end
    if d.closed_on then s = s .. " " .. d.status .. " " .. d.closed_on end
    return s .. (' "%s" (%s from %s) — %s, %s %s'):format(d.what, d.counted, d.started_on, r.code, r.name, r.version)
  end,
}
M.deadlines_collection = deadlines

local notes = entity.collection {
  name = "procedure_notes", table = "procedure_note", label = "Note",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "procedure", "ref", to = "procedures", required = true },
    { "rule", "text", required = true },
    { "date", "date", required = true },
    { "text", "text", required = true },
  },
  display = { "id", "date", "text", "rule" },
  order = { "case_id", "id" },
  tostring = function(n) return ('Note#%d %s "%s" (%s)'):format(n.id, n.date, n.text, n.rule) end,
}

-- }====================

-- {==================== per-connection state ====================

-- db -> { txid=, gen=, any = (a version is installed), active = {[name] =
-- id}, active_names = {...}, compiled = {[id] = P}, pins = {[case_id] =
-- list of P or false}, complete = (pins holds every case), misses = n }.
local states = setmetatable({}, { __mode = "k" })

local GEN = "SELECT value FROM koop_meta WHERE key = 'procedures_generation'"
local ACTIVE = "SELECT name, id FROM procedure_version WHERE active = 1 ORDER BY name"
local ANY = "SELECT 1 FROM procedure_version LIMIT 1"

-- Read the installed versions of db into st.
local function reload(st, cn, gen)
  st.gen, st.active, st.active_names, st.compiled = gen, {}, {}, {}
  for name, id in cn:urows(ACTIVE) do
    st.active[name] = id
    st.active_names[#st.active_names + 1] = name
  end
  st.any = cn:value(ANY) ~= nil
end

-- The procedure state of connection cn, fresh for its transaction.
local function state(cn)
  local st = states[cn]
  local txid = cn:txid()
  if st and st.txid == txid then return st end
  local gen = cn:value(GEN)
  if not st then
    st = {}
    states[cn] = st
    reload(st, cn, gen)
  elseif gen ~= st.gen then
    reload(st, cn, gen)
  end
  st.pins, st.complete, st.misses, st.txid = {}, false, 0, txid
  return st
end

-- Record a change of the installed versions (other connections see the
-- new generation at their next transaction) and read them again.
local function changed(cn)
  local gen = tostring((tonumber(schema.meta(cn, "procedures_generation")) or 0) + 1)
  schema.set_meta(cn, "procedures_generation", gen)
  local st = states[cn] or {}
  states[cn] = st
  reload(st, cn, gen)
  st.pins, st.complete, st.misses, st.txid = {}, false, 0, cn:txid()
  return st
end

-- The compiled version `id` of st (compiled on first use; its hash must
-- match its source).
local function version_of(st, cn, id)
  local P = st.compiled[id]
  if P then return P end
  local r = cn:first("SELECT name, version, file, source, hash, active FROM procedure_version WHERE id = ?", id)
  if not r then koop.raise{ code = "notfound", message = ("no installed procedure with id %s"):format(tostring(id)) } end
  if koop.sha256(r.source) ~= r.hash then
    koop.raise{ code = "corrupt", field = "procedures.source", message = ("procedure %s %s: its source in the database does not match its SHA-256 (changed outside koop?)")
      :format(r.name, r.version) }
  end
  P = compile(r.source, r.file)
  if P.name ~= r.name or P.version ~= r.version then
    koop.raise{ code = "corrupt", field = "procedures.source", message = ("procedure %s %s: its source declares %s %s"):format(r.name, r.version, P.name, P.version) }
  end
  P.id, P.active = id, r.active == 1
  st.compiled[id] = P
  return P
end

-- The compiled versions of a list of ids "3" or "3,7", by name.
local function by_name(a, b) return a.name < b.name end
local function versions(st, cn, ids)
  if tonumber(ids) then return { version_of(st, cn, tonumber(ids)) } end
  local list = {}
  for id in ids:gmatch("%d+") do list[#list + 1] = version_of(st, cn, tonumber(id)) end
  table.sort(list, by_name)
  return list
end

-- The compiled versions pinned to case `case_id` (false: none), by name.
-- Read once per case and transaction: every event of a case asks, and a
-- batch (a year of deliveries) asks for every case.  A lookup costs about
-- as much as reading twenty pins in a scan, so once a transaction has
-- asked for a twentieth of the pins one by one, all are read at once.
local PINS = "SELECT group_concat(procedure_id) FROM case_procedure WHERE case_id = ?"
local ALL_PINS = "SELECT case_id, procedure_id FROM case_procedure"
local PIN_COUNT = "SELECT max(id) FROM case_procedure"     -- pins are never deleted
local function read_all_pins(st, cn)
  local pins, single, several = st.pins, {}, {}
  for case_id, id in cn:urows(ALL_PINS) do
    local known = pins[case_id]
    if known == nil then
      local P = version_of(st, cn, id)
      local l = single[P]                  -- cases with one version share its list
      if not l then l = { P }; single[P] = l end
      pins[case_id] = l
    elseif several[case_id] then
      local l = known
      l[#l + 1] = version_of(st, cn, id)
    elseif known ~= false and single[known[1]] == known then
      local l = { known[1], version_of(st, cn, id) }
      pins[case_id], several[case_id] = l, true
    end                                    -- else: known in this transaction already
  end
  for case_id in pairs(several) do table.sort(pins[case_id], by_name) end
  st.complete = true
end

local function pins_of(st, cn, case_id)
  local list = st.pins[case_id]
  if list ~= nil then return list end
  if st.complete then return false end
  local misses = st.misses + 1
  st.misses = misses
  if misses >= 256 and misses & (misses - 1) == 0 and misses * 20 >= (cn:value(PIN_COUNT) or 0) then
    read_all_pins(st, cn)
    return st.pins[case_id] or false
  end
  local ids = cn:value(PINS, case_id)
  list = ids and versions(st, cn, ids) or false
  st.pins[case_id] = list
  return list
end

-- Forget the pins of a case (they changed): it is read again when asked.
local function forget_pins(st, case_id)
  st.pins[case_id], st.complete = nil, false
end

-- }====================

-- {==================== deadlines and stages at work ====================

-- The collection of the objects each kind of event is about.
local SUBJECTS = { referral = "referrals", plan = "plans", consent = "consents", service = "services",
  task = "tasks", deadline = "procedure_deadlines", meeting = "meetings" }

-- The id of event object `obj` when it is a `kind` (a deadline's subject).
local function subject_id(kind, obj)
  if not kind or obj == nil then return nil end
  local name = SUBJECTS[kind]
  if name and getmetatable(obj) == entity.collection_named(name).mt then return obj.id end
  return nil
end

local OPEN_DEADLINE = [[SELECT id FROM procedure_deadline WHERE case_id = ? AND key = ? AND status = 'open'
  AND procedure_id IN (SELECT id FROM procedure_version WHERE name = ?) AND subject_id IS ?]]

-- Start deadline D of P for the case (unless an open one is running).
local function start_deadline(P, D, case_id, obj, event)
  local sid = subject_id(D.subject, obj)
  if D.subject and not sid then return end
  if db():value(OPEN_DEADLINE, case_id, D.key, P.name, sid) then return end
  if D.when and not guarded(D.when, obj, event) then return end
  local from = event_date(event)
  deadlines.add{ case = case_id, procedure = P.id, key = D.key, what = D.what, subject_kind = D.subject,
    subject_id = sid, started_on = from, due = due_date(D, from), counted = D.counted }
end

local CLOSE_DEADLINES = [[SELECT id FROM procedure_deadline WHERE case_id = ?1 AND key = ?2 AND status = 'open'
  AND procedure_id IN (SELECT id FROM procedure_version WHERE name = ?3) AND (?4 IS NULL OR subject_id = ?4)]]

-- Mark met the open deadlines D of P for the case (of the event's subject).
local function meet_deadlines(P, D, case_id, obj, event)
  local sid = subject_id(D.subject, obj)
  local date = event_date(event)
  for _, id in ipairs(db():query(CLOSE_DEADLINES, case_id, D.key, P.name, sid)) do
    deadlines.get(id.id):met{ date = date }
  end
end

-- Run requirement r of P for moving `case` to `stage`; raise a veto when
-- it answers a message (its text) or a false value.
local function require_stage(P, r, case, stage, event)
  local ok = guarded(r, case, event)
  if ok and type(ok) ~= "string" then return end
  koop.raise{ code = "veto", field = "cases.status", procedure = P.name, version = P.version, rule = r.label,
    message = ("procedure %s %s, %s (%s:%d) refused stage %s for %s: %s"):format(P.name, P.version, r.label,
      P.file, fn_line(r.fn), stage, case.code, type(ok) == "string" and ok or "the requirement is not met") }
end

-- Refuse a stage change P does not allow: a stage outside its list (the
-- closing stage excepted), or a requirement not met.
local function check_stage_change(P, case, event)
  local to = rawget(event, "to")
  if to == nil then return end
  if to ~= CLOSED and P.stage_set and not P.stage_set[to] then
    koop.raise{ code = "veto", field = "cases.status", procedure = P.name, version = P.version, rule = "stages",
      message = ("procedure %s %s has no stage %s (its stages: %s); %s stays %s"):format(P.name, P.version, to,
        concat(P.stages, ", "), case.code, tostring(rawget(event, "from"))) }
  end
  local r = P.requires[to]
  if r then require_stage(P, r, case, to, event) end
end

-- Deadlines met (or cancelled, when the case closes) by a stage change.
local function stage_deadlines(P, case_id, event)
  local to = rawget(event, "to")
  if not to or to == CLOSED then return end
  for _, D in ipairs(P.stage_ends) do
    if STAGE_INDEX[to] >= STAGE_INDEX[D.stage] then meet_deadlines(P, D, case_id, nil, event) end
  end
end

-- Close the case's open deadlines: met those whose stage is zakończona,
-- cancel the others.
local function close_case_deadlines(list, case_id, event)
  local date = event_date(event)
  for _, P in ipairs(list) do
    for _, D in ipairs(P.stage_ends) do
      if D.stage == CLOSED then meet_deadlines(P, D, case_id, nil, event) end
    end
  end
  for _, r in ipairs(db():query("SELECT id FROM procedure_deadline WHERE case_id = ? AND status = 'open' ORDER BY id", case_id)) do
    deadlines.get(r.id):cancel{ date = date }
  end
end

-- }====================

-- {==================== dispatch ====================

-- What rules reach through `event` besides its fields: the case (read
-- once, when asked), veto, note and deadline.
local EVENT_METHODS = {}
local EVENT_MT = {
  __index = function(ev, k)
    if k == "case" then
      local id = rawget(ev, "case_id")
      local c = id and entity.collection_named("cases").get(id) or nil
      rawset(ev, "case", c)
      return c
    end
    return EVENT_METHODS[k]
  end,
}

--- event:veto(message): refuse the change (the same as koop.veto).
function EVENT_METHODS.veto(_, msg) M.veto(msg) end

-- The running rule and the case of `ev`, for note and deadline.
local function rule_case(ev, what)
  if not current or not current.P.id then
    koop.raise{ code = "misuse", message = "event:" .. what .. " works inside a procedure's rule" }
  end
  local id = rawget(ev, "case_id") or (ev.case and ev.case.id)
  if not id then koop.raise{ code = "misuse", message = ("event:%s: the event %s concerns no case"):format(what, tostring(rawget(ev, "name"))) } end
  return current, id
end

--- event:note(text): a note on the case from the running rule.
function EVENT_METHODS.note(ev, text)
  local rec, case_id = rule_case(ev, "note")
  return notes.add{ case = case_id, procedure = rec.P.id, rule = rec.label, date = dates.today(), text = text }
end

--- event:deadline{what=, days=|weeks=|months=, working=, key=, from=}: a
--- deadline of the running procedure for the case.
function EVENT_METHODS.deadline(ev, q)
  local rec, case_id = rule_case(ev, "deadline")
  if type(q) ~= "table" then invalid("procedure_deadlines", "deadline", "event:deadline{what=, days=, ...} expects a table, got %s", show(q)) end
  for k in pairs(q) do
    if k ~= "what" and k ~= "days" and k ~= "weeks" and k ~= "months" and k ~= "working" and k ~= "key" and k ~= "from" then
      invalid("procedure_deadlines", tostring(k), "unknown option of event:deadline (known: what, days, weeks, months, working, key, from)")
    end
  end
  if type(q.what) ~= "string" then invalid("procedure_deadlines", "what", "is required: what must be done by the deadline") end
  local D = check_length(q, rec.P.working_days, function(field, fmt, ...) invalid("procedure_deadlines", field, fmt, ...) end)
  local from = cases_mod.date_option("procedure_deadlines", "from", q.from, event_date(ev))
  return deadlines.add{ case = case_id, procedure = rec.P.id, key = q.key or q.what, what = q.what,
    started_on = from, due = due_date(D, from), counted = D.counted }
end

-- Run everything version P does on event `name` for case `case_id`.
local function handle(P, name, obj, event, case_id)
  if case_id then
    if name == "case.stage_changed" then
      check_stage_change(P, obj, event)
      stage_deadlines(P, case_id, event)
    end
    local ends = P.ends[name]
    if ends then for i = 1, #ends do meet_deadlines(P, ends[i], case_id, obj, event) end end
    local starts = P.starts[name]
    if starts then for i = 1, #starts do start_deadline(P, starts[i], case_id, obj, event) end end
  end
  local rules = P.on[name]
  if rules then
    for i = 1, #rules do guarded(rules[i], obj, event) end
  end
end

-- Pin the case to each active procedure not pinned yet whose applies()
-- holds; returns the versions newly pinned (or nil).
local function adopt(st, cn, case, event)
  local list = { table.unpack(pins_of(st, cn, case.id) or {}) }
  local have = {}
  for _, P in ipairs(list) do have[P.name] = true end
  local added
  for _, name in ipairs(st.active_names) do
    if not have[name] then
      local P = version_of(st, cn, st.active[name])
      if not P.applies or guarded(P.applies, case, event) then
        pins.add{ case = case.id, name = name, procedure = P.id, since = event_date(event) }
        list[#list + 1] = P
        added = added or {}
        added[#added + 1] = P
      end
    end
  end
  if added then
    table.sort(list, by_name)
    st.pins[case.id] = list
  end
  return added
end

-- Run case.opened of the versions in `added`, which take on an open case
-- later (a reason added, a migration): event.late, and the fields of `extra`.
local function start_late(added, case, date, extra)
  local ev = setmetatable({ name = "case.opened", date = date, late = true, case = case, case_id = case.id }, EVENT_MT)
  for k, v in pairs(extra) do ev[k] = v end
  for _, P in ipairs(added) do handle(P, "case.opened", case, ev, case.id) end
end

-- The dispatcher of event `name`.
local function dispatcher(name)
  local find_case = EVENT_CASE[name]
  local is_case_event = name:match("^case%.") ~= nil
  return function(obj, event)
    local cn = koop.db
    if cn == nil then return end
    local st = states[cn]
    if not st or st.txid ~= cn:txid() then st = state(cn) end
    if not st.any then return end
    local case_id = find_case and find_case(obj, event) or nil
    if is_case_event then event.case = obj end
    setmetatable(event, EVENT_MT)
    if case_id then
      event.case_id = case_id
      local added
      if name == "case.opened" then
        adopt(st, cn, obj, event)
      elseif name == "case.reason_added" then
        added = adopt(st, cn, obj, event)
        if added then start_late(added, obj, event_date(event), { reason = rawget(event, "code") }) end
      end
      local list = pins_of(st, cn, case_id)
      if not list then return end
      for i = 1, #list do
        local P = list[i]
        if P.listens[name] then handle(P, name, obj, event, case_id) end
      end
      if name == "case.stage_changed" and rawget(event, "to") == CLOSED then
        close_case_deadlines(list, case_id, event)
      end
    elseif ANY_CASE[name] then
      for _, pname in ipairs(st.active_names) do
        local P = version_of(st, cn, st.active[pname])
        if P.on[name] then handle(P, name, obj, event, nil) end
      end
    end
  end
end

for _, name in ipairs(EVENT_NAMES) do events.on(name, dispatcher(name)) end

-- A member added to an open case may make a procedure apply (applies()
-- often asks about the members: "someone aged 60 or more").
events.on("case_member.added", function(member)
  local cn = koop.db
  if cn == nil then return end
  local st = states[cn]
  if not st or st.txid ~= cn:txid() then st = state(cn) end
  if not st.any or #st.active_names == 0 then return end
  local case = member.case
  if case.status == CLOSED then return end
  local ev = { name = "case.member_added", member = member, case = case, case_id = case.id, date = dates.today() }
  local added = adopt(st, cn, case, ev)
  if added then start_late(added, case, ev.date, { member = member }) end
end)

-- }====================

-- {==================== install, list, show, activate ====================

-- The path of `file` as given, or next to the script that named it (a
-- test file installs "seniorzy.lua" from its own directory).
local function resolve(file)
  local f, why = io.open(file, "rb")
  if f then return f, file end
  if not file:match("^/") then
    for level = 2, 30 do
      local info = getinfo(level, "S")
      if not info then break end
      local src = info.source
      if src:sub(1, 1) == "@" and src:sub(1, 7) ~= "@[koop]" then
        local dir = src:match("^@(.*/)")
        if dir then
          local path = dir .. file
          f = io.open(path, "rb")
          if f then return f, path end
        end
        break
      end
    end
  end
  return nil, why
end

-- The source text of a procedure file, and the path it was read from.
local function read_file(file)
  if type(file) ~= "string" or file == "" then
    refuse("file", "expected the path of a procedure file (.lua), got %s", show(file))
  end
  if require("koop.cli").config.safe then
    koop.raise{ code = "auth", message = "procedures cannot read files with --safe" }
  end
  local f, path = resolve(file)
  if not f then koop.raise{ code = "io", field = "procedures.file", message = ("cannot open the procedure file %s"):format(path) } end
  local text, err = f:read("a")
  f:close()
  if not text then koop.raise{ code = "io", field = "procedures.file", message = ("%s: %s"):format(path, tostring(err)) } end
  return text, path
end

-- The short file name stored with a version ("seniorzy.lua").
local function base_name(path) return path:match("([^/]+)$") or path end

local FIND = "SELECT id, hash, installed_at, installed_by FROM procedure_version WHERE name = ? AND version = ?"

-- Write version v's active flag through the collection (audited).
local function set_active(v, flag)
  pending_version = { active = flag }
  local ok, err = pcall(v.update, v, {})
  pending_version = nil
  if not ok then error(err, 0) end
  return v
end

-- Make version v of its procedure the active one (inside a transaction).
local function make_active(cn, v)
  local was = cn:value("SELECT id FROM procedure_version WHERE name = ? AND active = 1", v.name)
  if was == v.id then return v end
  if was then set_active(procedures.get(was), false) end
  set_active(v, true)
  changed(cn)
  return v
end

-- Install compiled P on cn and make it active; returns the version object
-- and whether it was new (the same name, version and source: not new).
local function install_compiled(cn, P)
  local old = cn:first(FIND, P.name, P.version)
  if old then
    if old.hash == P.hash then return procedures.get(old.id), false end
    refuse("version", "procedure %s version %s is installed already with other source (sha256 %s, installed %s by %s); give the changed file a new version",
      P.name, P.version, old.hash:sub(1, 12), old.installed_at, old.installed_by)
  end
  return cn:tx(function()
    pending_version = { active = false }
    local ok, v = pcall(plain_add, { name = P.name, version = P.version, title = P.title, file = P.file,
      source = P.source, hash = P.hash, installed_at = timestamp(), installed_by = koop.actor or "unknown" })
    pending_version = nil
    if not ok then error(v, 0) end
    make_active(cn, v)
    return v, true
  end)
end

--- Install the procedure in `file` (checked first); the same name,
--- version and source again is a no-op.  Returns the version object and
--- true when it was installed now.
function M.install(file)
  local source, path = read_file(file)
  local P = compile(source, base_name(path))
  return install_compiled(db(), P)
end

-- The installed version of `name` (`version`, else the active one).
local function find_version(name, version)
  if type(name) ~= "string" then refuse("name", "expected a procedure name, got %s", show(name)) end
  local cn = db()
  if version ~= nil then
    if math.type(version) == "integer" then version = tostring(version) end
    local id = cn:value("SELECT id FROM procedure_version WHERE name = ? AND version = ?", name, version)
    if id then return procedures.get(id) end
  else
    local id = cn:value("SELECT id FROM procedure_version WHERE name = ? ORDER BY active DESC, id DESC LIMIT 1", name)
    if id then return procedures.get(id) end
  end
  local known = {}
  for v in cn:urows("SELECT version FROM procedure_version WHERE name = ? ORDER BY id", name) do known[#known + 1] = v end
  if #known == 0 then
    local names = {}
    for n in cn:urows("SELECT DISTINCT name FROM procedure_version ORDER BY name") do names[#names + 1] = n end
    refuse("name", "no procedure %s is installed%s (installed: %s)", name, suggest(name, names),
      #names > 0 and concat(names, ", ") or "none")
  end
  refuse("version", "procedure %s has no version %s (installed: %s)", name, tostring(version), concat(known, ", "))
end
M.find = find_version

--- The installed versions, as a table.
function M.list() return procedures.find{ order = { "name", "id" } } end

--- Make version `version` of `name` the one new cases get (open cases
--- stay where they are: see migrate).
function M.activate(name, version)
  if version == nil then refuse("version", "activate(%s, VERSION): which version?", show(name)) end
  local v = find_version(name, version)
  local cn = db()
  return cn:tx(make_active, cn, v)
end

-- Names of a table's keys, sorted.
local function keys_of(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- What a version declares: {version=, stages=, requires=, events=,
--- deadlines=, open_cases=, source=} (prints as a readable summary).
function M.show(name, version)
  local v = find_version(name, version)
  local cn = db()
  local P = version_of(state(cn), cn, v.id)
  local out = { procedure = v, name = v.name, version = v.version, title = P.title, active = v.active,
    stages = P.stages or STAGES, requires = keys_of(P.requires), events = keys_of(P.on),
    deadlines = {}, open_cases = v.open_cases, source = v.source, applies = P.applies ~= nil,
    migrate = P.migrate ~= nil, working_days = P.working_days, limit = P.limit }
  for _, D in ipairs(P.deadlines) do
    out.deadlines[#out.deadlines + 1] = { key = D.key, what = D.what, from = D.from, counted = D.counted,
      done = #D.done > 0 and concat(D.done, ", ") or nil, stage = D.stage }
  end
  return setmetatable(out, { __tostring = function(s)
    local lines = {
      tostring(s.procedure),
      s.title and ("  " .. s.title) or nil,
    }
    local function add(fmt, ...) lines[#lines + 1] = fmt:format(...) end
    add("  file %s, sha256 %s", v.file, v.hash)
    add("  stages: %s", concat(s.stages, " → "))
    if #s.requires > 0 then add("  requires: %s", concat(s.requires, ", ")) end
    add("  applies: %s", s.applies and "a function (applies(case))" or "every case")
    add("  rules on: %s", #s.events > 0 and concat(s.events, ", ") or "none")
    for _, d in ipairs(s.deadlines) do
      add("  deadline %s: %s from %s, met by %s", d.key, d.counted, d.from, d.done or ("stage " .. d.stage))
    end
    add("  deadlines counted in %s; instruction limit %d per rule", s.working_days and "working days" or "calendar days", s.limit)
    add("  open cases pinned to this version: %d", s.open_cases)
    return concat(lines, "\n")
  end })
end

-- }====================

-- {==================== migrate and dryrun ====================

local OPEN_PINNED = [[
SELECT cp.case_id, cp.procedure_id FROM case_procedure cp JOIN case_file f ON f.id = cp.case_id
 WHERE cp.name = ? AND f.status <> 'zakończona' ORDER BY cp.case_id]]
local OPEN_UNPINNED = [[
SELECT f.id FROM case_file f WHERE f.status <> 'zakończona'
   AND NOT EXISTS (SELECT 1 FROM case_procedure cp WHERE cp.case_id = f.id AND cp.name = ?) ORDER BY f.id]]

-- Move case c (open) to version P; old is the version it had (nil: the
-- procedure takes it on now).  Inside the caller's transaction.
local function move_case(st, cn, c, P, old)
  if old then
    if old.id == P.id then return end
    if P.stage_set and not P.stage_set[c.status] then
      koop.raise{ code = "veto", field = "cases.status", procedure = P.name, version = P.version, rule = "stages",
        message = ("%s is in stage %s, which procedure %s %s does not have (its stages: %s)"):format(c.code, c.status,
          P.name, P.version, concat(P.stages, ", ")) }
    end
    pins.find{ case = c.id, name = P.name }[1]:update{ procedure = P.id }
    -- open deadlines follow the new version: counted again, or dropped
    for _, d in ipairs(deadlines.find{ case = c.id, status = "open",
        where = "procedure_id IN (SELECT id FROM procedure_version WHERE name = ?)", args = { P.name } }) do
      local D = P.deadline_by_key[d.key]
      if D then
        d:update{ procedure = P.id, due = due_date(D, d.started_on), counted = D.counted }
      else
        d:cancel{}
      end
    end
    forget_pins(st, c.id)
    if P.migrate then
      local ev = setmetatable({ name = "procedure.migrated", from = old.version, to = P.version, case = c,
        case_id = c.id, date = dates.today() }, EVENT_MT)
      guarded(P.migrate, c, ev)
    end
  else
    if P.applies and not guarded(P.applies, c, { name = "procedure.migrated", case = c, date = dates.today() }) then
      return false
    end
    pins.add{ case = c.id, name = P.name, procedure = P.id, since = dates.today() }
    forget_pins(st, c.id)
    start_late({ P }, c, dates.today(), { migrated = true })
  end
  return true
end

-- The open cases version P would take: {case, old version or nil}.
local function open_cases_for(st, cn, P, only)
  local list = {}
  local cases = entity.collection_named("cases")
  for r in cn:rows(OPEN_PINNED, P.name) do
    if r.procedure_id ~= P.id and (not only or only == r.case_id) then
      list[#list + 1] = { case = cases.get(r.case_id), old = version_of(st, cn, r.procedure_id) }
    end
  end
  for id in cn:urows(OPEN_UNPINNED, P.name) do
    if not only or only == id then list[#list + 1] = { case = cases.get(id) } end
  end
  table.sort(list, function(a, b) return a.case.id < b.case.id end)
  return list
end

-- The case `v` (a Case, its id or its code), or raise.
local function case_arg(v, field)
  local cases = entity.collection_named("cases")
  if getmetatable(v) == cases.mt then return v end
  local c = type(v) == "string" and cases.find{ code = v }[1] or cases.get(v)
  if not c then refuse(field, "no case %s", show(v)) end
  return c
end

--- Move the open cases of procedure `name` to version {to=} (all, or
--- {case=} one): cases pinned to another version, and open cases the
--- procedure does not have yet whose applies() holds.  All or nothing;
--- audited.  Returns a table of the cases moved.
function M.migrate(name, q)
  q = cases_mod.options("procedures", "migrate", q, { "to", "case" })
  if q.to == nil then refuse("version", "migrate(%s, {to = VERSION}): the version to move to is required", show(name)) end
  local v = find_version(name, q.to)
  local cn = db()
  local only
  if q.case ~= nil then
    local c = case_arg(q.case, "case")
    if c.status == CLOSED then refuse("case", "%s is closed (%s): only open cases move", c.code, c.closed_on) end
    only = c.id
  end
  return cn:tx(function()
    local st = state(cn)
    local P = version_of(st, cn, v.id)
    local rows = {}
    for _, item in ipairs(open_cases_for(st, cn, P, only)) do
      local ok, moved = pcall(move_case, st, cn, item.case, P, item.old)
      if not ok then
        if is_error(moved) then moved.message = ("%s: %s"):format(item.case.code, moved.message) end
        error(moved, 0)
      end
      if moved then
        rows[#rows + 1] = { case = item.case.code, from = item.old and item.old.version or "—", to = P.version }
      end
    end
    if only and #rows == 0 then
      local c = case_arg(only, "case")
      local pinned = cn:value("SELECT procedure_id FROM case_procedure WHERE case_id = ? AND name = ?", only, P.name)
      if pinned ~= P.id then refuse("case", "procedure %s does not apply to %s (applies() is false)", P.name, c.code) end
    end
    audit.append(cn, "migrate", "procedures", v.id, nil, json.encode{ name = P.name, version = P.version,
      cases = #rows, case = only and case_arg(only, "case").code or nil })
    return koop.resultset(rows, { "case", "from", "to" })
  end)
end

-- Snapshot of what a case has: stage, deadlines, tasks, referrals, notes.
local function snapshot(cn, case_id)
  local s = { status = cn:value("SELECT status FROM case_file WHERE id = ?", case_id), deadlines = {} }
  for r in cn:rows("SELECT id, key, what, due, status FROM procedure_deadline WHERE case_id = ?", case_id) do
    s.deadlines[r.id] = r
  end
  s.task = cn:value("SELECT coalesce(max(id), 0) FROM task")
  s.referral = cn:value("SELECT coalesce(max(id), 0) FROM referral")
  s.note = cn:value("SELECT coalesce(max(id), 0) FROM procedure_note")
  return s
end

-- The rows of a dry-run report for one case: before a and after b.
local function differences(cn, code, a, b, out)
  local function add(change, detail) out[#out + 1] = { case = code, change = change, detail = detail } end
  if a.status ~= b.status then add("stage", a.status .. " → " .. b.status) end
  local ids = {}
  for id in pairs(b.deadlines) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local old, new = a.deadlines[id], b.deadlines[id]
    if not old then
      add("new deadline", ("%s: due %s"):format(new.what, new.due))
    elseif old.due ~= new.due and new.status == "open" then
      add("deadline moved", ("%s: %s → %s"):format(new.what, old.due, new.due))
    elseif old.status ~= new.status then
      add(new.status == "cancelled" and "deadline dropped" or "deadline " .. new.status, ("%s (due %s)"):format(new.what, old.due))
    end
  end
  for r in cn:rows([[SELECT t.text, t.due, coalesce(i.name, p.first_name || ' ' || p.last_name) AS owner FROM task t
      LEFT JOIN institution i ON i.id = t.owner_institution_id LEFT JOIN person p ON p.id = t.owner_person_id
      WHERE t.id > ? ORDER BY t.id]], a.task) do
    add("new task", ("%s%s%s"):format(r.text, r.due and (", due " .. r.due) or "", r.owner and (" — " .. r.owner) or ""))
  end
  for r in cn:rows([[SELECT r.id, i.name FROM referral r JOIN institution i ON i.id = r.to_institution_id
      WHERE r.id > ? ORDER BY r.id]], a.referral) do
    add("new referral", "to " .. r.name)
  end
  for r in cn:rows("SELECT text FROM procedure_note WHERE id > ? ORDER BY id", a.note) do add("note", r.text) end
end

-- The marker error that rolls a dry run back.
local ROLLBACK = setmetatable({}, { __tostring = function() return "dry run rolled back" end })

--- What the procedure in `file` would do to the open cases if it were
--- installed and they were moved to it (procedures.migrate): stage
--- changes, new, moved and dropped deadlines, tasks, referrals, notes and
--- vetoes, as a table {case, change, detail} with .cases (the cases it
--- would take or refuse) and .vetoes.  Nothing is written: it runs in a
--- transaction (or savepoint) that is rolled back.
function M.dryrun(file)
  local source, path = read_file(file)
  local P = compile(source, base_name(path))
  local cn = db()
  local rows, report = {}, {}
  local ok, err = pcall(cn.tx, cn, function()
    local v = install_compiled(cn, P)
    local st = state(cn)
    local NP = version_of(st, cn, v.id)
    report.cases, report.vetoes = 0, 0
    for _, item in ipairs(open_cases_for(st, cn, NP)) do
      local c = item.case
      local before = snapshot(cn, c.id)
      local good, res = pcall(cn.tx, cn, function()
        local moved = move_case(state(cn), cn, c, NP, item.old)
        if moved == false then return false end
        local after = snapshot(cn, c.id)
        local out = {}
        out[1] = { case = c.code, change = item.old and "version" or "taken on",
          detail = item.old and (("%s %s → %s"):format(NP.name, item.old.version, NP.version))
            or (("%s %s"):format(NP.name, NP.version)) }
        differences(cn, c.code, before, after, out)
        return out
      end)
      if good then
        if res then
          report.cases = report.cases + 1
          for _, r in ipairs(res) do rows[#rows + 1] = r end
        end
      else
        report.cases, report.vetoes = report.cases + 1, report.vetoes + 1
        rows[#rows + 1] = { case = c.code, change = is_error(res, "veto") and "veto" or "error",
          detail = is_error(res) and res.message or tostring(res) }
      end
    end
    error(ROLLBACK, 0)
  end)
  if not ok and err ~= ROLLBACK then error(err, 0) end
  local rs = koop.resultset(rows, { "case", "change", "detail" })
  rs.procedure, rs.version, rs.cases, rs.vetoes = P.name, P.version, report.cases, report.vetoes
  return rs
end

--- The requirements of the case's procedures that a move to `stage`
--- misses now: a list of messages (empty: it may move).
function M.check(case, stage)
  local c = case_arg(case, "case")
  if not STAGE_INDEX[stage] then refuse("stage", "unknown stage %s%s (stages: %s)", show(stage), suggest(tostring(stage), STAGES), concat(STAGES, ", ")) end
  local cn = db()
  local st = state(cn)
  local out = {}
  local ev = setmetatable({ name = "case.stage_changed", from = c.status, to = stage, case = c, case_id = c.id,
    date = dates.today() }, EVENT_MT)
  for _, P in ipairs(pins_of(st, cn, c.id) or {}) do
    local ok, err = pcall(check_stage_change, P, c, ev)
    if not ok then out[#out + 1] = is_error(err) and err.message or tostring(err) end
  end
  return out
end

-- }====================

-- {==================== the overdue sweep ====================

local TICK = {
  { kind = "task", event = "task.overdue", sql = [[
    SELECT t.id, t.due, CASE t.source_kind WHEN 'case' THEN t.source_id
             WHEN 'plan' THEN (SELECT case_id FROM plan WHERE id = t.source_id) END AS case_id
      FROM task t WHERE t.status IN ('open', 'in_progress') AND t.due IS NOT NULL AND t.due < ?1
       AND NOT EXISTS (SELECT 1 FROM overdue_event o WHERE o.kind = 'task' AND o.object_id = t.id AND o.due = t.due)
     ORDER BY t.due, t.id]], collection = "tasks" },
  { kind = "referral", event = "referral.overdue", sql = [[
    SELECT r.id, r.response_due AS due, r.case_id FROM referral r
     WHERE r.status IN ('sent', 'received') AND r.response_due < ?1
       AND NOT EXISTS (SELECT 1 FROM overdue_event o WHERE o.kind = 'referral' AND o.object_id = r.id AND o.due = r.response_due)
     ORDER BY r.response_due, r.id]], collection = "referrals" },
  { kind = "deadline", event = "deadline.missed", sql = [[
    SELECT d.id, d.due, d.case_id FROM procedure_deadline d WHERE d.status = 'open' AND d.due < ?1
       AND NOT EXISTS (SELECT 1 FROM overdue_event o WHERE o.kind = 'deadline' AND o.object_id = d.id AND o.due = d.due)
     ORDER BY d.due, d.id]], collection = "procedure_deadlines" },
  { kind = "plan", event = "plan.review_due", sql = [[
    SELECT p.id, p.review_on AS due, p.case_id FROM plan p
     WHERE p.status = 'agreed' AND p.review_on IS NOT NULL AND p.review_on <= ?1
       AND NOT EXISTS (SELECT 1 FROM overdue_event o WHERE o.kind = 'plan' AND o.object_id = p.id AND o.due = p.review_on)
     ORDER BY p.review_on, p.id]], collection = "plans" },
}

--- Fire task.overdue, referral.overdue, deadline.missed and
--- plan.review_due once for each thing overdue (a review: due) on {on=}
--- (default today; not after today), in one transaction.  Returns the
--- counts {task=, referral=, deadline=, plan=}.  A read-only database is
--- left alone.
function M.tick(q)
  q = cases_mod.options("procedures", "tick", q, { "on" })
  local on = cases_mod.date_option("procedures", "on", q.on)
  if on > dates.today() then refuse("on", "%s is after today (%s): overdue events fire for days that came", on, dates.today()) end
  local cn = db()
  local counts = { task = 0, referral = 0, deadline = 0, plan = 0 }
  if cn:readonly() then return counts end
  cn:tx(function()
    for _, t in ipairs(TICK) do
      local coll = entity.collection_named(t.collection)
      for _, r in ipairs(cn:query(t.sql, on)) do
        cn:exec("INSERT INTO overdue_event (kind, object_id, due, fired_on) VALUES (?, ?, ?, ?)", t.kind, r.id, r.due, on)
        local obj = coll.get(r.id)
        events.emit(t.event, obj, { date = on, due = r.due, days = dates.diff(r.due, on), case_id = r.case_id })
        counts[t.kind] = counts[t.kind] + 1
      end
    end
  end)
  return counts
end

-- }====================

-- {==================== reading ====================

--- Procedure deadlines: {case=, status=, procedure=} (a result set).
function M.deadlines(q)
  q = cases_mod.options("procedure_deadlines", "deadlines", q, { "case", "status", "order" })
  local find = { order = q.order or { "due", "id" } }
  if q.case ~= nil then find.case = case_arg(q.case, "case").id end
  if q.status ~= nil then find.status = q.status end
  return deadlines.find(find)
end

--- The notes procedures made on case `case`.
function M.notes(case) return notes.find{ case = case_arg(case, "case").id } end

-- Case methods: has_consent, procedures, deadlines (added to the case
-- objects' methods, which the entity framework allows).
local case_methods = entity.collection_named("cases").methods

local ANY_BASIS = [[
SELECT 1 FROM consent WHERE case_id = ?1 AND given_on <= ?2 AND (withdrawn_on IS NULL OR withdrawn_on > ?2)
   AND (expires_on IS NULL OR expires_on >= ?2) LIMIT 1]]

if not case_methods.has_consent then
  --- Is a consent or statutory basis of the case in force on `date`
  --- (default today)?
  function case_methods.has_consent(c, date)
    date = cases_mod.date_option("cases", "date", date)
    return db():value(ANY_BASIS, c.id, date) ~= nil
  end
end

--- The procedures the case is under (its pins).
function case_methods.procedures(c) return pins.find{ case = c.id } end

--- The case's procedure deadlines.
function case_methods.deadlines(c) return deadlines.find{ case = c.id } end

-- The global `procedures`: the collection with the functions above.
for _, k in ipairs{ "install", "list", "show", "activate", "migrate", "dryrun", "check", "tick",
    "deadlines", "notes" } do
  procedures[k] = M[k]
end
procedures.add = function()
  refuse("add", "procedures are installed from their file: procedures.install(file)")
end
procedures.events = EVENT_NAMES

-- }====================

-- {==================== the command and the help topic ====================

local cli = require "koop.cli"

-- Print a result set, or a line saying there is nothing in it.
local function print_rows(rows, empty)
  if #rows == 0 then print(empty) else print(rows) end
end

-- The subcommands of `koop procedure`: name -> function(opts, pos).
local sub = {}

function sub.install(_, pos)
  if #pos == 0 then cli.usage_error("procedure install: which file? (koop procedure install FILE...)") end
  local cn = cli.open()
  local done = cn:tx(function()
    local out = {}
    for _, file in ipairs(pos) do
      local v, new = M.install(file)
      out[#out + 1] = new
        and ("installed %s %s from %s (sha256 %s); new cases get this version"):format(v.name, v.version, file, v.hash:sub(1, 12))
        or ("%s %s is installed already with the same source: nothing to do"):format(v.name, v.version)
    end
    return out
  end)
  for _, line in ipairs(done) do print(line) end
end

function sub.list()
  cli.open()
  print_rows(M.list(), "no procedures are installed (koop procedure install FILE)")
end

function sub.show(opts, pos)
  if not pos[1] then cli.usage_error("procedure show: which procedure? (koop procedure show NAME [VERSION])") end
  cli.open()
  local s = M.show(pos[1], pos[2])
  print(s)
  if opts.source then io.write("\n", s.source, s.source:sub(-1) == "\n" and "" or "\n") end
end

function sub.migrate(opts, pos)
  if not pos[1] then cli.usage_error("procedure migrate: which procedure? (koop procedure migrate NAME --to VERSION [--case CODE])") end
  if not opts.to then cli.usage_error("procedure migrate: --to VERSION is required") end
  cli.open()
  local rows = M.migrate(pos[1], { to = opts.to, case = opts.case })
  print_rows(rows, ("no open case to move to %s %s"):format(pos[1], opts.to))
end

function sub.dryrun(_, pos)
  if not pos[1] then cli.usage_error("procedure dryrun: which file? (koop procedure dryrun FILE)") end
  cli.open()
  local rows = M.dryrun(pos[1])
  print(("%s %s would take %d open case%s; %d refused; nothing was written"):format(rows.procedure, rows.version,
    rows.cases, rows.cases == 1 and "" or "s", rows.vetoes))
  if #rows > 0 then print(rows) end
end

function sub.activate(_, pos)
  if not pos[2] then cli.usage_error("procedure activate: koop procedure activate NAME VERSION") end
  cli.open()
  local v = M.activate(pos[1], pos[2])
  print(("%s %s is active: new cases get it"):format(v.name, v.version))
end

cli.command {
  name = "procedure", summary = "install, list, show, migrate and try out procedures",
  usage = [[koop procedure install FILE...
koop procedure list
koop procedure show NAME [VERSION] [--source]
koop procedure dryrun FILE
koop procedure migrate NAME --to VERSION [--case CODE]
koop procedure activate NAME VERSION]],
  options = { ["--to"] = "string", ["--case"] = "string", ["--source"] = "flag" },
  text = [[
install   check FILE and store it in the database (source, SHA-256, version,
          when and by whom); it becomes the version new cases get. The
          same name, version and source again does nothing; the same name
          and version with other source is refused: give it a new version.
list      the installed versions
show      what a version declares: stages, requirements, rules, deadlines,
          the open cases pinned to it; --source prints its source too
dryrun    what FILE would do to the open cases if it were installed and
          they were moved to it: stage changes, new, moved and dropped
          deadlines, tasks, referrals, notes, vetoes. Writes nothing.
migrate   move the open cases of NAME (or only --case CODE) to VERSION: those
          pinned to another version, and those it does not have yet whose
          applies() holds. All or nothing; audited.
activate  make VERSION the one new cases get (open cases stay)
See `koop help procedures` for how to write one.]],
  run = function(opts, pos)
    local name = table.remove(pos, 1)
    local fn = name and sub[name]
    if not fn then
      cli.usage_error("procedure: %s (one of: install, list, show, dryrun, migrate, activate)",
        name and ("unknown subcommand '" .. name .. "'") or "which subcommand?")
    end
    return fn(opts, pos) or 0
  end,
}

-- The events of the vocabulary, one per line (descriptions wrapped).
local function events_help()
  local out = {}
  for _, e in ipairs(M.events) do
    local line, first = "", true
    for word in e[2]:gmatch("%S+") do
      if #line > 0 and utf8.len(line) + 1 + utf8.len(word) > 54 then
        out[#out + 1] = ("  %-20s %s"):format(first and e[1] or "", line)
        line, first = word, false
      else
        line = #line > 0 and line .. " " .. word or word
      end
    end
    out[#out + 1] = ("  %-20s %s"):format(first and e[1] or "", line)
  end
  return concat(out, "\n")
end

cli.topic {
  name = "procedures", summary = "writing a cooperation procedure: the vocabulary",
  text = [[
A procedure is a Lua file kept under version control, installed with
`koop procedure install FILE`, and tested with `koop test`:

  return koop.procedure {
    name = "seniorzy", version = "2024-1",      -- one word; text
    title = "Aktywizacja seniorów",            -- optional
    applies = function(case) return case:has_reason("6") end,
    stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" },
    requires = {
      plan = function(case) return case:has_consent() or "zgoda wymagana" end,
    },
    on = {
      ["case.opened"] = function(case, event)
        case:task{ text = "Wizyta w domu seniora", due = koop.workdays(7, event.date) }
      end,
    },
    deadlines = {
      diagnoza = { from = "case.opened", days = 30, what = "Diagnoza", stage = "plan" },
    },
    settings = { working_days = true },
  }

name, version   which procedure; a case keeps the version that took it on
title, description   optional text
applies(case, event)   optional: which cases it takes on. Asked when a case
          opens and, until it holds, whenever a reason or a member is added
          (then the case.opened rules run with event.late = true and
          event.reason or event.member)
stages    the case stages it uses (of zgłoszona, diagnoza, plan, realizacja,
          monitoring, zakończona); moving a case to another one is vetoed
          (closing always goes)
requires  stage = function(case, event): entry requirement of a stage;
          return true, or a message saying what is missing (false or
          nothing: "the requirement is not met"); a miss vetoes the move
on        ["event"] = function(obj, event) or a list of them: rules
deadlines name = {from=EVENT (default "case.opened"), days=N | weeks=N |
          months=N, working=true|false, what=TEXT, done=EVENT or {EVENT...},
          stage=STAGE (met when the case reaches it or a later stage),
          when=function(obj, event) (start only if true)}. A deadline
          counts from event.date as KPA art. 57 does (the day of the event
          is not counted; one ending on a Saturday or a holiday moves to the
          next working day); one started by a referral (or another object)
          is met by the done event of that same object; one whose done
          event is its from event recurs (each delivered service meets the
          running "next visit" deadline and starts the next). Closing the
          case cancels its open deadlines (those with stage="zakończona"
          are met).
migrate(case, event)   optional: runs when `koop procedure migrate` moves
          an open case to this version (event.from, event.to: versions)
settings  working_days = true: deadlines count working days unless they
          say working = false; instruction_limit = N (default 10000000)

Events (obj, event): event.name, event.date, event.case (the case; read
when asked), event.case_id, and what each event adds:
]] .. events_help() .. [[

* fired once each by procedures.tick{}, which `koop due` runs (and tests
  after travel()), for what has become overdue (a review: due) by today.

What rules do: anything the domain API does — case:task{text=, due=,
owner=}, case:refer{to=, ...}, case:set_stage("realizacja"), case:close{},
referral:..., and:
  event:veto("message")      or koop.veto("message"): refuse the change
  event:note("text")         a note on the case (procedures.notes(case))
  event:deadline{what=, days=, working=}   a deadline of this procedure
Available to rules: the domain collections (cases, referrals, services,
tasks, institutions, people, resources, teams, meetings, reasons, budgets,
indicators, agreements, gminas; read-only tables), string, table, math
(without random), utf8, pairs, ipairs, pcall, error, type, tostring,
tonumber, select, next, assert, and koop.today(), koop.days(n),
koop.workdays(n [, from]), koop.deadline{...}, koop.is_workday(d),
koop.holidays(y), koop.dates, koop.money, koop.text, koop.null,
koop.veto. Not available: io, os, load, require, dofile, debug, package,
coroutine, print.

Rules run inside the transaction of the change that caused them: an error
or a veto undoes the whole change, and the message names the procedure,
the rule and the line (procedure seniorzy 2024-1, on["case.opened"]
(seniorzy.lua:14): ...). A rule that runs more than instruction_limit Lua
instructions (its own and those of what it calls) is stopped the same way;
a pcall in the rule does not catch that (with --timeout, or after Ctrl-C,
koop's own stop does it instead). Changes made by rules are audited with
the actor "NAME [procedura seniorzy 2024-1]".

A case is pinned to the version that took it on; a new version is for new
cases until `koop procedure migrate NAME --to VERSION` moves the open ones
(try it first: `koop procedure dryrun FILE`). Case methods: c:has_consent(
[date]) (a consent or statutory basis in force), c:procedures(),
c:deadlines(). procedures.check(case, stage) lists what a move would miss.
In Lua: procedures.install(file), .list(), .show(name [, version]),
.migrate(name, {to=, case=}), .activate(name, version), .dryrun(file),
.tick{on=}, .deadlines{case=, status=}, .notes(case).]],
}

-- }====================

return M
