-- print_test.lua — koop.pretty, koop.format, koop.mode, koop.resultset
-- (src/print.c).  Plan:
--   1. every output mode (box, table, markdown, csv, json, line) on one
--      small result set with Polish letters, NULL, integers, floats and a
--      cell holding `;`, `"` and a newline — exact expected text;
--   2. result-set details: numbers right-aligned, control characters made
--      visible, truncation to a width, max_rows, rows from __index,
--      columns from the keys, csv/json options and escaping, errors;
--   3. koop.pretty of values: scalars, nested tables, sorted keys, quoting,
--      cycles, depth and item limits, wrapping, __tostring (working and
--      failing), functions and objects by name, result sets;
--   4. koop.mode: default, setting, unknown names.
-- Expected text is written out in full; widths are passed explicitly so
-- the terminal the tests run in does not matter.

local function lines(t) return table.concat(t, "\n") .. "\n" end

-- koop.pretty at 80 columns unless told otherwise, whatever the terminal.
local function pretty(v, opts)
  opts = opts or {}
  opts.width = opts.width or 80
  return koop.pretty(v, opts)
end

-- The sample: id (integer), name (text, one NULL), kwota (float, one NULL),
-- uwagi (text with ; and " and a newline).
local function sample()
  return koop.resultset({
    { id = 1, name = "Łoniów", kwota = 12.5, uwagi = "a;b" },
    { id = 22, name = "Środowiskowy", uwagi = 'mówi "tak"' },
    { id = 3, kwota = -0.25, uwagi = "wiersz 1\nwiersz 2" },
    { id = 1234, name = "Bogoria", kwota = 2.0, uwagi = "" },
  }, { "id", "name", "kwota", "uwagi" })
end

-- 1. Every mode ------------------------------------------------------------

test("box: sqlite3 box drawing, display widths, numbers right", function()
  eq(koop.format(sample(), "box"), lines{
    "┌──────┬──────────────┬───────┬────────────┐",
    "│  id  │     name     │ kwota │   uwagi    │",
    "├──────┼──────────────┼───────┼────────────┤",
    "│    1 │ Łoniów       │  12.5 │ a;b        │",
    "├──────┼──────────────┼───────┼────────────┤",
    "│   22 │ Środowiskowy │       │ mówi \"tak\" │",
    "├──────┼──────────────┼───────┼────────────┤",
    "│    3 │              │ -0.25 │ wiersz 1   │",
    "│      │              │       │ wiersz 2   │",
    "├──────┼──────────────┼───────┼────────────┤",
    "│ 1234 │ Bogoria      │   2.0 │            │",
    "└──────┴──────────────┴───────┴────────────┘",
  })
end)

test("table: ASCII frame", function()
  eq(koop.format(sample(), "table"), lines{
    "+------+--------------+-------+------------+",
    "|  id  |     name     | kwota |   uwagi    |",
    "+------+--------------+-------+------------+",
    "|    1 | Łoniów       |  12.5 | a;b        |",
    "+------+--------------+-------+------------+",
    "|   22 | Środowiskowy |       | mówi \"tak\" |",
    "+------+--------------+-------+------------+",
    "|    3 |              | -0.25 | wiersz 1   |",
    "|      |              |       | wiersz 2   |",
    "+------+--------------+-------+------------+",
    "| 1234 | Bogoria      |   2.0 |            |",
    "+------+--------------+-------+------------+",
  })
end)

test("markdown: header rule, no frame", function()
  eq(koop.format(sample(), "markdown"), lines{
    "|  id  |     name     | kwota |   uwagi    |",
    "|------|--------------|-------|------------|",
    "|    1 | Łoniów       |  12.5 | a;b        |",
    "|   22 | Środowiskowy |       | mówi \"tak\" |",
    "|    3 |              | -0.25 | wiersz 1   |",
    "|      |              |       | wiersz 2   |",
    "| 1234 | Bogoria      |   2.0 |            |",
  })
end)

test("csv: RFC 4180 quoting, NULL empty, header", function()
  eq(koop.format(sample(), "csv"), lines{
    "id,name,kwota,uwagi",
    "1,Łoniów,12.5,a;b",
    '22,Środowiskowy,,"mówi ""tak"""',
    '3,,-0.25,"wiersz 1',
    'wiersz 2"',
    "1234,Bogoria,2.0,",
  })
end)

test("json: objects in column order, null, raw numbers", function()
  eq(koop.format(sample(), "json"), lines{
    '[{"id":1,"name":"Łoniów","kwota":12.5,"uwagi":"a;b"},',
    '{"id":22,"name":"Środowiskowy","kwota":null,"uwagi":"mówi \\"tak\\""},',
    '{"id":3,"name":null,"kwota":-0.25,"uwagi":"wiersz 1\\nwiersz 2"},',
    '{"id":1234,"name":"Bogoria","kwota":2.0,"uwagi":""}]',
  })
end)

test("line: names right-aligned, blank line between rows", function()
  eq(koop.format(sample(), "line"), lines{
    "   id = 1",
    " name = Łoniów",
    "kwota = 12.5",
    "uwagi = a;b",
    "",
    "   id = 22",
    " name = Środowiskowy",
    "kwota = ",
    'uwagi = mówi "tak"',
    "",
    "   id = 3",
    " name = ",
    "kwota = -0.25",
    "uwagi = wiersz 1",
    "wiersz 2",
    "",
    "   id = 1234",
    " name = Bogoria",
    "kwota = 2.0",
    "uwagi = ",
  })
end)

-- 2. Result-set details -----------------------------------------------------

test("a result set prints in the current mode; tostring has no final newline", function()
  local rs = koop.resultset({ { a = 1 } }, { "a" })
  local old = koop.mode()
  koop.mode("box")
  local box = tostring(rs)
  koop.mode("csv")
  local csv = tostring(rs)
  koop.mode(old)
  eq(box, "┌───┐\n│ a │\n├───┤\n│ 1 │\n└───┘")
  eq(csv, "a\n1")
end)

test("no row separators without multi-line cells; widths of Łódź", function()
  local rs = koop.resultset({ { gmina = "Łódź", n = 7 }, { gmina = "Kłodzko", n = 12 } },
                            { "gmina", "n" })
  eq(koop.format(rs, "box"), lines{
    "┌─────────┬────┐",
    "│  gmina  │ n  │",
    "├─────────┼────┤",
    "│ Łódź    │  7 │",
    "│ Kłodzko │ 12 │",
    "└─────────┴────┘",
  })
end)

test("wide and combining characters take their display width", function()
  local rs = koop.resultset({ { a = "漢字", b = "e\u{301}" } }, { "a", "b" })
  eq(koop.format(rs, "table"), lines{
    "+------+---+",
    "|  a   | b |",
    "+------+---+",
    "| 漢字 | e\u{301} |",
    "+------+---+",
  })
end)

test("control characters are made visible; tabs expand; markdown escapes |", function()
  local rs = koop.resultset({ { a = "x\27[31m\1\127", b = "ab\tc", c = "p|q" } },
                            { "a", "b", "c" })
  eq(koop.format(rs, "table"), lines{
    "+-------------+-----------+-----+",
    "|      a      |     b     |  c  |",
    "+-------------+-----------+-----+",
    "| x^[[31m^A^? | ab      c | p|q |",
    "+-------------+-----------+-----+",
  })
  eq(koop.format(rs, "markdown"), lines{
    "|      a      |     b     |  c   |",
    "|-------------|-----------|------|",
    "| x^[[31m^A^? | ab      c | p\\|q |",
  })
  -- csv and json carry the bytes as they are (json escapes what it must)
  eq(koop.format(rs, "csv"), 'a,b,c\nx\27[31m\1\127,ab\tc,p|q\n')
  eq(koop.format(rs, "json"), '[{"a":"x\\u001b[31m\\u0001\127","b":"ab\\tc","c":"p|q"}]\n')
end)

test("CRLF and CR inside a cell break the line in box mode", function()
  local rs = koop.resultset({ { a = "x\r\ny\rz" } }, { "a" })
  eq(koop.format(rs, "box"), lines{
    "┌───┐", "│ a │", "├───┤", "│ x │", "│ y │", "│ z │", "└───┘",
  })
end)

test("max_rows caps the rows and says how many are left", function()
  eq(koop.format(sample(), "box", { max_rows = 2 }), lines{
    "┌────┬──────────────┬───────┬────────────┐",
    "│ id │     name     │ kwota │   uwagi    │",
    "├────┼──────────────┼───────┼────────────┤",
    "│  1 │ Łoniów       │  12.5 │ a;b        │",
    "│ 22 │ Środowiskowy │       │ mówi \"tak\" │",
    "└────┴──────────────┴───────┴────────────┘",
    "… 2 more rows (use .mode csv or print(x) for all)",
  })
  eq(koop.format(sample(), "line", { max_rows = 1 }), lines{
    "   id = 1", " name = Łoniów", "kwota = 12.5", "uwagi = a;b", "",
    "… 3 more rows (use .mode csv or print(x) for all)",
  })
  -- csv and json stay valid data: they stop, with no note
  eq(koop.format(sample(), "csv", { max_rows = 1 }), "id,name,kwota,uwagi\n1,Łoniów,12.5,a;b\n")
  eq(koop.format(sample(), "json", { max_rows = 0 }), "[]\n")
  eq(koop.format(sample(), "box", { max_rows = 3 }):match("… 1 more row %(") ~= nil, true)
end)

test("width truncates the widest cells with …", function()
  eq(koop.format(sample(), "box", { width = 36 }), lines{
    "┌──────┬─────────┬───────┬─────────┐",
    "│  id  │  name   │ kwota │  uwagi  │",
    "├──────┼─────────┼───────┼─────────┤",
    "│    1 │ Łoniów  │  12.5 │ a;b     │",
    "├──────┼─────────┼───────┼─────────┤",
    "│   22 │ Środow… │       │ mówi \"… │",
    "├──────┼─────────┼───────┼─────────┤",
    "│    3 │         │ -0.25 │ wiersz… │",
    "│      │         │       │ wiersz… │",
    "├──────┼─────────┼───────┼─────────┤",
    "│ 1234 │ Bogoria │   2.0 │         │",
    "└──────┴─────────┴───────┴─────────┘",
  })
  for line in koop.format(sample(), "box", { width = 36 }):gmatch("[^\n]+") do
    eq(utf8.len(line), 36, line)
  end
end)

test("a header-only table for a result set without rows", function()
  local rs = koop.resultset({}, { "kod", "nazwa" })
  eq(koop.format(rs, "box"), lines{
    "┌─────┬───────┐", "│ kod │ nazwa │", "├─────┼───────┤", "└─────┴───────┘",
  })
  eq(koop.format(rs, "csv"), "kod,nazwa\n")
  eq(koop.format(rs, "json"), "[]\n")
  eq(koop.format(rs, "line"), "")
  eq(koop.pretty(rs, { mode = "line" }), "(no rows)")
end)

test("any array of tables: columns are the sorted union of string keys", function()
  local rows = { { b = 1, a = "x", [1] = "ignored" }, { c = true } }
  eq(koop.format(rows, "csv"), "a,b,c\nx,1,\n,,true\n")
  eq(koop.format(rows, "json"), '[{"a":"x","b":1,"c":null},\n{"a":null,"b":null,"c":true}]\n')
  eq(koop.format({}, "csv"), "")
end)

test("rows may be objects whose fields come through __index", function()
  local Person = { __index = function(self, k) return rawget(self, "_" .. k) end }
  local rows = {
    setmetatable({ _imie = "Zofia", _wiek = 71 }, Person),
    setmetatable({ _imie = "Jan" }, Person),
  }
  eq(koop.format(rows, "csv", { columns = { "imie", "wiek" } }), "imie,wiek\nZofia,71\nJan,\n")
end)

test("cells that are not plain values print as they would in the REPL", function()
  local money = setmetatable({}, { __tostring = function() return "56 340,00 zł" end })
  local rows = { { a = money, b = { 1, 2 }, c = print, d = false } }
  eq(koop.format(rows, "csv"), 'a,b,c,d\n"56 340,00 zł","{ 1, 2 }",function: builtin,false\n')
  eq(koop.format(rows, "json"),
     '[{"a":"56 340,00 zł","b":"{ 1, 2 }","c":"function: builtin","d":false}]\n')
end)

test("koop.null in a row is NULL", function()
  ok(koop.null ~= nil, "koop.null exists")
  local rows = { { a = koop.null, b = 1 } }
  eq(koop.format(rows, "csv"), "a,b\n,1\n")
  eq(koop.format(rows, "json"), '[{"a":null,"b":1}]\n')
end)

test("csv options: sep, crlf, header; quoting follows the separator", function()
  local rows = koop.resultset({ { a = "x,y", b = "p;q" } }, { "a", "b" })
  eq(koop.format(rows, "csv", { sep = ";" }), 'a;b\nx,y;"p;q"\n')
  eq(koop.format(rows, "csv", { crlf = true, header = false }), '"x,y",p;q\r\n')
  eq(koop.format(rows, "csv", { sep = "\t" }), "a\tb\nx,y\tp;q\n")
  eq(koop.format(rows, { mode = "csv", sep = "|" }), "a|b\nx,y|p;q\n")
  eq(koop.format(koop.resultset({ { a = "line\rbreak" } }, { "a" }), "csv"), 'a\n"line\rbreak"\n')
end)

test("floats: round-trip digits in csv/json, Lua's in box; inf and NaN", function()
  local rows = koop.resultset({ { a = 0.1 + 0.2, b = 1 / 0, c = -1 / 0, d = 100.0, e = 2 ^ 63 } },
                              { "a", "b", "c", "d", "e" })
  eq(koop.format(rows, "json"),
     '[{"a":0.30000000000000004,"b":1e999,"c":-1e999,"d":100.0,"e":9.223372036854776e+18}]\n')
  eq(koop.format(rows, "csv"), "a,b,c,d,e\n0.30000000000000004,inf,-inf,100.0,9.223372036854776e+18\n")
  eq(koop.format(rows, "markdown"), lines{
    "|  a  |  b  |  c   |   d   |          e          |",
    "|-----|-----|------|-------|---------------------|",
    "| 0.3 | inf | -inf | 100.0 | 9.2233720368548e+18 |",
  })
  eq(koop.format({ { n = 0 / 0 } }, "json"), '[{"n":null}]\n')
  eq(koop.format({ { i = math.mininteger, j = math.maxinteger } }, "csv"),
     "i,j\n-9223372036854775808,9223372036854775807\n")
end)

test("float text matches Lua's tostring (box) and shortest round-trip (csv)", function()
  local function shortest(x)
    local s
    for p = 15, 17 do
      s = ("%." .. p .. "g"):format(x)
      if tonumber(s) == x then break end
    end
    if s:match("^-?%d+$") then s = s .. ".0" end
    return s
  end
  local values = { 0.0, -0.0, 1e-4, 0.99999e-4, 1e-5, 0.000123, 0.0001234567, 1e14, 1e14 - 1,
                   99999999999999.5, 1e15, 1e15 - 1, 999999999999999.9, 123456789012345.6,
                   2 ^ 53, -2 ^ 53 + 1, 0.1 + 0.2, 1 / 3, 2 / 3, 1e300, 5e-324, 12.5, -0.25 }
  for i = 1, 3000 do
    values[#values + 1] = i / 4 - 300
    values[#values + 1] = i / 100
    values[#values + 1] = i / 7
    values[#values + 1] = (i * 7919 % 100003) / 1000
    values[#values + 1] = (i * 104729 % 1000003) / 1e6 * (i % 2 == 0 and 1 or -1)
    values[#values + 1] = math.sin(i) * 10 ^ (i % 20 - 6)
  end
  local rows = {}
  for i, x in ipairs(values) do rows[i] = { x = x } end
  local rs = koop.resultset(rows, { "x" })
  local csv, i = koop.format(rs, "csv"), 0
  for text in csv:gmatch("[^\n]+") do
    if i > 0 and text ~= shortest(values[i]) then
      eq(text, shortest(values[i]), ("csv of %.17g"):format(values[i]))
    end
    i = i + 1
  end
  eq(i, #values + 1)
  local line = koop.format(rs, "line")
  i = 0
  for text in line:gmatch("x = ([^\n]+)") do
    i = i + 1
    if text ~= tostring(values[i]) then
      eq(text, tostring(values[i]), ("line of %.17g"):format(values[i]))
    end
  end
  eq(i, #values)
end)

test("integers of every length are written exactly", function()
  local values, rows = { 0, math.maxinteger, math.mininteger, math.mininteger + 1 }, {}
  local p = 1
  for _ = 1, 18 do
    p = p * 10
    for _, v in ipairs{ p - 1, p, p + 1, -p, -(p - 1) } do values[#values + 1] = v end
  end
  for i, v in ipairs(values) do rows[i] = { v = v } end
  local want = {}
  for i, v in ipairs(values) do want[i] = ("%d"):format(v) end
  eq(koop.format(rows, "csv", { header = false }), table.concat(want, "\n") .. "\n")
  eq(koop.format(rows, "line"):gsub("v = ", ""):gsub("\n\n", "\n"), table.concat(want, "\n") .. "\n")
end)

test("json escapes controls and replaces bytes that are not UTF-8", function()
  eq(koop.format({ { s = "a\0b\8\12\r\"\\/ż\xff" } }, "json"),
     '[{"s":"a\\u0000b\\b\\f\\r\\"\\\\/ż\\ufffd"}]\n')
  eq(koop.format({ { ["kol \"x\""] = 1 } }, "json"), '[{"kol \\"x\\"":1}]\n')
end)

test("the line mode shows tabs and newlines as they are", function()
  eq(koop.format({ { a = "x\ty\nz\27" } }, "line"), "a = x\ty\nz^[\n")
end)

test("format errors are error objects", function()
  local e = raises(function() koop.format("x") end, "invalid")
  eq(e.field, "rows")
  e = raises(function() koop.format({ { a = 1 }, "oops" }, "csv") end, "invalid")
  eq(e.field, "rows")
  ok(tostring(e):find("row 2 is a string", 1, true), tostring(e))
  e = raises(function() koop.format({ 1 }, "box") end, "invalid")
  eq(e.field, "rows")
  e = raises(function() koop.format({}, "html") end, "invalid")
  eq(e.field, "mode")
  e = raises(function() koop.format({}, "csv", { sep = "" }) end, "invalid")
  eq(e.field, "sep")
  e = raises(function() koop.format({}, "csv", { columns = { "a", {} } }) end, "invalid")
  eq(e.field, "columns")
  e = raises(function() koop.format({}, "box", { max_rows = -1 }) end, "invalid")
  eq(e.field, "max_rows")
  e = raises(function() koop.format({}, "box", 5) end, "invalid")
  eq(e.field, "opts")
end)

test("a result set's __autocomplete lists its columns; __name", function()
  local mt = getmetatable(sample())
  eq(mt.__autocomplete(sample()), { "id", "name", "kwota", "uwagi" })
  eq(mt.__autocomplete({ { z = 1, y = 2 } }), { "y", "z" })
  eq(mt.__name, "ResultSet")
end)

-- 3. koop.pretty --------------------------------------------------------------

test("pretty: scalars as Lua prints them, strings as they are", function()
  eq(pretty(42), "42")
  eq(pretty(2.0), "2.0")
  eq(pretty(0.1), "0.1")
  eq(pretty(1e100), "1e+100")
  eq(pretty(-1 / 0), "-inf")
  eq(pretty(math.mininteger), "-9223372036854775808")
  eq(pretty(nil), "nil")
  eq(pretty(true), "true")
  eq(pretty('Ośrodek "Bogoria"\n'), 'Ośrodek "Bogoria"\n')
  eq(pretty(print), "function: builtin")
end)

test("pretty: short tables on one line, array part first, keys sorted", function()
  eq(pretty({ 1, 2, 3, name = "Bogoria", nested = { a = 1 } }, { width = 80 }),
     '{ 1, 2, 3, name = "Bogoria", nested = { a = 1 } }')
  eq(pretty({ [true] = 1, z = 2, ["a b"] = 3, [10] = 4, [1.5] = 5, [-1] = 6, "x" }),
     '{ "x", [-1] = 6, [1.5] = 5, [10] = 4, ["a b"] = 3, z = 2, [true] = 1 }')
  eq(pretty({ ["end"] = 1, _ok = 2, ["1a"] = 3, [""] = 4, ["Zażółć"] = 5, Z9 = 6 }),
     '{ [""] = 4, ["1a"] = 3, Z9 = 6, ["Zażółć"] = 5, _ok = 2, ["end"] = 1 }')
  eq(pretty({ 1, nil, 3 }), "{ 1, [3] = 3 }")
  eq(pretty({}), "{}")
end)

test("pretty: long tables one entry per line, 2-space indent", function()
  local t = {
    name = "Gminny Ośrodek Pomocy Społecznej w Bogorii",
    team = { "Zofia Nowak", "Jan Kowalski", "Anna Wiśniewska" },
    budget = { total = 56340, spent = 1200 },
  }
  eq(pretty(t, { width = 50 }), table.concat({
    "{",
    "  budget = { spent = 1200, total = 56340 },",
    '  name = "Gminny Ośrodek Pomocy Społecznej w Bogorii",',
    "  team = {",
    '    "Zofia Nowak",',
    '    "Jan Kowalski",',
    '    "Anna Wiśniewska"',
    "  }",
    "}",
  }, "\n"))
  -- at 80 columns the team fits on its line
  eq(pretty(t, { width = 80 }), table.concat({
    "{",
    "  budget = { spent = 1200, total = 56340 },",
    '  name = "Gminny Ośrodek Pomocy Społecznej w Bogorii",',
    '  team = { "Zofia Nowak", "Jan Kowalski", "Anna Wiśniewska" }',
    "}",
  }, "\n"))
end)

test("pretty: strings are quoted with escapes; UTF-8 letters stay readable", function()
  eq(pretty({ 'a "q" \\ b' }), [[{ "a \"q\" \\ b" }]])
  eq(pretty({ "nl\n tab\t cr\r bell\a nul\0 esc\27 del\127" }),
     [[{ "nl\n tab\t cr\r bell\a nul\0 esc\27 del\127" }]])
  eq(pretty({ "\0011" }), [[{ "\0011" }]])
  eq(pretty({ "zażółć gęślą jaźń" }), '{ "zażółć gęślą jaźń" }')
  eq(pretty({ "bad \xff byte", "\u{202E}rtl", "c1 \u{85}" }),
     [[{ "bad \255 byte", "\u{202E}rtl", "c1 \u{85}" }]])
end)

test("pretty: cycles print as <cycle>", function()
  local t = { name = "a" }
  t.self = t
  t.list = { t }
  eq(pretty(t), '{ list = { <cycle> }, name = "a", self = <cycle> }')
  local k = {}
  k[k] = k
  eq(pretty(k), "{ [<cycle>] = <cycle> }")
  -- the same table twice is not a cycle
  local shared = { 1 }
  eq(pretty({ shared, shared }), "{ { 1 }, { 1 } }")
end)

test("pretty: depth limit (default 5) prints {…}", function()
  local t = { a = { b = { c = { d = { e = { f = 1 } } } } } }
  eq(pretty(t), "{ a = { b = { c = { d = { e = {…} } } } } }")
  eq(pretty(t, { depth = 2 }), "{ a = { b = {…} } }")
  eq(pretty({ { {} } }, { depth = 1 }), "{ {…} }")
  eq(pretty({ {} }, { depth = 1 }), "{ {} }")
  -- a very deep chain does not overflow the C stack
  local deep = {}
  local cur = deep
  for _ = 1, 10000 do cur.n = {} cur = cur.n end
  ok(#pretty(deep, { depth = math.huge }) > 1000)
end)

test("pretty: items limit (default 100) prints … (N more)", function()
  local t = {}
  for i = 1, 130 do t[i] = i end
  local text = pretty(t, { width = 10000 })
  ok(text:find("99, 100, … (30 more) }", 1, true), text:sub(-40))
  eq(pretty({ 1, 2, 3, x = 4 }, { items = 2 }), "{ 1, 2, … (2 more) }")
  eq(pretty({ 1, 2, 3, x = 4 }, { items = 2, width = 10 }),
     "{\n  1,\n  2,\n  … (2 more)\n}")
end)

test("pretty: __tostring is used; a failing one falls back to <Name>", function()
  local inst = setmetatable({}, {
    __tostring = function() return 'Institution#3 OPS "Ośrodek Pomocy Społecznej w Bogorii"' end,
  })
  eq(pretty(inst), 'Institution#3 OPS "Ośrodek Pomocy Społecznej w Bogorii"')
  eq(pretty({ inst = inst }, { width = 200 }),
     '{ inst = Institution#3 OPS "Ośrodek Pomocy Społecznej w Bogorii" }')
  local broken = setmetatable({}, { __tostring = function() error("boom") end, __name = "Case" })
  eq(pretty(broken), "<Case>")
  eq(pretty({ broken }), "{ <Case> }")
  eq(pretty(setmetatable({}, { __tostring = function() return 42 end })), "<table>")
  local e = raises(function() koop.format({}, "nope") end, "invalid")
  eq(pretty(e), tostring(e))
end)

test("pretty: __index and __pairs of user objects are never called", function()
  local trap = setmetatable({ 1, x = 2 }, {
    __index = function() error("__index called") end,
    __pairs = function() error("__pairs called") end,
    __len = function() error("__len called") end,
  })
  eq(pretty(trap), "{ 1, x = 2 }")
end)

test("pretty: functions and objects by name", function()
  local f = function() end
  ok(pretty(f):match("^function: .+:%d+$"), pretty(f))
  eq(pretty({ print }), "{ function: builtin }")
  eq(pretty(coroutine.create(f)), "<thread>")
end)

test("pretty: a result set renders as a table capped at max_rows", function()
  eq(pretty(sample(), { max_rows = 1, width = 80 }), table.concat({
    "┌────┬────────┬───────┬───────┐",
    "│ id │  name  │ kwota │ uwagi │",
    "├────┼────────┼───────┼───────┤",
    "│  1 │ Łoniów │  12.5 │ a;b   │",
    "└────┴────────┴───────┴───────┘",
    "… 3 more rows (use .mode csv or print(x) for all)",
  }, "\n"))
  eq(pretty(sample(), { mode = "csv", max_rows = 1 }), koop.format(sample(), "csv"):sub(1, -2))
  eq(pretty({ rs = sample() }), "{ rs = <ResultSet: 4 rows> }")
  local big = {}
  for i = 1, 150 do big[i] = { n = i } end
  local text = pretty(koop.resultset(big, { "n" }), { width = 80 })
  ok(text:find("│ 100 │\n└─────┘\n… 50 more rows", 1, true), text:sub(-80))
end)

test("pretty: option errors are error objects", function()
  eq(raises(function() pretty({}, { width = 0 }) end, "invalid").field, "width")
  eq(raises(function() pretty({}, { depth = "5" }) end, "invalid").field, "depth")
  eq(raises(function() pretty({}, { items = 1.5 }) end, "invalid").field, "items")
  eq(raises(function() pretty({}, { mode = "xml" }) end, "invalid").field, "mode")
end)

-- 4. koop.mode ----------------------------------------------------------------

test("koop.mode: default box, set and read back, unknown names refused", function()
  local old = koop.mode()
  eq(koop.mode("json"), "json")
  eq(koop.mode(), "json")
  eq(koop.format({ { a = 1 } }), '[{"a":1}]\n')
  local e = raises(function() koop.mode("html") end, "invalid")
  eq(e.field, "mode")
  ok(tostring(e):find("box, table, markdown, csv, json, line", 1, true), tostring(e))
  eq(koop.mode(), "json")
  eq(raises(function() koop.mode(1) end, "invalid").field, "mode")
  koop.mode(old)
  eq(koop.mode(), old)
end)
