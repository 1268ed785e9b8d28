-- koop.schema — the database schema as numbered migrations, applied in
-- order and recorded in PRAGMA user_version.  Every entity module adds its
-- migrations here (schema.define), so the whole schema has one history.
-- A database from a newer koop (user_version above ours) is refused.
local koop = require "koop"

local M = { steps = {} }

--- Register migration number n (SQL text or function(db)).
function M.define(n, what, step)
  assert(M.steps[n] == nil, "migration defined twice: " .. n)
  M.steps[n] = { what = what, run = step }
end

--- The newest schema version this koop knows.
function M.latest()
  local n = 0
  for k in pairs(M.steps) do if k > n then n = k end end
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

--- Bring a database to the newest schema in one transaction; returns the
--- number of migrations applied.
function M.migrate(db)
  local from = M.check(db)
  local latest = M.latest()
  if from == latest or db:readonly() then return 0 end
  db:tx(function()
    for n = from + 1, latest do
      local step = M.steps[n]
      if not step then error(("migration %d is missing"):format(n)) end
      if type(step.run) == "string" then db:exec(step.run) else step.run(db) end
    end
    db:exec(("PRAGMA user_version = %d"):format(latest))
  end)
  return latest - from
end

M.define(1, "koop metadata", [[
CREATE TABLE koop_meta (
  key   TEXT PRIMARY KEY,
  value TEXT
) WITHOUT ROWID;
]])

return M
