-- koop.suppress — small-cell suppression for every aggregate about people.
--
-- A count from 1 to k-1 (k, the threshold, is 5 unless told; never below
-- 3) is not shown: it prints as "<5" (primary suppression).  That alone is
-- not enough when totals are shown: a hidden cell that is the only hidden
-- one in its row or column can be recovered by subtracting the visible
-- cells from the total.  So, as OpenSPP's privacy service and statistical
-- offices do, every row and every column of the table that holds exactly
-- one hidden cell gets a second one hidden too — its smallest visible
-- non-zero cell — and this repeats until no line
-- has a lone hidden cell (complementary suppression; such a cell prints as
-- "#", the GUS sign for data withheld for confidentiality).  Totals stay
-- visible: they are never chosen as the second cell (a total that is
-- itself 1..k-1 is hidden as "<5", like any small count).  Zero is shown:
-- it is no person.
--
--   suppress.threshold([k])      k checked (a whole number >= 3); default
--                                koop_meta suppress_threshold, else 5
--   suppress.grid(values, k)     values[r][c] (counts, or nil for cells
--                                outside the count columns); returns
--                                marks[r][c] = "primary" | "secondary"
--   suppress.marker(mark, k)     "<5" or "#"
--   suppress.note(k)             the Polish footnote explaining the signs
local koop = require "koop"

local M = { MIN = 3, DEFAULT = 5 }

--- The threshold k to use: `k` if given, else the database's setting
--- (koop_meta suppress_threshold), else 5.  Below 3 is refused.
function M.threshold(k, db)
  local source = "threshold"
  if k == nil then
    local ok, v = pcall(function()
      return db and db:value("SELECT value FROM koop_meta WHERE key = 'suppress_threshold'")
    end)
    if ok and v ~= nil then k, source = v, "koop_meta suppress_threshold" end
  end
  if k == nil then return M.DEFAULT end
  local n = math.tointeger(tonumber(k))
  if not n then
    koop.raise{ code = "invalid", field = "threshold",
      message = ("%s: expected a whole number of at least %d, got '%s'"):format(source, M.MIN, tostring(k)) }
  end
  if n < M.MIN then
    koop.raise{ code = "invalid", field = "threshold",
      message = ("%s: %d is too low: counts below %d identify people; the threshold is never below %d")
        :format(source, n, M.MIN, M.MIN) }
  end
  return n
end

--- The sign printed for a hidden cell.
function M.marker(mark, k)
  if mark == "primary" then return "<" .. tostring(k or M.DEFAULT) end
  return "#"
end

--- The footnote for a table with hidden cells.
function M.note(k)
  k = k or M.DEFAULT
  return ("<%d — liczba od 1 do %d, ukryta dla ochrony prywatności; # — liczba ukryta dodatkowo, "
    .. "aby ukrytych wartości nie dało się odtworzyć z sum."):format(k, k - 1)
end

-- The lines of the grid: each row, and each column, as lists of {r, c}
-- of the count cells in it (lines of one cell hide nothing by subtraction).
local function lines_of(values, nrows, ncols)
  local lines = {}
  for r = 1, nrows do
    local line = {}
    for c = 1, ncols do
      if values[r] and values[r][c] ~= nil then line[#line + 1] = { r, c } end
    end
    if #line > 1 then lines[#lines + 1] = line end
  end
  for c = 1, ncols do
    local line = {}
    for r = 1, nrows do
      if values[r] and values[r][c] ~= nil then line[#line + 1] = { r, c } end
    end
    if #line > 1 then lines[#lines + 1] = line end
  end
  return lines
end

--- Marks for the count grid values[r][c] (see the top of this file).
function M.grid(values, k)
  k = k or M.DEFAULT
  local nrows, ncols = 0, 0
  for r, row in pairs(values) do
    if r > nrows then nrows = r end
    for c in pairs(row) do if c > ncols then ncols = c end end
  end
  local marks = {}
  for r = 1, nrows do marks[r] = {} end
  for r = 1, nrows do
    for c = 1, ncols do
      local v = values[r] and values[r][c]
      if type(v) == "number" and v >= 1 and v < k then marks[r][c] = "primary" end
    end
  end
  local lines = lines_of(values, nrows, ncols)
  local changed = true
  while changed do
    changed = false
    for _, line in ipairs(lines) do
      local hidden, pick, pick_v = 0, nil, nil
      for _, rc in ipairs(line) do
        local r, c = rc[1], rc[2]
        if marks[r][c] then
          hidden = hidden + 1
        else
          -- the smallest non-zero cell: a line whose other cells are all
          -- zero sums to its hidden cell, a small count hidden wherever shown
          local v = values[r][c]
          if type(v) == "number" and v > 0 and (pick == nil or v < pick_v) then pick, pick_v = rc, v end
        end
      end
      if hidden == 1 and pick then
        marks[pick[1]][pick[2]] = "secondary"
        changed = true
      end
    end
  end
  return marks
end

return M
