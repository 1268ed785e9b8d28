-- koop.cli — configuration from the command line, the database
-- connection of scripts and the REPL, and the built-in commands
-- (`koop COMMAND args`).  Each command registers itself with
-- cli.command{...}: its help topic, its options and its run function;
-- options are parsed here once, so every command reports bad usage alike.
local koop = require "koop"
local dates = require "koop.dates"

-- Registries only; the help module that formats them loads on demand,
-- so that start-up does not pay for help texts.
local M = { commands = {}, config = {}, topics = {} }

--- Which module defines each built-in command (loaded when it runs).  A
--- module adding a command or a help topic lists itself here.
M.providers = {
  help = "koop.commands", init = "koop.commands", test = "koop.commands",
  audit = "koop.audit",
  report = "koop.report", import = "koop.exchange", export = "koop.exchange", rollup = "koop.rollup",
  procedure = "koop.procedures", due = "koop.due",
}

local function usage_error(fmt, ...)
  koop.raise{ code = "usage", message = fmt:format(...) }
end
M.usage_error = usage_error

--- Register a help topic {name=, summary=, usage=, text=} (commands are
--- topics too); `koop help`, --help and the man page list them in order.
function M.topic(t)
  assert(t.name and t.summary and t.text, "help topic needs name, summary, text")
  if not M.topics[t.name] then M.topics[#M.topics + 1] = t end
  M.topics[t.name] = t
  return t
end

--- Register a command: {name=, summary=, usage=, text=, options=, run=}.
--- options: { ["--on"] = "date" | "string" | "flag" | {choices...} }.
function M.command(c)
  c.command = true
  M.topic(c)
  M.commands[c.name] = c
  return c
end

--- Parse args for command c: returns opts (keys without "--") and the
--- positional arguments.
function M.parse(c, args)
  local opts, pos, i = {}, {}, 1
  local spec = c.options or {}
  while i <= #args do
    local a = args[i]
    local name, glued = a:match("^(%-%-?[%w-]+)=(.*)$")
    name = name or a
    local kind = spec[name]
    if a == "--" then
      table.move(args, i + 1, #args, #pos + 1, pos)
      break
    elseif a:sub(1, 1) == "-" and #a > 1 and kind == nil then
      usage_error("%s: unknown option '%s' (see 'koop help %s')", c.name, a, c.name)
    elseif kind == nil then
      pos[#pos + 1] = a
    elseif kind == "flag" then
      opts[name:gsub("^%-+", "")] = true
    else
      local v = glued
      if v == nil then
        i = i + 1
        v = args[i]
        if v == nil then usage_error("%s: option '%s' needs an argument", c.name, name) end
      end
      if kind == "date" then
        local ok, msg = dates.parse(v)
        if not ok then usage_error("%s: %s: %s", c.name, name, msg) end
      elseif type(kind) == "table" then
        local found = false
        for _, choice in ipairs(kind) do found = found or choice == v end
        if not found then
          usage_error("%s: %s must be one of %s, not '%s'", c.name, name, table.concat(kind, ", "), v)
        end
      end
      opts[name:gsub("^%-+", "")] = v
    end
    i = i + 1
  end
  return opts, pos
end

--- Called by the host with the command-line options (before any user code).
function M.configure(cfg)
  M.config = cfg
  require("koop.domain").install()      -- domain globals load on first use
  koop.version = koop.version or "0.1.0"
  koop.actor = cfg.as or "unknown"
  if cfg.today then
    local ok, msg = dates.parse(cfg.today)
    if not ok then usage_error("--today: %s", msg) end
    dates.today(cfg.today)
  end
  if cfg.mode then
    local ok, err = pcall(koop.mode, cfg.mode)
    if not ok then usage_error("--mode: %s", err.message or tostring(err)) end
  end
  return 0
end

--- Open the configured database as the global `db` (also koop.db).  A
--- database from a newer koop is refused here; koop's own tables are created
--- on first use of the domain API (or by `koop init`), so a plain SQL script
--- and start-up pay nothing for them.
function M.open(path)
  path = path or M.config.db or "koop.db"
  local db = koop.open(path, { readonly = M.config.readonly })
  require("koop.schema").check(db)
  _G.db, koop.db = db, db
  return db
end

--- The host's step before scripts, -e and the REPL.
function M.connect()
  M.open()
  return 0
end

--- Load every module that provides commands or topics (for help).
function M.load_all()
  local mods, seen = {}, {}
  for _, mod in pairs(M.providers) do
    if not seen[mod] then seen[mod] = true; mods[#mods + 1] = mod end
  end
  table.sort(mods)                      -- help lists topics in a stable order
  for _, mod in ipairs(mods) do require(mod) end
  require("koop.domain").load_all()     -- the domain modules' topics
end

--- `koop --help`
function M.usage()
  io.write(require("koop.help").usage())
  return 0
end

--- Run command `name` with its argument list; returns an exit status.
function M.run(name, args)
  require(M.providers[name])
  local c = M.commands[name]
  local opts, pos = M.parse(c, args)
  return c.run(opts, pos) or 0
end

return M
