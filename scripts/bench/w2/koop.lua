-- W2 in koop: the query's result set printed by the output mode.
-- Run as: koop --readonly --mode csv -d DB koop.lua QUERY
local f = assert(io.open((...)))
print(db:query(f:read("a")))
f:close()
