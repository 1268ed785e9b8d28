-- W5 deliveries: read the W1 services CSV and record each row as a service
-- delivery through case:deliver, in one transaction, on a database made
-- by w5_setup.lua.  Run as:
--   koop -d DB --today 2021-12-31 w5_deliver.lua CSV [LIMIT]
-- (at most LIMIT rows of the CSV, default all)
-- The CSV's case_id (1..rows/100) and id spread the rows over all cases;
-- its institution_id is the provider (the set-up made 48), its hours the
-- units, its cost_grosze the cost.  Prints "deliveries N cost GROSZE", which
-- the driver checks against the CSV.
local csv, limit = ...
limit = limit and math.tointeger(tonumber(limit)) or math.maxinteger
-- W5_CACHE_KIB (environment): an SQLite page cache of that size instead of
-- the default 2 MiB, to show what the cache is worth (not set by default)
local cache = os.getenv("W5_CACHE_KIB")
if cache and cache ~= "" then db:exec("PRAGMA cache_size = -" .. math.tointeger(tonumber(cache))) end

-- The W1 service types as codes of the catalogue (w5_setup.lua adds the
-- five the built-in catalogue lacks).
local TYPES = {
  ["poradnictwo"] = "poradnictwo", ["terapia rodzinna"] = "terapia", ["rehabilitacja ruchowa"] = "rehabilitacja",
  ["Świetlica"] = "świetlica", ["wolontariat"] = "wolontariat", ["asystent rodziny"] = "asystent",
  ["usługi opiekuńcze"] = "opieka", ["pomoc żywnościowa"] = "żywność",
  ["mieszkanie chronione, treningowe"] = "mieszkanie", ['klub "Senior+"'] = "klub",
}

local ncases = cases.count()
local providers, all = {}, {}
for i, inst in ipairs(institutions.find{ order = "id" }) do providers[i] = inst end
-- the cases, by id (objects are light: a table over the row)
for _, c in ipairs(cases.find{ order = "id" }) do all[#all + 1] = c end
assert(#all == ncases and #providers == 48, "w5_deliver.lua: run w5_setup.lua first")

local n, cost = 0, 0
local tointeger, tonumber, grosze_of = math.tointeger, tonumber, koop.money.grosze
db:tx(function()
  for id, case_id, institution_id, service_type, date, hours, grosze in koop.csv.rows(csv, { unpack = true }) do
    if n == limit then break end
    local c = all[((tointeger(case_id) - 1) * 10 + tointeger(id) % 10) % ncases + 1]
    local g = tointeger(grosze)
    c:deliver{ provider = providers[tointeger(institution_id)], service = TYPES[service_type], date = date,
      units = tonumber(hours), unit = "godziny", cost = grosze_of(g) }
    n, cost = n + 1, cost + g
  end
end)
print(("deliveries %d cost %d"):format(n, cost))
