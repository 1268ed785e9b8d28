-- w_report_sql.lua — write the SQL a standard report runs as a script for
-- the sqlite3 shell, so that the benchmark can time "the same SQL run by
-- the sqlite3 CLI".  Run as:
--   koop --readonly -d DB --today D w_report_sql.lua NAME OUT.sql [key=value ...]
-- The report is made once with the connection's query methods traced;
-- every statement is written with its parameters bound by the shell's
-- `.parameter set` (anonymous ? become ?1, ?2 ... in order).
local name, out = ...
assert(name and out, "usage: w_report_sql.lua NAME OUT.sql [key=value ...]")
local params = {}
for i = 3, select("#", ...) do
  local k, v = select(i, ...):match("^([%w_]+)=(.*)$")
  params[k] = v
end

-- An SQL literal of a Lua value, double-quoted for the shell's argument
-- parser (which would strip single quotes: '2021-12-31' would become 1978).
local function literal(v)
  if v == nil or v == koop.null then return "NULL" end
  if type(v) == "number" then return tostring(v) end
  if type(v) == "boolean" then return v and "1" or "0" end
  return '"\'' .. tostring(v):gsub("'", "''"):gsub('[\\"]', "\\%0") .. '\'"'
end

local statements = {}
-- Record one statement and its arguments (a table of named parameters,
-- or positional values).
local function record(sql, ...)
  local n = select("#", ...)
  local first = ...
  local sets = {}
  if n == 1 and type(first) == "table" and getmetatable(first) == nil then
    local keys = {}
    for k in pairs(first) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      if sql:find(":" .. k, 1, true) then sets[#sets + 1] = (".parameter set :%s %s"):format(k, literal(first[k])) end
    end
  else
    local i = 0
    sql = sql:gsub("%?(%d*)", function(d)
      if d ~= "" then return nil end
      i = i + 1
      return "?" .. i
    end)
    for j = 1, n do sets[#sets + 1] = (".parameter set ?%d %s"):format(j, literal((select(j, ...)))) end
  end
  statements[#statements + 1] = { sql = sql, sets = sets }
end

local methods = getmetatable(db).__index
for _, m in ipairs{ "query", "rows", "urows", "first", "value" } do
  local orig = methods[m]
  methods[m] = function(self, sql, ...)
    if self == db and not sql:find("^%s*PRAGMA") and not sql:find("sqlite_schema", 1, true) then record(sql, ...) end
    return orig(self, sql, ...)
  end
end

local r = report[name](params)
local text = r:render("md")
local f = assert(io.open(out, "w"))
for _, s in ipairs(statements) do
  f:write(".parameter clear\n")
  for _, set in ipairs(s.sets) do f:write(set, "\n") end
  f:write((s.sql:gsub("%s*;?%s*$", "")), ";\n")
end
f:close()
io.stderr:write(("%s: %d statements, report of %d bytes\n"):format(out, #statements, #text))
