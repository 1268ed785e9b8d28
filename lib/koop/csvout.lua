-- koop.csvout — the CSV writer behind reports and exports, in two dialects:
--
--   excel    (the default, for people) what Polish Excel opens with a double
--            click: UTF-8 with a byte order mark, ';' between fields, CRLF,
--            decimal comma, ISO dates, no thousands separators in numbers,
--            RFC 4180 quoting; text that Excel would run as a formula
--            (=, +, -, @ at the start) gets a leading apostrophe
--   rfc4180  (for machines) UTF-8 without BOM, ',', LF, decimal point
--
--   csvout.dialect(name)            the dialect table ("excel", "excel-pl",
--                                   "pl", "rfc4180", "machine"); raises a
--                                   "usage" error naming the dialects
--   csvout.cell(v, d [, fmt])       the text of one cell (nil for NULL):
--                                   Money and fmt "money" give 56340,00 /
--                                   56340.00; fmt "percent" takes a fraction
--                                   (0.1917 -> 19,17); booleans 1/0
--   w = csvout.writer(out, {dialect=, columns=, labels=, formats=, bom=})
--                                   out is a file handle or a path; writes
--                                   the header at once; w:row(t), w:rows(list),
--                                   w:close() (closes a file it opened)
--   csvout.text(rows, {columns=, ...})   a whole small table as text
--
-- Rows are converted to text here and written by koop.format's csv mode
-- (src/print.c, RFC 4180 quoting) in batches, so exports of a million rows
-- stream in constant memory.
local koop = require "koop"

local M = {}

local BOM = "\239\187\191"

M.dialects = {
  excel = { name = "excel", sep = ";", crlf = true, bom = true, decimal = ",", guard = true },
  rfc4180 = { name = "rfc4180", sep = ",", crlf = false, bom = false, decimal = ".", guard = false },
}
local ALIASES = { ["excel-pl"] = "excel", pl = "excel", excel = "excel", rfc4180 = "rfc4180",
  ["rfc-4180"] = "rfc4180", machine = "rfc4180" }

--- The dialect called `name` (default excel); raises a usage error.
function M.dialect(name)
  if type(name) == "table" and name.sep then return name end
  if name == nil then return M.dialects.excel end
  local key = type(name) == "string" and ALIASES[name:lower()]
  if not key then
    koop.raise{ code = "usage", field = "csv",
      message = ("unknown CSV dialect '%s' (known: excel — Polish Excel, the default; rfc4180 — for programs)")
        :format(tostring(name)) }
  end
  return M.dialects[key]
end

-- The shortest text of a float that reads back as the same number.
local function float_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return nil end
  local s = ("%.15g"):format(n)
  if tonumber(s) ~= n then s = ("%.17g"):format(n) end
  return s
end
M.float_text = float_text

local money_is = koop.money and koop.money.is

-- Text of number n in dialect d.
local function number_text(n, d)
  if math.type(n) == "integer" then return tostring(n) end
  local s = float_text(n)
  if s and d.decimal ~= "." then s = s:gsub("%.", d.decimal, 1) end
  return s
end

-- Text that Excel would read as a formula gets a leading apostrophe.
local function guard(s)
  local c = s:byte(1)
  if c == 61 or c == 43 or c == 64 or c == 9 or c == 13 then return "'" .. s end   -- = + @ TAB CR
  if c == 45 and not s:match("^%-%s*[%d,%.]+$") and #s > 1 then return "'" .. s end -- -x, not -12,5
  return s
end

--- The CSV text of value v in dialect d for column format fmt; nil for NULL.
function M.cell(v, d, fmt)
  local t = type(v)
  if v == nil or v == koop.null then return nil end
  if t == "string" then
    if d.guard and v ~= "" then return guard(v) end
    return v
  end
  if t == "number" then
    if fmt == "money" and math.type(v) == "integer" then
      return koop.money.grosze(v):format(d.decimal == "," and { plain = true } or { dot = true })
    end
    if fmt == "percent" then
      local s = ("%.2f"):format(v * 100)
      return d.decimal == "," and (s:gsub("%.", ",")) or s
    end
    return number_text(v, d)
  end
  if t == "boolean" then return v and "1" or "0" end
  if money_is and money_is(v) then
    return v:format(d.decimal == "," and { plain = true } or { dot = true })
  end
  return tostring(v)
end

local BATCH = 2048

local Writer = {}
Writer.__index = Writer

-- Write the buffered rows.
local function flush(w)
  if w.n == 0 then return end
  for i = w.n + 1, #w.buf do w.buf[i] = nil end
  local ok, err = w.out:write(koop.format(w.buf, "csv", w.fmt_opts))
  if not ok then
    koop.raise{ code = "io", message = ("cannot write %s: %s"):format(w.name, tostring(err)) }
  end
  w.n = 0
end

--- Add one row (a table keyed by column).
function Writer:row(t)
  local n = self.n + 1
  local out = self.buf[n] or {}
  local d, formats = self.dialect, self.formats
  for i, col in ipairs(self.columns) do
    out[self.keys[i]] = M.cell(t[col], d, formats[col])
  end
  self.buf[n] = out
  self.n = n
  self.count = self.count + 1
  if n >= BATCH then flush(self) end
end

--- Add every row of a list.
function Writer:rows(list)
  for i = 1, #list do self:row(list[i]) end
end

--- Write what is buffered; close the file if the writer opened it.
function Writer:close()
  flush(self)
  if self.owned and not self.closed then
    self.closed = true
    local ok, err = self.out:close()
    if not ok then koop.raise{ code = "io", message = ("cannot write %s: %s"):format(self.name, tostring(err)) } end
  end
  return self.count
end

--- A writer to `out` (a file handle, or a path to create); see the top.
function M.writer(out, opts)
  opts = opts or {}
  local d = M.dialect(opts.dialect)
  local columns = assert(opts.columns, "csvout.writer: columns are required")
  local w = setmetatable({ dialect = d, columns = columns, formats = opts.formats or {},
    buf = {}, n = 0, count = 0, keys = {} }, Writer)
  -- koop.format reads cells by key: private keys, so that a column named
  -- like a result-set field ("columns") cannot clash
  for i = 1, #columns do w.keys[i] = "c" .. i end
  w.fmt_opts = { sep = d.sep, crlf = d.crlf, header = false, columns = w.keys }
  if type(out) == "string" then
    local f, err = io.open(out, "wb")
    if not f then koop.raise{ code = "io", message = ("cannot write %s: %s"):format(out, tostring(err)) } end
    w.out, w.owned, w.name = f, true, out
  else
    w.out, w.name = out, opts.name or "output"
  end
  local header = {}
  local labels = opts.labels or {}
  for i, col in ipairs(columns) do header[w.keys[i]] = labels[col] or col end
  local head = koop.format({ header }, "csv", w.fmt_opts)
  local ok, err = w.out:write((d.bom and opts.bom ~= false and BOM or "") .. head)
  if not ok then koop.raise{ code = "io", message = ("cannot write %s: %s"):format(w.name, tostring(err)) } end
  return w
end

-- A file-like sink collecting text in a table.
local function sink()
  local parts = {}
  return { write = function(self, s) parts[#parts + 1] = s; return true end,
    text = function() return table.concat(parts) end }
end
M.sink = sink

--- The CSV text of a small table: rows and {columns=, labels=, formats=, dialect=}.
function M.text(rows, opts)
  local s = sink()
  local w = M.writer(s, opts)
  w:rows(rows)
  w:close()
  return s:text()
end

return M
