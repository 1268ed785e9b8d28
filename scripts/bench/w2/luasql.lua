-- W2 in Lua 5.4 + LuaSQL: fetch every row and write it as CSV.
-- Run as: lua5.4 luasql.lua DB QUERY
local driver = require "luasql.sqlite3"
local path, query = ...
local f = assert(io.open(query))
local sql = f:read("a")
f:close()
local env = driver.sqlite3()
local con = assert(env:connect(path))

-- A value as a CSV field, quoted only when it must be.
local function field(v)
  v = tostring(v)
  if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local cur = assert(con:execute(sql))
local names, out = cur:getcolnames(), {}
for i = 1, #names do out[i] = field(names[i]) end
io.write(table.concat(out, ","), "\n")
local row = cur:fetch({}, "n")
while row do
  for i = 1, #names do out[i] = field(row[i]) end
  io.write(table.concat(out, ","), "\n")
  row = cur:fetch(row, "n")
end
cur:close()
con:close()
env:close()
