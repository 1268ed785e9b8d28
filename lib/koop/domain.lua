-- koop.domain — the domain globals (gminas, institutions, people, ...),
-- loaded on first use.  Start-up stays fast: install() only puts a
-- metatable on _G and on the koop table; the first time a script names
-- `institutions` (or koop.institutions), its module is required and the
-- global is set for good.  The first domain call on a connection brings the
-- database to the whole schema (koop.schema.ensure).
--
--   domain.install()      called once by koop.cli.connect
--   domain.load(name)     the value of global `name` (loading its module),
--                         or nil when no module provides it (yet)
--   domain.load_all()     load every domain global (the REPL, for TAB completion)
--   domain.modules        global name -> module; the module returns a table
--                         whose field of that name is the global's value
local koop = require "koop"

local M = {}

M.modules = {
  gminas = "koop.territory",
  institutions = "koop.institutions",
  people = "koop.institutions",
  resources = "koop.institutions",
  audit = "koop.audit",
  -- issues 3-7, built on koop.entity by their owners:
  agreements = "koop.agreements",
  teams = "koop.teams",
  meetings = "koop.meetings",
  tasks = "koop.tasks",
  indicators = "koop.indicators",
  cases = "koop.cases",
  reasons = "koop.cases",
  referrals = "koop.referrals",
  services = "koop.services",
  budgets = "koop.budgets",
  procedures = "koop.procedures",
  report = "koop.report",
}

-- Modules that turned out not to exist (not built yet).
local absent = {}

--- The value of domain global `name`, loading its module; nil if unknown.
function M.load(name)
  local module = M.modules[name]
  if module == nil or absent[module] then return nil end
  local loaded = package.loaded[module]
  if loaded == nil then
    local ok, res = pcall(require, module)
    if not ok then
      -- a module that does not exist yet is "no such global", not an error;
      -- an error inside an existing module is raised as it is
      if type(res) == "string" and res:find("module '" .. module .. "' not found", 1, true) then
        absent[module] = true
        return nil
      end
      error(res, 0)
    end
    loaded = res
  end
  local value = type(loaded) == "table" and (loaded[name] or (module == "koop." .. name and loaded)) or nil
  if value ~= nil then
    rawset(_G, name, value)
    rawset(koop, name, value)
  end
  return value
end

--- Load every domain global that exists (for the REPL's completion).
function M.load_all()
  local names = {}
  for name in pairs(M.modules) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    if rawget(_G, name) == nil then M.load(name) end
  end
end

-- Put an __index on t's metatable that asks M.load for domain names,
-- keeping whatever __index t had.
local function hook(t)
  local mt = getmetatable(t)
  if mt == nil then mt = {}; setmetatable(t, mt) end
  if mt.__koop_domain then return end
  local old = mt.__index
  mt.__koop_domain = true
  mt.__index = function(self, k)
    if M.modules[k] then
      local v = M.load(k)
      if v ~= nil then return v end
    end
    if type(old) == "function" then return old(self, k) end
    if type(old) == "table" then return old[k] end
    return nil
  end
end

--- Make the domain globals available (idempotent).
function M.install()
  hook(_G)
  hook(koop)
  if rawget(koop, "on") == nil then     -- koop.on before any module loads
    koop.on = function(...) return require("koop.events").on(...) end
  end
  return M
end

return M
