-- suppress_test.lua — small-cell suppression (koop.suppress) on crafted
-- tables: counts 1–4 hidden as <5, zero and 5+ shown; complementary
-- suppression so that no hidden cell is alone in its row or column, until
-- stable; totals stay visible (and are never the second cell); the
-- threshold (default 5, koop_meta, never below 3); derived cells hidden
-- with their counts; key figures; charts drawn from a suppressed table;
-- and no visible small count in any table (the disclosure lint).
-- Run with: koop test tests/lua/suppress_test.lua
local suppress = require "koop.suppress"

-- The hidden cells of marks as "r,c" strings, sorted.
local function hidden(marks)
  local out = {}
  for r, row in pairs(marks) do
    for c, m in pairs(row) do out[#out + 1] = ("%d,%d %s"):format(r, c, m) end
  end
  table.sort(out)
  return out
end

-- Every row and column of marks over an nr × nc grid holds 0 or >= 2 hidden cells.
local function no_lone(marks, nr, nc)
  for r = 1, nr do
    local n = 0
    for c = 1, nc do if marks[r] and marks[r][c] then n = n + 1 end end
    if n == 1 and nc > 1 then return false, "row " .. r end
  end
  for c = 1, nc do
    local n = 0
    for r = 1, nr do if marks[r] and marks[r][c] then n = n + 1 end end
    if n == 1 and nr > 1 then return false, "column " .. c end
  end
  return true
end

test("counts 1 to 4 are hidden, 0 and 5 or more are shown", function()
  local m = suppress.grid({ { 0 }, { 1 }, { 4 }, { 5 }, { 12 } }, 5)
  eq(hidden(m), { "2,1 primary", "3,1 primary" })
end)

test("a lone hidden cell in a row takes its smallest non-zero neighbour with it", function()
  -- row 1: 3 is small; the smallest other non-zero cell is 6 (not the 0)
  local v = { { 3, 0, 6, 9 }, { 10, 11, 12, 13 } }
  local m = suppress.grid(v, 5)
  eq(m[1][1], "primary")
  eq(m[1][3], "secondary", "the smallest non-zero cell of the row")
  ok(not m[1][2], "zero is not chosen while a non-zero cell is there")
  local good, where = no_lone(m, 2, 4)
  ok(good, where)
end)

test("complementary suppression repeats until no row or column has one hidden cell", function()
  -- the primary at (1,1) pulls (1,2) (row) and (2,1) (column); those make
  -- column 2 and row 2 lone, which pulls (2,2): a 2×2 block
  local v = {
    { 2, 7, 30 },
    { 8, 9, 40 },
    { 50, 60, 70 },
  }
  local m = suppress.grid(v, 5)
  eq(hidden(m), { "1,1 primary", "1,2 secondary", "2,1 secondary", "2,2 secondary" })
  local good, where = no_lone(m, 3, 3)
  ok(good, where)
end)

test("a hidden cell cannot be recovered from row and column totals", function()
  -- with every total visible, solve for each hidden cell by subtraction:
  -- a line with exactly one unknown would give it away
  local v = { { 1, 12, 7 }, { 6, 3, 20 }, { 9, 14, 2 }, { 25, 30, 35 } }
  local m = suppress.grid(v, 5)
  local good, where = no_lone(m, 4, 3)
  ok(good, where)
  for r = 1, 4 do
    for c = 1, 3 do
      if v[r][c] >= 1 and v[r][c] < 5 then eq(m[r][c], "primary", ("cell %d,%d"):format(r, c)) end
    end
  end
end)

test("a one-column table hides a second cell of the column", function()
  local m = suppress.grid({ { 2 }, { 40 }, { 9 }, { 0 } }, 5)
  eq(hidden(m), { "1,1 primary", "3,1 secondary" })
end)

test("a zero is never the second cell: a line of zeros and one small count sums to that count", function()
  local m = suppress.grid({ { 0, 3, 0 }, { 0, 0, 0 } }, 5)
  eq(hidden(m), { "1,2 primary" })
end)

test("the threshold: 5 by default, never below 3, from koop_meta suppress_threshold", function()
  eq(suppress.threshold(), 5)
  eq(suppress.threshold(3), 3)
  eq(suppress.threshold("10"), 10)
  local err = raises(function() suppress.threshold(2) end, "invalid")
  ok(tostring(err):find("never below 3", 1, true), tostring(err))
  raises(function() suppress.threshold("pięć") end, "invalid")
  require("koop.schema").set_meta(require("koop.entity").db(), "suppress_threshold", "7")
  eq(suppress.threshold(nil, db), 7)
  local r = report.new{ title = "t" }
  eq(r.threshold, 7, "reports take the database's threshold")
  require("koop.schema").set_meta(db, "suppress_threshold", "2")
  raises(function() report.new{ title = "t" } end, "invalid")
  raises(function() report.new{ title = "t", threshold = 1 } end, "invalid")
end)

-- Cases by reason in a crafted table: rows are reasons, columns counts.
local function crafted()
  return {
    { reason = "1. ubóstwo", new = 3, closed = 12, open = 20 },
    { reason = "4. bezrobocie", new = 8, closed = 6, open = 15 },
    { reason = "9. bezradność", new = 0, closed = 0, open = 0 },
    { reason = "13. alkoholizm", new = 7, closed = 9, open = 2 },
  }
end

local COLUMNS = { { "reason", "Powód" }, { "new", "Nowe", "count" }, { "closed", "Zakończone", "count" }, { "open", "W toku", "count" } }

test("a report table shows <5 and #, keeps totals, and no small count is visible", function()
  local r = report.new{ title = "Sprawy" }
  r:table(crafted(), { columns = COLUMNS, total = "Razem", row_total = "Razem" })
  local t = r.last_table
  eq(t.marks[1].new, "primary")
  eq(t.marks[4].open, "primary")
  -- each of those rows and columns has a second hidden cell
  local function count_row(i) local n = 0 for _ in pairs(t.marks[i] or {}) do n = n + 1 end return n end
  ok(count_row(1) >= 2 and count_row(4) >= 2, "rows 1 and 4 hide two cells each")
  for _, key in ipairs{ "new", "closed", "open" } do
    local n = 0
    for i = 1, 4 do if t.marks[i] and t.marks[i][key] then n = n + 1 end end
    ok(n ~= 1, "column " .. key .. " hides 0 or at least 2 cells")
  end
  eq({ t.total.new, t.total.closed, t.total.open }, { 18, 27, 37 }, "the totals are the true sums")
  ok(not t.total_marks, "totals of 5 or more stay visible")
  local md = r:markdown()
  ok(md:find("| 1. ubóstwo | <5 |", 1, true), md)
  ok(md:find("#", 1, true) and md:find("**18**", 1, true), md)
  -- the lint: no visible count from 1 to 4 anywhere in the rendered rows
  for line in md:gmatch("[^\n]+") do
    if line:match("^| %d") then
      for cell in line:gmatch("|%s*([^|]-)%s*|") do
        local n = tonumber(cell)
        ok(not (n and n >= 1 and n < 5), "visible small count in: " .. line)
      end
    end
  end
  ok(md:find("liczba od 1 do 4", 1, true), "the table explains the signs")
end)

test("a small total is itself hidden, but never chosen as a second cell", function()
  local r = report.new{ title = "t" }
  r:table({ { k = "a", n = 1 }, { k = "b", n = 2 }, { k = "c", n = 0 } },
    { columns = { "k", { "n", "Liczba", "count" } }, total = true })
  local t = r.last_table
  eq(t.total_marks and t.total_marks.n, "primary", "a total of 3 is a small count")
  eq(t.marks[1].n, "primary")
  eq(t.marks[2].n, "primary")
end)

test("suppress=false, a threshold per table, and plain numbers are never hidden", function()
  local r = report.new{ title = "t" }
  r:table(crafted(), { columns = COLUMNS, suppress = false })
  ok(not r.last_table.marks, "suppress=false")
  r:table(crafted(), { columns = COLUMNS, suppress = 10 })
  eq(r.last_table.marks[2].new, "primary", "8 is small under a threshold of 10")
  raises(function() r:table(crafted(), { columns = COLUMNS, suppress = 2 }) end, "invalid")
  r:table({ { k = "spotkania", n = 2 } }, { columns = { "k", { "n", "Spotkania", "number" } } })
  ok(not r.last_table.marks, "meetings are not people")
end)

test("derived cells go with the counts they come from", function()
  local r = report.new{ title = "t" }
  r:table({
    { inst = "A", answered = 2, accepted = 1, rate = 0.5 },
    { inst = "B", answered = 20, accepted = 15, rate = 0.75 },
    { inst = "C", answered = 30, accepted = 27, rate = 0.9 },
  }, { columns = { "inst", { "answered", "Odpowiedzi", "count" }, { "accepted", "Przyjęte", "count" }, { "rate", "%", "percent" } },
       depends = { rate = { "answered", "accepted" } } })
  local t = r.last_table
  eq(t.marks[1].rate, "secondary", "the share of a hidden count is hidden")
  ok(not t.marks[3] or not t.marks[3].rate, "a share of visible counts is shown")
  ok(not r:markdown():find("50,00%", 1, true), "the hidden share does not leak")
end)

test("key figures of counts are hidden when small", function()
  local r = report.new{ title = "t" }
  r:figures{ { label = "Sprawy", value = 3, format = "count" }, { label = "Spotkania", value = 3, format = "number" },
    { label = "Sprawy razem", value = 12, format = "count" } }
  local md = r:markdown()
  ok(md:find("**Sprawy:** <5", 1, true), md)
  ok(md:find("**Spotkania:** 3", 1, true), md)
  ok(md:find("**Sprawy razem:** 12", 1, true), md)
end)

test("a chart of a suppressed table does not draw the hidden values", function()
  local r = report.new{ title = "t" }
  r:table({ { k = "a", n = 3 }, { k = "b", n = 17 }, { k = "c", n = 25 } },
    { columns = { "k", { "n", "Sprawy", "count" } } })
  r:chart{ type = "bar", x = "k", y = "n" }
  local svg = r.blocks[#r.blocks].spec
  eq(svg.hidden[1][1], "<5")
  eq(svg.hidden[2][1], "#", "the second hidden cell")
  local html = r:html()
  ok(html:find("&lt;5", 1, true), "the bar carries its sign")
  ok(not html:find(">3<", 1, true) and not html:find(": 3<", 1, true), "3 is nowhere in the page")
  ok(not html:find(": 17<", 1, true), "17 is nowhere in the page")
  -- its own data: suppressed the same way
  r:chart{ type = "bar", data = { { k = "x", n = 2 }, { k = "y", n = 40 } }, x = "k", y = "n", format = "count" }
  eq(r.blocks[#r.blocks].spec.hidden[1][1], "<5")
end)
