-- W1 in Lua 5.4 + LuaSQL: split lines with string.gmatch and run one INSERT
-- per row.  LuaSQL 2.6.0 (Debian 12) ignores bind parameters, so each
-- INSERT is SQL text built with string.format, quotes doubled.
-- Run as: lua5.4 luasql.lua SCHEMA CSV DB
local driver = require "luasql.sqlite3"
local schema, csv, path = ...
local env = driver.sqlite3()
local con = assert(env:connect(path))

-- The fields of one CSV line; quoted fields ("a, b", "x ""y""") take the
-- slow path, plain lines are split by one gmatch.
local function fields(line)
  local t, n = {}, 0
  if not line:find('"', 1, true) then
    for v in line:gmatch("([^,]*)") do n = n + 1; t[n] = v end
    return t
  end
  local pos = 1
  repeat
    local v
    if line:sub(pos, pos) == '"' then
      local close = pos
      repeat close = line:find('"', close + 1, true) + 1
      until line:sub(close, close) ~= '"'
      v = line:sub(pos + 1, close - 2):gsub('""', '"')
      pos = close + 1
    else
      local comma = line:find(",", pos, true) or #line + 1
      v = line:sub(pos, comma - 1)
      pos = comma + 1
    end
    n = n + 1; t[n] = v
  until pos > #line + 1
  return t
end

local function quote(s) return "'" .. s:gsub("'", "''") .. "'" end

local f = assert(io.open(schema))
assert(con:execute(f:read("a")))
f:close()
local input = assert(io.open(csv))
input:read("l")  -- the header
assert(con:execute("BEGIN"))
for line in input:lines() do
  local v = fields(line)
  assert(con:execute(string.format("INSERT INTO services VALUES(%d,%d,%d,%s,%s,%s,%d)",
    v[1], v[2], v[3], quote(v[4]), quote(v[5]), v[6], v[7])))
end
assert(con:execute("COMMIT"))
input:close()
con:close()
env:close()
