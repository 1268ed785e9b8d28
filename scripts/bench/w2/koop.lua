-- W2 in koop: the query's result set printed by the output mode.
-- Run as: koop --mode csv -d :memory: koop.lua DB QUERY
-- (DB is opened read-only with schema=false: it is not a koop database).
local path, query = ...
local f = assert(io.open(query))
local sql = f:read("a")
f:close()
print(koop.open(path, { readonly = true, schema = false }):query(sql))
