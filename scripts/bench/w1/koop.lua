-- W1 in koop: read the CSV with koop.csv.rows and insert every row with
-- db:exec inside one db:tx.  Run as: koop -d DB koop.lua SCHEMA CSV
-- (a new DB: koop opens it with its defaults, WAL and synchronous=NORMAL;
-- its own tables are only created when the domain API is first used).
local schema, csv = ...
local f = assert(io.open(schema))
db:exec(f:read("a"))
f:close()
db:tx(function()
  for id, case_id, institution_id, service_type, date, hours, cost
      in koop.csv.rows(csv, { unpack = true }) do
    db:exec("INSERT INTO services VALUES(?,?,?,?,?,?,?)",
            id, case_id, institution_id, service_type, date, hours, cost)
  end
end)
