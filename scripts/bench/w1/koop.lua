-- W1 in koop: read the CSV with koop.csv.rows and insert every row with
-- db:exec inside one db:tx.  Run as: koop -d :memory: koop.lua SCHEMA CSV DB
-- (DB is a plain database, opened with schema=false: koop's own tables and
-- its `services` entity table stay out of the comparison).
local schema, csv, path = ...
local f = assert(io.open(schema))
local out = koop.open(path, { schema = false })
out:exec(f:read("a"))
f:close()
out:tx(function()
  for id, case_id, institution_id, service_type, date, hours, cost
      in koop.csv.rows(csv, { unpack = true }) do
    out:exec("INSERT INTO services VALUES(?,?,?,?,?,?,?)",
             id, case_id, institution_id, service_type, date, hours, cost)
  end
end)
out:close()
