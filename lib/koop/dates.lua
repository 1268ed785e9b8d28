-- koop.dates — ISO calendar dates, today's date (pinned by --today,
-- KOOP_TODAY or koop.today(d) in tests), and Polish date formats.
local koop = require "koop"

local M = {}
local pinned = nil            -- "YYYY-MM-DD" or nil for the real date

local function leap(y) return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) end
local month_days = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

--- Days in month m of year y.
function M.days_in_month(y, m)
  if m == 2 and leap(y) then return 29 end
  return month_days[m]
end

--- Parse "YYYY-MM-DD" into y, m, d; or nil and a message saying why.
function M.parse(s)
  if type(s) ~= "string" then return nil, "expected a date YYYY-MM-DD, got " .. type(s) end
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil, ("'%s' is not a date YYYY-MM-DD"):format(s) end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > M.days_in_month(y, m) then
    return nil, ("'%s' is not a real calendar date"):format(s)
  end
  return y, m, d
end

--- Validate a date for `field`; raises an "invalid" error naming it.
function M.check(s, field)
  local ok, msg = M.parse(s)
  if not ok then koop.raise{ code = "invalid", field = field, message = field .. ": " .. msg } end
  return s
end

-- Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
local function to_days(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function from_days(z)
  z = z + 719468
  local era = (z >= 0 and z or z - 146096) // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp + (mp < 10 and 3 or -9)
  return y + (m <= 2 and 1 or 0), m, d
end

--- Serial day number of an ISO date (for differences).
function M.serial(s)
  local y, m, d = M.parse(s)
  if not y then koop.raise{ code = "invalid", message = m } end
  return to_days(y, m, d)
end

--- ISO date of a serial day number.
function M.from_serial(n)
  return ("%04d-%02d-%02d"):format(from_days(n))
end

--- date + n calendar days.
function M.add(s, n) return M.from_serial(M.serial(s) + n) end

--- Whole days from a to b (b - a).
function M.diff(a, b) return M.serial(b) - M.serial(a) end

--- ISO weekday: 1 = Monday … 7 = Sunday.
function M.weekday(s) return (M.serial(s) + 3) % 7 + 1 end

--- Today's date; koop.today(d) pins it (tests, time travel), koop.today(false) unpins.
function M.today(set)
  if set ~= nil then
    if set == false then pinned = nil else pinned = M.check(set, "today") end
    return pinned
  end
  return pinned or os.date("%Y-%m-%d")
end

local genitive = { "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
  "sierpnia", "września", "października", "listopada", "grudnia" }

--- Polish formats: "04.06.2019" (default) or long "4 czerwca 2019 r.".
function M.format_pl(s, style)
  local y, m, d = M.parse(s)
  if not y then return tostring(s) end
  if style == "long" then return ("%d %s %d r."):format(d, genitive[m], y) end
  return ("%02d.%02d.%04d"):format(d, m, y)
end

koop.today = M.today
--- koop.days(n): the date n calendar days after today.
function koop.days(n) return M.add(M.today(), n) end
-- Working days, holidays and deadlines live in koop.calendar, loaded on
-- first use (it puts the functions themselves in place of these hooks).
for _, name in ipairs{ "workdays", "is_workday", "holidays", "deadline" } do
  koop[name] = function(...) return require("koop.calendar")[name](...) end
end
koop.dates = M
return M
