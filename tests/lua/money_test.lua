-- money_test.lua — koop.money (issue 5 part 1, API.md §4 helpers, domain
-- reference §4 "Money"): the display form byte for byte (U+00A0 groups from
-- 1 000 on, decimal comma, "zł"), the other formats, every accepted input
-- (text, integer złoty, float złoty, Money) and every refused one with its
-- message and field, exact arithmetic and where it refuses to mix with
-- numbers, overflow, comparisons, sums, percentages, split and allocate
-- (random property checks: parts always add up to the whole, sums equal
-- integer sums), the Bogoria scenario (nine lines = 56 340,00 zł; 10 800,00
-- is 19,17%), and amounts bound to SQL as integer grosze.
-- Run with: koop test tests/lua/money_test.lua

local money = koop.money
local NB = "\u{A0}"

-- The error an amount call raises: code, field and message checked.
local function refused(fn, field, message)
  local e = raises(fn, "invalid")
  eq(e.field, field, "field of: " .. e.message)
  eq(e.message, message)
end

-- Grosze of an amount (checking it is one).
local function gr(m)
  ok(money.is(m), "expected an amount, got " .. tostring(m))
  return m:grosze()
end

test("display form, byte for byte", function()
  local cases = {
    { 0, "0,00" .. NB .. "zł" },
    { 1, "0,01" .. NB .. "zł" },
    { -1, "-0,01" .. NB .. "zł" },
    { 99999, "999,99" .. NB .. "zł" },
    { 100000, "1" .. NB .. "000,00" .. NB .. "zł" },
    { 123450, "1" .. NB .. "234,50" .. NB .. "zł" },
    { 1234567, "12" .. NB .. "345,67" .. NB .. "zł" },
    { 5634000, "56" .. NB .. "340,00" .. NB .. "zł" },
    { -5634000, "-56" .. NB .. "340,00" .. NB .. "zł" },
    { 100000000, "1" .. NB .. "000" .. NB .. "000,00" .. NB .. "zł" },
    { math.maxinteger, "92" .. NB .. "233" .. NB .. "720" .. NB .. "368" .. NB .. "547" .. NB .. "758,07" .. NB .. "zł" },
    { -math.maxinteger, "-92" .. NB .. "233" .. NB .. "720" .. NB .. "368" .. NB .. "547" .. NB .. "758,07" .. NB .. "zł" },
  }
  for _, c in ipairs(cases) do
    eq(tostring(money.grosze(c[1])), c[2], "grosze " .. c[1])
  end
  eq(tostring(money("56 340,00 zł")), "56\xC2\xA0340,00\xC2\xA0zł")
end)

test("other formats: PLN, Excel CSV, machine CSV, zloty(), grosze()", function()
  local m = money("56 340,00 zł")
  eq(m:format(), "56" .. NB .. "340,00" .. NB .. "zł")
  eq(m:format{ currency = "PLN" }, "56" .. NB .. "340,00" .. NB .. "PLN")
  eq(m:format{ currency = "zł" }, "56" .. NB .. "340,00" .. NB .. "zł")
  eq(m:format{ currency = false }, "56" .. NB .. "340,00")
  eq(m:format{ plain = true }, "56340,00")
  eq(m:format{ dot = true }, "56340.00")
  eq(m:format{ plain = true, currency = "PLN" }, "56340,00" .. NB .. "PLN")
  eq(money("-0,05"):format{ plain = true }, "-0,05")
  eq(m:zloty(), "56340.00")
  eq(money("-1 234,5"):zloty(), "-1234.50")
  eq(m:grosze(), 5634000)
  eq(math.type(m:grosze()), "integer")
  refused(function() m:format{ currency = "EUR" } end, "currency",
    'format: currency must be "zł", "PLN" or false, got "EUR"')
  refused(function() m:format{ decimals = 3 } end, "format",
    "format: unknown option decimals (known: currency, plain, dot)")
end)

test("concatenation and tostring use the display form", function()
  local m = money("10 800")
  eq("wykonanie " .. m .. " (19,17%)", "wykonanie 10" .. NB .. "800,00" .. NB .. "zł (19,17%)")
  eq(m .. "!", "10" .. NB .. "800,00" .. NB .. "zł!")
  eq(1 .. money(2), "12,00" .. NB .. "zł")
  eq(money(1) .. money(2), "1,00" .. NB .. "zł2,00" .. NB .. "zł")
  eq(raises(function() return m .. {} end, "misuse").message,
    "cannot concatenate an amount and a table")
  eq(koop.pretty(m), "10" .. NB .. "800,00" .. NB .. "zł")
end)

test("accepted texts", function()
  local cases = {
    ["56 340,00 zł"] = 5634000, ["56340,00"] = 5634000, ["56340.00"] = 5634000,
    ["56 340 zł"] = 5634000, ["56" .. NB .. "340,00" .. NB .. "zł"] = 5634000,
    ["56\u{202F}340,00\u{202F}zł"] = 5634000, ["56\u{2009}340"] = 5634000,
    ["56340zł"] = 5634000, ["56340 ZŁ"] = 5634000, ["56340 zl"] = 5634000,
    ["56 340,00 PLN"] = 5634000, ["56340 pln"] = 5634000,
    ["  56 340,00 zł \r\n"] = 5634000, ["-12,5"] = -1250, ["+12,5"] = 1250,
    ["\u{2212}12,50 zł"] = -1250, ["-56 340,00 zł"] = -5634000, ["0"] = 0,
    ["-0,00"] = 0, ["0,01"] = 1, ["0.5"] = 50, ["999,99"] = 99999,
    ["1 234,50"] = 123450, ["1234,50"] = 123450, ["1.234,56"] = 123456,
    ["1.234.567,89"] = 123456789, ["1.234.567"] = 123456700, ["1 234.56"] = 123456,
    ["1 000 000,00"] = 100000000, ["0056340"] = 5634000,
    ["92 233 720 368 547 758,07"] = math.maxinteger,
    ["-92 233 720 368 547 758,07 zł"] = -math.maxinteger,
  }
  for text, grosze in pairs(cases) do
    eq(gr(money(text)), grosze, ("%q"):format(text))
  end
end)

test("refused texts, each with its reason", function()
  local NOT = " is not an amount of money (write e.g. 56 340,00 zł, 56340,00 or 56340.00)"
  local PRECISE = " has more than two decimal places (the grosz is the smallest unit)"
  local GROUPS = " has digit groups of the wrong size (after the first group, groups of three: 12 345,00)"
  local cases = {
    { "", " is empty" }, { "   ", " is empty" },
    { "abc", NOT }, { "NaN", NOT }, { "nan", NOT }, { "inf", NOT }, { "-inf", NOT },
    { "1e5", NOT }, { "0x10", NOT }, { "zł", NOT }, { "-", NOT }, { "12 zł 50", NOT },
    { "12,345", PRECISE }, { "0,001", PRECISE }, { "56340.000", PRECISE }, { "1234.567", PRECISE },
    { "1.234", " is ambiguous: the dot may be a decimal point or a thousands separator" ..
      " (write 1234 or 1 234 for thousands, 1,23 for a fraction)" },
    { "1,2,3", " has more than one decimal comma" },
    { "1,234.56", " uses a comma as a thousands separator (write 1 234,56 or 1234.56)" },
    { "12 34,00", GROUPS }, { "1 2345", GROUPS }, { "1.23.456", GROUPS },
    { "1.234 567,00", " mixes two kinds of thousands separator" },
    { ",50", " has no digits before the decimal separator (write 0,50)" },
    { "12,", " has no digits after the decimal separator" },
    { "92 233 720 368 547 758,08",
      " is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)" },
  }
  for _, c in ipairs(cases) do
    refused(function() return money(c[1]) end, "amount", ("amount: %q%s"):format(c[1], c[2]))
    local none, why = money.parse(c[1])
    eq(none, nil)
    eq(why, ("%q%s"):format(c[1], c[2]))
  end
  refused(function() return money(("9"):rep(60)) end, "amount",
    'amount: "' .. ("9"):rep(40) .. '…" is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)')
end)

test("the caller names the field", function()
  refused(function() return money("12,345", "line.amount") end, "line.amount",
    'line.amount: "12,345" has more than two decimal places (the grosz is the smallest unit)')
  refused(function() return money({}, "expenditure.amount") end, "expenditure.amount",
    'expenditure.amount: expected an amount ("56 340,00 zł", a number of złoty or a Money), got table')
  refused(function() return money(nil) end, "amount",
    'amount: expected an amount ("56 340,00 zł", a number of złoty or a Money), got nil')
  refused(function() return money(true) end, "amount",
    'amount: expected an amount ("56 340,00 zł", a number of złoty or a Money), got boolean')
end)

test("numbers are złoty: integers, and floats with at most two decimals", function()
  eq(gr(money(56340)), 5634000)
  eq(gr(money(-3)), -300)
  eq(gr(money(56340.5)), 5634050)
  eq(gr(money(12.34)), 1234)
  eq(gr(money(0.1 + 0.2)), 30)             -- 0.30000000000000004: 0,30 zł at 1e-9 zł
  eq(gr(money(1.1 * 3)), 330)
  eq(gr(money(-0.0)), 0)
  eq(gr(money(1e15)), 100000000000000000)
  eq(gr(money(9999999999999.99)), 999999999999999)
  local PRECISE = " has more than two decimal places (the grosz is the smallest unit)"
  refused(function() return money(0.123) end, "amount", "amount: 0.123" .. PRECISE)
  refused(function() return money(1 / 3) end, "amount", "amount: 0.3333333333333333" .. PRECISE)
  refused(function() return money(0.005) end, "amount", "amount: 0.005" .. PRECISE)
  refused(function() return money(0 / 0) end, "amount", "amount: nan is not a finite number")
  refused(function() return money(-(0 / 0)) end, "amount", "amount: nan is not a finite number")
  refused(function() return money(math.huge) end, "amount", "amount: inf is not a finite number")
  refused(function() return money(-math.huge) end, "amount", "amount: -inf is not a finite number")
  refused(function() return money(1e13 + 0.5) end, "amount",
    "amount: 10000000000000.5 is a float too large to hold grosze exactly (give the amount as a string)")
  refused(function() return money(1e17) end, "amount",
    "amount: 1e+17 is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)")
  refused(function() return money(math.maxinteger // 100 + 1) end, "amount",
    "amount: 92233720368547759 is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)")
end)

test("an amount is itself; grosze builds from whole grosze; is; parse", function()
  local m = money("1,00")
  ok(rawequal(money(m), m))
  eq(gr(money.grosze(1)), 1)
  eq(gr(money.grosze(-250)), -250)
  eq(gr(money.grosze(7.0)), 7)
  eq(gr(money.grosze(math.maxinteger)), math.maxinteger)
  refused(function() return money.grosze(1.5) end, "grosze", "grosze: 1.5 is not a whole number of grosze")
  refused(function() return money.grosze("12") end, "grosze", "grosze: expected a whole number, got string")
  refused(function() return money.grosze(math.mininteger) end, "grosze",
    "grosze: -9223372036854775808 is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)")
  eq(money.is(m), true)
  eq(money.is(100), false)
  eq(money.is("1,00"), false)
  eq(money.is(nil), false)
  eq(money.is(io.stdout), false)
  eq(gr(money.parse("12,50 zł")), 1250)
end)

test("arithmetic between amounts is exact", function()
  local a, b = money("0,10"), money("0,20")
  eq(gr(a + b), 30)
  ok(a + b == money("0,30"))
  eq(gr(a - b), -10)
  eq(gr(-a), -10)
  eq(gr(-(-a)), 10)
  eq(gr(a * 3), 30)
  eq(gr(3 * a), 30)
  eq(gr(a * 2.0), 20)
  eq(gr(a * -2), -20)
  eq(gr(money("10,00") // 3), 333)
  eq(gr(money("-10,00") // 3), -334)        -- Lua's floor division
  eq(gr(money("10,00") % 3), 1)
  eq(gr(money("-10,00") % 3), 2)
  local m, n = money("10,00"), 7
  ok((m // n) * n + m % n == m)
  eq(money("56 340,00") // money("3 600,00"), 15)
  eq(math.type(money("56 340,00") // money("3 600,00")), "integer")
  eq(gr(money("56 340,00") % money("3 600,00")), 5634000 - 15 * 360000)
end)

test("comparisons", function()
  local a, b = money("1 234,50"), money("1234.5")
  ok(a == b)
  ok(not (a ~= b))
  ok(money("0,01") > money("0"))
  ok(money("-0,01") < money("0"))
  ok(a <= b and a >= b)
  ok(money(1) ~= 1)                        -- an amount never equals a number
  eq(raises(function() return a < 5 end, "misuse").message,
    "cannot compare an amount and a number: both must be amounts " ..
    "(write koop.money(x) for złoty, koop.money.grosze(n) for grosze)")
  raises(function() return "1" <= a end, "misuse")
end)

test("amounts do not mix with plain numbers except * and //", function()
  local m = money("12,00")
  local e = raises(function() return m + 5 end, "misuse")
  eq(e.message, "cannot add an amount and a number: both must be amounts " ..
    "(write koop.money(x) for złoty, koop.money.grosze(n) for grosze)")
  raises(function() return 5 - m end, "misuse")
  raises(function() return m + "5" end, "misuse")
  eq(raises(function() return m * m end, "misuse").message, "an amount times an amount is not an amount")
  eq(raises(function() return m * 1.5 end, "misuse").message,
    "an amount can only be multiplied by a whole number " ..
    "(for shares use m:allocate{...} or m:percent_of(total)), got 1.5")
  eq(raises(function() return m * 1e100 end, "misuse").message,
    "an amount can only be multiplied by a whole number " ..
    "(for shares use m:allocate{...} or m:percent_of(total)), got 1e+100")
  eq(raises(function() return m * "2" end, "misuse").message,
    "an amount can only be multiplied by a whole number " ..
    "(for shares use m:allocate{...} or m:percent_of(total)), got a string")
  eq(raises(function() return m / 2 end, "misuse").message,
    "amounts are not divided with '/': use m // n (whole grosze, rounded down), " ..
    "m:split(n) (exact parts), m:allocate{...} or m:ratio(total)")
  eq(raises(function() return 5 // m end, "misuse").message, "cannot divide a number by an amount")
  eq(raises(function() return m // 0 end, "invalid").message, "division of an amount by zero")
  raises(function() return m % money(0) end, "invalid")
  raises(function() return m // 1.5 end, "misuse")
  raises(function() return m ^ 2 end, "arithmetic on a Money value")
end)

test("overflow is an error, never a wrap", function()
  local max, one = money.grosze(math.maxinteger), money.grosze(1)
  local OVER = "amount overflow in %s: the result is beyond ±92 233 720 368 547 758,07 zł"
  eq(raises(function() return max + one end, "invalid").message, OVER:format("+"))
  eq(raises(function() return -max - one end, "invalid").message, OVER:format("-"))
  eq(raises(function() return max * 2 end, "invalid").message, OVER:format("*"))
  eq(raises(function() return -one * math.mininteger end, "invalid").message, OVER:format("*"))
  eq(raises(function() return one * math.mininteger end, "invalid").message, OVER:format("*"))
  eq(raises(function() return money.sum{ max, one } end, "invalid").message, OVER:format("sum"))
  eq(gr(max - one + one), math.maxinteger)
  eq(gr(-max), -math.maxinteger)
  eq(gr(max // -1), -math.maxinteger)
end)

test("sums of lists of amounts and texts", function()
  eq(gr(money.sum{}), 0)
  eq(gr(money.sum{ "1,50", money("2,50"), "3 zł" }), 700)
  refused(function() return money.sum{ "1,50", "x" } end, "list[2]",
    'list[2]: "x" is not an amount of money (write e.g. 56 340,00 zł, 56340,00 or 56340.00)')
  refused(function() return money.sum({ "1", "1,234" }, "lines") end, "lines[2]",
    'lines[2]: "1,234" has more than two decimal places (the grosz is the smallest unit)')
  refused(function() return money.sum("1,50") end, "list", "list: expected a list of amounts, got string")
end)

test("random sums equal integer sums", function()
  math.randomseed(20240429)
  for _ = 1, 200 do
    local list, texts, want = {}, {}, 0
    for i = 1, math.random(0, 40) do
      local g = math.random(-10000000000, 10000000000)
      want = want + g
      list[i] = money.grosze(g)
      texts[i] = money.grosze(g):format{ plain = true }
    end
    local total = money.grosze(0)
    for _, m in ipairs(list) do total = total + m end
    eq(gr(total), want)
    eq(gr(money.sum(list)), want)
    eq(gr(money.sum(texts)), want)
    eq(gr(money(tostring(total))), want)
  end
end)

test("percentages: two decimals, half away from zero", function()
  local total = money("56 340,00")
  eq(money("10 800,00"):percent_of(total), "19,17%")
  eq(money("56 340,00"):percent_of(total), "100,00%")
  eq(money("0"):percent_of(total), "0,00%")
  eq(money.grosze(1):percent_of(money.grosze(8)), "12,50%")
  eq(money.grosze(1):percent_of(money.grosze(3)), "33,33%")
  eq(money.grosze(2):percent_of(money.grosze(3)), "66,67%")
  eq(money.grosze(1):percent_of(money.grosze(20000)), "0,01%")   -- 0,005% rounds up
  eq(money.grosze(1):percent_of(money.grosze(20001)), "0,00%")
  eq(money.grosze(-1):percent_of(money.grosze(20000)), "-0,01%") -- away from zero
  eq(money.grosze(1):percent_of(money.grosze(-20000)), "-0,01%")
  eq(money.grosze(-1):percent_of(money.grosze(-3)), "33,33%")
  eq(money("3"):percent_of("2,00"), "150,00%")
  eq(money.grosze(math.maxinteger):percent_of(money.grosze(1)), "922337203685477580700,00%")
  refused(function() return total:percent_of(money(0)) end, "total", "total: a share of a zero total is undefined")
  refused(function() return total:percent_of("x") end, "total",
    'total: "x" is not an amount of money (write e.g. 56 340,00 zł, 56340,00 or 56340.00)')
end)

test("ratio is a number; the amount stays exact", function()
  local r = money("10 800,00"):ratio(money("56 340,00"))
  eq(math.type(r), "float")
  ok(math.abs(r - 10800 / 56340) < 1e-15)
  eq(money("1"):ratio("4"), 0.25)
  raises(function() return money("1"):ratio(money(0)) end, "invalid")
end)

-- The grosze of a list of amounts.
local function grosze_of(parts)
  local out = {}
  for i, p in ipairs(parts) do out[i] = gr(p) end
  return out
end

test("split: the larger parts first, adding up exactly", function()
  eq(grosze_of(money("1,00"):split(3)), { 34, 33, 33 })
  eq(grosze_of(money("-1,00"):split(3)), { -34, -33, -33 })
  eq(grosze_of(money("0,02"):split(3)), { 1, 1, 0 })
  eq(grosze_of(money("56 340,00"):split(1)), { 5634000 })
  eq(grosze_of(money.grosze(math.maxinteger):split(2)), { math.maxinteger // 2 + 1, math.maxinteger // 2 })
  refused(function() return money(1):split(0) end, "n", "split: the number of parts must be from 1 to 2147483647, got 0")
  refused(function() return money(1):split(-2) end, "n", "split: the number of parts must be from 1 to 2147483647, got -2")
end)

test("allocate: proportional, largest remainders, adding up exactly", function()
  eq(grosze_of(money("1,00"):allocate{ 1, 1, 1 }), { 34, 33, 33 })
  eq(grosze_of(money("0,05"):allocate{ 3, 7 }), { 2, 3 })       -- 1.5 and 3.5: ties to the first
  eq(grosze_of(money("1,00"):allocate{ 0, 1 }), { 0, 100 })
  eq(grosze_of(money("1,00"):allocate{ 1, 0, 2 }), { 33, 0, 67 })
  eq(grosze_of(money("-1,00"):allocate{ 1, 2 }), { -33, -67 })
  eq(grosze_of(money("100,00"):allocate{ money("7 200,00"), money("4 800,00") }), { 6000, 4000 })
  eq(grosze_of(money.grosze(math.maxinteger):allocate{ math.maxinteger, math.maxinteger }),
    { math.maxinteger // 2 + 1, math.maxinteger // 2 })
  refused(function() return money(1):allocate{} end, "weights", "allocate: expected a list of weights, got 0 of them")
  refused(function() return money(1):allocate{ 0, 0 } end, "weights", "allocate: the weights add up to zero")
  refused(function() return money(1):allocate{ 1, -1 } end, "weights",
    "allocate: weight 2 must be a whole number or an amount, not negative, got -1")
  refused(function() return money(1):allocate{ 0.5 } end, "weights",
    "allocate: weight 1 must be a whole number or an amount, not negative, got 0.5")
  refused(function() return money(1):allocate{ "1" } end, "weights",
    "allocate: weight 1 must be a whole number or an amount, not negative, got 1")
  refused(function() return money(1):allocate{ money(-1) } end, "weights",
    "allocate: weight 1 must be a whole number or an amount, not negative, got -1,00" .. NB .. "zł")
end)

test("random splits and allocations always add up to the whole", function()
  math.randomseed(57)
  for _ = 1, 300 do
    local m = money.grosze(math.random(-100000000, 100000000))
    local n = math.random(1, 12)
    local weights, wsum = {}, 0
    for i = 1, n do weights[i] = math.random(0, 3) == 0 and 0 or math.random(1, 1000); wsum = wsum + weights[i] end
    if wsum == 0 then weights[1], wsum = 1, 1 end
    local parts = m:split(n)
    eq(#parts, n)
    eq(gr(money.sum(parts)), gr(m))
    for i = 2, n do ok(math.abs(gr(parts[i - 1]) - gr(parts[i])) <= 1 and math.abs(gr(parts[i - 1])) >= math.abs(gr(parts[i]))) end
    local shares = m:allocate(weights)
    eq(gr(money.sum(shares)), gr(m))
    for i = 1, n do
      local exact = gr(m) * weights[i] / wsum            -- a float, only to bound the error
      ok(math.abs(gr(shares[i]) - exact) < 1, ("part %d of %s by %s"):format(i, m, table.concat(weights, ",")))
      if weights[i] == 0 then eq(gr(shares[i]), 0) end
    end
  end
end)

test("Bogoria's projekt socjalny: nine lines make 56 340,00 zł; therapy is 19,17%", function()
  local lines = {
    { "poradnictwo", "7 200,00" }, { "diagnostyka", "4 800,00" }, { "terapia", "10 800,00" },
    { "rehabilitacja", "9 600,00" }, { "warsztaty", "6 000,00" }, { "klub", "7 500,00" },
    { "centrum wolontariatu", "3 640,00" }, { "edukacja społeczności", "2 800,00" },
    { "szkolenia kadr", "4 000,00" },
  }
  local amounts = {}
  for i, l in ipairs(lines) do amounts[i] = money(l[2], l[1]) end
  local total = money.sum(amounts)
  eq(tostring(total), "56" .. NB .. "340,00" .. NB .. "zł")
  ok(total == money("56 340,00 zł"))
  local paid = money.sum{ "3 600,00", "3 600,00", "3 600,00" }
  eq(paid, money("10 800,00"))
  eq(("wykonanie %s (%s)"):format(paid, paid:percent_of(total)),
    "wykonanie 10" .. NB .. "800,00" .. NB .. "zł (19,17%)")
  ok(paid + money("0,01") > amounts[3])    -- a fourth invoice of 0,01 zł would exceed the commitment
end)

test("an amount binds to SQL as its integer grosze", function()
  db:exec("CREATE TABLE line(name TEXT, planned_gr INTEGER)")
  db:exec("INSERT INTO line VALUES (?, ?)", "terapia", money("10 800,00"))
  db:exec("INSERT INTO line VALUES (:name, :amount)", { name = "klub", amount = money("7 500,00") })
  eq(db:value("SELECT typeof(planned_gr) FROM line WHERE name = 'terapia'"), "integer")
  eq(db:value("SELECT sum(planned_gr) FROM line"), 1830000)
  eq(money.grosze(db:value("SELECT sum(planned_gr) FROM line")), money("18 300,00"))
end)
