-- calendar_test.lua — koop.calendar (issue 6 part 4): Easter (the known
-- dates 2019-2030, and every year 1583-9999 against an independent
-- algorithm), every public holiday of 2024 and 2025 (6 Jan from 2011,
-- 24 Dec from 2025), working days (a long weekend, a year end, counting
-- back, today's date as the default, the year totals 252 and 251),
-- deadlines under KPA art. 57 (days, weeks, months; the shift of a last day
-- on a Saturday, Sunday or holiday to the next working day; working days),
-- and invalid arguments, each an "invalid" error naming the argument.
-- Run with: koop test tests/lua/calendar_test.lua

local calendar = require "koop.calendar"

-- The error fn raises: code "invalid", the field and the message.
local function refused(fn, field, message)
  local e = raises(fn, "invalid")
  eq(e.field, field, "field of: " .. e.message)
  eq(e.message, message)
end

test("Easter Sunday 2019-2030", function()
  local known = {
    [2019] = "2019-04-21", [2020] = "2020-04-12", [2021] = "2021-04-04", [2022] = "2022-04-17",
    [2023] = "2023-04-09", [2024] = "2024-03-31", [2025] = "2025-04-20", [2026] = "2026-04-05",
    [2027] = "2027-03-28", [2028] = "2028-04-16", [2029] = "2029-04-01", [2030] = "2030-04-21",
  }
  for year, date in pairs(known) do eq(calendar.easter(year), date, "Easter " .. year) end
end)

-- Easter by Oudin's algorithm (1940), as given by Claus Tøndering's
-- calendar FAQ: independent of the anonymous algorithm in koop.calendar.
local function oudin(y)
  local g, c = y % 19, y // 100
  local h = (c - c // 4 - (8 * c + 13) // 25 + 19 * g + 15) % 30
  local i = h - (h // 28) * (1 - (29 // (h + 1)) * ((21 - g) // 11))
  local j = (y + y // 4 + i + 2 - c + c // 4) % 7
  local l = i - j
  local month = 3 + (l + 40) // 44
  local day = l + 28 - 31 * (month // 4)
  return ("%04d-%02d-%02d"):format(y, month, day)
end

test("Easter agrees with Oudin's algorithm for every year 1583-9999", function()
  local differ = {}
  for y = 1583, 9999 do
    if calendar.easter(y) ~= oudin(y) then differ[#differ + 1] = y end
  end
  eq(differ, {})
end)

test("movable feasts fall on their weekdays, within their ranges", function()
  for y = 1990, 2200 do
    local days = {}
    for _, h in ipairs(koop.holidays(y)) do days[h.name] = h.date end
    local e = days["Wielkanoc"]
    ok(e >= ("%d-03-22"):format(y) and e <= ("%d-04-25"):format(y), e)
    eq(koop.dates.weekday(e), 7, "Easter on a Sunday " .. e)
    eq(koop.dates.weekday(days["Poniedziałek Wielkanocny"]), 1)
    eq(koop.dates.weekday(days["Zielone Świątki"]), 7)
    eq(koop.dates.diff(e, days["Zielone Świątki"]), 49)
    eq(koop.dates.weekday(days["Boże Ciało"]), 4)
    eq(koop.dates.diff(e, days["Boże Ciało"]), 60)
  end
end)

test("every public holiday of 2024", function()
  eq(koop.holidays(2024), {
    { date = "2024-01-01", name = "Nowy Rok" },
    { date = "2024-01-06", name = "Święto Trzech Króli" },
    { date = "2024-03-31", name = "Wielkanoc" },
    { date = "2024-04-01", name = "Poniedziałek Wielkanocny" },
    { date = "2024-05-01", name = "Święto Pracy" },
    { date = "2024-05-03", name = "Święto Konstytucji 3 Maja" },
    { date = "2024-05-19", name = "Zielone Świątki" },
    { date = "2024-05-30", name = "Boże Ciało" },
    { date = "2024-08-15", name = "Wniebowzięcie Najświętszej Maryi Panny" },
    { date = "2024-11-01", name = "Wszystkich Świętych" },
    { date = "2024-11-11", name = "Narodowe Święto Niepodległości" },
    { date = "2024-12-25", name = "Boże Narodzenie (pierwszy dzień)" },
    { date = "2024-12-26", name = "Boże Narodzenie (drugi dzień)" },
  })
end)

test("every public holiday of 2025, with Wigilia for the first time", function()
  eq(koop.holidays(2025), {
    { date = "2025-01-01", name = "Nowy Rok" },
    { date = "2025-01-06", name = "Święto Trzech Króli" },
    { date = "2025-04-20", name = "Wielkanoc" },
    { date = "2025-04-21", name = "Poniedziałek Wielkanocny" },
    { date = "2025-05-01", name = "Święto Pracy" },
    { date = "2025-05-03", name = "Święto Konstytucji 3 Maja" },
    { date = "2025-06-08", name = "Zielone Świątki" },
    { date = "2025-06-19", name = "Boże Ciało" },
    { date = "2025-08-15", name = "Wniebowzięcie Najświętszej Maryi Panny" },
    { date = "2025-11-01", name = "Wszystkich Świętych" },
    { date = "2025-11-11", name = "Narodowe Święto Niepodległości" },
    { date = "2025-12-24", name = "Wigilia Bożego Narodzenia" },
    { date = "2025-12-25", name = "Boże Narodzenie (pierwszy dzień)" },
    { date = "2025-12-26", name = "Boże Narodzenie (drugi dzień)" },
  })
end)

test("Trzech Króli from 2011, Wigilia from 2025", function()
  eq(#koop.holidays(2010), 12)
  eq(koop.holidays(2010)[2].date, "2010-04-04")
  eq(koop.holidays(2011)[2], { date = "2011-01-06", name = "Święto Trzech Króli" })
  eq(calendar.holiday("2024-12-24"), nil)
  eq(calendar.holiday("2025-12-24"), "Wigilia Bożego Narodzenia")
  eq(calendar.holiday("2030-12-24"), "Wigilia Bożego Narodzenia")
  eq(calendar.holiday("2024-05-30"), "Boże Ciało")
  eq(calendar.holiday("2024-05-02"), nil)
end)

test("the list is a copy: changing it changes nothing", function()
  local list = koop.holidays(2024)
  list[1].date, list[2] = "2024-07-04", nil
  eq(koop.holidays(2024)[1].date, "2024-01-01")
  eq(#koop.holidays(2024), 13)
end)

test("working days: weekdays that are not holidays", function()
  eq(koop.is_workday("2024-12-24"), true)         -- a Tuesday, not yet a holiday
  eq(koop.is_workday("2025-12-24"), false)        -- Wigilia, a Wednesday
  eq(koop.is_workday("2024-05-01"), false)
  eq(koop.is_workday("2024-05-02"), true)
  eq(koop.is_workday("2024-05-04"), false)        -- Saturday
  eq(koop.is_workday("2024-05-05"), false)        -- Sunday
  eq(koop.is_workday("2024-05-06"), true)
  eq(koop.is_workday("2024-01-06"), false)        -- a Saturday and a holiday
end)

-- 2024: 262 weekdays less 10 holidays on weekdays (6 Jan, Easter, 19 May
-- fall on weekends).  2025: 261 weekdays less 10 (3 May and 1 Nov are
-- Saturdays, 8 June a Sunday).
test("a year has 252 (2024) and 251 (2025) working days", function()
  for year, want in pairs{ [2024] = 252, [2025] = 251 } do
    local n, d = 0, ("%d-01-01"):format(year)
    while d:sub(1, 4) == tostring(year) do
      if koop.is_workday(d) then n = n + 1 end
      d = koop.dates.add(d, 1)
    end
    eq(n, want, "working days in " .. year)
    eq(koop.workdays(want, ("%d-12-31"):format(year - 1)), year == 2024 and "2024-12-31" or "2025-12-31")
  end
end)

test("workdays across the May long weekend", function()
  eq(koop.workdays(7, "2024-04-29"), "2024-05-10")   -- skips 1 May, 3 May and the weekend
  eq(koop.workdays(1, "2024-04-30"), "2024-05-02")
  eq(koop.workdays(2, "2024-04-30"), "2024-05-06")
  eq(koop.workdays(1, "2024-05-10"), "2024-05-13")   -- Friday -> Monday
  eq(koop.workdays(1, "2024-05-04"), "2024-05-06")   -- from a Saturday
  eq(koop.workdays(0, "2024-05-04"), "2024-05-04")   -- n = 0: from itself
  eq(koop.workdays(7.0, "2024-04-29"), "2024-05-10")
end)

test("workdays across the year end, before and after Wigilia became a holiday", function()
  eq(koop.workdays(3, "2024-12-23"), "2024-12-30")
  eq(koop.workdays(3, "2025-12-23"), "2025-12-31")
  eq(koop.workdays(4, "2025-12-23"), "2026-01-02")
  eq(koop.workdays(5, "2025-12-23"), "2026-01-05")
end)

test("negative n counts back", function()
  eq(koop.workdays(-1, "2024-05-06"), "2024-05-02")
  eq(koop.workdays(-7, "2024-05-10"), "2024-04-29")
  eq(koop.workdays(-1, "2026-01-02"), "2025-12-31")
  eq(koop.workdays(-1, "2024-05-05"), "2024-05-02")
end)

test("workdays there and back again over random dates", function()
  math.randomseed(2025)
  for _ = 1, 300 do
    local d = koop.dates.from_serial(koop.dates.serial("1991-01-01") + math.random(0, 15000))
    local n = math.random(1, 60)
    local later = koop.workdays(n, d)
    ok(later > d and koop.is_workday(later))
    if koop.is_workday(d) then eq(koop.workdays(-n, later), d) end
    local count, x = 0, d
    repeat x = koop.dates.add(x, 1); if koop.is_workday(x) then count = count + 1 end until x == later
    eq(count, n, ("%d working days from %s"):format(n, d))
  end
end)

test("from defaults to today (pinned, with time travel)", function()
  koop.today("2024-04-29")
  eq(koop.workdays(7), "2024-05-10")
  travel(1)
  eq(koop.workdays(1), "2024-05-02")
  eq(koop.deadline{ days = 14 }, "2024-05-14")
end)

test("KPA art. 57 §4: a last day on a Saturday moves to Monday", function()
  eq(koop.deadline{ from = "2024-05-25", days = 7 }, "2024-06-03")   -- Sat 1 June
  eq(koop.deadline{ from = "2024-05-26", days = 7 }, "2024-06-03")   -- Sun 2 June
  eq(koop.deadline{ from = "2024-06-01", days = 0 }, "2024-06-03")
end)

test("KPA art. 57 §4: a last day on a holiday moves to the next working day", function()
  eq(koop.deadline{ from = "2024-05-23", days = 7 }, "2024-05-31")   -- Boże Ciało
  eq(koop.deadline{ from = "2024-04-26", days = 7 }, "2024-05-06")   -- 3 May, then a weekend
  eq(koop.deadline{ from = "2025-12-10", days = 14 }, "2025-12-29")  -- Wigilia, Christmas, weekend
  eq(koop.deadline{ from = "2024-12-10", days = 14 }, "2024-12-24")  -- 2024: a working day
  eq(koop.deadline{ from = "2025-12-18", days = 14 }, "2026-01-02")  -- New Year
end)

test("a last day on a working day stays", function()
  eq(koop.deadline{ from = "2024-04-29", days = 14 }, "2024-05-13")
  eq(koop.deadline{ from = "2019-10-20", days = 14 }, "2019-11-04")
end)

test("weeks end on the same weekday, months on the same day of the month", function()
  eq(koop.deadline{ from = "2024-04-26", weeks = 1 }, "2024-05-06")
  eq(koop.deadline{ from = "2024-04-29", weeks = 2 }, "2024-05-13")
  eq(koop.deadline{ from = "2024-01-31", months = 1 }, "2024-02-29")  -- no 31 February
  eq(koop.deadline{ from = "2023-01-31", months = 1 }, "2023-02-28")
  eq(koop.deadline{ from = "2024-03-31", months = 1 }, "2024-04-30")
  eq(koop.deadline{ from = "2024-10-31", months = 2 }, "2024-12-31")
  eq(koop.deadline{ from = "2024-08-03", months = 9 }, "2025-05-05")  -- 3 May, then a Sunday
  eq(koop.deadline{ from = "2024-11-30", months = 14 }, "2026-01-30")
  eq(koop.deadline{ from = "2024-06-15", months = 0 }, "2024-06-17")
end)

test("working=true counts working days", function()
  eq(koop.deadline{ from = "2024-04-29", days = 7, working = true }, "2024-05-10")
  eq(koop.deadline{ from = "2025-12-23", days = 4, working = true }, "2026-01-02")
  eq(koop.deadline{ from = "2024-05-04", days = 0, working = true }, "2024-05-06")
  eq(koop.deadline{ from = "2024-04-29", days = 7, working = false }, "2024-05-06")
end)

test("invalid arguments name themselves", function()
  refused(function() koop.workdays("7", "2024-04-29") end, "n", "n: expected a whole number of working days, got string")
  refused(function() koop.workdays(1.5, "2024-04-29") end, "n", "n: expected a whole number of working days, got 1.5")
  refused(function() koop.workdays(nil) end, "n", "n: expected a whole number of working days, got nil")
  refused(function() koop.workdays(1, "2024-02-30") end, "from", "from: '2024-02-30' is not a real calendar date")
  refused(function() koop.workdays(1, "29.04.2024") end, "from", "from: '29.04.2024' is not a date YYYY-MM-DD")
  refused(function() koop.workdays(1, 20240429) end, "from", "from: expected a date YYYY-MM-DD, got number")
  refused(function() koop.workdays(1, "1989-12-29") end, "from",
    "from: Polish public holidays are known for the years 1990 to 9999, not 1989")
  refused(function() koop.workdays(-1, "1990-01-01") end, "from",
    "from: the date falls outside the years 1990 to 9999 whose holidays are known")
  refused(function() koop.workdays(1, "9999-12-31") end, "from",
    "from: the date falls outside the years 1990 to 9999 whose holidays are known")
  refused(function() koop.is_workday("2024-13-01") end, "date", "date: '2024-13-01' is not a real calendar date")
  refused(function() koop.is_workday(nil) end, "date", "date: expected a date YYYY-MM-DD, got nil")
  refused(function() koop.holidays(1989) end, "year", "year: Polish public holidays are known for the years 1990 to 9999, not 1989")
  refused(function() koop.holidays("2024") end, "year", "year: expected a year as a whole number, got 2024")
  refused(function() koop.holidays(2024.5) end, "year", "year: expected a year as a whole number, got 2024.5")
  refused(function() calendar.easter(1582) end, "year", "year: expected a Gregorian year from 1583 to 9999, got 1582")
end)

test("invalid deadlines name the field", function()
  refused(function() koop.deadline("2024-04-29") end, "deadline",
    "deadline: expected a table {from=, days=|weeks=|months=, working=}, got string")
  refused(function() koop.deadline{ from = "2024-04-29" } end, "days", "days: give exactly one of days, weeks or months")
  refused(function() koop.deadline{ from = "2024-04-29", days = 1, weeks = 1 } end, "days",
    "days: give exactly one of days, weeks or months")
  refused(function() koop.deadline{ from = "2024-04-29", days = -1 } end, "days", "days: a deadline cannot be negative, got -1")
  refused(function() koop.deadline{ from = "2024-04-29", months = 1.5 } end, "months",
    "months: expected a whole number of months, got 1.5")
  refused(function() koop.deadline{ from = "2024-04-29", weeks = 1, working = true } end, "working",
    "working: working days count only with days=, not weeks or months")
  refused(function() koop.deadline{ from = "2024-04-29", days = 1, working = "yes" } end, "working",
    "working: expected true or false, got string")
  refused(function() koop.deadline{ from = "2024-04-31", days = 1 } end, "from", "from: '2024-04-31' is not a real calendar date")
  refused(function() koop.deadline{ from = "2024-04-29", day = 1 } end, "day",
    "day: unknown deadline field (known: from, days, weeks, months, working)")
  refused(function() koop.deadline{ from = "9999-12-01", months = 1 } end, "months", "months: the deadline falls after the year 9999")
  refused(function() koop.deadline{ from = "9999-12-01", days = 31 } end, "days", "days: the deadline falls after the year 9999")
end)

test("koop.workdays, koop.is_workday, koop.holidays, koop.deadline are the calendar's", function()
  koop.workdays(1, "2024-04-29")
  ok(koop.workdays == calendar.workdays and koop.is_workday == calendar.is_workday)
  ok(koop.holidays == calendar.holidays and koop.deadline == calendar.deadline)
  ok(koop.calendar == calendar)
  koop.today("2024-04-29")
  eq(koop.days(7), "2024-05-06")
end)
