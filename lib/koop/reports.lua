-- koop.reports — the standard reports (`koop report NAME`, report.<name>{}):
-- each is a list of sections over the database, each section a query or
-- two written once here.  A section whose tables do not exist (a module
-- not installed) or that has no data in the area says so in one line.
--
--   reports.functions.<name>{from=, to=, gmina=, threshold=} -> a report
--   reports.list()           name, title and summary of each
--   reports.by_cli_name(s)   the function for "team-activity" or "team_activity"
--
-- Area: gmina = a TERC code (a gmina over its codes in time: its first six
-- digits; a powiat's 4 or a voivodeship's 2 digits: everything in it), or
-- "all"; the default is the database's own gmina (koop init --gmina), else
-- all.  Period: from..to, both included; to defaults to today (--today),
-- from to the beginning.
--
-- Privacy: counts of cases and of what happens in them (reasons,
-- outcomes, referrals, IPW actions, the IPW indicators) are "count"
-- columns, hidden when small (koop.suppress); counts of institutions, staff
-- and meetings are plain numbers.  No query here reads a member's name,
-- PESEL or address: case_member_identity is never joined.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"
local report = require "koop.report"

local M = { functions = {} }
local concat = table.concat

-- {==================== parameters ====================

local function invalid(field, fmt, ...)
  koop.raise{ code = "invalid", field = "report." .. field, message = "report." .. field .. ": " .. fmt:format(...) }
end

-- Does the database have table `name`?
local function has_table(db, name)
  return db:value("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", name) ~= nil
end

-- The area of a gmina option: {code=, prefix=, all=, cond=function(column)}.
local function area_of(db, g)
  if g == nil then g = schema.meta(db, "gmina") end
  if g == nil or g == false or g == "all" then
    return { all = true, code = "all", cond = function() return "1" end }
  end
  if type(g) == "table" and g.terc then g = g.terc end
  local info, msg = koop.ids.terc(tostring(g))
  if not info then invalid("gmina", "%s (got '%s'; or \"all\")", msg, tostring(g)) end
  local code = info.value
  local prefix = #code == 7 and code:sub(1, 6) or code
  return { code = code, prefix = prefix, cond = function(column) return ("%s LIKE '%s%%'"):format(column, prefix) end }
end

--- The database a report reads: koop.db, brought to the current schema
--- only when it is older.  A report only reads, so the domain modules
--- (which the domain API loads all at once) are left unloaded unless a
--- section needs one.
function M.db()
  local db = koop.db
  if db == nil then koop.raise{ code = "misuse", message = "no database is open (koop.db is not set)" } end
  if schema.check(db) < schema.latest() then schema.ensure(db) end
  return db
end

local KNOWN = { from = true, to = true, gmina = true, threshold = true }

-- Checked parameters of a standard report, and the database.
local function params(q)
  if q ~= nil and (type(q) ~= "table" or getmetatable(q)) then
    invalid("params", "expected a table {from=, to=, gmina=, threshold=}, got %s", type(q))
  end
  q = q or {}
  for k in pairs(q) do
    if not KNOWN[k] then invalid(tostring(k), "unknown parameter (known: from, to, gmina, threshold)") end
  end
  for _, k in ipairs{ "from", "to" } do
    local v = q[k]
    if v ~= nil and (type(v) ~= "string" or not dates.parse(v)) then
      invalid(k, "expected a date YYYY-MM-DD, got '%s'", tostring(v))
    end
  end
  local p = { from = q.from, to = q.to or dates.today(), threshold = q.threshold }
  if p.from and p.from > p.to then invalid("from", "%s is after the end of the period (%s)", p.from, p.to) end
  p.db = M.db()
  p.area = area_of(p.db, q.gmina)
  return p
end

-- SQL condition: column (a date) lies in the period.
local function in_period(p, column)
  return ("(%s <= :to AND (:from IS NULL OR %s >= :from))"):format(column, column)
end
local function args(p) return { from = p.from or koop.null, to = p.to } end

-- Gminas of the area that have rows in `sql_prefixes` (a query of six-digit
-- prefixes), with their latest names: list of {prefix=, code=, name=}.
local function gminas_of(p, sql)
  local list = {}
  for prefix in p.db:urows(sql, args(p)) do
    local row = p.db:first([[SELECT terc, name FROM territory WHERE substr(terc, 1, 6) = ? AND length(terc) = 7
      ORDER BY (valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?) DESC, valid_from DESC LIMIT 1]],
      prefix, p.to, p.to)
    list[#list + 1] = { prefix = prefix, code = row and row.terc or prefix, name = row and row.name or prefix }
  end
  table.sort(list, function(a, b) return koop.text.compare(a.name, b.name) < 0 end)
  return list
end

-- "Łoniów" → column key of a gmina.
local function gkey(g) return "g" .. g.prefix end

-- }====================

-- {==================== sections ====================

local sections = {}

-- Teams, meetings by kind, attendance by institution, tasks.
function sections.team_activity(r, p)
  local db, cond = p.db, p.area.cond
  r:heading("Zespoły i spotkania")
  local teams_on = cond("t.gmina_terc") .. " AND t.formed_on <= :to AND (t.dissolved_on IS NULL OR t.dissolved_on >= :to)"
  local held = cond("t.gmina_terc") .. " AND g.status = 'held' AND " .. in_period(p, "g.date")
  local n_teams = db:value("SELECT count(*) FROM team t WHERE " .. teams_on, args(p))
  if db:value("SELECT count(*) FROM team t WHERE " .. cond("t.gmina_terc")) == 0 then
    r:text("W wybranym obszarze nie ma zespołów.")
    return false
  end
  -- (the area's condition holds a LIKE pattern with %: no string.format here)
  local function members(what)
    return "SELECT count(DISTINCT m." .. what .. ") FROM team_member m JOIN team t ON t.id = m.team_id WHERE "
      .. teams_on .. [[ AND m.from_date <= :to AND (m.to_date IS NULL OR m.to_date >= :to)
      AND m.role NOT IN ('ekspert', 'gość')]]
  end
  local trainings = db:value("SELECT count(*) FROM meeting g JOIN team t ON t.id = g.team_id WHERE " .. held
    .. " AND g.kind IN ('Szkoła Kooperacji', 'warsztat')", args(p))
  r:figures{
    { label = "Zespoły działające", value = n_teams, format = "number", note = "na " .. dates.format_pl(p.to) },
    { label = "Instytucje w zespołach", value = db:value(members("institution_id"), args(p)), format = "number" },
    { label = "Osoby w zespołach", value = db:value(members("person_id"), args(p)), format = "number" },
    { label = "Spotkania odbyte", value = db:value("SELECT count(*) FROM meeting g JOIN team t ON t.id = g.team_id WHERE " .. held, args(p)), format = "number" },
    { label = "Szkolenia", value = trainings, format = "number", note = "Szkoła Kooperacji i warsztaty" },
  }
  r:table([[SELECT t.name, t.kind, (SELECT name FROM territory WHERE terc = t.gmina_terc) AS gmina, t.formed_on,
      (SELECT count(DISTINCT m.person_id) FROM team_member m WHERE m.team_id = t.id AND m.from_date <= :to
        AND (m.to_date IS NULL OR m.to_date >= :to)) AS members,
      (SELECT count(*) FROM meeting g WHERE g.team_id = t.id AND g.status = 'held' AND ]] .. in_period(p, "g.date") .. [[) AS meetings
    FROM team t WHERE ]] .. cond("t.gmina_terc") .. " ORDER BY t.name COLLATE PL", {
    args = { args(p) }, title = "Zespoły",
    columns = { { "name", "Zespół" }, { "kind", "Rodzaj" }, { "gmina", "Gmina" }, { "formed_on", "Utworzony", "date" },
      { "members", "Członkowie", "number" }, { "meetings", "Spotkania w okresie", "number" } },
  })
  -- meetings by kind, per gmina when there are several
  local gm = gminas_of(p, "SELECT DISTINCT substr(t.gmina_terc, 1, 6) FROM team t WHERE " .. cond("t.gmina_terc"))
  local kinds = require("koop.meetings").kinds.list
  local rows = {}
  for i, k in ipairs(kinds) do rows[i] = { kind = k, days = 0 } end
  local index = {}
  for i, k in ipairs(kinds) do index[k] = i end
  for prefix, kind, n, days in db:urows("SELECT substr(t.gmina_terc, 1, 6), g.kind, count(*), sum(g.days) FROM meeting g JOIN team t ON t.id = g.team_id WHERE "
      .. held .. " GROUP BY 1, 2", args(p)) do
    local i = index[kind]
    if not i then
      rows[#rows + 1] = { kind = kind, days = 0 }
      i = #rows
      index[kind] = i
    end
    rows[i]["g" .. prefix] = n
    rows[i].days = rows[i].days + (days or 0)
  end
  local cols = { { "kind", "Rodzaj spotkania" } }
  for _, g in ipairs(gm) do cols[#cols + 1] = { gkey(g), #gm > 1 and g.name or "Spotkania", "number" } end
  for _, row in ipairs(rows) do for _, g in ipairs(gm) do row[gkey(g)] = row[gkey(g)] or 0 end end
  cols[#cols + 1] = { "days", "Dni", "number" }
  local kept = {}
  for _, row in ipairs(rows) do
    local any = row.days > 0
    if any then kept[#kept + 1] = row end
  end
  r:table(kept, { title = "Spotkania odbyte w okresie według rodzaju", columns = cols, total = "Razem" })
  if #kept > 0 then
    local series = {}
    for _, g in ipairs(gm) do series[#series + 1] = gkey(g) end
    r:chart{ type = #gm > 1 and "stacked" or "bar", x = "kind", series = series, title = "Spotkania według rodzaju" }
  end
  -- attendance by institution
  r:table([[SELECT i.name AS institution,
      sum(a.status IN ('obecny', 'zdalnie')) AS present,
      sum(a.status = 'usprawiedliwiony') AS excused,
      sum(a.status = 'nieobecny') AS absent,
      1.0 * sum(a.status IN ('obecny', 'zdalnie')) / count(*) AS rate
    FROM attendance a JOIN meeting g ON g.id = a.meeting_id JOIN team t ON t.id = g.team_id
    JOIN institution i ON i.id = a.institution_id
    WHERE ]] .. held .. " GROUP BY i.id ORDER BY i.name COLLATE PL", {
    args = { args(p) }, title = "Obecność na spotkaniach według instytucji",
    columns = { { "institution", "Instytucja" }, { "present", "Obecności", "number" },
      { "excused", "Usprawiedliwione", "number" }, { "absent", "Nieobecności", "number" }, { "rate", "Frekwencja", "percent" } },
    total = "Razem",
    note = "Obecność zdalna liczy się jako obecność; frekwencja = obecności / wszystkie zaproszenia.",
  })
  if #r.last_table.rows > 0 then
    r:chart{ type = "stacked", x = "institution", series = { "present", "excused", "absent" },
      title = "Obecność według instytucji" }
  end
  -- tasks of the meetings
  if has_table(db, "task") then
    r:table([[SELECT coalesce(i.name, 'bez instytucji') AS institution, count(*) AS tasks,
        sum(k.done_on IS NOT NULL AND k.done_on <= :to) AS done,
        sum(k.status <> 'cancelled' AND (k.done_on IS NULL OR k.done_on > :to)) AS open,
        sum(k.status <> 'cancelled' AND (k.done_on IS NULL OR k.done_on > :to) AND k.due < :to) AS overdue
      FROM task k JOIN meeting g ON k.source_kind = 'meeting' AND g.id = k.source_id JOIN team t ON t.id = g.team_id
      LEFT JOIN institution i ON i.id = k.owner_institution_id
      WHERE ]] .. cond("t.gmina_terc") .. " AND " .. in_period(p, "k.created_on") .. [[
      GROUP BY i.id ORDER BY i.name COLLATE PL]], {
      args = { args(p) }, title = "Zadania ze spotkań według instytucji",
      columns = { { "institution", "Instytucja" }, { "tasks", "Zadania", "number" }, { "done", "Wykonane", "number" },
        { "open", "Otwarte", "number" }, { "overdue", "Po terminie", "number" } },
      total = "Razem", note = "Stan na " .. dates.format_pl(p.to) .. "; zadania postawione w okresie.",
    })
  end
  return true
end

-- The project's indicators, per gmina.
function sections.indicators(r, p)
  local db = p.db
  -- every module loaded first: modules define their indicators when they load
  entity.db()
  local indicators = require("koop.indicators").indicators
  r:heading("Wskaźniki projektu")
  local sql = "SELECT DISTINCT substr(t.gmina_terc, 1, 6) FROM team t WHERE " .. p.area.cond("t.gmina_terc")
  if has_table(db, "case_file") then
    sql = sql .. " UNION SELECT DISTINCT substr(c.gmina_terc, 1, 6) FROM case_file c WHERE c.gmina_terc IS NOT NULL AND "
      .. p.area.cond("c.gmina_terc")
  end
  local gm = gminas_of(p, sql)
  if #gm == 0 then
    r:text("W wybranym obszarze nie ma zespołów ani spraw: nie ma czego liczyć.")
    return false
  end
  local coop, cases = {}, {}
  local byk, failed = {}, {}
  for _, g in ipairs(gm) do
    -- one by one: an indicator a gmina defined that fails is named, and
    -- the others are still reported
    for _, ind in ipairs(indicators.list()) do
      local ok, value = pcall(indicators.get, ind.code, { at = p.to, from = p.from, to = p.to, gmina = g.code })
      if not ok then
        failed[ind.code] = koop.is_error(value) and value.message or tostring(value)
        value = nil
      end
      local t = ind.code:match("^ipw_") and cases or coop
      local rr = byk[ind.code]
      if not rr then
        rr = { name = ind.name_pl, code = ind.code }
        byk[ind.code] = rr
        t[#t + 1] = rr
      end
      rr[gkey(g)] = value
    end
  end
  local broken = {}
  for code, msg in pairs(failed) do broken[#broken + 1] = code .. " (" .. msg .. ")" end
  table.sort(broken)
  local function cols(fmt)
    local c = { { "name", "Wskaźnik" } }
    for _, g in ipairs(gm) do c[#c + 1] = { gkey(g), #gm > 1 and g.name or "Wartość", fmt } end
    return c
  end
  r:text(("Wartości policzone z danych: członkowie zespołów według stanu na dzień %s (bez ekspertów i gości), "
    .. "spotkania odbyte %s."):format(dates.format_pl(p.to), p.from and ("od " .. dates.format_pl(p.from) .. " do " .. dates.format_pl(p.to))
    or ("do " .. dates.format_pl(p.to))))
  local notes = {}
  if #gm > 1 then notes[#notes + 1] = "Razem to suma gmin: instytucja działająca w zespołach kilku gmin liczy się w każdej." end
  if #broken > 0 then notes[#notes + 1] = "Nie policzono (błąd wskaźnika): " .. concat(broken, "; ") .. "." end
  r:table(coop, { title = "Współpraca instytucji", columns = cols("number"),
    row_total = #gm > 1 and "Razem" or nil, note = #notes > 0 and concat(notes, " ") or nil })
  local main = {}
  for _, row in ipairs(coop) do
    if row.code == "podmioty_w_zespolach" or row.code == "osoby_w_zespolach" or row.code == "spotkania"
        or row.code == "szkolenia" or row.code == "osoby_coaching" then
      main[#main + 1] = row
    end
  end
  if #main > 0 then
    local series = {}
    for _, g in ipairs(gm) do series[#series + 1] = gkey(g) end
    r:chart{ type = #gm > 1 and "stacked" or "bar", data = main, x = "name", series = series,
      labels = (function() local l = {} for _, g in ipairs(gm) do l[gkey(g)] = g.name end return l end)(),
      format = "number", title = "Najważniejsze wskaźniki" }
  end
  if #cases > 0 then
    r:table(cases, { title = "Praca z rodzinami (IPW)", columns = cols("count"),
      note = "Liczby spraw: od 1 do " .. (r.threshold - 1) .. " pokazane jako <" .. r.threshold .. " (co wystarcza, by stwierdzić, że wskaźnik osiągnął 1)." })
  end
  return true
end

-- The short label of an institution for a column heading.
local INST_LABEL = "coalesce(i.short, i.name)"

-- Referral flow: from → to matrix, answers, acceptance, response times.
function sections.referrals(r, p)
  local db = p.db
  r:heading("Skierowania między instytucjami")
  if not has_table(db, "referral") then r:text("Moduł skierowań nie jest zainstalowany."); return false end
  local base = "FROM referral x JOIN case_file c ON c.id = x.case_id WHERE " .. p.area.cond("c.gmina_terc")
    .. " AND " .. in_period(p, "x.sent_on")
  local total = db:value("SELECT count(*) " .. base, args(p))
  if total == 0 then r:text("W okresie nie wysłano skierowań."); return false end
  -- the matrix
  local senders, receivers, cells = {}, {}, {}
  local function label(id)
    return db:value("SELECT " .. INST_LABEL .. " FROM institution i WHERE i.id = ?", id)
  end
  for from, to, n in db:urows("SELECT x.from_institution_id, x.to_institution_id, count(*) " .. base .. " GROUP BY 1, 2", args(p)) do
    senders[from], receivers[to] = true, true
    cells[from] = cells[from] or {}
    cells[from][to] = n
  end
  local function sorted(set)
    local list = {}
    for id in pairs(set) do list[#list + 1] = { id = id, label = label(id) } end
    table.sort(list, function(a, b) return koop.text.compare(a.label, b.label) < 0 end)
    return list
  end
  local from_list, to_list = sorted(senders), sorted(receivers)
  -- column headings short: the short name, else the kind when it is the
  -- only receiver of its kind ("PUP"), else the name
  local kinds = {}
  for _, t in ipairs(to_list) do
    t.short, t.kind = db:first("SELECT short, kind FROM institution WHERE id = ?", t.id).short, db:value("SELECT kind FROM institution WHERE id = ?", t.id)
    kinds[t.kind] = (kinds[t.kind] or 0) + 1
  end
  local cols = { { "from", "Od \\ do" } }
  for _, t in ipairs(to_list) do
    cols[#cols + 1] = { "i" .. t.id, t.short or (kinds[t.kind] == 1 and t.kind) or t.label, "count" }
  end
  local rows = {}
  for _, f in ipairs(from_list) do
    local row = { from = f.label }
    for _, t in ipairs(to_list) do row["i" .. t.id] = cells[f.id] and cells[f.id][t.id] or 0 end
    rows[#rows + 1] = row
  end
  r:table(rows, { title = "Skierowania wysłane w okresie: kto → do kogo", columns = cols, row_total = "Razem", total = "Razem" })
  -- answers per receiving institution
  local per = {}
  for to, sent, answered, accepted, rejected, redirected, waiting, overdue in db:urows([[SELECT x.to_institution_id, count(*),
        sum(x.responded_on IS NOT NULL),
        sum(x.responded_on IS NOT NULL AND x.status NOT IN ('rejected', 'redirected')),
        sum(x.status = 'rejected'), sum(x.status = 'redirected'),
        sum(x.status IN ('sent', 'received')),
        sum(x.status IN ('sent', 'received') AND x.response_due < :to) ]] .. base .. " GROUP BY 1", args(p)) do
    per[#per + 1] = { id = to, institution = label(to), sent = sent, answered = answered, accepted = accepted,
      rejected = rejected, redirected = redirected, waiting = waiting, overdue = overdue,
      rate = answered > 0 and accepted / answered or nil }
  end
  local byid = {}
  for _, row in ipairs(per) do byid[row.id] = row end
  -- medians of the days from sending to the answer, in SQL (window
  -- functions): per receiving institution, and over all
  local days = "julianday(x.responded_on) - julianday(x.sent_on)"
  local function median_sql(key)
    return "SELECT k, avg(d) FROM (SELECT " .. key .. " AS k, " .. days .. " AS d, row_number() OVER (PARTITION BY "
      .. key .. " ORDER BY " .. days .. ") AS rn, count(*) OVER (PARTITION BY " .. key .. ") AS n "
      .. base .. " AND x.responded_on IS NOT NULL) WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY k"
  end
  for to, d in db:urows(median_sql("x.to_institution_id"), args(p)) do byid[to].median = math.tointeger(d) or d end
  local overall
  for _, d in db:urows(median_sql("0"), args(p)) do overall = math.tointeger(d) or d end
  table.sort(per, function(a, b) return koop.text.compare(a.institution, b.institution) < 0 end)
  local sum = { sent = 0, answered = 0, accepted = 0, overdue = 0 }
  for _, row in ipairs(per) do for k in pairs(sum) do sum[k] = sum[k] + row[k] end end
  r:figures{
    { label = "Skierowania wysłane", value = sum.sent, format = "count" },
    { label = "Przyjęte", value = sum.answered >= r.threshold and sum.accepted / sum.answered or nil, format = "percent",
      note = "odsetek odpowiedzi" },
    { label = "Mediana dni do odpowiedzi", value = sum.answered >= r.threshold and overall or nil, format = "number" },
    { label = "Bez odpowiedzi po terminie", value = sum.overdue, format = "count", note = "na " .. dates.format_pl(p.to) },
  }
  r:table(per, { title = "Odpowiedzi instytucji przyjmujących",
    columns = { { "institution", "Instytucja przyjmująca" }, { "sent", "Skierowania", "count" }, { "answered", "Odpowiedzi", "count" },
      { "accepted", "Przyjęte", "count" }, { "rejected", "Odrzucone", "count" }, { "redirected", "Przekierowane", "count" },
      { "waiting", "Czekają", "count" }, { "overdue", "Po terminie", "count" },
      { "rate", "Przyjęte (% odpowiedzi)", "percent" }, { "median", "Mediana dni do odpowiedzi", "number" } },
    depends = { rate = { "answered", "accepted" }, median = { "answered" } },
    total = "Razem", total_row = { rate = sum.answered > 0 and sum.accepted / sum.answered or nil,
      median = sum.answered >= r.threshold and overall or nil },
    note = "Po terminie: bez odpowiedzi, a termin odpowiedzi minął przed " .. dates.format_pl(p.to) .. "." })
  r:chart{ type = "stacked", x = "institution", series = { "accepted", "rejected", "redirected", "waiting" },
    title = "Skierowania według odpowiedzi" }
  return true
end

-- The art. 7 reasons in the order of the act (1, 2, ... 7, 7a, 8 ...).
local function reason_order(a, b)
  local na, sa = a.code:match("^(%d*)(.*)$")
  local nb, sb = b.code:match("^(%d*)(.*)$")
  na, nb = tonumber(na) or math.huge, tonumber(nb) or math.huge
  if na ~= nb then return na < nb end
  return sa < sb
end

-- Cases by art. 7 reason.
function sections.reasons(r, p)
  local db = p.db
  r:heading("Sprawy według powodów udzielania pomocy (art. 7 ustawy o pomocy społecznej)")
  if not has_table(db, "case_reason") then r:text("Moduł spraw nie jest zainstalowany."); return false end
  local area = p.area.cond("c.gmina_terc")
  local any = db:value("SELECT count(*) FROM case_file c WHERE " .. area .. " AND c.opened_on <= :to", args(p))
  if any == 0 then r:text("Do końca okresu nie otwarto żadnej sprawy."); return false end
  local rows, byc = {}, {}
  for code, name in db:urows([[SELECT code, name FROM assistance_reason a
      WHERE (valid_from IS NULL OR valid_from <= ?1) AND (valid_to IS NULL OR valid_to >= ?1)
         OR NOT EXISTS (SELECT 1 FROM assistance_reason b WHERE b.code = a.code
                          AND (b.valid_from IS NULL OR b.valid_from <= ?1) AND (b.valid_to IS NULL OR b.valid_to >= ?1))
      GROUP BY code]], p.to) do
    local row = { code = code, reason = code .. ". " .. name, new = 0, closed = 0, open = 0 }
    rows[#rows + 1] = row
    byc[code] = row
  end
  local counts = ([[SELECT cr.code,
      sum(]] .. in_period(p, "c.opened_on") .. [[),
      sum(c.closed_on IS NOT NULL AND ]] .. in_period(p, "c.closed_on") .. [[),
      sum(c.opened_on <= :to AND (c.closed_on IS NULL OR c.closed_on > :to))
    FROM case_reason cr JOIN case_file c ON c.id = cr.case_id WHERE ]] .. area .. " GROUP BY cr.code")
  for code, new, closed, open in db:urows(counts, args(p)) do
    local row = byc[code]
    if row then row.new, row.closed, row.open = new, closed, open end
  end
  table.sort(rows, reason_order)
  local distinct = db:first([[SELECT sum(]] .. in_period(p, "c.opened_on") .. [[) AS new,
      sum(c.closed_on IS NOT NULL AND ]] .. in_period(p, "c.closed_on") .. [[) AS closed,
      sum(c.opened_on <= :to AND (c.closed_on IS NULL OR c.closed_on > :to)) AS open
    FROM case_file c WHERE ]] .. area .. " AND EXISTS (SELECT 1 FROM case_reason cr WHERE cr.case_id = c.id)", args(p))
  r:table(rows, { title = "Sprawy według powodu",
    columns = { { "reason", "Powód (art. 7)" }, { "new", "Nowe w okresie", "count" }, { "closed", "Zakończone w okresie", "count" },
      { "open", "W toku na koniec okresu", "count" } },
    total = "Sprawy razem", total_row = { new = distinct.new or 0, closed = distinct.closed or 0, open = distinct.open or 0 },
    note = "Sprawa może mieć kilka powodów: wiersz „Sprawy razem” liczy każdą sprawę raz." })
  r:chart{ type = "bar", x = "reason", y = "open", title = "Sprawy w toku na koniec okresu według powodu" }
  return true
end

local OUTCOMES = { "sukces", "częściowy", "rezygnacja", "przeniesienie", "brak zasadności" }

-- IPW outcomes and the state of their actions.
function sections.ipw(r, p)
  local db = p.db
  r:heading("Indywidualne programy współpracy (IPW)")
  if not has_table(db, "plan") then r:text("Moduł planów nie jest zainstalowany."); return false end
  local area = p.area.cond("c.gmina_terc")
  local with_ipw = "EXISTS (SELECT 1 FROM plan q WHERE q.case_id = c.id AND q.type = 'IPW' AND q.agreed_on IS NOT NULL AND q.agreed_on <= :to)"
  local started = db:value("SELECT count(*) FROM case_file c WHERE " .. area .. " AND " .. with_ipw, args(p))
  if started == 0 then r:text("Do końca okresu nie uzgodniono żadnego IPW."); return false end
  local rows = {}
  for i, o in ipairs(OUTCOMES) do rows[i] = { outcome = o, n = 0 } end
  for outcome, n in db:urows("SELECT c.outcome, count(*) FROM case_file c WHERE " .. area .. " AND " .. with_ipw
      .. " AND c.closed_on IS NOT NULL AND " .. in_period(p, "c.closed_on") .. " GROUP BY 1", args(p)) do
    for _, row in ipairs(rows) do if row.outcome == outcome then row.n = n end end
  end
  rows[#rows + 1] = { outcome = "w toku na koniec okresu", n = db:value("SELECT count(*) FROM case_file c WHERE " .. area .. " AND "
    .. with_ipw .. " AND (c.closed_on IS NULL OR c.closed_on > :to)", args(p)) }
  local success = rows[1].n
  r:figures{
    { label = "Sprawy z uzgodnionym IPW", value = started, format = "count", note = "do " .. dates.format_pl(p.to) },
    { label = "IPW zakończone sukcesem", value = success, format = "count", note = "w okresie" },
  }
  r:table(rows, { title = "Sprawy z IPW według wyniku", columns = { { "outcome", "Wynik" }, { "n", "Sprawy", "count" } },
    total = "Razem" })
  r:table([[SELECT coalesce(i.name, 'bez instytucji') AS institution, count(*) AS actions,
      sum(a.status = 'done') AS done, sum(a.status = 'not_done') AS not_done,
      sum(a.status IN ('planned', 'in_progress')) AS pending,
      sum(a.status IN ('planned', 'in_progress') AND a.due < :to) AS overdue
    FROM plan_action a JOIN plan q ON q.id = a.plan_id JOIN case_file c ON c.id = q.case_id
    LEFT JOIN institution i ON i.id = a.institution_id
    WHERE q.type = 'IPW' AND q.status IN ('agreed', 'completed') AND q.agreed_on <= :to AND ]] .. area .. [[
    GROUP BY i.id ORDER BY i.name COLLATE PL]], {
    args = { args(p) }, title = "Działania IPW według instytucji odpowiedzialnej",
    columns = { { "institution", "Instytucja" }, { "actions", "Działania", "count" }, { "done", "Wykonane", "count" },
      { "not_done", "Niewykonane", "count" }, { "pending", "W toku", "count" }, { "overdue", "Po terminie", "count" } },
    total = "Razem", note = "Działania obowiązujących wersji IPW (bez wersji zastąpionych rewizją)." })
  return true
end

-- Budget execution per line.
function sections.budget(r, p)
  local db = p.db
  r:heading("Wykonanie budżetu")
  if not has_table(db, "budget") then r:text("Moduł budżetu nie jest zainstalowany."); return false end
  -- the budget family's own SQL of the execution table (b:execution)
  local figures = require("koop.budget_sql").execution
  local list = db:query("SELECT b.id, b.name, b.source, b.period_from, b.period_to FROM budget b WHERE "
    .. p.area.cond("b.gmina_terc") .. " ORDER BY b.name COLLATE PL, b.id")
  if #list == 0 then r:text("W wybranym obszarze nie ma budżetów."); return false end
  local grosze = koop.money.grosze
  for _, b in ipairs(list) do
    local rows = {}
    local t = { planned = 0, committed = 0, spent = 0 }
    for f in db:rows(figures, b.id, p.to) do
      rows[#rows + 1] = { no = f.no, line = f.name, planned = grosze(f.planned), committed = grosze(f.committed),
        spent = grosze(f.spent), remaining = grosze(f.planned - f.spent), pct = f.planned ~= 0 and f.spent / f.planned or nil }
      t.planned, t.committed, t.spent = t.planned + f.planned, t.committed + f.committed, t.spent + f.spent
    end
    local pct = t.planned ~= 0 and t.spent / t.planned or nil
    t = { planned = grosze(t.planned), committed = grosze(t.committed), spent = grosze(t.spent), remaining = grosze(t.planned - t.spent) }
    r:text(("%s (%s, %s – %s), stan na %s."):format(b.name, b.source, dates.format_pl(b.period_from), dates.format_pl(b.period_to),
      dates.format_pl(p.to)))
    r:figures{
      { label = "Plan", value = t.planned, format = "money" },
      { label = "Zaangażowane (umowy)", value = t.committed, format = "money" },
      { label = "Wykonanie", value = t.spent, format = "money", note = pct and (report.display(pct, "percent") .. " planu") or nil },
      { label = "Pozostało", value = t.remaining, format = "money" },
    }
    r:table(rows, { title = b.name .. ": wykonanie według pozycji",
      columns = { { "no", "Lp.", "number" }, { "line", "Pozycja" }, { "planned", "Plan [zł]", "money" },
        { "committed", "Zaangażowane [zł]", "money" }, { "spent", "Wydane [zł]", "money" },
        { "remaining", "Pozostało [zł]", "money" }, { "pct", "Wykonanie", "percent" } },
      total = true, total_row = { no = "", line = "Razem", pct = pct } })
    r:chart{ type = "stacked", x = "line", series = { "spent", "remaining" }, title = b.name .. ": wydane i pozostałe",
      labels = { spent = "Wydane", remaining = "Pozostało" } }
  end
  return true
end

-- }====================

-- {==================== the reports ====================

local REPORTS = {
  { name = "overview", title = "Kooperacja: przegląd",
    summary = "everything that has data: teams, indicators, referrals, reasons, IPW, budget",
    sections = { "team_activity", "indicators", "referrals", "reasons", "ipw", "budget" }, skip_empty = true },
  { name = "team_activity", title = "Zespoły i spotkania", summary = "teams, meetings by kind, attendance by institution, tasks",
    sections = { "team_activity" } },
  { name = "indicators", title = "Wskaźniki projektu dla ROPS", summary = "the milestone indicators per gmina",
    sections = { "indicators" } },
  { name = "referrals", title = "Przepływ skierowań", summary = "from → to matrix, acceptance, median days to answer, overdue",
    sections = { "referrals" } },
  { name = "reasons", title = "Sprawy według powodów (art. 7)", summary = "cases by art. 7 reason (small counts hidden)",
    sections = { "reasons" } },
  { name = "ipw", title = "Wyniki IPW", summary = "IPW outcomes and their actions by institution", sections = { "ipw" } },
  { name = "budget", title = "Wykonanie budżetu", summary = "budget execution per line", sections = { "budget" } },
}
M.reports = REPORTS

-- Make the function of a standard report.
local function maker(def)
  return function(q)
    local p = params(q)
    local where = report.unit_text(p.db, p.area.code)
    local r = report.new{ title = def.title, subtitle = where:gsub("^%l", string.upper),
      period = { from = p.from, to = p.to }, gmina = p.area.code, threshold = p.threshold }
    for _, s in ipairs(def.sections) do
      if def.skip_empty then
        -- a section with nothing to show is left out of the overview
        local probe = report.new{ title = "probe", period = { from = p.from, to = p.to }, threshold = r.threshold }
        if sections[s](probe, p) then
          for _, b in ipairs(probe.blocks) do r.blocks[#r.blocks + 1] = b end
          r.last_table = probe.last_table
        end
      else
        sections[s](r, p)
      end
    end
    return r
  end
end

for _, def in ipairs(REPORTS) do M.functions[def.name] = maker(def) end
M.sections = sections

--- Names of the standard reports as the command line spells them.
function M.names()
  local out = {}
  for i, def in ipairs(REPORTS) do out[i] = (def.name:gsub("_", "-")) end
  return out
end

--- The function of report `name` ("team-activity" or "team_activity"), or nil.
function M.by_cli_name(name)
  return M.functions[(tostring(name):gsub("-", "_"))]
end

--- The standard reports as a result set.
function M.list()
  local rows = {}
  for i, def in ipairs(REPORTS) do
    rows[i] = { name = (def.name:gsub("_", "-")), title = def.title, summary = def.summary }
  end
  return koop.resultset(rows, { "name", "title", "summary" })
end

-- }====================

return M
