-- W5 set-up: a gmina with the 48 providers of the W1 dataset and CASES
-- cases (default 100,000), each with three members (valid synthetic
-- PESELs) and two art. 7 reasons, all through the domain API in one
-- transaction.  Run as: koop -d DB --today 2021-12-31 w5_setup.lua [CASES]
-- Prints "setup CASES cases SECONDS s" (the time of the transaction).
local ncases = math.tointeger(tonumber((...) or "100000"))
assert(ncases and ncases > 0, "w5_setup.lua: CASES must be a whole number")

-- A valid PESEL for a birth date (y, m, d) and serial number n (0-9999):
-- the century is in the month, the 10th digit (part of n) gives the sex.
local WEIGHTS = { 1, 3, 7, 9, 1, 3, 7, 9, 1, 3 }
local function pesel(y, m, d, n)
  local mm = m + (y >= 2000 and 20 or 0)
  local s = ("%02d%02d%02d%04d"):format(y % 100, mm, d, n)
  local sum = 0
  for i = 1, 10 do sum = sum + (s:byte(i) - 48) * WEIGHTS[i] end
  return s .. (10 - sum % 10) % 10
end

-- Birth date number k of a deterministic spread over 1940-2019.
local function birth(k)
  return koop.dates.from_serial(koop.dates.serial("1940-01-01") + (k * 7919) % 29000)
end

local codes = { "1", "4", "5", "6", "9", "13", "14" }
local kinds = { "OPS", "PCPR", "PUP", "szkoła", "POZ", "GOK", "NGO", "ŚDS" }

local t0 = os.clock()
db:tx(function()
  gminas.ensure("2612012")
  gminas.set_home("2612012")
  for i = 1, 48 do
    institutions.add{ name = ("Instytucja %02d"):format(i), kind = kinds[(i - 1) % #kinds + 1] }
  end
  for _, t in ipairs{ { "świetlica", "świetlica" }, { "asystent", "asystent rodziny" },
      { "opieka", "usługi opiekuńcze" }, { "żywność", "pomoc żywnościowa" },
      { "mieszkanie", "mieszkanie chronione, treningowe" } } do
    resources.add_service_type{ code = t[1], name = t[2], unit = "godzina" }
  end
  local ops = institutions.get(1)
  for i = 1, ncases do
    local c = cases.open{ opened_on = "2019-01-01", source_institution = ops }
    for j = 1, 3 do
      local k = i * 3 + j
      local y, m, d = koop.dates.parse(birth(k))
      c:add_member{ first_name = "Imię" .. j, last_name = "Nazwisko" .. i,
        pesel = pesel(y, m, d, (k * 13) % 10000),
        relation = j == 1 and "wnioskodawca" or j == 2 and "małżonek/partner" or "dziecko" }
    end
    c:reason(codes[i % #codes + 1])
    c:reason(codes[(i + 3) % #codes + 1])
  end
end)
print(("setup %d cases %.3f s"):format(ncases, os.clock() - t0))
