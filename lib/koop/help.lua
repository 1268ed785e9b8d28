-- koop.help — every help text koop shows: `koop --help`, `koop help TOPIC`
-- and the man page (`koop help --man`) are all made from this one table,
-- so they cannot disagree.  Topics and commands are registered by the
-- modules that own them (cli.topic / cli.command); the order of
-- registration is the order in the man page.  All domain modules are
-- loaded first so that every topic is known.
local cli = require "koop.cli"
cli.load_all()

local M = { topics = cli.topics, by_name = cli.topics }

M.synopsis = [==[
koop [options] [script [args...]]
koop COMMAND [args...]        (koop help COMMAND explains each)]==]

M.options = {
  { "-d, --db FILE", "database file; default $KOOP_DB, else ./koop.db. Created and migrated to the current schema on first use. ':memory:' works." },
  { "-e STAT", "run the Lua chunk STAT" },
  { "-l NAME", "require NAME and bind it to the global NAME (-l g=NAME binds it to g)" },
  { "-i", "enter the REPL after running the script or -e" },
  { "-", "read the script from standard input" },
  { "--", "stop handling options" },
  { "-E", "ignore KOOP_INIT and KOOP_PATH" },
  { "--safe[=write]", "sandbox for scripts received from others: no io, os.execute, package.loadlib, debug, binary chunks, __gc, ATTACH, VACUUM or schema changes, no other database file, no names or PESEL; the database is read-only unless =write (TEMP tables stay writable); memory 1024 MB unless --memory. Not an OS security boundary" },
  { "--timeout SEC", "stop any chunk (Lua or SQL) running longer than SEC seconds; code that cannot be interrupted (a Lua pattern) ends the process 2 s later" },
  { "--memory MB", "limit the Lua heap and SQLite's heap to MB megabytes each" },
  { "--readonly", "open the database read-only" },
  { "--today DATE", "pin today's date (also $KOOP_TODAY): deadlines, reports, tests" },
  { "--as NAME", "actor written to the audit log (default $KOOP_USER, else the login name)" },
  { "--mode MODE", "how results print: box, table, markdown, csv, json, line" },
  { "-v, --version", "print the version of koop, Lua and SQLite" },
  { "-h, --help", "print this help" },
}

M.environment = {
  { "KOOP_DB", "database used when --db is not given" },
  { "KOOP_INIT", "Lua code, or @FILE, run before -e and the script (skipped with -E)" },
  { "KOOP_PATH", "';'-separated directories searched by require before ./lib (skipped with -E)" },
  { "KOOP_TODAY", "today's date, as --today" },
  { "KOOP_USER", "actor for the audit log, as --as" },
  { "KOOP_HISTORY", "REPL history file; else $XDG_STATE_HOME/koop/history, else ~/.local/state/koop/history" },
  { "COLUMNS", "width used by the pretty-printer when output is not a terminal" },
}

M.exit_status = {
  { "0", "success" },
  { "1", "an error raised by a script or a command" },
  { "2", "bad usage: unknown option, missing argument, unreadable script" },
  { "3", "koop due: something is overdue" },
}

M.topic = cli.topic

local function wrap(text, width, indent)
  local out, line = {}, ""
  for word in text:gmatch("%S+") do
    if #line > 0 and utf8.len(line) + 1 + utf8.len(word) > width then
      out[#out + 1] = line
      line = word
    else
      line = #line > 0 and line .. " " .. word or word
    end
  end
  if #line > 0 then out[#out + 1] = line end
  return indent .. table.concat(out, "\n" .. indent)
end

local function pairs_block(list, key_width)
  local out = {}
  for _, p in ipairs(list) do
    local key = "  " .. p[1]
    local pad = key_width - utf8.len(key)
    local body = wrap(p[2], 78 - key_width, string.rep(" ", key_width))
    if pad >= 1 then
      out[#out + 1] = key .. body:sub(utf8.len(key) + 1)
    else
      out[#out + 1] = key .. "\n" .. body
    end
  end
  return table.concat(out, "\n")
end

--- The text of `koop --help`.
function M.usage()
  local cmds = {}
  for _, t in ipairs(M.topics) do
    if t.command then cmds[#cmds + 1] = { t.name, t.summary } end
  end
  local other = {}
  for _, t in ipairs(M.topics) do
    if not t.command then other[#other + 1] = t.name end
  end
  return table.concat({
    "usage: " .. M.synopsis:gsub("\n", "\n       "),
    "",
    "koop runs Lua 5.4 scripts and an interactive REPL over a gmina's SQLite database of",
    "institutions, cooperation teams, cases and budgets (Model Kooperacji).",
    "",
    "Options:",
    pairs_block(M.options, 18),
    "",
    "Commands:",
    pairs_block(cmds, 18),
    "",
    "Topics: koop help " .. table.concat(other, " | koop help "),
    "Without a script, koop starts the REPL on a terminal and runs standard input otherwise.",
  }, "\n") .. "\n"
end

--- The text of `koop help NAME`, or nil.
function M.text(name)
  local t = M.by_name[name]
  if not t then return nil end
  local head = t.usage and ("usage: " .. t.usage:gsub("\n", "\n       ") .. "\n\n") or ""
  return head .. t.summary .. "\n\n" .. t.text:gsub("^%s+", ""):gsub("%s+$", "") .. "\n"
end

--- The names of all topics.
function M.names()
  local n = {}
  for _, t in ipairs(M.topics) do n[#n + 1] = t.name end
  return n
end

local function roff(s)
  return (s:gsub("\\", "\\e"):gsub("\n%.", "\n\\&."):gsub("^%.", "\\&."):gsub("\n'", "\n\\&'"))
end

--- The man page koop.1 in roff.
function M.man(version)
  local out = {
    ('.TH KOOP 1 "" "koop %s" "User Commands"'):format(version),
    ".SH NAME", "koop \\- scriptable cooperation register for gminas (Lua 5.4 + SQLite)",
    ".SH SYNOPSIS", ".nf", roff(M.synopsis), ".fi",
    ".SH DESCRIPTION",
    "koop runs Lua 5.4 scripts and an interactive REPL over a gmina's SQLite database of institutions, cooperation teams (G\\-PZK), meetings, cases, referrals, services and budgets, as used in the Model Kooperacji. Each gmina scripts its own cooperation procedures and reports.",
    ".SH OPTIONS",
  }
  for _, o in ipairs(M.options) do
    out[#out + 1] = ".TP"; out[#out + 1] = "\\fB" .. roff(o[1]) .. "\\fR"; out[#out + 1] = roff(o[2])
  end
  out[#out + 1] = ".SH COMMANDS"
  for _, t in ipairs(M.topics) do
    if t.command then
      out[#out + 1] = ".SS " .. t.name
      if t.usage then out[#out + 1] = ".nf\n" .. roff(t.usage) .. "\n.fi" end
      out[#out + 1] = roff(t.summary)
      out[#out + 1] = ".PP\n.nf\n" .. roff(t.text:gsub("^%s+", ""):gsub("%s+$", "")) .. "\n.fi"
    end
  end
  for _, t in ipairs(M.topics) do
    if not t.command then
      out[#out + 1] = ".SH " .. t.name:upper()
      out[#out + 1] = roff(t.summary)
      out[#out + 1] = ".PP\n.nf\n" .. roff(t.text:gsub("^%s+", ""):gsub("%s+$", "")) .. "\n.fi"
    end
  end
  out[#out + 1] = ".SH ENVIRONMENT"
  for _, e in ipairs(M.environment) do
    out[#out + 1] = ".TP"; out[#out + 1] = "\\fB" .. e[1] .. "\\fR"; out[#out + 1] = roff(e[2])
  end
  out[#out + 1] = ".SH EXIT STATUS"
  for _, e in ipairs(M.exit_status) do
    out[#out + 1] = ".TP"; out[#out + 1] = e[1]; out[#out + 1] = roff(e[2])
  end
  return table.concat(out, "\n") .. "\n"
end

return M
