-- koop.schema — the database schema as numbered migrations, applied in
-- order and recorded in PRAGMA user_version.  Every entity module adds its
-- migrations here (schema.define), so the whole schema has one history.
-- A database from a newer koop (user_version above ours) is refused.
--
-- Domain modules load lazily (start-up must stay fast), so this file names
-- the module that defines each migration (M.owners): the newest version is
-- known without loading anything, connecting applies only the migrations
-- already defined (the core ones), and the first use of the domain API on a
-- connection calls schema.ensure(db), which loads every owner and migrates.
local koop = require "koop"

local M = { steps = {} }

-- Migration number -> the module that defines it.  Numbers are global and
-- only ever increase: a database records just the highest one it has, so
-- once a koop with these migrations is released, a new migration takes a
-- number above every number here, whatever module owns it.  The ranges
-- only organise the first schema:
--     1- 9  core and audit       (koop.schema, koop.audit)
--    10-19  territory            (koop.territory)
--    20-29  institutions, people, resource map   (koop.institutions)
--    30-49  agreements, teams, meetings, tasks, indicators
--    50-69  cases, members, consent, plans, referrals, services
--    70-89  budgets
--    90-99  procedures
--   100-    reports and later additions
M.owners = {
  [1] = "koop.schema",
  [2] = "koop.audit",
  [10] = "koop.territory",
  [20] = "koop.institutions", [21] = "koop.institutions",
  [22] = "koop.institutions", [23] = "koop.institutions",
  [30] = "koop.agreements", [31] = "koop.teams",
  [32] = "koop.meetings", [33] = "koop.tasks",
  [50] = "koop.cases", [51] = "koop.cases", [52] = "koop.cases", [53] = "koop.cases",
  [54] = "koop.cases", [55] = "koop.plans", [56] = "koop.referrals", [57] = "koop.services",
  [70] = "koop.budgets", [71] = "koop.budgets", [72] = "koop.budgets",
  [90] = "koop.procedures", [91] = "koop.procedures",
  [100] = "koop.audit",
}

--- Register migration number n (SQL text or function(db)); n must be
--- listed in M.owners.
function M.define(n, what, step)
  assert(M.steps[n] == nil, "migration defined twice: " .. n)
  assert(M.owners[n], "migration " .. n .. " is not listed in koop.schema's owners")
  M.steps[n] = { what = what, run = step }
end

--- The newest schema version this koop knows (defined or not yet loaded).
function M.latest()
  local n = 0
  for k in pairs(M.owners) do if k > n then n = k end end
  return n
end

--- The schema version of a database.
function M.version(db) return db:value("PRAGMA user_version") end

--- Refuse a database written by a newer koop.
function M.check(db)
  local v, latest = M.version(db), M.latest()
  if v > latest then
    koop.raise{ code = "schema", message = ("database %s has schema version %d, but this koop (%s) knows only up to %d: use a newer koop")
      :format(db:path(), v, koop.version, latest) }
  end
  return v
end

-- The migration numbers above `from`, in order, up to the first one whose
-- module is not loaded yet.
local function pending(from)
  local list = {}
  for n in pairs(M.owners) do
    if n > from then list[#list + 1] = n end
  end
  table.sort(list)
  for i, n in ipairs(list) do
    if not M.steps[n] then
      for j = #list, i, -1 do list[j] = nil end
      break
    end
  end
  return list
end

-- Functions run after the steps of every migration, in its transaction:
-- fn(db, created), created = the set of tables the steps created (koop.audit
-- seals them: triggers on every table the migrations made).
M.after_migrate = {}

-- The set of the database's tables.
local function table_names(db)
  local set = {}
  for name in db:urows("SELECT name FROM sqlite_master WHERE type = 'table'") do set[name] = true end
  return set
end

--- Bring a database up to date with the migrations defined so far, in one
--- transaction; returns the number of migrations applied.
function M.migrate(db)
  local from = M.check(db)
  local steps = pending(from)
  if #steps == 0 or db:readonly() then return 0 end
  db:tx(function()
    local before = table_names(db)
    for _, n in ipairs(steps) do
      local step = M.steps[n]
      if type(step.run) == "string" then db:exec(step.run) else step.run(db) end
    end
    local created = table_names(db)
    for name in pairs(before) do created[name] = nil end
    for _, fn in ipairs(M.after_migrate) do fn(db, created) end
    db:exec(("PRAGMA user_version = %d"):format(steps[#steps]))
  end)
  return #steps
end

--- Load every module that defines migrations.
function M.load_all()
  for _, module in pairs(M.owners) do require(module) end
end

local ensured = setmetatable({}, { __mode = "k" })

--- Make sure db has the whole schema (first domain use on a connection):
--- loads every migration's module and migrates.  A read-only database with
--- an older schema is refused with a message saying what to do.
function M.ensure(db)
  if ensured[db] then return db end
  M.load_all()
  local v, latest = M.check(db), M.latest()
  if v < latest then
    if require("koop.cli").config.safe then
      koop.raise{ code = "schema", message = ("database %s has schema version %d and this koop needs %d: --safe scripts do not change the schema; run 'koop -d %s init' first")
        :format(db:path(), v, latest, db:path()) }
    end
    if db:readonly() then
      koop.raise{ code = "schema", message = ("database %s has schema version %d and this koop needs %d: open it once without --readonly to upgrade it")
        :format(db:path(), v, latest) }
    end
    M.migrate(db)
  end
  ensured[db] = true
  return db
end

--- The connection the domain API works on (koop.db), with the whole schema.
function M.db()
  local db = koop.db
  if db == nil then
    koop.raise{ code = "misuse", message = "no database is open (koop.db is not set)" }
  end
  if not ensured[db] then M.ensure(db) end
  return db
end

M.define(1, "koop metadata", [[
CREATE TABLE koop_meta (
  key   TEXT PRIMARY KEY,
  value TEXT
) WITHOUT ROWID;
]])

--- A value of the koop_meta table (nil when unset).
function M.meta(db, key)
  return db:value("SELECT value FROM koop_meta WHERE key = ?", key)
end

--- Set a value of the koop_meta table.
function M.set_meta(db, key, value)
  db:exec("INSERT INTO koop_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
end

return M
