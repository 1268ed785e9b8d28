-- W3 in Lua 5.4 + LuaSQL: fetch every row and sum hours per case and month
-- in a Lua table; print how many cases have a month over 20 hours.
-- Run as: lua5.4 luasql.lua DB QUERY
local driver = require "luasql.sqlite3"
local path, query = ...
local f = assert(io.open(query))
local sql = f:read("a")
f:close()
local env = driver.sqlite3()
local con = assert(env:connect(path))
local cur = assert(con:execute(sql))
local sums, flagged, n = {}, {}, 0
local case_id, date, hours = cur:fetch()
while case_id do
  local key = case_id .. date:sub(1, 7)   -- the month is fixed-width: unambiguous
  local sum = (sums[key] or 0) + hours
  sums[key] = sum
  if sum > 20 and not flagged[case_id] then
    flagged[case_id] = true
    n = n + 1
  end
  case_id, date, hours = cur:fetch()
end
print(n)
cur:close()
con:close()
env:close()
