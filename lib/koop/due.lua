-- koop.due — `koop due`: what is overdue and what comes next, across the
-- four kinds of things with a date: tasks, answers to referrals, plan
-- reviews and procedure deadlines.  Grouped by kind, or by owner; exit
-- status 3 when something is overdue, so that cron can mail it.
--
--   due.list{[on=, within=14, by="institution" | "person"]}
--       a result set of {group, kind, state, due, days_left, case, what,
--       institution, person}, sorted by group, overdue first, then by
--       date; fields .overdue, .upcoming, .on, .until
--
-- Owners: a task's owner; for a referral the institution that has to
-- answer; for a plan review and a procedure deadline the case's
-- coordinator (and the coordinator's institution, else the institution
-- that reported the case).
local koop = require "koop"
local cli = require "koop.cli"
local dates = require "koop.dates"
local entity = require "koop.entity"

local M = {}
local concat = table.concat

local KINDS = { "task", "referral", "plan review", "deadline" }
local KIND_TITLES = { task = "Tasks", referral = "Answers to referrals", ["plan review"] = "Plan reviews",
  deadline = "Procedure deadlines" }
local KIND_RANK = {}
for i, k in ipairs(KINDS) do KIND_RANK[k] = i end

-- The case's code and its owner (coordinator, institution) by case id.
local CASE_OWNER = [[
SELECT f.code, p.first_name || ' ' || p.last_name AS person,
       coalesce((SELECT name FROM institution WHERE id = p.institution_id),
                (SELECT name FROM institution WHERE id = f.source_institution_id)) AS institution
  FROM case_file f LEFT JOIN person p ON p.id = f.coordinator_id WHERE f.id = ?]]

local REFERRALS = [[
SELECT r.id, r.response_due AS due, r.case_id, r.service_type, r.status,
       fi.short AS from_short, fi.name AS from_name, ti.name AS institution
  FROM referral r JOIN institution fi ON fi.id = r.from_institution_id
  JOIN institution ti ON ti.id = r.to_institution_id
 WHERE r.status IN ('sent', 'received') AND r.response_due <= ? ORDER BY r.response_due, r.id]]

local DEADLINES = [[
SELECT d.id, d.due, d.case_id, d.what, d.counted, v.name, v.version
  FROM procedure_deadline d JOIN procedure_version v ON v.id = d.procedure_id
 WHERE d.status = 'open' AND d.due <= ? ORDER BY d.due, d.id]]

-- The case id of a task's source (a case or a plan of one), or nil.
local function task_case(cn, kind, id)
  if kind == "case" then return id end
  if kind == "plan" then return cn:value("SELECT case_id FROM plan WHERE id = ?", id) end
  return nil
end

--- Everything overdue on {on=} (default today) or due within {within=}
--- days after it, by kind or by owner {by=}.
function M.list(q)
  q = q or {}
  if type(q) ~= "table" then entity.invalid("due", "list", "due.list{on=, within=, by=} expects a table, got %s", entity.show(q)) end
  for k in pairs(q) do
    if k ~= "on" and k ~= "within" and k ~= "by" then
      entity.invalid("due", tostring(k), "unknown option (known: on, within, by)")
    end
  end
  local on = q.on or dates.today()
  dates.check(on, "due.on")
  local within = q.within or 14
  if math.type(within) ~= "integer" or within < 0 then
    entity.invalid("due", "within", "expected a whole number of days, at least 0 (got %s)", entity.show(within))
  end
  local by = q.by
  if by ~= nil and by ~= "institution" and by ~= "person" then
    entity.invalid("due", "by", "expected \"institution\" or \"person\" (got %s)", entity.show(by))
  end
  local cn = entity.db()
  local until_ = dates.add(on, within)
  local today = dates.serial(on)
  local owners = {}
  local function case_owner(id)
    if not id then return nil end
    local o = owners[id]
    if not o then o = cn:first(CASE_OWNER, id); owners[id] = o end
    return o
  end
  local rows = {}
  local function add(kind, id, due, case_id, what, institution, person, overdue)
    local o = case_owner(case_id)
    rows[#rows + 1] = { kind = kind, id = id, due_iso = due, days_left = dates.serial(due) - today,
      state = overdue and "overdue" or "upcoming", case = o and o.code, what = what,
      institution = institution, person = person }
  end
  for _, t in ipairs(require("koop.tasks").tasks.due{ on = on, within = within }) do
    add("task", t.id, t.due, task_case(cn, t.source_kind, t.source_id), t.text, t.institution, t.person, t.due < on)
  end
  for r in cn:rows(REFERRALS, until_) do
    add("referral", r.id, r.due, r.case_id, ("answer to the referral from %s%s (%s)"):format(r.from_short or r.from_name,
      r.service_type and (", " .. r.service_type) or "", r.status), r.institution, nil, r.due < on)
  end
  for _, p in ipairs(require("koop.plans").reviews_due{ on = on, within = within }) do
    local o = case_owner(p.case_id)
    add("plan review", p.id, p.review_on, p.case_id, ("review of %s v%d"):format(p.type, p.version),
      o and o.institution, o and o.person, p.review_on < on)
  end
  for d in cn:rows(DEADLINES, until_) do
    local o = case_owner(d.case_id)
    add("deadline", d.id, d.due, d.case_id, ("%s (%s, %s %s)"):format(d.what, d.counted, d.name, d.version),
      o and o.institution, o and o.person, d.due < on)
  end
  local overdue = 0
  for _, r in ipairs(rows) do
    if r.state == "overdue" then overdue = overdue + 1 end
    if by == "institution" then r.group = r.institution or "(no institution)"
    elseif by == "person" then r.group = r.person or "(no person)"
    else r.group = KIND_TITLES[r.kind] end
  end
  local compare = koop.text and koop.text.compare or function(a, b) return a < b and -1 or a > b and 1 or 0 end
  table.sort(rows, function(a, b)
    if a.group ~= b.group then
      if by then
        local ua, ub = a.group:sub(1, 1) == "(", b.group:sub(1, 1) == "("
        if ua ~= ub then return ub end
        return compare(a.group, b.group) < 0
      end
      return KIND_RANK[a.kind] < KIND_RANK[b.kind]
    end
    if a.state ~= b.state then return a.state == "overdue" end
    if a.due_iso ~= b.due_iso then return a.due_iso < b.due_iso end
    if a.kind ~= b.kind then return KIND_RANK[a.kind] < KIND_RANK[b.kind] end
    return a.id < b.id
  end)
  for _, r in ipairs(rows) do r.due = dates.format_pl(r.due_iso) end
  local columns = by and { "group", "kind", "state", "due", "days_left", "case", "what", by == "institution" and "person" or "institution" }
    or { "group", "state", "due", "days_left", "case", "what", "institution", "person" }
  rows = koop.resultset(rows, columns)
  rows.overdue, rows.upcoming, rows.on, rows["until"] = overdue, #rows - overdue, on, until_
  return rows
end

-- Print rows of list() in groups, each under its heading (box, table,
-- markdown and line modes), or as one table (csv, json: for machines).
local function print_groups(rows)
  local mode = koop.mode()
  if mode == "csv" or mode == "json" then print(rows) return end
  local columns = {}
  for i = 2, #rows.columns do columns[#columns + 1] = rows.columns[i] end
  local i = 1
  while i <= #rows do
    local group, part, over = rows[i].group, {}, 0
    while i <= #rows and rows[i].group == group do
      part[#part + 1] = rows[i]
      if rows[i].state == "overdue" then over = over + 1 end
      i = i + 1
    end
    print(("\n%s: %d overdue, %d upcoming"):format(group, over, #part - over))
    print(koop.resultset(part, columns))
  end
end

cli.command {
  name = "due", summary = "what is overdue and what comes next (exit status 3: something is overdue)",
  usage = "koop due [--on DATE] [--within DAYS] [--by institution|person] [--no-sweep]",
  options = { ["--on"] = "date", ["--within"] = "string", ["--by"] = { "institution", "person" }, ["--no-sweep"] = "flag" },
  text = [[
Lists what is overdue on DATE (default today: --today, $KOOP_TODAY) and
what falls due in the next DAYS days (default 14): open tasks, answers to
referrals (sent or received, not answered), reviews of agreed plans and
procedure deadlines, grouped by kind, or by owner with --by (a task's
owner; the institution that must answer a referral; the case's
coordinator for plan reviews and deadlines). Dates are Polish
(DD.MM.YYYY); days_left is negative for days late. --mode csv or json
prints one table for machines.
Before listing, it fires the overdue events of procedures (task.overdue,
referral.overdue, deadline.missed, plan.review_due) once for whatever has
become overdue by today, so that procedures can react (procedures.tick);
--no-sweep skips that, and so does a --readonly database.
Exit status: 0 when nothing is overdue, 3 when something is (for cron:
  koop -d gmina.db due || mail -s "koop: zaległe" koordynator@gmina.pl).]],
  run = function(opts)
    local within = 14
    if opts.within then
      within = math.tointeger(tonumber(opts.within))
      if not within or within < 0 then
        cli.usage_error("due: --within must be a whole number of days, at least 0, not '%s'", opts.within)
      end
    end
    local cn = cli.open()
    entity.db()
    if not opts["no-sweep"] and not cn:readonly() then require("koop.procedures").tick{} end
    local rows = M.list{ on = opts.on, within = within, by = opts.by }
    local head = ("Due on %s, looking %d day%s ahead (to %s): %d overdue, %d upcoming"):format(
      dates.format_pl(rows.on), within, within == 1 and "" or "s", dates.format_pl(rows["until"]), rows.overdue, rows.upcoming)
    local mode = koop.mode()
    if mode ~= "csv" and mode ~= "json" then print(head) end
    if #rows > 0 then print_groups(rows) end
    return rows.overdue > 0 and 3 or 0
  end,
}

return M
