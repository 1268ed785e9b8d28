-- W3 in koop: stream every row with db:urows and sum hours per case and
-- month in a Lua table; print how many cases have a month over 20 hours.
-- Run as: koop --readonly -d DB koop.lua QUERY
local f = assert(io.open((...)))
local sql = f:read("a")
f:close()
local sums, flagged, n = {}, {}, 0
for case_id, date, hours in db:urows(sql) do
  local key = case_id .. date:sub(1, 7)   -- the month is fixed-width: unambiguous
  local sum = (sums[key] or 0) + hours
  sums[key] = sum
  if sum > 20 and not flagged[case_id] then
    flagged[case_id] = true
    n = n + 1
  end
end
print(n)
