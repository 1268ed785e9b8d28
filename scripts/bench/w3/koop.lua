-- W3 in koop: stream every row with db:urows and sum hours per case and
-- month in a Lua table; print how many cases have a month over 20 hours.
-- Run as: koop --readonly -d DB koop.lua QUERY
local f = assert(io.open((...)))
local sql = f:read("a")
f:close()
-- The key is case_id and the month as one integer (case_id * 1000003 +
-- year*12 + month; months stay below 1000003, so keys never clash):
-- digits are read with one string.byte call, no string is built per row.
-- Not case_id << 20 as the C floor's: Lua hashes an integer by its
-- remainder modulo 2^k - 1, which maps c << 20 | m to about 2c + m, and
-- 300,000 keys would share 20,000 chains; an odd multiplier spreads them.
local byte = string.byte
local sums, flagged, n = {}, {}, 0
for case_id, date, hours in db:urows(sql) do
  local y1, y2, y3, y4, _, m1, m2 = byte(date, 1, 7)
  local key = case_id * 1000003 + ((y1 * 1000 + y2 * 100 + y3 * 10 + y4 - 53328) * 12
                                    + m1 * 10 + m2 - 528)
  local sum = (sums[key] or 0) + hours
  sums[key] = sum
  if sum > 20 and not flagged[case_id] then
    flagged[case_id] = true
    n = n + 1
  end
end
print(n)
