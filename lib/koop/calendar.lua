-- koop.calendar — Polish working days and deadlines: public holidays
-- (ustawa z 18 stycznia 1951 r. o dniach wolnych od pracy, art. 1), working
-- days, and deadlines counted the way KPA art. 57 counts them.
--
-- Holidays, as in force from 1990 (when 3 May returned and 22 July went):
-- 1 Jan, Easter Sunday and Monday, 1 May, 3 May, Pentecost Sunday (Easter
-- + 49), Corpus Christi (Easter + 60), 15 Aug, 1 Nov, 11 Nov, 25 and 26 Dec;
-- 6 Jan from 2011; 24 Dec from 2025.  Years before 1990 are refused rather
-- than answered wrongly.  Easter is the Gregorian Easter of the anonymous
-- (Meeus/Jones/Butcher) algorithm.
--
-- A working day is Monday to Friday and not a holiday.  Saturday is not a
-- working day here: KPA art. 57 §4 treats it like a holiday.
--
-- koop.workdays(n [, from]): the date n working days after `from` (default
-- today); `from` itself is never counted, so workdays(1, Friday) is the next
-- Monday.  n = 0 gives `from` unchanged; a negative n counts back to the
-- n-th working day before `from`.
--
-- koop.deadline{from=, days=n [, working=true]} | {from=, weeks=n} |
-- {from=, months=n}: the last day of a deadline counted from the event on
-- `from` (default today), which is not itself counted (art. 57 §1): days
-- end n days later, weeks on the same weekday (§2), months on the same day
-- of the month, or the month's last day when it has no such day (§3).  A
-- deadline that ends on a Saturday, Sunday or holiday moves to the next
-- working day (§4).  working=true counts working days (koop.workdays).
local koop = require "koop"
local dates = require "koop.dates"

local M = {}

local FIRST_YEAR, LAST_YEAR = 1990, 9999
local LAST_DAY = dates.serial("9999-12-31")

-- Raise an "invalid" error naming the argument.
local function invalid(field, fmt, ...)
  koop.raise{ code = "invalid", field = field, message = field .. ": " .. fmt:format(...) }
end

-- The serial day of an ISO date argument, or raise naming it.
local function date_arg(s, field)
  local y, m, d = dates.parse(s)
  if not y then invalid(field, "%s", m) end
  return dates.serial(s), y, m, d
end

-- A year we know the holidays of, or raise naming the argument.
local function check_year(y, field)
  if math.type(y) ~= "integer" then
    invalid(field, "expected a year as a whole number, got %s", tostring(y))
  end
  if y < FIRST_YEAR or y > LAST_YEAR then
    invalid(field, "Polish public holidays are known for the years %d to %d, not %d",
      FIRST_YEAR, LAST_YEAR, y)
  end
  return y
end

-- A whole number argument, or raise naming it.
local function count_arg(n, field, what)
  n = math.type(n) == "float" and math.tointeger(n) or n
  if math.type(n) ~= "integer" then
    invalid(field, "expected a whole number of %s, got %s", what,
      type(n) == "number" and tostring(n) or type(n))
  end
  return n
end

--- The ISO date of Gregorian Easter Sunday in year y.
function M.easter(y)
  if math.type(y) ~= "integer" or y < 1583 or y > LAST_YEAR then
    invalid("year", "expected a Gregorian year from 1583 to %d, got %s", LAST_YEAR, tostring(y))
  end
  local a = y % 19
  local b, c = y // 100, y % 100
  local d, e = b // 4, b % 4
  local f = (b + 8) // 25
  local g = (b - f + 1) // 3
  local h = (19 * a + b - d - g + 15) % 30
  local i, k = c // 4, c % 4
  local l = (32 + 2 * e + 2 * i - h - k) % 7
  local m = (a + 11 * h + 22 * l) // 451
  local month = (h + l - 7 * m + 114) // 31
  local day = (h + l - 7 * m + 114) % 31 + 1
  return ("%04d-%02d-%02d"):format(y, month, day)
end

-- Per year: { first = serial of 1 Jan, last = serial of 31 Dec,
-- names = { [serial] = name }, list = sorted { {date=, name=} } }.
local years = {}

-- The holiday table of year y (built once).
local function year_info(y)
  local info = years[y]
  if info then return info end
  local first = dates.serial(("%04d-01-01"):format(y))
  local easter = dates.serial(M.easter(y))
  local function fixed(md) return dates.serial(("%04d-%s"):format(y, md)) end
  local days = {
    { fixed("01-01"), "Nowy Rok" },
    y >= 2011 and { fixed("01-06"), "Święto Trzech Króli" } or false,
    { easter, "Wielkanoc" },
    { easter + 1, "Poniedziałek Wielkanocny" },
    { fixed("05-01"), "Święto Pracy" },
    { fixed("05-03"), "Święto Konstytucji 3 Maja" },
    { easter + 49, "Zielone Świątki" },
    { easter + 60, "Boże Ciało" },
    { fixed("08-15"), "Wniebowzięcie Najświętszej Maryi Panny" },
    { fixed("11-01"), "Wszystkich Świętych" },
    { fixed("11-11"), "Narodowe Święto Niepodległości" },
    y >= 2025 and { fixed("12-24"), "Wigilia Bożego Narodzenia" } or false,
    { fixed("12-25"), "Boże Narodzenie (pierwszy dzień)" },
    { fixed("12-26"), "Boże Narodzenie (drugi dzień)" },
  }
  info = { first = first, last = dates.serial(("%04d-12-31"):format(y)), names = {}, list = {} }
  for _, h in ipairs(days) do
    if h then
      info.names[h[1]] = h[2]
      info.list[#info.list + 1] = { serial = h[1], name = h[2] }
    end
  end
  table.sort(info.list, function(a, b) return a.serial < b.serial end)
  years[y] = info
  return info
end

--- koop.holidays(year): the public holidays of that year, sorted by date,
--- as a list of { date = "YYYY-MM-DD", name = "..." }.
function M.holidays(year)
  local info = year_info(check_year(year, "year"))
  local out = {}
  for i, h in ipairs(info.list) do out[i] = { date = dates.from_serial(h.serial), name = h.name } end
  return out
end

--- The name of the public holiday on date d, or nil.
function M.holiday(d)
  local s, y = date_arg(d, "date")
  return year_info(check_year(y, "date")).names[s]
end

-- is_workday(s) for serial days s starting in year y and moving a day at a
-- time; it follows into the next or previous year as s crosses over.
local function walker(y, field)
  local info = year_info(check_year(y, field))
  local function is_workday(s)
    if s > info.last or s < info.first then
      y = s > info.last and y + 1 or y - 1
      if y < FIRST_YEAR or y > LAST_YEAR then
        invalid(field, "the date falls outside the years %d to %d whose holidays are known",
          FIRST_YEAR, LAST_YEAR)
      end
      info = year_info(y)
    end
    return (s + 3) % 7 < 5 and info.names[s] == nil       -- (s + 3) % 7: 0 = Monday
  end
  return is_workday
end

--- koop.is_workday(d): d is Monday to Friday and not a public holiday.
function M.is_workday(d)
  local s, y = date_arg(d, "date")
  return walker(y, "date")(s)
end

-- The serial day n working days from serial s (back for negative n).
local function add_workdays(s, y, n, field)
  local is_workday = walker(y, field)
  local step = n < 0 and -1 or 1
  for _ = 1, n * step do
    repeat s = s + step until is_workday(s)
  end
  return s
end

--- koop.workdays(n [, from]): the date n working days after `from`
--- (default today); negative n counts back.
function M.workdays(n, from)
  n = count_arg(n, "n", "working days")
  from = from == nil and dates.today() or from
  local s, y = date_arg(from, "from")
  return dates.from_serial(add_workdays(s, y, n, "from"))
end

--- koop.deadline{from=, days=|weeks=|months=, working=}: the last day of a
--- deadline under KPA art. 57 (see the top of this file).
function M.deadline(spec)
  if type(spec) ~= "table" then
    invalid("deadline", "expected a table {from=, days=|weeks=|months=, working=}, got %s", type(spec))
  end
  for k in pairs(spec) do
    if k ~= "from" and k ~= "days" and k ~= "weeks" and k ~= "months" and k ~= "working" then
      invalid(tostring(k), "unknown deadline field (known: from, days, weeks, months, working)")
    end
  end
  local from = spec.from == nil and dates.today() or spec.from
  local s, y, m, d = date_arg(from, "from")
  local given = (spec.days ~= nil and 1 or 0) + (spec.weeks ~= nil and 1 or 0) + (spec.months ~= nil and 1 or 0)
  if given ~= 1 then invalid("days", "give exactly one of days, weeks or months") end
  if spec.working ~= nil and type(spec.working) ~= "boolean" then
    invalid("working", "expected true or false, got %s", type(spec.working))
  end
  if spec.working and spec.days == nil then
    invalid("working", "working days count only with days=, not weeks or months")
  end
  local field = spec.days ~= nil and "days" or spec.weeks ~= nil and "weeks" or "months"
  local n = count_arg(spec[field], field, field)
  if n < 0 then invalid(field, "a deadline cannot be negative, got %d", n) end
  local last
  if spec.working then
    last = add_workdays(s, y, n, "from")
  elseif field == "days" then
    last = s + n
  elseif field == "weeks" then
    last = s + 7 * n
  else
    local months = (m - 1) + n
    local ty, tm = y + months // 12, months % 12 + 1
    if ty > LAST_YEAR then invalid("months", "the deadline falls after the year %d", LAST_YEAR) end
    last = dates.serial(("%04d-%02d-%02d"):format(ty, tm, math.min(d, dates.days_in_month(ty, tm))))
  end
  if last > LAST_DAY then invalid(field, "the deadline falls after the year %d", LAST_YEAR) end
  local is_workday = walker(tonumber(dates.from_serial(last):sub(1, 4)), "from")
  while not is_workday(last) do last = last + 1 end
  return dates.from_serial(last)
end

-- Replace dates.lua's lazy hooks with the functions themselves.
koop.workdays, koop.is_workday, koop.holidays, koop.deadline =
  M.workdays, M.is_workday, M.holidays, M.deadline
koop.calendar = M
return M
