-- koop.rollup — the region's view: the indicators of several gmina
-- databases gathered into one regional database, and reported per gmina,
-- powiat and voivodeship.
--
--   rollup.run{out=, inputs={path, ...}, [at=, from=, to=]} -> list of
--       {path=, gmina=, name=} gathered
--   report.rollup{out=, [inputs={...}, at=, from=, to=, threshold=]}
--       gathers the inputs (if any) and returns the report of everything
--       the regional database holds for that date and period
--   koop rollup OUT.db GMINA.db... [--at D] [--from D] [--to D] [-o FILE]
--
-- Each gmina database is opened read-only with koop.open (never ATTACHed
-- to another connection) and asked only for its indicators
-- (koop.indicators, the same numbers its own reports show) for each gmina
-- it holds (its own, and any other whose teams or cases it keeps).  Only
-- those numbers and the names of the territorial units cross over to the
-- regional database: tables rollup_source (one row per gmina, date and
-- period: where from, when, by whom) and rollup_value (code, name, value).
-- Gathering the same gmina for the same date and period again replaces
-- its numbers.  Counts of cases (the IPW indicators) are hidden in the
-- report when small, like every count of people.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"
local report = require "koop.report"

local M = {}
local concat = table.concat

local DDL = [[
CREATE TABLE IF NOT EXISTS rollup_source (
  id          INTEGER PRIMARY KEY,
  gmina_terc  TEXT NOT NULL,          -- the gmina's code on `at`
  gmina_name  TEXT NOT NULL,
  powiat_terc TEXT NOT NULL,
  powiat_name TEXT,
  woj_terc    TEXT NOT NULL,
  woj_name    TEXT,
  at          TEXT NOT NULL,          -- the day of membership counts
  period_from TEXT,                   -- the period of meetings (NULL: from the start)
  period_to   TEXT NOT NULL,
  source_path TEXT NOT NULL,          -- the gmina database read
  source_schema INTEGER,
  gathered_at TEXT NOT NULL,          -- UTC
  gathered_by TEXT NOT NULL,
  koop_version TEXT NOT NULL,
  UNIQUE (gmina_terc, at, period_from, period_to)
);
CREATE TABLE IF NOT EXISTS rollup_value (
  source_id INTEGER NOT NULL REFERENCES rollup_source(id) ON DELETE CASCADE,
  code      TEXT NOT NULL,
  name      TEXT NOT NULL,
  value     NUMERIC NOT NULL,
  PRIMARY KEY (source_id, code)
) WITHOUT ROWID;
]]

local function invalid(field, fmt, ...)
  koop.raise{ code = "invalid", field = "rollup." .. field, message = "rollup." .. field .. ": " .. fmt:format(...) }
end

-- Checked dates of a roll-up: at, from, to.
local function period(q)
  for _, k in ipairs{ "at", "from", "to" } do
    local v = q[k]
    if v ~= nil and (type(v) ~= "string" or not dates.parse(v)) then invalid(k, "expected a date YYYY-MM-DD, got '%s'", tostring(v)) end
  end
  local to = q.to or q.at or dates.today()
  local at = q.at or to
  if q.from and q.from > to then invalid("from", "%s is after the end of the period (%s)", q.from, to) end
  return at, q.from, to
end

-- The gminas a database holds: its own and those of its teams and cases,
-- as {code=, name=, powiat=, powiat_name=, woj=, woj_name=}.
local function gminas_in(db, at)
  local prefixes, seen = {}, {}
  local function add(p) if p and not seen[p] then seen[p] = true; prefixes[#prefixes + 1] = p end end
  local home = schema.meta(db, "gmina")
  if home then add(home:sub(1, 6)) end
  for p in db:urows("SELECT DISTINCT substr(gmina_terc, 1, 6) FROM team ORDER BY 1") do add(p) end
  if db:value("SELECT 1 FROM sqlite_schema WHERE name = 'case_file'") then
    for p in db:urows("SELECT DISTINCT substr(gmina_terc, 1, 6) FROM case_file WHERE gmina_terc IS NOT NULL ORDER BY 1") do add(p) end
  end
  local out = {}
  for _, p in ipairs(prefixes) do
    local g = db:first([[SELECT terc, name FROM territory WHERE substr(terc, 1, 6) = ? AND length(terc) = 7
      ORDER BY (valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?) DESC, valid_from DESC LIMIT 1]], p, at, at)
    if g then
      local pw = db:value("SELECT name FROM territory WHERE terc = ?", p:sub(1, 4))
      local wj = db:value("SELECT name FROM territory WHERE terc = ?", p:sub(1, 2))
      out[#out + 1] = { code = g.terc, name = g.name, powiat = p:sub(1, 4), powiat_name = pw, woj = p:sub(1, 2), woj_name = wj }
    end
  end
  return out
end

-- Run fn with koop.db set to db (the domain API reads koop.db).
local function with_db(db, fn, ...)
  local saved, saved_g = koop.db, rawget(_G, "db")
  koop.db = db
  local ok, res = pcall(fn, ...)
  koop.db = saved
  rawset(_G, "db", saved_g)
  if not ok then error(res, 0) end
  return res
end

-- The indicators of every gmina of the database at path.
local function gather_one(path, at, from, to)
  local ok, db = pcall(koop.open, path, { readonly = true })
  if not ok then
    koop.raise{ code = "io", message = ("rollup: cannot open %s: %s"):format(path, koop.is_error(db) and db.message or tostring(db)) }
  end
  local result = with_db(db, function()
    schema.ensure(db)
    local found = {}
    for _, g in ipairs(gminas_in(db, at)) do
      local values = require("koop.indicators").indicators.compute{ at = at, from = from, to = to, gmina = g.code }
      g.values = {}
      for _, row in ipairs(values) do g.values[#g.values + 1] = { code = row.code, name = row.name_pl, value = row.value } end
      found[#found + 1] = g
    end
    return { gminas = found, schema = schema.version(db) }
  end)
  db:close()
  return result
end

--- Gather the inputs into the regional database out (see the top).
function M.run(q)
  if type(q) ~= "table" then invalid("run", "expected {out=, inputs={...}}") end
  if type(q.out) ~= "string" or q.out == "" then invalid("out", "the regional database: a file name") end
  local inputs = q.inputs or {}
  if type(inputs) ~= "table" then invalid("inputs", "expected a list of gmina database files") end
  local at, from, to = period(q)
  local gathered = {}
  for _, path in ipairs(inputs) do
    if path == q.out then invalid("inputs", "%s is the regional database itself", path) end
    local res = gather_one(path, at, from, to)
    if #res.gminas == 0 then
      koop.raise{ code = "invalid", message = ("rollup: %s holds no gmina (no home gmina, teams or cases)"):format(path) }
    end
    gathered[#gathered + 1] = { path = path, res = res }
  end
  local out = koop.open(q.out)
  local done = {}
  local ok, err = pcall(function()
    out:exec("PRAGMA foreign_keys = ON")
    out:tx(function()
      out:exec(DDL)
      local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
      for _, item in ipairs(gathered) do
        for _, g in ipairs(item.res.gminas) do
          out:exec("DELETE FROM rollup_value WHERE source_id IN (SELECT id FROM rollup_source WHERE substr(gmina_terc, 1, 6) = ? AND at = ? "
            .. "AND period_from IS ? AND period_to = ?)", g.code:sub(1, 6), at, from, to)
          out:exec("DELETE FROM rollup_source WHERE substr(gmina_terc, 1, 6) = ? AND at = ? AND period_from IS ? AND period_to = ?",
            g.code:sub(1, 6), at, from, to)
          out:exec([[INSERT INTO rollup_source (gmina_terc, gmina_name, powiat_terc, powiat_name, woj_terc, woj_name, at,
              period_from, period_to, source_path, source_schema, gathered_at, gathered_by, koop_version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], g.code, g.name, g.powiat, g.powiat_name or koop.null, g.woj,
            g.woj_name or koop.null, at, from or koop.null, to, item.path, item.res.schema, now, koop.actor or "unknown", koop.version)
          local id = out:last_insert_id()
          for _, v in ipairs(g.values) do
            out:exec("INSERT INTO rollup_value (source_id, code, name, value) VALUES (?, ?, ?, ?)", id, v.code, v.name, v.value)
          end
          done[#done + 1] = { path = item.path, gmina = g.code, name = g.name }
        end
      end
    end)
  end)
  if not ok then out:close(); error(err, 0) end
  out:close()
  return done
end

-- The indicators shown per unit: code -> short label.
local COOP = {
  { "podmioty_w_zespolach", "Instytucje" }, { "osoby_w_zespolach", "Osoby" }, { "liczba_zespolow", "Zespoły" },
  { "spotkania", "Spotkania" }, { "szkolenia", "Szkolenia" }, { "osoby_coaching", "Coaching (osoby)" },
}
local CASES = { { "ipw_rozpoczete", "IPW rozpoczęte" }, { "ipw_zakonczone_sukcesem", "IPW zakończone sukcesem" } }

-- Rows of sums per unit (level: gmina, powiat or woj) for the codes.
local function unit_rows(db, level, codes, at, from, to)
  local key = level == "gmina" and "s.gmina_terc" or level == "powiat" and "s.powiat_terc" or "s.woj_terc"
  local name = level == "gmina" and "s.gmina_name" or level == "powiat" and "max(s.powiat_name)" or "max(s.woj_name)"
  local cols = {}
  for i, c in ipairs(codes) do
    cols[i] = ("sum(CASE WHEN v.code = '%s' THEN v.value ELSE 0 END) AS %s"):format(c[1], c[1])
  end
  local sql = ("SELECT %s AS terc, %s AS name, count(DISTINCT s.id) AS gminas, %s FROM rollup_source s JOIN rollup_value v ON v.source_id = s.id "
    .. "WHERE s.at = ? AND s.period_from IS ? AND s.period_to = ? GROUP BY %s ORDER BY %s COLLATE PL"):format(key, name, concat(cols, ", "), key, name)
  local rows = db:query(sql, at, from, to)
  for _, r in ipairs(rows) do r.unit = ("%s (%s)"):format(r.name or r.terc, r.terc) end
  return rows
end

--- The roll-up report (gathering q.inputs first, if given).
function M.report(q)
  if type(q) ~= "table" then invalid("report", "expected {out=, inputs={...}}") end
  if type(q.out) ~= "string" or q.out == "" then invalid("out", "the regional database: a file name") end
  local at, from, to = period(q)
  if q.inputs and #q.inputs > 0 then M.run{ out = q.out, inputs = q.inputs, at = q.at, from = q.from, to = q.to } end
  local db = koop.open(q.out, { readonly = true })
  local ok, r = pcall(function()
    if not db:value("SELECT 1 FROM sqlite_schema WHERE name = 'rollup_source'") then
      koop.raise{ code = "invalid", message = ("rollup: %s holds no roll-up yet (koop rollup %s GMINA.db...)"):format(q.out, q.out) }
    end
    local r = report.new{ title = "Kooperacja w regionie: wskaźniki gmin, powiatów i województw",
      period = { from = from, to = to }, threshold = q.threshold }
    r.db = db
    local sources = db:query([[SELECT gmina_name || ' (' || gmina_terc || ')' AS gmina, source_path, gathered_at, gathered_by
      FROM rollup_source WHERE at = ? AND period_from IS ? AND period_to = ? ORDER BY gmina_name COLLATE PL]], at, from, to)
    if #sources == 0 then
      koop.raise{ code = "invalid", message = ("rollup: %s holds nothing for %s (period %s): gather it first"):format(q.out, at,
        report.period_text(from, to)) }
    end
    r:text(("Liczby zebrane z baz %d gmin: członkowie zespołów według stanu na dzień %s, spotkania %s. "
      .. "Do bazy regionalnej trafiają tylko te liczby i nazwy jednostek terytorialnych — żadne dane osobowe. "
      .. "Powiat i województwo to sumy swoich gmin (instytucja powiatowa w zespołach kilku gmin liczy się w każdej)."):format(
      #sources, dates.format_pl(at), from and ("od " .. dates.format_pl(from) .. " do " .. dates.format_pl(to)) or ("do " .. dates.format_pl(to))))
    for _, level in ipairs{ { "gmina", "Gminy" }, { "powiat", "Powiaty" }, { "woj", "Województwa" } } do
      r:heading(level[2])
      local cols = { { "unit", level[1] == "woj" and "Województwo" or level[1] == "powiat" and "Powiat" or "Gmina" } }
      if level[1] ~= "gmina" then cols[#cols + 1] = { "gminas", "Gminy", "number" } end
      for _, c in ipairs(COOP) do cols[#cols + 1] = { c[1], c[2], "number" } end
      r:table(unit_rows(db, level[1], COOP, at, from, to), { title = "Współpraca instytucji", columns = cols, total = "Razem" })
      if level[1] == "gmina" then
        r:chart{ type = "bar", x = "unit", y = "spotkania", title = "Spotkania odbyte według gmin" }
      end
      local ccols = { { "unit", cols[1][2] } }
      for _, c in ipairs(CASES) do ccols[#ccols + 1] = { c[1], c[2], "count" } end
      r:table(unit_rows(db, level[1], CASES, at, from, to), { title = "Praca z rodzinami (liczby spraw)", columns = ccols, total = "Razem" })
    end
    r:heading("Źródła")
    r:table(sources, { columns = { { "gmina", "Gmina" }, { "source_path", "Baza gminy" }, { "gathered_at", "Zebrano (UTC)" },
      { "gathered_by", "Przez" } } })
    return r
  end)
  db:close()
  if not ok then error(r, 0) end
  r.db = nil
  r.source = q.out
  return r
end

local cli = require "koop.cli"

cli.command {
  name = "rollup", summary = "gather the indicators of gmina databases into a regional one",
  usage = "koop rollup OUT.db GMINA.db... [--at DATE] [--from DATE] [--to DATE] [-o REPORT] [--format md|html|csv|json]",
  options = { ["--at"] = "date", ["--from"] = "date", ["--to"] = "date", ["-o"] = "string", ["--output"] = "string",
    ["--format"] = { "md", "html", "csv", "json" }, ["--threshold"] = "string" },
  text = [[
Opens each GMINA.db read-only, computes its indicators (the same as
`koop report indicators` there) for every gmina it holds, and stores them
in OUT.db (created if missing): only those numbers and the names of the
gminas, powiats and voivodeships — no personal data. Then prints (or
writes to -o REPORT) the region's report: per gmina, per powiat and per
voivodeship, with the cases counted in the IPW indicators hidden when
small. Without GMINA.db it reports what OUT.db holds.
  --to DATE     end of the period (default today, --today); --at the day
                for team membership (default --to); --from its start
Gathering a gmina again for the same dates replaces its numbers.
In Lua: report.rollup{out = "region.db", inputs = {"bogoria.db", ...}}.]],
  run = function(opts, pos)
    local out = pos[1]
    if not out then cli.usage_error("rollup: which regional database? (koop rollup OUT.db GMINA.db...)") end
    if opts.from and opts.to and opts.from > opts.to then cli.usage_error("rollup: --from %s is after --to %s", opts.from, opts.to) end
    local inputs = { table.unpack(pos, 2) }
    local threshold = opts.threshold and math.tointeger(tonumber(opts.threshold))
    if opts.threshold and not threshold then cli.usage_error("rollup: --threshold needs a whole number, not '%s'", opts.threshold) end
    local file = opts.o or opts.output
    if file and not opts.format and not report.format_of(file) then
      cli.usage_error("rollup: cannot tell the format of '%s': use .md, .html, .csv or .json, or --format", file)
    end
    if #inputs > 0 then
      for _, g in ipairs(M.run{ out = out, inputs = inputs, at = opts.at, from = opts.from, to = opts.to }) do
        io.stderr:write(("%s: gmina %s (%s) gathered into %s\n"):format(g.path, g.name, g.gmina, out))
      end
    end
    local r = M.report{ out = out, at = opts.at, from = opts.from, to = opts.to, threshold = threshold }
    if file then
      r:write(file, { format = opts.format })
      print(("%s: %s written"):format(file, r.title))
    else
      io.write(r:render(opts.format or "md"))
    end
    return 0
  end,
}

return M
