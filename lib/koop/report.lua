-- koop.report — `report`: reports built from headings, text, key figures,
-- tables and charts, written as Markdown, one self-contained HTML file,
-- Excel-ready CSV or JSON; and the `koop report` command.
--
--   r = report.new{title=, [period = {from=, to=}, gmina=, subtitle=, threshold=]}
--   r:heading(text)        r:text(paragraph)
--   r:figures{ {label=, value=, [format=, note=]}, ... }          key figures
--   r:table(rows | result set | "SQL", [{columns=, labels=, formats=,
--           title=, args=, total=, row_total=, suppress=, depends=, note=}])
--   r:chart{type = "bar" | "stacked" | "line", [data=, x=, y= | series={...},
--           title=, labels=, format=]}   (without data=: the last table)
--   r:write(path [, format | {format=, csv=}])   .md .html .csv .json
--   r:render(format [, {csv=}]) -> text        tostring(r) is the Markdown
--   report.<name>{from=, to=, gmina=, threshold=}   the standard reports
--   report.list()          their names and what they show
--
-- Formats of columns: "money" (koop.money or whole grosze; 56 340,00 zł),
-- "date" (ISO in, 04.06.2019 out), "percent" (a fraction: 0.1917 is
-- 19,17%), "count" (people or cases: small counts are hidden, see
-- koop.suppress), "number" (other numbers, never hidden), "text".
-- Every count column is suppressed unless the table says suppress=false.
--
-- Every report carries its provenance: when it was generated (the real
-- clock), by whom (--as), from which database, the koop and schema
-- versions, the procedures installed and their versions, the period and
-- the date the data are as of (--today), and the suppression rule.
local koop = require "koop"
local dates = require "koop.dates"
local json = require "koop.json"
local chart = require "koop.chart"
local csvout = require "koop.csvout"
local suppress = require "koop.suppress"

local M = {}
local null = koop.null
local concat = table.concat
local NBSP = "\194\160"

-- Raise an "invalid" error about `field` of report.
local function invalid(field, fmt, ...)
  koop.raise{ code = "invalid", field = "report." .. field, message = "report." .. field .. ": " .. fmt:format(...) }
end

local function typename(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  return type(v)
end

-- {==================== values in Polish ====================

local FORMATS = { money = true, date = true, percent = true, count = true, number = true, text = true }
M.formats = FORMATS

local money = koop.money
local function is_money(v) return money and money.is(v) end

-- A Money of v (Money or whole grosze), or nil.
local function as_money(v)
  if is_money(v) then return v end
  if math.type(v) == "integer" then return money.grosze(v) end
  return nil
end

--- The text of value v in a column of format fmt, as a person reads it.
function M.display(v, fmt)
  if v == nil or v == null then return "" end
  if fmt == "money" then
    local m = as_money(v)
    return m and tostring(m) or tostring(v)
  end
  if fmt == "date" and type(v) == "string" and dates.parse(v) then return dates.format_pl(v) end
  if fmt == "percent" and type(v) == "number" then
    if v ~= v then return "–" end
    return (("%.2f"):format(v * 100):gsub("%.", ",")) .. "%"
  end
  if type(v) == "number" then return chart.number(v) end
  if type(v) == "boolean" then return v and "tak" or "nie" end
  return tostring(v)
end
local display = M.display

--- A period as Polish text: "1 stycznia 2019 r. – 31 grudnia 2019 r.".
function M.period_text(from, to)
  if from and to then return dates.format_pl(from, "long") .. " – " .. dates.format_pl(to, "long") end
  if to then return "do " .. dates.format_pl(to, "long") end
  if from then return "od " .. dates.format_pl(from, "long") end
  return "cały okres"
end

-- }====================

-- {==================== building ====================

local Report = {}
Report.__index = Report
Report.__name = "Report"
M.Report = Report

local KNOWN_NEW = { title = true, period = true, gmina = true, subtitle = true, threshold = true }

--- A new, empty report (see the top of this file).
function M.new(q)
  if type(q) ~= "table" or getmetatable(q) then
    invalid("new", "expected a table {title=, period={from=, to=}}, got %s", typename(q))
  end
  for k in pairs(q) do
    if not KNOWN_NEW[k] then invalid(tostring(k), "unknown option of report.new (known: title, period, gmina, subtitle, threshold)") end
  end
  if type(q.title) ~= "string" or q.title:match("^%s*$") then invalid("title", "is required (a text)") end
  local period = q.period or {}
  if type(period) ~= "table" then invalid("period", "expected {from=, to=}, got %s", typename(period)) end
  for _, k in ipairs{ "from", "to" } do
    local v = period[k]
    if v ~= nil and (type(v) ~= "string" or not dates.parse(v)) then
      invalid("period." .. k, "expected a date YYYY-MM-DD, got %s", tostring(v))
    end
  end
  if period.from and period.to and period.from > period.to then
    invalid("period.from", "%s is after the end of the period (%s)", period.from, period.to)
  end
  local r = setmetatable({ title = q.title, subtitle = q.subtitle, gmina = q.gmina,
    period = { from = period.from, to = period.to }, blocks = {} }, Report)
  r.threshold = suppress.threshold(q.threshold, koop.db)
  return r
end

local function add(r, block)
  r.blocks[#r.blocks + 1] = block
  return r
end

local function text_arg(what, t)
  if type(t) ~= "string" then invalid(what, "expected a text, got %s", typename(t)) end
  return t
end

--- A heading of a section.
function Report:heading(t) return add(self, { type = "heading", text = text_arg("heading", t) }) end

--- A paragraph of text.
function Report:text(t) return add(self, { type = "text", text = text_arg("text", t) }) end

--- Key figures: { {label=, value=, format=, note=}, ... }.
function Report:figures(list)
  if type(list) ~= "table" then invalid("figures", "expected a list of {label=, value=, format=}, got %s", typename(list)) end
  local items = {}
  for i, f in ipairs(list) do
    if type(f) ~= "table" or type(f.label) ~= "string" then
      invalid("figures", "item %d: expected {label=, value=, format=}", i)
    end
    if f.format ~= nil and not FORMATS[f.format] then invalid("figures", "item %d: unknown format '%s'", i, tostring(f.format)) end
    local item = { label = f.label, value = f.value, format = f.format, note = f.note }
    if f.format == "count" and type(f.value) == "number" and f.value >= 1 and f.value < self.threshold then
      item.mark = suppress.marker("primary", self.threshold)
    end
    items[#items + 1] = item
  end
  return add(self, { type = "figures", items = items })
end

-- Rows and column names of a table source.
local function source_rows(src, args, what)
  if type(src) == "string" then
    local db = koop.db
    if not db then invalid(what, "no database is open to run the query") end
    if src:lower():find("case_member_identity", 1, true) then
      invalid(what, "a report never shows a beneficiary's name or PESEL (case_member_identity); "
        .. "an identified list is `koop --as NAME export cases --identified`, which is audited")
    end
    local rows = db:query(src, table.unpack(args or {}))
    return rows, rows.columns
  end
  if type(src) ~= "table" then invalid(what, "expected rows, a result set or an SQL query, got %s", typename(src)) end
  local cols = rawget(src, "columns")
  if cols == nil and src.columns ~= nil and type(src.columns) == "table" then cols = src.columns end
  return src, cols
end

-- The column specs {key, label, format} of a table.
local function column_specs(rows, given, opts, what)
  local list = given
  if list == nil then
    local seen, keys = {}, {}
    for _, row in ipairs(rows) do
      if type(row) == "table" and not getmetatable(row) then
        for k in pairs(row) do
          if type(k) == "string" and not seen[k] then seen[k] = true; keys[#keys + 1] = k end
        end
      end
    end
    table.sort(keys)
    list = keys
  end
  local labels, formats = opts.labels or {}, opts.formats or {}
  local specs = {}
  for i, c in ipairs(list) do
    local key, label, fmt
    if type(c) == "string" then
      key = c
    elseif type(c) == "table" then
      key, label, fmt = c.key or c[1], c.label or c[2], c.format or c[3]
    end
    if type(key) ~= "string" then invalid(what, "column %d: expected a name or {key, label, format}", i) end
    fmt = fmt or formats[key]
    if fmt ~= nil and not FORMATS[fmt] then
      invalid(what, "column %s: unknown format '%s' (known: money, date, percent, count, number, text)", key, tostring(fmt))
    end
    specs[i] = { key = key, label = label or labels[key] or key, format = fmt }
  end
  -- a column of Money values is money without being told
  for _, s in ipairs(specs) do
    if s.format == nil then
      for _, row in ipairs(rows) do
        local v = row[s.key]
        if v ~= nil and v ~= null then
          if is_money(v) then s.format = "money" end
          break
        end
      end
    end
  end
  return specs
end

-- The sum of column spec s over rows (nil when the column is not additive).
local function column_sum(rows, s)
  if s.format == "money" then
    local sum = 0
    for _, row in ipairs(rows) do
      local m = as_money(row[s.key])
      if m then sum = sum + m:grosze() end
    end
    return money.grosze(sum)
  end
  if s.format == "count" or s.format == "number" then
    local sum = 0
    for _, row in ipairs(rows) do
      local v = row[s.key]
      if type(v) == "number" then sum = sum + v end
    end
    return sum
  end
  return nil
end

-- Hide the small counts of table block (see koop.suppress): how is the
-- table's suppress option, depends its derived columns.
local function suppress_table(self, block, how, depends)
  local specs = block.columns
  local counts = {}
  for c, s in ipairs(specs) do if s.format == "count" then counts[#counts + 1] = c end end
  if how == false or #counts == 0 then return end
  local k = self.threshold
  if type(how) == "number" then k = suppress.threshold(how)
  elseif type(how) == "table" and how.threshold then k = suppress.threshold(how.threshold) end
  -- the grid: data rows × count columns that are not totals
  local values, cols = {}, {}
  for _, c in ipairs(counts) do if not specs[c].total then cols[#cols + 1] = c end end
  for r, row in ipairs(block.rows) do
    values[r] = {}
    for j, c in ipairs(cols) do
      local v = row[specs[c].key]
      values[r][j] = type(v) == "number" and v or 0
    end
  end
  local marks = suppress.grid(values, k)
  block.marks, block.threshold = {}, k
  local any = false
  local function mark(r, key, m)
    block.marks[r] = block.marks[r] or {}
    block.marks[r][key] = m
    any = true
  end
  for r = 1, #block.rows do
    for j, c in ipairs(cols) do
      if marks[r] and marks[r][j] then mark(r, specs[c].key, marks[r][j]) end
    end
    -- totals of a row: hidden only when small themselves
    for _, c in ipairs(counts) do
      if specs[c].total then
        local v = block.rows[r][specs[c].key]
        if type(v) == "number" and v >= 1 and v < k then mark(r, specs[c].key, "primary") end
      end
    end
  end
  if block.total then
    for _, c in ipairs(counts) do
      local v = block.total[specs[c].key]
      if type(v) == "number" and v >= 1 and v < k then
        block.total_marks = block.total_marks or {}
        block.total_marks[specs[c].key] = "primary"
        any = true
      end
    end
  end
  -- derived cells (shares, medians) go with the counts they come from
  for col, bases in pairs(depends or {}) do
    if type(bases) == "string" then bases = { bases } end
    for r = 1, #block.rows do
      local m = block.marks[r]
      if m then
        for _, b in ipairs(bases) do
          if m[b] and not m[col] then mark(r, col, "secondary") end
        end
      end
    end
    local tm = block.total_marks
    if tm then
      for _, b in ipairs(bases) do
        if tm[b] and not tm[col] then tm[col] = "secondary" end
      end
    end
  end
  -- the disclosure lint: no visible count may be small
  for r, row in ipairs(block.rows) do
    for _, c in ipairs(counts) do
      local v = row[specs[c].key]
      local m = block.marks[r] and block.marks[r][specs[c].key]
      assert(m or not (type(v) == "number" and v >= 1 and v < k), "report: a small count escaped suppression")
    end
  end
  block.hidden = any
end

local KNOWN_TABLE = { columns = true, labels = true, formats = true, title = true, args = true, total = true,
  row_total = true, suppress = true, depends = true, note = true, total_row = true }

--- A table (see the top of this file); the last table also feeds a chart
--- that names no data.
function Report:table(src, opts)
  opts = opts or {}
  if type(opts) ~= "table" then invalid("table", "options must be a table, got %s", typename(opts)) end
  for k in pairs(opts) do
    if not KNOWN_TABLE[k] then
      invalid("table", "unknown option '%s' (known: columns, labels, formats, title, args, total, row_total, suppress, depends, note)", tostring(k))
    end
  end
  local rows, cols = source_rows(src, opts.args, "table")
  local specs = column_specs(rows, opts.columns or cols, opts, "table")
  -- copy the values: the report keeps what the data were when it was made
  local data = {}
  for i, row in ipairs(rows) do
    local copy = {}
    for _, s in ipairs(specs) do
      local v = row[s.key]
      if v == null then v = nil end
      copy[s.key] = v
    end
    data[i] = copy
  end
  local block = { type = "table", title = opts.title, columns = specs, rows = data, note = opts.note }
  -- a total column over the count columns
  if opts.row_total then
    local counted = {}
    for _, s in ipairs(specs) do if s.format == "count" or s.format == "number" then counted[#counted + 1] = s end end
    local key = "__total"
    local fmt = counted[1] and counted[1].format or "number"
    for _, s in ipairs(counted) do if s.format == "count" then fmt = "count" end end
    for _, row in ipairs(data) do
      local sum = 0
      for _, s in ipairs(counted) do if type(row[s.key]) == "number" then sum = sum + row[s.key] end end
      row[key] = sum
    end
    specs[#specs + 1] = { key = key, label = type(opts.row_total) == "string" and opts.row_total or "Razem", format = fmt, total = true }
  end
  -- a total row (not under an empty table)
  if (opts.total or opts.total_row) and #data > 0 then
    local total = {}
    for i, s in ipairs(specs) do
      if i > 1 then total[s.key] = column_sum(data, s) end
    end
    for k, v in pairs(opts.total_row or {}) do total[k] = v end
    total[specs[1].key] = total[specs[1].key] or (type(opts.total) == "string" and opts.total or "Razem")
    block.total = total
  end
  suppress_table(self, block, opts.suppress, opts.depends)
  self.last_table = block
  return add(self, block)
end


-- The categories, series and hidden marks of a chart spec.
local function chart_data(self, q)
  local rows, specs, marks
  if q.data == nil then
    local t = self.last_table
    if not t then invalid("chart", "no data= and no table before it to draw") end
    rows, specs, marks = t.rows, t.columns, t.marks
  else
    local src, cols = source_rows(q.data, q.args, "chart")
    rows = src
    specs = column_specs(src, q.columns or cols, { labels = q.labels, formats = q.formats or {} }, "chart")
  end
  local byk = {}
  for _, s in ipairs(specs) do byk[s.key] = s end
  local x = q.x or (specs[1] and specs[1].key)
  if not x then invalid("chart.x", "names no column") end
  local keys = q.series or (q.y and { q.y })
  if not keys then
    keys = {}
    for _, s in ipairs(specs) do
      if s.key ~= x and (s.format == "count" or s.format == "number" or s.format == "money") and not s.total then
        keys[#keys + 1] = s.key
      end
    end
    if q.type ~= "stacked" and q.type ~= "line" then keys = { keys[1] } end
  end
  if #keys == 0 then invalid("chart.y", "no column of numbers to draw") end
  local fmt = q.format
  if fmt == nil and byk[keys[1]] then fmt = byk[keys[1]].format end
  local labels = q.labels or {}
  local spec = { type = q.type or "bar", title = q.title, categories = {}, series = {}, hidden = {} }
  for s, key in ipairs(keys) do
    spec.series[s] = { name = labels[key] or (byk[key] and byk[key].label) or key, values = {}, key = key }
  end
  local xfmt = byk[x] and byk[x].format
  local grid = {}
  for i, row in ipairs(rows) do
    local xv = row[x]
    if xv == null then xv = nil end
    spec.categories[i] = display(xv, xfmt)
    grid[i] = {}
    for s, key in ipairs(keys) do
      local v = row[key]
      if is_money(v) then v = v:grosze() / 100
      elseif fmt == "money" and math.type(v) == "integer" then v = v / 100 end
      spec.series[s].values[i] = type(v) == "number" and v or false
      grid[i][s] = type(row[key]) == "number" and row[key] or 0
      local m = marks and marks[i] and marks[i][key]
      if m then
        spec.hidden[i] = spec.hidden[i] or {}
        spec.hidden[i][s] = suppress.marker(m, self.last_table.threshold)
      end
    end
  end
  -- charts of their own count data are suppressed like a table
  if q.data ~= nil and (fmt == "count" or q.suppress) and q.suppress ~= false then
    local k = type(q.suppress) == "number" and suppress.threshold(q.suppress) or self.threshold
    local gm = suppress.grid(grid, k)
    for i, row in pairs(gm) do
      for s, m in pairs(row) do
        spec.hidden[i] = spec.hidden[i] or {}
        spec.hidden[i][s] = suppress.marker(m, k)
      end
    end
  end
  if fmt == "money" then
    spec.format = function(n) return chart.number(n) .. NBSP .. "zł" end
  elseif fmt == "percent" then
    spec.format = function(n) return display(n, "percent") end
  end
  return spec
end

local CHART_TYPES = { bar = true, stacked = true, line = true }
local KNOWN_CHART = { type = true, data = true, x = true, y = true, series = true, title = true, labels = true,
  format = true, args = true, columns = true, formats = true, suppress = true }

--- A chart (see the top of this file).
function Report:chart(q)
  if type(q) ~= "table" then invalid("chart", "expected {type=, data=, x=, y=}, got %s", typename(q)) end
  for k in pairs(q) do
    if not KNOWN_CHART[k] then invalid("chart", "unknown option '%s' (known: type, data, x, y, series, title, labels, format)", tostring(k)) end
  end
  local t = q.type or "bar"
  if not CHART_TYPES[t] then invalid("chart.type", "expected bar, stacked or line, got '%s'", tostring(t)) end
  if q.format ~= nil and not FORMATS[q.format] then invalid("chart.format", "unknown format '%s'", tostring(q.format)) end
  local spec = chart_data(self, q)
  spec.type = t
  return add(self, { type = "chart", spec = spec })
end

-- }====================

-- {==================== provenance ====================

-- Name and TERC of a gmina (or powiat, voivodeship) filter, for people.
local function unit_text(db, g)
  if g == nil or g == false or g == "all" then return "wszystkie gminy w bazie" end
  local ok, name = pcall(function()
    return db:value("SELECT name FROM territory WHERE terc = ? OR (length(?) = 7 AND substr(terc, 1, 6) = substr(?, 1, 6)) ORDER BY valid_to IS NULL DESC, valid_to DESC LIMIT 1", g, g, g)
  end)
  if ok and name then
    local kind = #g == 2 and "województwo " or #g == 4 and "powiat " or "gmina "
    return kind .. name .. " (" .. g .. ")"
  end
  return g
end
M.unit_text = unit_text

-- The procedures in force and their versions, if the database has them:
-- koop.procedures' procedure_version (the active version of each, with
-- the start of its SHA-256), else a table procedure(s) with name, version.
local function procedures(db)
  local ok, list = pcall(function()
    local out = {}
    local function columns(t)
      local cols = {}
      for name in db:urows("SELECT name FROM pragma_table_info(?)", t) do cols[name] = true end
      return cols
    end
    local pv = columns("procedure_version")
    if pv.name and pv.version and pv.active then
      local hash = pv.hash and "substr(hash, 1, 12)" or "NULL"
      for name, version, h in db:urows("SELECT name, version, " .. hash .. " FROM procedure_version WHERE active = 1 ORDER BY name") do
        out[#out + 1] = ("%s %s"):format(name, tostring(version)) .. (h and (" (sha256 " .. h .. ")") or "")
      end
      return out
    end
    for _, t in ipairs{ "procedure", "procedures" } do
      local cols = columns(t)
      if cols.name and cols.version then
        for name, version in db:urows(('SELECT name, version FROM "%s" ORDER BY name'):format(t)) do
          out[#out + 1] = ("%s %s"):format(name, tostring(version))
        end
        break
      end
    end
    return out
  end)
  return ok and list or {}
end

--- The provenance of a report made now (a table of texts).
function Report:provenance()
  local db = self.db or koop.db
  local p = {
    generated_at = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    generated_local = os.date("%Y-%m-%d %H:%M"),
    generated_by = koop.actor or "unknown",
    koop_version = koop.version or "?",
    data_as_of = dates.today(),
    period_from = self.period.from, period_to = self.period.to,
    threshold = self.threshold,
  }
  if self.source then
    p.database, p.procedures = self.source, {}
  elseif db then
    local ok, path = pcall(db.path, db)
    p.database = ok and path ~= "" and path or ":memory:"
    p.schema_version = db:value("PRAGMA user_version")
    p.procedures = procedures(db)
    if self.gmina ~= nil then p.gmina = unit_text(db, self.gmina) end
  end
  return p
end

-- Label/value pairs of the provenance, in Polish.
local function provenance_lines(p)
  local lines = {
    { "Okres", M.period_text(p.period_from, p.period_to) },
    { "Dane na dzień", dates.format_pl(p.data_as_of, "long") },
  }
  if p.gmina then lines[#lines + 1] = { "Obszar", p.gmina } end
  lines[#lines + 1] = { "Wygenerowano", p.generated_local .. " (" .. p.generated_at .. ")" }
  lines[#lines + 1] = { "Przez", p.generated_by }
  if p.database then
    lines[#lines + 1] = { "Baza danych", p.database .. (p.schema_version and (" (schemat " .. tostring(p.schema_version) .. ")") or "") }
  end
  lines[#lines + 1] = { "Wersja koop", p.koop_version }
  lines[#lines + 1] = { "Procedury", p.procedures and #p.procedures > 0 and concat(p.procedures, ", ") or "brak zainstalowanych" }
  lines[#lines + 1] = { "Ochrona danych", ("liczby osób i spraw od 1 do %d pokazane jako <%d, z ukrywaniem uzupełniającym (#); bez imion, nazwisk, PESEL i adresów")
    :format(p.threshold - 1, p.threshold) }
  return lines
end

-- }====================

-- {==================== Markdown ====================

-- Markdown table cell text: | escaped, line breaks as spaces.
local function md_cell(s)
  return (s:gsub("|", "\\|"):gsub("\r?\n", " "))
end

local function numeric(fmt) return fmt == "money" or fmt == "count" or fmt == "number" or fmt == "percent" end

-- The shown text of a table cell (hidden ones as their sign).
local function cell_text(block, r, row, s, marks)
  local m = marks and marks[s.key]
  if m then return suppress.marker(m, block.threshold) end
  return display(row[s.key], s.format)
end

local function md_table(out, b)
  if b.title then out[#out + 1] = "**" .. b.title .. "**\n" end
  local head, rule = {}, {}
  for i, s in ipairs(b.columns) do
    head[i] = md_cell(s.label)
    rule[i] = numeric(s.format) and "--:" or ":--"
  end
  out[#out + 1] = "| " .. concat(head, " | ") .. " |"
  out[#out + 1] = "|" .. concat(rule, "|") .. "|"
  for r, row in ipairs(b.rows) do
    local cells = {}
    for i, s in ipairs(b.columns) do cells[i] = md_cell(cell_text(b, r, row, s, b.marks and b.marks[r])) end
    out[#out + 1] = "| " .. concat(cells, " | ") .. " |"
  end
  if b.total then
    local cells = {}
    for i, s in ipairs(b.columns) do
      local t = cell_text(b, 0, b.total, s, b.total_marks)
      cells[i] = t ~= "" and ("**" .. md_cell(t) .. "**") or ""
    end
    out[#out + 1] = "| " .. concat(cells, " | ") .. " |"
  end
  if #b.rows == 0 then out[#out + 1] = "\n_brak danych_" end
  out[#out + 1] = ""
  if b.note then out[#out + 1] = "_" .. b.note .. "_\n" end
  if b.hidden then out[#out + 1] = "_" .. suppress.note(b.threshold) .. "_\n" end
end

--- The report as Markdown.
function Report:markdown()
  local out = { "# " .. self.title, "" }
  if self.subtitle then out[#out + 1] = self.subtitle; out[#out + 1] = "" end
  local p = self:provenance()
  local line = "Okres: " .. M.period_text(self.period.from, self.period.to)
  if p.gmina and not self.subtitle then line = line .. " · " .. p.gmina end
  out[#out + 1] = "_" .. line .. "_"
  out[#out + 1] = ""
  for _, b in ipairs(self.blocks) do
    if b.type == "heading" then
      out[#out + 1] = "## " .. b.text
      out[#out + 1] = ""
    elseif b.type == "text" then
      out[#out + 1] = b.text
      out[#out + 1] = ""
    elseif b.type == "figures" then
      for _, f in ipairs(b.items) do
        out[#out + 1] = ("- **%s:** %s%s"):format(f.label, f.mark or display(f.value, f.format), f.note and (" (" .. f.note .. ")") or "")
      end
      out[#out + 1] = ""
    elseif b.type == "table" then
      md_table(out, b)
    elseif b.type == "chart" then
      if b.spec.title then out[#out + 1] = "**" .. b.spec.title .. "**\n" end
      out[#out + 1] = "```text"
      out[#out + 1] = chart.text(b.spec)
      out[#out + 1] = "```"
      out[#out + 1] = ""
    end
  end
  out[#out + 1] = "---"
  out[#out + 1] = ""
  out[#out + 1] = "**Metryka raportu**"
  out[#out + 1] = ""
  for _, l in ipairs(provenance_lines(p)) do out[#out + 1] = ("- %s: %s"):format(l[1], l[2]) end
  return concat(out, "\n") .. "\n"
end

Report.__tostring = function(r) return r:markdown() end

-- }====================

-- {==================== HTML ====================

local function h(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end

local CSS = [[
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #d6d6d6; --band: #f3f5f8; --accent: #0b5394; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 .3rem; color: var(--accent); }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--accent); }
.sub { margin: 0 0 .2rem; font-size: 1.05rem; }
.period { margin: 0 0 1.2rem; color: var(--muted); }
p { margin: .5rem 0 .8rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(10.5rem, 1fr)); gap: .6rem; margin: .8rem 0 1.2rem; }
.figure { background: var(--band); border-left: 4px solid var(--accent); padding: .55rem .75rem; }
.figure .v { display: block; font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.figure .l { display: block; font-size: .85rem; color: var(--muted); }
.figure .n { display: block; font-size: .78rem; color: var(--muted); }
.tbl { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align: left; font-weight: 650; padding: .2rem 0 .4rem; }
th, td { padding: .35rem .55rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { text-align: left; background: var(--band); font-weight: 650; }
tbody th { background: none; font-weight: 500; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.h { color: var(--muted); font-style: italic; }
tfoot td { font-weight: 700; border-top: 2px solid var(--ink); }
.note { font-size: .82rem; color: var(--muted); margin: -.4rem 0 1rem; }
.empty { color: var(--muted); font-style: italic; }
figure.chart { margin: .8rem 0 1.4rem; break-inside: avoid; }
figure.chart figcaption { font-weight: 650; margin-bottom: .3rem; }
svg.chart { display: block; max-width: 100%; height: auto; }
footer { margin-top: 2.5rem; padding-top: .8rem; border-top: 1px solid var(--rule); font-size: .82rem; color: var(--muted); }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: .4rem 0 0; }
footer dt { font-weight: 650; }
footer dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 36rem) {
  body { font-size: 14px; }
  main { padding: 1rem .75rem 2rem; }
  h1 { font-size: 1.35rem; }
  th, td { padding: .3rem .35rem; }
  footer dl { grid-template-columns: 1fr; }
  footer dd { margin-bottom: .3rem; }
}
@page { size: A4; margin: 16mm 14mm 18mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .tbl { overflow: visible; }
  table, figure.chart, .figures { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
]]

local function html_table(out, b)
  out[#out + 1] = '<div class="tbl"><table>'
  if b.title then out[#out + 1] = "<caption>" .. h(b.title) .. "</caption>" end
  local head = {}
  for i, s in ipairs(b.columns) do
    head[i] = ('<th scope="col"%s>%s</th>'):format(numeric(s.format) and ' class="n"' or "", h(s.label))
  end
  out[#out + 1] = "<thead><tr>" .. concat(head) .. "</tr></thead><tbody>"
  local function row_html(r, row, marks, tag)
    local cells = {}
    for i, s in ipairs(b.columns) do
      local m = marks and marks[s.key]
      local text = cell_text(b, r, row, s, marks)
      local cls = numeric(s.format) and "n" or nil
      if m then cls = (cls and cls .. " " or "") .. "h" end
      local title = m and (m == "primary" and ' title="liczba od 1 do ' .. (b.threshold - 1) .. ', ukryta"'
        or ' title="ukryta, by nie dało się odtworzyć innych ukrytych liczb"') or ""
      local t = (i == 1 and tag == "td") and "th" or tag
      cells[i] = ("<%s%s%s%s>%s</%s>"):format(t, t == "th" and ' scope="row"' or "", cls and (' class="' .. cls .. '"') or "",
        title, h(text), t)
    end
    return "<tr>" .. concat(cells) .. "</tr>"
  end
  for r, row in ipairs(b.rows) do out[#out + 1] = row_html(r, row, b.marks and b.marks[r], "td") end
  out[#out + 1] = "</tbody>"
  if b.total then out[#out + 1] = "<tfoot>" .. row_html(0, b.total, b.total_marks, "td"):gsub("<th scope=\"row\"", "<td"):gsub("</th>", "</td>") .. "</tfoot>" end
  out[#out + 1] = "</table></div>"
  if #b.rows == 0 then out[#out + 1] = '<p class="empty">brak danych</p>' end
  if b.note then out[#out + 1] = '<p class="note">' .. h(b.note) .. "</p>" end
  if b.hidden then out[#out + 1] = '<p class="note">' .. h(suppress.note(b.threshold)) .. "</p>" end
end

--- The report as one self-contained HTML page.
function Report:html()
  local p = self:provenance()
  local out = {
    "<!DOCTYPE html>",
    '<html lang="pl">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="koop ' .. h(p.koop_version) .. '">',
    "<title>" .. h(self.title) .. "</title>",
    "<style>" .. CSS .. "</style>",
    "</head>",
    "<body>",
    "<main>",
    "<header>",
    "<h1>" .. h(self.title) .. "</h1>",
  }
  if self.subtitle then out[#out + 1] = '<p class="sub">' .. h(self.subtitle) .. "</p>" end
  local line = "Okres: " .. M.period_text(self.period.from, self.period.to)
  if p.gmina and not self.subtitle then line = line .. " · " .. p.gmina end
  out[#out + 1] = '<p class="period">' .. h(line) .. "</p>"
  out[#out + 1] = "</header>"
  for _, b in ipairs(self.blocks) do
    if b.type == "heading" then
      out[#out + 1] = "<h2>" .. h(b.text) .. "</h2>"
    elseif b.type == "text" then
      for para in (b.text .. "\n\n"):gmatch("(.-)\n%s*\n") do
        if para:match("%S") then out[#out + 1] = "<p>" .. h(para) .. "</p>" end
      end
    elseif b.type == "figures" then
      out[#out + 1] = '<div class="figures">'
      for _, f in ipairs(b.items) do
        out[#out + 1] = ('<div class="figure"><span class="v">%s</span><span class="l">%s</span>%s</div>')
          :format(h(f.mark or display(f.value, f.format)), h(f.label), f.note and ('<span class="n">' .. h(f.note) .. "</span>") or "")
      end
      out[#out + 1] = "</div>"
    elseif b.type == "table" then
      html_table(out, b)
    elseif b.type == "chart" then
      out[#out + 1] = '<figure class="chart">'
      if b.spec.title then out[#out + 1] = "<figcaption>" .. h(b.spec.title) .. "</figcaption>" end
      out[#out + 1] = chart.svg(b.spec)
      out[#out + 1] = "</figure>"
    end
  end
  out[#out + 1] = "<footer>"
  out[#out + 1] = "<strong>Metryka raportu</strong>"
  out[#out + 1] = "<dl>"
  for _, l in ipairs(provenance_lines(p)) do out[#out + 1] = ("<dt>%s</dt><dd>%s</dd>"):format(h(l[1]), h(l[2])) end
  out[#out + 1] = "</dl>"
  out[#out + 1] = "</footer>"
  out[#out + 1] = "</main>"
  out[#out + 1] = "</body>"
  out[#out + 1] = "</html>"
  return concat(out, "\n") .. "\n"
end

-- }====================

-- {==================== CSV and JSON ====================

--- The report as CSV: the title and provenance, then each table under its
--- heading, separated by empty lines (one sheet in Excel).
function Report:csv(dialect)
  local d = csvout.dialect(dialect)
  local s = csvout.sink()
  s:write(d.bom and "\239\187\191" or "")
  local function kv(rows)
    local w = csvout.writer(s, { dialect = d, columns = { "k", "v" }, labels = { k = rows[1][1], v = rows[1][2] }, bom = false })
    for i = 2, #rows do w:row{ k = rows[i][1], v = rows[i][2] } end
    w:close()
  end
  local p = self:provenance()
  local head = { { self.title, "" } }
  for _, l in ipairs(provenance_lines(p)) do head[#head + 1] = l end
  kv(head)
  local heading = nil
  for _, b in ipairs(self.blocks) do
    if b.type == "heading" then
      heading = b.text
    elseif b.type == "figures" then
      s:write(d.crlf and "\r\n" or "\n")
      local rows = { { heading or "Najważniejsze liczby", "" } }
      heading = nil
      for _, f in ipairs(b.items) do
        rows[#rows + 1] = { f.label, f.mark or csvout.cell(f.value, d, f.format) or "" }
      end
      kv(rows)
    elseif b.type == "table" then
      s:write(d.crlf and "\r\n" or "\n")
      local title = b.title or heading
      heading = nil
      if title then kv({ { title, "" } }) end
      local cols, labels, formats = {}, {}, {}
      for i, c in ipairs(b.columns) do cols[i] = c.key; labels[c.key] = c.label; formats[c.key] = c.format end
      local w = csvout.writer(s, { dialect = d, columns = cols, labels = labels, formats = formats, bom = false })
      local function emit(row, marks)
        if not marks then w:row(row) return end
        local copy = {}
        for k, v in pairs(row) do copy[k] = v end
        for k, m in pairs(marks) do copy[k] = suppress.marker(m, b.threshold) end
        w:row(copy)
      end
      for r, row in ipairs(b.rows) do emit(row, b.marks and b.marks[r]) end
      if b.total then emit(b.total, b.total_marks) end
      w:close()
      if b.hidden then kv({ { suppress.note(b.threshold), "" } }) end
    end
  end
  return s:text()
end

-- A JSON value of a table cell.
local function json_cell(v, fmt)
  if v == nil then return null end
  if fmt == "money" then
    local m = as_money(v)
    return m and m:format{ dot = true } or tostring(v)
  end
  if is_money(v) then return v:format{ dot = true } end
  if type(v) == "number" or type(v) == "string" or type(v) == "boolean" then return v end
  return tostring(v)
end

--- The report as a JSON value (a table for koop.json).
function Report:data()
  local p = self:provenance()
  p.procedures = json.array(p.procedures or {})
  local blocks = json.array()
  for _, b in ipairs(self.blocks) do
    if b.type == "heading" or b.type == "text" then
      blocks[#blocks + 1] = { type = b.type, text = b.text }
    elseif b.type == "figures" then
      local items = json.array()
      for _, f in ipairs(b.items) do
        items[#items + 1] = { label = f.label, value = f.mark or json_cell(f.value, f.format), format = f.format or null }
      end
      blocks[#blocks + 1] = { type = "figures", items = items }
    elseif b.type == "table" then
      local cols = json.array()
      for i, c in ipairs(b.columns) do cols[i] = { key = c.key, label = c.label, format = c.format or null } end
      local function row_of(row, marks)
        local cells = json.array()
        for i, c in ipairs(b.columns) do
          local m = marks and marks[c.key]
          cells[i] = m and suppress.marker(m, b.threshold) or json_cell(row[c.key], c.format)
        end
        return cells
      end
      local rows = json.array()
      for r, row in ipairs(b.rows) do rows[r] = row_of(row, b.marks and b.marks[r]) end
      blocks[#blocks + 1] = { type = "table", title = b.title or null, columns = cols, rows = rows,
        total = b.total and row_of(b.total, b.total_marks) or null, note = b.note or null,
        suppressed = b.hidden and suppress.note(b.threshold) or null }
    elseif b.type == "chart" then
      local series = json.array()
      for i, s in ipairs(b.spec.series) do
        local values = json.array()
        for j = 1, #b.spec.categories do
          local m = b.spec.hidden[j] and b.spec.hidden[j][i]
          local v = s.values[j]
          values[j] = m or (v == false and null or v)
        end
        series[i] = { name = s.name, values = values }
      end
      blocks[#blocks + 1] = { type = "chart", chart = b.spec.type, title = b.spec.title or null,
        categories = json.array{ table.unpack(b.spec.categories) }, series = series }
    end
  end
  return { title = self.title, subtitle = self.subtitle or null,
    period = { from = self.period.from or null, to = self.period.to or null },
    provenance = p, blocks = blocks }
end

function Report:json() return json.encode(self:data()) .. "\n" end

-- }====================

-- {==================== writing ====================

local RENDER = { md = "markdown", markdown = "markdown", html = "html", csv = "csv", json = "json" }
local EXTENSIONS = { md = "md", markdown = "md", html = "html", htm = "html", csv = "csv", json = "json" }
M.output_formats = { "md", "html", "csv", "json" }

--- The report rendered as `format` (md, html, csv, json); opts.csv is the
--- CSV dialect.
function Report:render(format, opts)
  local f = RENDER[format or "md"]
  if not f then invalid("format", "unknown format '%s' (known: md, html, csv, json)", tostring(format)) end
  if f == "csv" then return self:csv(opts and opts.csv) end
  return self[f](self)
end

-- Write text to path through a temporary file renamed over it, so that
-- a failure leaves no file and never half of one.
local function write_atomic(path, text)
  local io_, os_ = io, os
  if not io_ or not os_ or not os_.rename then
    koop.raise{ code = "auth", message = "cannot write files with --safe: print the report instead (print(r:render(\"html\")))" }
  end
  local tmp = ("%s.%d%04d.tmp"):format(path, os_.time() % 100000, math.random(0, 9999))
  local f, err = io_.open(tmp, "wb")
  if not f then
    koop.raise{ code = "io", message = ("cannot write %s: %s"):format(path, (err or "?"):gsub("^[^:]*%.tmp: ", "")) }
  end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then
    os_.remove(tmp)
    koop.raise{ code = "io", message = ("cannot write %s: %s"):format(path, tostring(werr or cerr)) }
  end
  local renamed, rerr = os_.rename(tmp, path)
  if not renamed then
    os_.remove(tmp)
    koop.raise{ code = "io", message = ("cannot write %s: %s"):format(path, (rerr or "?"):gsub("^[^:]*%.tmp: ", "")) }
  end
end
M.write_atomic = write_atomic

--- The format a path's extension names, or nil.
function M.format_of(path)
  local ext = type(path) == "string" and path:match("%.([%w]+)$")
  return ext and EXTENSIONS[ext:lower()]
end

--- Write the report to path, in the format its extension names unless
--- told (a format name, or {format=, csv=}).  Returns the path.
function Report:write(path, how)
  if type(path) ~= "string" or path == "" then invalid("write", "expected a file name, got %s", typename(path)) end
  local opts = type(how) == "table" and how or { format = how }
  local format = opts.format or M.format_of(path)
  if not format then
    invalid("write", "cannot tell the format of '%s' from its extension: use .md, .html, .csv or .json, or give the format", path)
  end
  format = EXTENSIONS[format] or format
  write_atomic(path, self:render(format, opts))
  return path
end

-- }====================

-- {==================== standard reports ====================

--- The standard reports: a result set of name, title, summary.
function M.list() return require("koop.reports").list() end

setmetatable(M, {
  -- TAB completion: the builder's functions and the standard reports
  __autocomplete = function(t)
    local names = {}
    for k, v in pairs(t) do if type(k) == "string" and type(v) == "function" then names[k] = "function" end end
    for k in pairs(require("koop.reports").functions) do names[k] = "function" end
    names.rollup = "function"
    return names
  end,
  __index = function(_, k)
    if k == "report" then return nil end      -- koop.domain asks for the global's own name
    if k == "rollup" then return require("koop.rollup").report end
    local std = require("koop.reports")
    local fn = std.functions[k]
    if fn then return fn end
    koop.raise{ code = "invalid", field = "report." .. tostring(k),
      message = ("report has no function '%s' (new, list, and the reports %s)"):format(tostring(k), concat(std.names(), ", ")) }
  end,
})

-- }====================

-- {==================== koop report ====================

local cli = require "koop.cli"

cli.command {
  name = "report", summary = "write a standard report (Markdown, HTML, CSV for Excel, JSON)",
  usage = "koop [-d FILE] report NAME [--from D] [--to D] [--gmina TERC|all] [-o FILE] [--format F] [--csv rfc4180] [--threshold N]\n"
    .. "koop [-d FILE] report list",
  options = { ["--from"] = "date", ["--to"] = "date", ["--gmina"] = "string", ["-o"] = "string", ["--output"] = "string",
    ["--format"] = { "md", "html", "csv", "json" }, ["--csv"] = { "excel", "rfc4180" }, ["--threshold"] = "string" },
  text = [[
Writes one of the standard reports to FILE (-o; the format from its
extension, or --format), or prints it as Markdown. The reports:
  overview       everything below that has data: the summary for a gmina
  team-activity  teams, meetings by kind, attendance by institution, tasks
  indicators     the project's milestone indicators for the ROPS (per gmina)
  referrals      referral flow: from → to matrix, acceptance rate, median
                 days to an answer, overdue answers
  reasons        cases by art. 7 reason (new, closed, open at the end)
  ipw            IPW outcomes and the state of their actions
  budget         budget execution per line (planned, committed, spent)
  --from, --to   the period (default: everything up to today, --today)
  --gmina TERC   a gmina (7 digits; its codes over time count as one), a
                 powiat (4) or a voivodeship (2); default the database's
                 gmina, or every gmina if it has none; "all" for every one
  --csv rfc4180  CSV for programs (',', '.', no BOM) instead of Excel's
  --threshold N  hide counts of people below N (default 5, never below 3)
Every report states when it was made, by whom (--as), from which
database, with which koop and procedure versions, for which period.
Counts of people and cases from 1 to 4 print as <5, and a second cell is
hidden (#) wherever the first could be worked out from a total; no
report ever shows a beneficiary's name, PESEL or address. Amounts are
Polish (56 340,00 zł), dates 04.06.2019, names in Polish order.
In Lua: report.overview{from=, to=, gmina=}, report.team_activity{...},
report.referrals{...}, ... return a report; r:write("raport.html").
Your own report:
  r = report.new{title = "Spotkania 2019", period = {from = "2019-01-01", to = "2019-12-31"}}
  r:heading("Spotkania"):table("SELECT kind, count(*) AS n FROM meeting GROUP BY kind",
    {labels = {kind = "Rodzaj", n = "Liczba"}, formats = {n = "number"}, total = true})
  r:chart{type = "bar", x = "kind", y = "n"}
  r:write("spotkania.html")]],
  run = function(opts, pos)
    local std = require "koop.reports"
    local name = pos[1]
    if name == "list" then
      cli.open()
      io.write(koop.format(std.list()))
      return 0
    end
    if not name then
      cli.usage_error("report: which report? (%s; see 'koop help report')", concat(std.names(), ", "))
    end
    if pos[2] then cli.usage_error("report: unexpected argument '%s'", pos[2]) end
    local fn = std.by_cli_name(name)
    if not fn then
      cli.usage_error("report: no report '%s'; the reports are: %s", name, concat(std.names(), ", "))
    end
    if opts.from and opts.to and opts.from > opts.to then
      cli.usage_error("report: --from %s is after --to %s", opts.from, opts.to)
    end
    local out = opts.o or opts.output
    if opts.o and opts.output then cli.usage_error("report: give -o or --output, not both") end
    local format = opts.format
    if out and not format and not M.format_of(out) then
      cli.usage_error("report: cannot tell the format of '%s': use .md, .html, .csv or .json, or --format", out)
    end
    local threshold = opts.threshold
    if threshold ~= nil then
      local n = math.tointeger(tonumber(threshold))
      if not n then cli.usage_error("report: --threshold needs a whole number, not '%s'", threshold) end
      threshold = n
    end
    cli.open()
    local r = fn{ from = opts.from, to = opts.to, gmina = opts.gmina, threshold = threshold }
    if out then
      r:write(out, { format = format, csv = opts.csv })
      print(("%s: %s written (%s)"):format(out, r.title, format or M.format_of(out)))
    else
      io.write(r:render(format or "md", { csv = opts.csv }))
    end
    return 0
  end,
}

-- }====================

return M
