-- koop.exchange — data in and out: `koop import KIND FILE` and
-- `koop export KIND`, and the same from Lua.
--
--   exchange.import{kind=, file=, [dry_run=, encoding=, sep=, ignore={...}]}
--       -> {kind=, file=, rows=, added=, encoding=, sep=, dry_run=}
--   exchange.export{kind=, [out=, format = "csv" | "json", csv = "excel" | "rfc4180",
--       identified=, gmina=]} -> number of rows written
--   exchange.kinds() / exchange.export_kinds()
--
-- Import.  The separator (; , TAB) and a UTF-8 byte order mark are found
-- by themselves; the encoding is UTF-8 or CP1250 (what Polish Excel writes
-- as "CSV"), found from the bytes or given with --encoding — a CP1250 file
-- read as UTF-8 is refused with a message saying so.  The header names the
-- columns, in English (the field names) or Polish ("Nazwa", "Kwota [zł]";
-- case, diacritics of the header, spaces and units in brackets do not
-- matter); an unknown column or a missing required one is named, and
-- nothing is read.  An "id" column is ignored (koop numbers what it adds);
-- --ignore skips other columns.  Excel's ways of writing values are
-- understood: 04.06.2019 for a date, 1,25 for a number, "56 340,00 zł" for
-- an amount, TAK/NIE and PRAWDA/FAŁSZ for yes and no.
--
-- Every row goes through the same rules as the API: the collection's own
-- add (institutions, people, cases with their members and reasons, budget
-- lines), each row in a savepoint, so that every bad row is found and
-- reported — line, column, reason — and then nothing at all is imported
-- (one transaction).  --dry-run does the same and writes nothing.  A
-- successful import writes one audit row ("import": kind, file, rows).
--
-- Services stream: a file of a million deliveries is read and written in
-- constant memory.  Each value is checked by the services collection's own
-- field types (a value seen before is not checked again: dates, providers
-- and service types repeat), and the rules of the whole row are the ones
-- the schema keeps for every write (the case is open, the delivery is not
-- before it, foreign keys, CHECKs); a delivered service is not in the
-- future.  Rows are written with one prepared statement, and the per-row
-- audit and events of services.add are replaced by the one audit row of
-- the import (a bulk load of past deliveries: procedures do not react to
-- it).  A row naming a budget line goes through services.add, so that its
-- cost is booked.
--
-- Export.  Pseudonymised by default: cases by their code, never a name,
-- PESEL, address or birth date of a member (age bands instead).
-- `export cases --identified` writes one row per member with names and
-- PESEL; it needs --as (the person answering for it) and is written to the
-- audit log, like every export.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local audit = require "koop.audit"
local json = require "koop.json"
local dates = require "koop.dates"
local csvout = require "koop.csvout"

local M = {}
local null = koop.null
local concat = table.concat

-- {==================== values as Excel writes them ====================

-- A header cell as a key: lower case, units in brackets dropped, runs of
-- blanks, _, - and . as one _.
local function header_key(h)
  h = h:gsub("%b[]", ""):gsub("%b()", "")
  h = koop.text.lower(h):gsub("\194\160", " ")
  h = h:gsub("^[%s_%-%.]+", ""):gsub("[%s_%-%.]+$", ""):gsub("[%s_%-%.]+", "_")
  return h
end
M.header_key = header_key

-- ASCII folding of Polish letters, so that "miejscowosc" finds "miejscowość".
local ASCII = { ["ą"] = "a", ["ć"] = "c", ["ę"] = "e", ["ł"] = "l", ["ń"] = "n", ["ó"] = "o", ["ś"] = "s", ["ź"] = "z", ["ż"] = "z" }
local function ascii(s) return (s:gsub("[\196\197\195][\128-\191]", ASCII)) end

-- "04.06.2019" or "4.6.2019" or "2019-06-04 00:00:00" as ISO; other text as it is.
local function norm_date(v)
  local d, m, y = v:match("^(%d%d?)%.(%d%d?)%.(%d%d%d%d)$")
  if d then return ("%04d-%02d-%02d"):format(tonumber(y), tonumber(m), tonumber(d)) end
  local iso = v:match("^(%d%d%d%d%-%d%d%-%d%d)[ T]%d%d:%d%d")
  return iso or v
end

-- "1,25" or "1 234,5" as a number; other text as it is.
local function norm_number(v)
  local s = v:gsub("[ \194\160]", "")
  if s:match("^[-+]?%d+,%d+$") then s = s:gsub(",", ".") end
  return math.tointeger(tonumber(s)) or tonumber(s) or v
end

local TRUE = { ["1"] = true, tak = true, t = true, ["true"] = true, prawda = true, yes = true, y = true }
local FALSE = { ["0"] = true, nie = true, n = true, ["false"] = true, ["fałsz"] = true, falsz = true, no = true }
local function norm_bool(v)
  local k = koop.text.lower(v)
  if TRUE[k] then return true end
  if FALSE[k] then return false end
  return v
end

-- An amount as whole grosze, or raise with the money parser's reason.
local function norm_money(v)
  local m, why = koop.money.parse(v)
  if not m then return nil, why end
  return m:grosze()
end

-- }====================

-- {==================== finding what a row names ====================

-- The institution named by v: an id, a REGON, the name or the short name
-- (Polish case ignored); nil and a reason.
local function find_institution(db, v, cache)
  local hit = cache[v]
  if hit ~= nil then return hit or nil, "no institution '" .. v .. "' (by id, REGON, name, short name or kind)" end
  local id = math.tointeger(tonumber(v))
  local found
  if id and db:value("SELECT 1 FROM institution WHERE id = ?", id) then
    found = id
  else
    local ids = {}
    for i in db:urows([[SELECT id FROM institution WHERE regon = ?1 OR pl_lower(name) = pl_lower(?1)
        OR pl_lower(short) = pl_lower(?1) ORDER BY id]], v) do ids[#ids + 1] = i end
    if #ids == 0 then       -- a kind the gmina has one of: "OPS", "PCPR"
      for i in db:urows("SELECT id FROM institution WHERE kind = ? ORDER BY id LIMIT 2", v) do ids[#ids + 1] = i end
      if #ids > 1 then return nil, ("there are several institutions of kind %s: give the id, REGON or name"):format(v) end
    end
    if #ids > 1 then return nil, ("'%s' names %d institutions (ids %s): give the id or REGON"):format(v, #ids, concat(ids, ", ")) end
    found = ids[1]
  end
  cache[v] = found or false
  if not found then return nil, "no institution '" .. v .. "' (by id, REGON, name, short name or kind)" end
  return found
end

-- The person named by v: an id or "first last"; nil and a reason.
local function find_person(db, v)
  local id = math.tointeger(tonumber(v))
  if id and db:value("SELECT 1 FROM person WHERE id = ?", id) then return id end
  local ids = {}
  for i in db:urows("SELECT id FROM person WHERE pl_lower(first_name || ' ' || last_name) = pl_lower(?) ORDER BY id", v) do ids[#ids + 1] = i end
  if #ids > 1 then return nil, ("'%s' names %d people (ids %s): give the id"):format(v, #ids, concat(ids, ", ")) end
  if not ids[1] then return nil, "no person '" .. v .. "' (by id or first and last name)" end
  return ids[1]
end

-- }====================

-- {==================== the kinds of import ====================

-- A column: field (the API's name), aliases (headers), how (value kind).
local function col(field, how, ...) return { field = field, how = how, aliases = { field, ... } } end

local KINDS = {}
M.KINDS = KINDS

KINDS.institutions = {
  columns = {
    col("name", "text", "nazwa", "nazwa instytucji", "instytucja"),
    col("short", "text", "skrót", "nazwa skrócona"),
    col("kind", "text", "rodzaj", "typ"),
    col("sector", "text", "sektor"),
    col("level", "text", "poziom", "szczebel"),
    col("gmina", "text", "gmina_terc", "terc", "teryt", "kod gminy"),
    col("regon", "text"), col("nip", "text"),
    col("postal_code", "text", "kod pocztowy", "kod"),
    col("city", "text", "miejscowość", "miasto"),
    col("address", "text", "adres", "ulica"),
    col("phone", "text", "telefon", "tel"),
    col("email", "text", "e-mail", "mail"),
    col("www", "text", "strona", "strona www"),
    col("active", "bool", "aktywna", "aktywny"),
    col("notes", "text", "uwagi"),
  },
  required = { "name", "kind" },
  add = function(ctx, input) return entity.collection_named("institutions").add(input) end,
}

KINDS.people = {
  columns = {
    col("first_name", "text", "imię"), col("last_name", "text", "nazwisko"),
    col("institution", "institution", "institution_id", "instytucja", "institution name"),
    col("position", "text", "stanowisko", "funkcja"),
    col("email", "text", "e-mail", "mail"), col("phone", "text", "telefon", "tel"),
    col("active", "bool", "aktywna", "aktywny"), col("notes", "text", "uwagi"),
  },
  required = { "first_name", "last_name", "institution" },
  add = function(ctx, input) return entity.collection_named("people").add(input) end,
}

-- Cases with members: one row per member; rows with the same `case` key
-- form one case (a key like BOG-2019-001 becomes its code; any other key
-- only groups rows, and the case is numbered as usual).
local CASE_FIELDS = { "opened_on", "source_institution", "coordinator", "reasons", "notes" }
local MEMBER_FIELDS = { "first_name", "last_name", "pesel", "birth_date", "sex", "relation" }

KINDS.cases = {
  columns = {
    col("case", "text", "sprawa", "kod sprawy", "code", "kod", "case_code", "klucz"),
    col("opened_on", "date", "data otwarcia", "otwarta", "data zgłoszenia"),
    col("source_institution", "institution", "instytucja zgłaszająca", "zgłaszający", "source"),
    col("coordinator", "person", "koordynator"),
    col("reasons", "text", "powody", "powód", "art. 7", "art 7"),
    col("notes", "text", "uwagi"),
    col("first_name", "text", "imię"), col("last_name", "text", "nazwisko"), col("pesel", "text"),
    col("birth_date", "date", "data urodzenia"), col("sex", "text", "płeć"),
    col("relation", "text", "relacja", "pokrewieństwo", "stopień pokrewieństwa", "rola"),
  },
  required = { "case" },
  add = function(ctx, input, line)
    local cases = entity.collection_named("cases")
    local key = input.case
    ctx.groups = ctx.groups or {}
    local g = ctx.groups[key]
    if g and g.failed then
      koop.raise{ code = "invalid", field = "cases.case", message = ("cases.case: case '%s' was not opened (see line %d)"):format(key, g.line) }
    end
    local c
    if g then
      c = cases.get(g.id)
      for _, f in ipairs(CASE_FIELDS) do
        local v = input[f]
        if v ~= nil and g.values[f] ~= nil and v ~= g.values[f] then
          koop.raise{ code = "invalid", field = "cases." .. f,
            message = ("cases.%s: differs from line %d of the same case (%s)"):format(f, g.line, tostring(g.values[f])) }
        end
      end
    else
      g = { line = line, values = {} }
      ctx.groups[key] = g
      local ok, res = pcall(function()
        local q = { opened_on = input.opened_on, source_institution = input.source_institution,
          coordinator = input.coordinator, notes = input.notes }
        if key:match("^[%u%d]+%-%d%d%d%d%-%d+$") then q.code = key end
        local opened = cases.open(q)
        for code in (input.reasons or ""):gmatch("[^,;%s]+") do opened:reason(code, opened.opened_on) end
        return opened
      end)
      if not ok then g.failed = true; error(res, 0) end
      c = res
      g.id = c.id
      for _, f in ipairs(CASE_FIELDS) do g.values[f] = input[f] end
    end
    local member = {}
    local any = false
    for _, f in ipairs(MEMBER_FIELDS) do
      if input[f] ~= nil then member[f] = input[f]; any = true end
    end
    if any then c:add_member(member) end
    return c
  end,
}

KINDS.budget_lines = {
  columns = {
    col("budget", "text", "budżet", "budget_id", "projekt"),
    col("name", "text", "nazwa", "pozycja"),
    col("planned", "text", "plan", "kwota", "planowane"),
    col("service_type", "text", "usługa", "rodzaj usługi"),
    col("dzial", "text", "dział"), col("rozdzial", "text", "rozdział"), col("paragraf", "text", "§"),
    col("notes", "text", "uwagi"),
  },
  required = { "budget", "name", "planned" },
  add = function(ctx, input)
    local budgets = entity.collection_named("budgets")
    local db = entity.db()
    local id = math.tointeger(tonumber(input.budget))
    local b = id and budgets.get(id)
    if not b then
      local ids = {}
      for i in db:urows("SELECT id FROM budget WHERE pl_lower(name) = pl_lower(?) ORDER BY id", input.budget) do ids[#ids + 1] = i end
      if #ids ~= 1 then
        koop.raise{ code = "invalid", field = "budget_lines.budget",
          message = ("budget_lines.budget: %s (got '%s')"):format(#ids == 0 and "no such budget (by id or name)"
            or ("names %d budgets: give the id"):format(#ids), input.budget) }
      end
      b = budgets.get(ids[1])
    end
    local q = {}
    for k, v in pairs(input) do if k ~= "budget" then q[k] = v end end
    return b:line(q)
  end,
}

-- Services: see the top of this file; `stream` marks the bulk path.
KINDS.services = {
  columns = {
    col("case", "text", "sprawa", "kod sprawy", "case_id", "case_code"),
    col("provider", "text", "realizator", "wykonawca", "instytucja", "institution_id", "provider_id"),
    col("service", "text", "usługa", "service_type", "rodzaj usługi"),
    col("date", "date", "data"),
    col("units", "number", "liczba", "ilość", "jednostki"),
    col("hours", "number", "godziny", "godzin"),
    col("unit", "text", "jednostka"),
    col("cost", "text", "koszt", "kwota"),
    col("cost_grosze", "number", "koszt_gr", "cost_gr", "kwota_gr"),
    col("status", "text"),
    col("notes", "text", "uwagi"),
    col("budget_line", "number", "budget_line_id", "pozycja budżetu"),
  },
  required = { "case", "provider", "service" },
  stream = true,
}

for name, def in pairs(KINDS) do def.name = name end

-- The kinds as the command line spells them.
local function kind_def(name)
  return KINDS[(tostring(name):gsub("-", "_"))]
end
function M.kinds()
  local out = {}
  for k in pairs(KINDS) do out[#out + 1] = (k:gsub("_", "-")) end
  table.sort(out)
  return out
end

-- }====================

-- {==================== reading the file ====================

-- The encoding to read `file` with: the one asked for, or the one found;
-- a CP1250 file asked to be read as UTF-8 is refused here.
local function choose_encoding(file, asked)
  local found = koop.csv.detect_encoding(file)
  if found == "utf-16le" or found == "utf-16be" then
    koop.raise{ code = "encoding", message = ("%s is UTF-16 text (Excel's \"Unicode text\"): save it as \"CSV UTF-8\" or \"CSV\" and import that"):format(file) }
  end
  if asked == nil then return found, found == "cp1250" end
  asked = asked:lower()
  if asked == "utf8" then asked = "utf-8" end
  if asked == "windows-1250" then asked = "cp1250" end
  if asked ~= "utf-8" and asked ~= "cp1250" then
    koop.raise{ code = "usage", message = ("--encoding must be utf-8 or cp1250, not '%s'"):format(asked) }
  end
  if asked == "utf-8" and found == "cp1250" then
    koop.raise{ code = "encoding", message = ("%s is not UTF-8: its bytes are CP1250 (Windows-1250, what Polish Excel saves as \"CSV\"); "
      .. "import it with --encoding cp1250, or save it from Excel as \"CSV UTF-8\""):format(file) }
  end
  return asked, false
end

-- Map the header row to columns of kind def: returns a list (by position)
-- of column specs or false (ignored), and field -> header text.
local function map_header(def, header, file, ignore)
  local by_key = {}
  for _, c in ipairs(def.columns) do
    for _, a in ipairs(c.aliases) do
      by_key[header_key(a)] = c
      by_key[ascii(header_key(a))] = c
    end
  end
  local skip = {}
  for _, name in ipairs(ignore or {}) do skip[header_key(name)] = true end
  local map, header_of, seen, unknown = {}, {}, {}, {}
  for i, h in ipairs(header) do
    local key = header_key(h)
    local c = by_key[key] or by_key[ascii(key)]
    if skip[key] or key == "id" or key == "lp" then
      map[i] = false
    elseif not c then
      unknown[#unknown + 1] = ("'%s' (column %d)"):format(h, i)
      map[i] = false
    else
      if seen[c.field] then
        koop.raise{ code = "invalid", field = c.field, message = ("%s: columns %d and %d ('%s', '%s') are both %s")
          :format(file, seen[c.field], i, header[seen[c.field]], h, c.field) }
      end
      seen[c.field] = i
      map[i] = c
      header_of[c.field] = h
    end
  end
  if #unknown > 0 then
    local known = {}
    for _, c in ipairs(def.columns) do known[#known + 1] = c.field end
    koop.raise{ code = "invalid", field = "header", message = ("%s: unknown column%s %s in the header (line 1); the columns of %s are: %s "
      .. "(Polish names work too; --ignore NAME skips a column)"):format(file, #unknown > 1 and "s" or "", concat(unknown, ", "),
      def.name, concat(known, ", ")) }
  end
  for _, f in ipairs(def.required) do
    if not seen[f] and not (f == "units" and seen.hours) then
      local names = {}
      for _, c in ipairs(def.columns) do if c.field == f then for _, a in ipairs(c.aliases) do names[#names + 1] = a end end end
      koop.raise{ code = "invalid", field = f, message = ("%s: the required column %s is missing (header on line 1; it may be called %s)")
        :format(file, f, concat(names, ", ")) }
    end
  end
  return map, header_of
end

-- Open file for kind def; returns the reader, the column map, field -> header.
local function open_file(def, file, opts)
  if type(file) ~= "string" or file == "" then
    koop.raise{ code = "usage", message = "import: which file? (koop import " .. def.name .. " FILE)" }
  end
  local f, err = io.open(file, "rb")
  if not f then koop.raise{ code = "io", message = ("cannot open %s: %s"):format(file, (tostring(err):gsub("^.*: ", ""))) } end
  f:close()
  local encoding, detected = choose_encoding(file, opts.encoding)
  local reader = koop.csv.open(file, { sep = opts.sep, encoding = encoding, header = false, ragged = true })
  local header = reader:read()
  if not header then koop.raise{ code = "invalid", field = "header", message = file .. ": the file is empty (no header line)" } end
  local map, header_of = map_header(def, header, file, opts.ignore)
  return reader, map, header_of, encoding, detected, #header
end

-- The error entry for a failed row: {line=, column=, message=}.
local function row_error(line, err, header_of, def)
  local field, msg
  if koop.is_error(err) then
    field = err.field and tostring(err.field):match("([^%.]+)$")
    msg = tostring(err.message or err)
  else
    msg = tostring(err)
  end
  -- a rule kept by the schema says "Runtime error: services.date: ..."
  msg = msg:gsub("^Runtime error: ", "")
  field = field or msg:match("^[%w_]+%.([%w_]+): ")
  msg = msg:gsub("^[%w_]+%.[%w_%.%[%]]+: ", "")
  local column = field and (header_of[field] or (field == "units" and header_of.hours) or field) or "-"
  return { line = line, column = column, message = msg }
end

-- }====================

-- {==================== rows through the API ====================

-- The input table of one CSV row (values normalised), or raises.
local function input_of(ctx, fields, line)
  local input = {}
  for i, c in pairs(ctx.map) do
    if c then
      local v = fields[i]
      if v ~= nil and v ~= "" then
        v = v:match("^%s*(.-)%s*$")
        if v ~= "" then
          if c.how == "date" then v = norm_date(v)
          elseif c.how == "number" then v = norm_number(v)
          elseif c.how == "bool" then v = norm_bool(v)
          elseif c.how == "institution" then
            local id, why = find_institution(ctx.db, v, ctx.institutions)
            if not id then koop.raise{ code = "invalid", field = c.field, message = why } end
            v = id
          elseif c.how == "person" then
            local id, why = find_person(ctx.db, v)
            if not id then koop.raise{ code = "invalid", field = c.field, message = why } end
            v = id
          end
          input[c.field] = v
        end
      end
    end
  end
  return input
end

-- One row through def.add in its own savepoint.
local function api_row(ctx, fields, line)
  local input = input_of(ctx, fields, line)
  for _, f in ipairs(ctx.def.required) do
    if input[f] == nil then
      koop.raise{ code = "invalid", field = f, message = "is required (the cell is empty)" }
    end
  end
  return ctx.db:tx(ctx.def.add, ctx, input, line)
end

-- }====================

-- {==================== services, streamed ====================

-- The checker of field `name` of the services collection: v -> stored
-- value, or raises naming the field (the collection's own type check).
local function field_checker(coll, name, db)
  local f
  for _, x in ipairs(coll.fields) do if x.name == name then f = x end end
  assert(f, "services has no field " .. name)
  local check = entity.types[f.type].check
  return function(v)
    local stored, msg = check(v, f, db)
    if stored == nil then
      koop.raise{ code = "invalid", field = name, message = ("%s (got %s)"):format(msg, entity.show(v)) }
    end
    if stored == null then return nil end
    return stored
  end, f
end

-- A cache of fn over the text values of a column: cache[v] is the stored
-- value once v was checked.  fill(cache, fn, v) checks v (trimmed), keeps
-- the result and returns it; an error is raised and not kept.  The hot
-- path is one table index: `cache[v] or fill(cache, fn, v)`.
local function fill(cache, fn, v)
  local t = v:match("^%s*(.-)%s*$")
  local res = fn(t)
  if res == nil then res = false end
  cache[v] = res
  return res
end

local SERVICE_INSERT = "INSERT INTO service_delivery (case_id, provider_id, service_type, date, units, unit, cost, status, notes) "
  .. "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
local CASE_INDEX = "service_delivery_case_ix"

-- Prepare the streamed services import: returns row(fields) and finish().
local function services_stream(ctx)
  local db = ctx.db
  local services = entity.collection_named("services")
  local cases_mod = require "koop.cases"
  local idx = {}
  for i, c in pairs(ctx.map) do if c then idx[c.field] = i end end

  local check_case = field_checker(services, "case", db)
  local function case_fn(v)
    local id = math.tointeger(tonumber(v))
    if not id then
      id = db:value("SELECT id FROM case_file WHERE code = ?", v)
      if not id then koop.raise{ code = "invalid", field = "case", message = ("no case with code '%s'"):format(v) } end
    end
    return check_case(id)
  end
  local check_provider = field_checker(services, "provider", db)
  local function provider_fn(v)
    local id, why = find_institution(db, v, ctx.institutions)
    if not id then koop.raise{ code = "invalid", field = "provider", message = why } end
    return check_provider(id)
  end
  local check_service = field_checker(services, "service", db)
  local function service_fn(v)
    local code = db:value("SELECT code FROM service_type WHERE pl_lower(code) = pl_lower(?1) OR pl_lower(name) = pl_lower(?1) "
      .. "ORDER BY pl_lower(code) = pl_lower(?1) DESC LIMIT 1", v)
    return check_service(code or v)
  end
  local check_date = field_checker(services, "date", db)
  local function date_fn(v) return check_date(norm_date(v)) end
  local check_units = field_checker(services, "units", db)
  local function units_fn(u) return check_units(tonumber(u) or norm_number(u)) end
  local check_unit, unit_field = field_checker(services, "unit", db)
  local check_cost = field_checker(services, "cost", db)
  local grosze_of = koop.money.grosze   -- the cost field reads a plain number as złoty
  local function cost_fn(v)
    local g, why = norm_money(v)
    if not g then koop.raise{ code = "invalid", field = "cost", message = ("'%s' %s"):format(v, why) } end
    return check_cost(grosze_of(g))
  end
  local check_status, status_field = field_checker(services, "status", db)
  local function default_status(d) return status_field.default({ date = d }) end
  local check_notes = field_checker(services, "notes", db)
  local not_future = cases_mod.not_future
  local today = dates.today()
  local cases, providers, types, days, units_c, unit_c, statuses, defaults, catalogue =
    {}, {}, {}, {}, {}, {}, {}, {}, {}

  local i_case, i_provider, i_service, i_date = idx.case, idx.provider, idx.service, idx.date
  local i_units, i_unit, i_cost, i_cg, i_status = idx.units or idx.hours, idx.unit, idx.cost, idx.cost_grosze, idx.status
  local i_notes, i_line = idx.notes, idx.budget_line
  local hours_unit = idx.hours and not idx.unit and check_unit("godziny")
  local exec = db.exec
  local tointeger, tonumber = math.tointeger, tonumber

  -- The index of deliveries by case is rebuilt at the end (one sort)
  -- instead of updated row by row, when the file is large against the
  -- table: estimated from the file's size (about 60 bytes a row).
  local index_sql = db:value("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?", CASE_INDEX)
  local existing = db:value("SELECT count(*) FROM service_delivery")
  local size = ctx.size or 0
  if index_sql and size > 4 * 1024 * 1024 and size / 60 > existing then
    db:exec("DROP INDEX " .. CASE_INDEX)
    ctx.rebuild = index_sql
  end
  -- The rows are sealed by one aggregate at the end, not by the insert
  -- trigger row by row, unless rows are booked on budget lines: those go
  -- through services.add, which updates the row it inserts.
  local sealed = not i_line and audit.bulk_insert(db, "service_delivery")

  -- Field i of a row, or raise when it is empty.
  local function required(fields, i, name)
    local v = fields[i]
    if v == "" or not v:find("%S") then
      koop.raise{ code = "invalid", field = name, message = "is required (the cell is empty)" }
    end
    return v
  end
  -- Field i of a row, or nil when there is no such column or it is blank.
  local function optional(fields, i)
    local v = i and fields[i]
    if not v or v == "" or not v:find("%S") then return nil end
    return v
  end

  local function row(fields)
    local v = fields[i_case]
    local case_id = cases[v] or fill(cases, case_fn, required(fields, i_case, "case"))
    v = fields[i_provider]
    local provider = providers[v] or fill(providers, provider_fn, required(fields, i_provider, "provider"))
    v = fields[i_service]
    local service = types[v] or fill(types, service_fn, required(fields, i_service, "service"))
    local date = today
    if i_date then
      v = fields[i_date]
      date = days[v] or (optional(fields, i_date) and fill(days, date_fn, v)) or today
    end
    local units = 1
    if i_units then
      v = fields[i_units]
      units = units_c[v] or (optional(fields, i_units) and fill(units_c, units_fn, v)) or 1
    end
    local unit = hours_unit
    if i_unit then
      v = fields[i_unit]
      unit = unit_c[v] or (optional(fields, i_unit) and fill(unit_c, check_unit, v)) or nil
    end
    if not unit then
      unit = catalogue[service]
      if unit == nil then unit = unit_field.default({ service_type = service }); catalogue[service] = unit end
    end
    local cost = 0
    if i_cg then
      v = fields[i_cg]
      if v ~= "" then
        local g = tointeger(tonumber(v))
        if not g then
          if not optional(fields, i_cg) then goto no_grosze end
          koop.raise{ code = "invalid", field = "cost_grosze", message = ("expected whole grosze, got '%s'"):format(v) }
        end
        cost = check_cost(grosze_of(g))
      end
      ::no_grosze::
    end
    if i_cost then
      v = optional(fields, i_cost)
      if v then cost = cost_fn(v) end
    end
    local status
    if i_status then
      v = fields[i_status]
      status = statuses[v] or (optional(fields, i_status) and fill(statuses, check_status, v)) or nil
    end
    if not status then
      status = defaults[date]
      if not status then status = default_status(date); defaults[date] = status end
    end
    if date > today and (status == "delivered" or status == "no_show") then not_future("services", "date", date) end
    local notes = i_notes and optional(fields, i_notes)
    if notes then notes = check_notes(notes) end
    local line_id = i_line and optional(fields, i_line)
    if line_id then
      -- booked on a budget: the whole API, so that the cost is booked (cost
      -- is grosze here; the API reads a plain number as złoty)
      services.add{ case = case_id, provider = provider, service = service, date = date, units = units,
        unit = unit, cost = grosze_of(cost), status = status, notes = notes, budget_line_id = tointeger(tonumber(line_id)) or line_id }
      return
    end
    exec(db, SERVICE_INSERT, case_id, provider, service, date, units, unit, cost, status, notes)
  end

  local function finish()
    if sealed then sealed(); sealed = nil end
    if ctx.rebuild then db:exec(ctx.rebuild); ctx.rebuild = nil end
  end
  return row, finish
end

-- }====================

-- {==================== import ====================

local DRY_RUN = setmetatable({}, { __tostring = function() return "dry run" end })

-- Error codes that are about one row: the import lists them and goes on.
-- Any other error object (a full disk, an I/O error, busy, interrupted,
-- a time or memory limit) stops it at once: the database, not the row,
-- failed, and SQLite may have rolled the whole transaction back already.
local ROW_ERRORS = { invalid = true, constraint = true, mismatch = true, range = true, toobig = true }

-- The message of an import with bad rows: a count and the first ones.
local function failure_message(file, kind, errors, rows, shown)
  local lines = { ("%s: %d of %d row%s of %s %s not valid; nothing was imported:"):format(file, #errors, rows,
    rows == 1 and "" or "s", kind, #errors == 1 and "is" or "are") }
  for i = 1, math.min(#errors, shown) do
    local e = errors[i]
    lines[#lines + 1] = ("  line %d, column %s: %s"):format(e.line, e.column, e.message)
  end
  if #errors > shown then lines[#lines + 1] = ("  ... and %d more (err.errors lists them all)"):format(#errors - shown) end
  return concat(lines, "\n")
end

--- Import a CSV file (see the top of this file).
function M.import(q)
  if not io then koop.raise{ code = "auth", message = "import reads a file: not with --safe" } end
  if type(q) ~= "table" then koop.raise{ code = "invalid", message = "exchange.import: expected {kind=, file=, ...}" } end
  local def = kind_def(q.kind)
  if not def then
    koop.raise{ code = "usage", field = "kind", message = ("import: no kind '%s'; the kinds are: %s"):format(tostring(q.kind), concat(M.kinds(), ", ")) }
  end
  local db = entity.db()
  if db:readonly() then koop.raise{ code = "readonly", message = ("import: the database %s is open read-only"):format(db:path()) } end
  local reader, map, header_of, encoding, detected, width = open_file(def, q.file, q)
  local size = 0
  local fh = io.open(q.file, "rb")
  if fh then size = fh:seek("end") or 0; fh:close() end
  local ctx = { def = def, db = db, map = map, institutions = {}, size = size }
  local errors, rows, added = {}, 0, 0
  local first_id = def.stream and db:value("SELECT max(id) FROM service_delivery") or nil
  local function work()
    local row_fn, finish
    if def.stream then row_fn, finish = services_stream(ctx) end
    for fields in reader:rows() do
      rows = rows + 1
      local ok, err
      if #fields ~= width then
        ok, err = false, koop.error{ code = "invalid", message = ("has %d field%s, the header has %d"):format(#fields, #fields == 1 and "" or "s", width) }
      elseif row_fn then
        ok, err = pcall(row_fn, fields)
      else
        ok, err = pcall(api_row, ctx, fields, reader:line())
      end
      if ok then
        added = added + 1
      else
        if koop.is_error(err) and not ROW_ERRORS[err.code] then error(err, 0) end
        errors[#errors + 1] = row_error(reader:line(), err, header_of, def)
      end
    end
    if #errors > 0 then
      koop.raise{ code = "invalid", field = "import", message = failure_message(q.file, def.name, errors, rows, 20), errors = errors, rows = rows }
    end
    if finish then finish() end
    if not q.dry_run then
      local last = def.stream and db:value("SELECT max(id) FROM service_delivery") or nil
      audit.append(db, "import", def.name, nil, nil, json.encode{ file = q.file, kind = def.name, rows = rows,
        added = added, encoding = encoding, bytes = size,
        first_id = def.stream and last and ((first_id or 0) + 1) or null, last_id = last or null })
    else
      error(DRY_RUN, 0)
    end
  end
  -- Every reference of a streamed row was resolved and checked above (the
  -- collection's ref and dictionary checks), so SQLite need not look each
  -- one up again: foreign-key enforcement is off for the bulk insert (it
  -- can change only outside a transaction) and on again after it.
  local fk_off = def.stream and not db:in_transaction() and db:value("PRAGMA foreign_keys") == 1
    and pcall(db.exec, db, "PRAGMA foreign_keys = OFF")
  local ok, err = pcall(db.tx, db, work)
  if fk_off then db:exec("PRAGMA foreign_keys = ON") end
  reader:close()
  if not ok and err ~= DRY_RUN then error(err, 0) end
  return { kind = def.name, file = q.file, rows = rows, added = added, encoding = encoding, detected = detected,
    dry_run = q.dry_run and true or false }
end

-- }====================

-- {==================== export ====================

-- Age band of a birth date on a day: 0-17, 18-29, 30-44, 45-64, 65+.
local function age_band(born, on)
  local y, m, d = born:match("^(%d+)-(%d+)-(%d+)")
  local oy, om, od = on:match("^(%d+)-(%d+)-(%d+)")
  if not y or not oy then return "?" end
  local age = tonumber(oy) - tonumber(y)
  if tonumber(om) < tonumber(m) or (tonumber(om) == tonumber(m) and tonumber(od) < tonumber(d)) then age = age - 1 end
  if age < 18 then return "0-17" elseif age < 30 then return "18-29" elseif age < 45 then return "30-44"
  elseif age < 65 then return "45-64" end
  return "65+"
end
M.age_band = age_band

-- Export kinds: SQL (with :area condition spliced), columns {key, label, format}.
local EXPORTS = {
  institutions = { table = "institution", sql = [[SELECT id, name, short, kind, sector, level, gmina_terc AS gmina, regon, nip,
      postal_code, city, address, phone, email, www, active, notes FROM institution ORDER BY name COLLATE PL, id]],
    columns = { { "id", "ID" }, { "name", "Nazwa" }, { "short", "Skrót" }, { "kind", "Rodzaj" }, { "sector", "Sektor" },
      { "level", "Poziom" }, { "gmina", "Gmina (TERC)" }, { "regon", "REGON" }, { "nip", "NIP" }, { "postal_code", "Kod pocztowy" },
      { "city", "Miejscowość" }, { "address", "Adres" }, { "phone", "Telefon" }, { "email", "E-mail" }, { "www", "WWW" },
      { "active", "Aktywna" }, { "notes", "Uwagi" } } },
  people = { table = "person", sql = [[SELECT p.id, p.first_name, p.last_name, i.name AS institution, p.position, p.email, p.phone,
      p.active, p.notes FROM person p JOIN institution i ON i.id = p.institution_id ORDER BY p.last_name COLLATE PL, p.first_name COLLATE PL, p.id]],
    columns = { { "id", "ID" }, { "first_name", "Imię" }, { "last_name", "Nazwisko" }, { "institution", "Instytucja" },
      { "position", "Stanowisko" }, { "email", "E-mail" }, { "phone", "Telefon" }, { "active", "Aktywna" }, { "notes", "Uwagi" } } },
  resources = { table = "resource", sql = [[SELECT r.id, i.name AS institution, r.service_type, r.description, r.eligibility, r.capacity,
      r.contact, r.valid_from, r.valid_to FROM resource r JOIN institution i ON i.id = r.institution_id
      ORDER BY r.service_type COLLATE PL, i.name COLLATE PL, r.id]],
    columns = { { "id", "ID" }, { "institution", "Instytucja" }, { "service_type", "Usługa" }, { "description", "Opis" },
      { "eligibility", "Dla kogo" }, { "capacity", "Liczba miejsc" }, { "contact", "Kontakt" }, { "valid_from", "Od", "date" },
      { "valid_to", "Do", "date" } } },
  teams = { table = "team", sql = [[SELECT t.id, t.name, t.kind, t.gmina_terc AS gmina, t.formed_on, t.dissolved_on,
      (SELECT count(*) FROM team_member m WHERE m.team_id = t.id AND m.to_date IS NULL) AS members FROM team t
      ORDER BY t.name COLLATE PL, t.id]],
    columns = { { "id", "ID" }, { "name", "Zespół" }, { "kind", "Rodzaj" }, { "gmina", "Gmina (TERC)" },
      { "formed_on", "Utworzony", "date" }, { "dissolved_on", "Rozwiązany", "date" }, { "members", "Członkowie" } } },
  meetings = { table = "meeting", sql = [[SELECT g.id, t.name AS team, g.kind, g.date, g.days, g.place, g.status, g.protocol_no,
      (SELECT count(*) FROM attendance a WHERE a.meeting_id = g.id AND a.status IN ('obecny', 'zdalnie')) AS present
      FROM meeting g JOIN team t ON t.id = g.team_id ORDER BY g.date, g.id]],
    columns = { { "id", "ID" }, { "team", "Zespół" }, { "kind", "Rodzaj" }, { "date", "Data", "date" }, { "days", "Dni" },
      { "place", "Miejsce" }, { "status", "Stan" }, { "protocol_no", "Nr protokołu" }, { "present", "Obecni" } } },
  tasks = { table = "task", sql = [[SELECT k.id, k.text, i.name AS institution, p.first_name || ' ' || p.last_name AS person, k.due,
      k.status, k.done_on, k.created_on FROM task k LEFT JOIN institution i ON i.id = k.owner_institution_id
      LEFT JOIN person p ON p.id = k.owner_person_id ORDER BY k.due IS NULL, k.due, k.id]],
    columns = { { "id", "ID" }, { "text", "Zadanie" }, { "institution", "Instytucja" }, { "person", "Osoba" },
      { "due", "Termin", "date" }, { "status", "Stan" }, { "done_on", "Wykonane", "date" }, { "created_on", "Postawione", "date" } } },
  cases = { table = "case_file", sql = [[SELECT c.code, c.gmina_terc AS gmina, c.opened_on, c.status, c.closed_on, c.outcome,
      (SELECT group_concat(code, ',') FROM (SELECT code FROM case_reason r WHERE r.case_id = c.id ORDER BY code)) AS reasons,
      (SELECT count(*) FROM case_member m WHERE m.case_id = c.id) AS members,
      (SELECT group_concat(m.birth_date || ' ' || m.sex, ';') FROM case_member m WHERE m.case_id = c.id) AS births,
      i.name AS source_institution FROM case_file c LEFT JOIN institution i ON i.id = c.source_institution_id
      ORDER BY c.opened_on, c.code]],
    columns = { { "code", "Kod sprawy" }, { "gmina", "Gmina (TERC)" }, { "opened_on", "Otwarta", "date" }, { "status", "Etap" },
      { "closed_on", "Zakończona", "date" }, { "outcome", "Wynik" }, { "reasons", "Powody (art. 7)" }, { "members", "Członkowie" },
      { "ages", "Płeć i wiek członków" }, { "source_institution", "Zgłaszający" } },
    -- birth dates leave as age bands on the day of the export
    row = function(r, today)
      local out = {}
      for item in (r.births or ""):gmatch("[^;]+") do
        local born, sex = item:match("^(%S+) (%S+)$")
        out[#out + 1] = (sex or "?") .. " " .. age_band(born or "", today)
      end
      table.sort(out)
      r.ages = concat(out, ", ")
      r.births = nil
      return r
    end },
  referrals = { table = "referral", sql = [[SELECT x.id, c.code AS case_code, f.name AS from_institution, t.name AS to_institution,
      x.service_type, x.sent_on, x.response_due, x.status, x.responded_on, x.closed_on, x.shared, x.legal_basis IS NOT NULL AS statutory
      FROM referral x JOIN case_file c ON c.id = x.case_id JOIN institution f ON f.id = x.from_institution_id
      JOIN institution t ON t.id = x.to_institution_id ORDER BY x.sent_on, x.id]],
    columns = { { "id", "ID" }, { "case_code", "Kod sprawy" }, { "from_institution", "Od" }, { "to_institution", "Do" },
      { "service_type", "Usługa" }, { "sent_on", "Wysłane", "date" }, { "response_due", "Termin odpowiedzi", "date" },
      { "status", "Stan" }, { "responded_on", "Odpowiedź", "date" }, { "closed_on", "Zamknięte", "date" },
      { "shared", "Przekazane dane" }, { "statutory", "Podstawa ustawowa" } } },
  services = { table = "service_delivery", sql = [[SELECT s.id, c.code AS case_code, i.name AS provider, s.service_type AS service,
      s.date, s.units, s.unit, s.cost, s.status FROM service_delivery s JOIN case_file c ON c.id = s.case_id
      JOIN institution i ON i.id = s.provider_id ORDER BY s.id]],
    columns = { { "id", "ID" }, { "case_code", "Kod sprawy" }, { "provider", "Realizator" }, { "service", "Usługa" },
      { "date", "Data", "date" }, { "units", "Liczba" }, { "unit", "Jednostka" }, { "cost", "Kwota [zł]", "money" },
      { "status", "Stan" } } },
  budget_lines = { table = "budget_line", sql = [[SELECT b.name AS budget, l.no, l.name, l.planned_gr AS planned, l.service_type,
      l.dzial, l.rozdzial, l.paragraf FROM budget_line l JOIN budget b ON b.id = l.budget_id ORDER BY b.name COLLATE PL, l.no]],
    columns = { { "budget", "Budżet" }, { "no", "Lp." }, { "name", "Nazwa" }, { "planned", "Plan [zł]", "money" },
      { "service_type", "Usługa" }, { "dzial", "Dział" }, { "rozdzial", "Rozdział" }, { "paragraf", "Paragraf" } } },
}
M.EXPORTS = EXPORTS

local IDENTIFIED_SQL = [[SELECT c.code, c.gmina_terc AS gmina, c.opened_on, c.status, m.relation, d.first_name, d.last_name, d.pesel,
    m.birth_date, m.sex FROM case_member m JOIN case_file c ON c.id = m.case_id
    LEFT JOIN case_member_identity d ON d.member_id = m.id ORDER BY c.opened_on, c.code, m.id]]
local IDENTIFIED_COLUMNS = { { "code", "Kod sprawy" }, { "gmina", "Gmina (TERC)" }, { "opened_on", "Otwarta", "date" },
  { "status", "Etap" }, { "relation", "Relacja" }, { "first_name", "Imię" }, { "last_name", "Nazwisko" }, { "pesel", "PESEL" },
  { "birth_date", "Data urodzenia", "date" }, { "sex", "Płeć" } }

function M.export_kinds()
  local out = {}
  for k in pairs(EXPORTS) do out[#out + 1] = (k:gsub("_", "-")) end
  table.sort(out)
  return out
end

-- Was --as given on the command line (before the command)?
local function as_given()
  local a = rawget(_G, "arg")
  if type(a) ~= "table" then return false end
  for i = -1, -64, -1 do
    local v = a[i]
    if v == nil then break end
    if v == "--as" or tostring(v):match("^%-%-as=") then return true end
  end
  return false
end
M.as_given = as_given

--- Export kind (see the top of this file); returns the number of rows.
function M.export(q)
  if not io then koop.raise{ code = "auth", message = "export writes a file: not with --safe" } end
  if type(q) ~= "table" then koop.raise{ code = "invalid", message = "exchange.export: expected {kind=, ...}" } end
  local name = (tostring(q.kind):gsub("-", "_"))
  local def = EXPORTS[name]
  if not def then
    koop.raise{ code = "usage", field = "kind", message = ("export: no kind '%s'; the kinds are: %s"):format(tostring(q.kind), concat(M.export_kinds(), ", ")) }
  end
  local format = q.format or (q.out and q.out:match("%.json$") and "json") or "csv"
  if format ~= "csv" and format ~= "json" then
    koop.raise{ code = "usage", field = "format", message = ("export: --format must be csv or json, not '%s'"):format(format) }
  end
  local dialect = csvout.dialect(q.csv)
  local db = entity.db()
  local sql, columns = def.sql, def.columns
  if q.identified then
    if name ~= "cases" then
      koop.raise{ code = "usage", message = "export: --identified is only for cases (the other exports hold no beneficiary's identity)" }
    end
    if not q.actor then
      koop.raise{ code = "usage", message = "export cases --identified writes names and PESEL numbers: say who answers for it with --as NAME" }
    end
    if db:readonly() then
      koop.raise{ code = "readonly", message = "export cases --identified is written to the audit log: open the database without --readonly" }
    end
    sql, columns = IDENTIFIED_SQL, IDENTIFIED_COLUMNS
  end
  if db:value("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", def.table) == nil then
    koop.raise{ code = "invalid", message = ("export: this database has no %s (its module is not installed)"):format(name) }
  end
  -- machines get the field names as headers, people Polish labels
  local keys, labels, formats = {}, {}, {}
  for i, c in ipairs(columns) do
    keys[i] = c[1]
    labels[c[1]] = (format == "csv" and dialect.name == "excel") and c[2] or c[1]
    formats[c[1]] = c[3]
  end
  local today = dates.today()
  local tmp, out, path
  local function open_out()
    if not q.out or q.out == "-" then return io.stdout end
    path = q.out
    tmp = ("%s.%d%04d.tmp"):format(path, os.time() % 100000, math.random(0, 9999))
    local f, err = io.open(tmp, "wb")
    if not f then koop.raise{ code = "io", message = ("cannot write %s: %s"):format(path, (tostring(err):gsub("^[^:]*%.tmp: ", ""))) } end
    return f
  end
  local count = 0
  local function write_all()
    out = open_out()
    if format == "csv" then
      local w = csvout.writer(out, { dialect = dialect, columns = keys, labels = labels, formats = formats, name = q.out or "stdout" })
      for r in db:rows(sql) do
        if def.row and not q.identified then r = def.row(r, today) end
        w:row(r)
        count = count + 1
      end
      w:close()
    else
      out:write("[")
      for r in db:rows(sql) do
        if def.row and not q.identified then r = def.row(r, today) end
        local o = {}
        for _, k in ipairs(keys) do
          local v = r[k]
          if formats[k] == "money" and math.type(v) == "integer" then v = koop.money.grosze(v):format{ dot = true } end
          o[k] = v == nil and null or v
        end
        out:write(count == 0 and "\n" or ",\n", json.encode(o))
        count = count + 1
      end
      out:write(count == 0 and "]\n" or "\n]\n")
    end
  end
  local ok, err = pcall(write_all)
  if out and out ~= io.stdout then
    local closed, cerr = out:close()
    if ok and not closed then ok, err = false, koop.error{ code = "io", message = ("cannot write %s: %s"):format(path, tostring(cerr)) } end
  end
  if not ok then
    if tmp then os.remove(tmp) end
    error(err, 0)
  end
  if tmp then
    local renamed, rerr = os.rename(tmp, path)
    if not renamed then
      os.remove(tmp)
      koop.raise{ code = "io", message = ("cannot write %s: %s"):format(path, (tostring(rerr):gsub("^[^:]*%.tmp: ", ""))) }
    end
  end
  if not db:readonly() then
    db:tx(function()
      audit.append(db, "export", name, nil, nil, json.encode{ kind = name, rows = count, format = format,
        csv = format == "csv" and dialect.name or null, identified = q.identified and true or false,
        to = q.out or "stdout" })
    end)
  end
  return count
end

-- }====================

-- {==================== commands ====================

local cli = require "koop.cli"

cli.command {
  name = "import", summary = "import institutions, people, cases, services or budget lines from CSV",
  usage = "koop [-d FILE] import KIND FILE [--dry-run] [--encoding utf-8|cp1250] [--sep ';'] [--ignore COL,...]",
  options = { ["--dry-run"] = "flag", ["--encoding"] = "string", ["--sep"] = "string", ["--ignore"] = "string" },
  text = [[
Reads a CSV file into the database through the same rules as the Lua API.
KIND is one of:
  institutions   name, kind; short, sector, level, gmina, regon, nip,
                 postal_code, city, address, phone, email, www, active, notes
  people         first_name, last_name, institution (id, REGON or name);
                 position, email, phone, active, notes
  cases          one row per member: case (a code like BOG-2019-001, or any
                 key that groups the rows of one case); opened_on,
                 source_institution, coordinator, reasons ("1, 4, 13"),
                 notes; first_name, last_name, pesel (or birth_date and
                 sex), relation
  services       case (id or code), provider (id, REGON or name), service
                 (code or name); date, units or hours, unit, cost ("36,00")
                 or cost_grosze, status, notes, budget_line
  budget-lines   budget (id or name), name, planned; service_type, dzial,
                 rozdzial, paragraf, notes
Headers may be Polish (Nazwa, Rodzaj, Kod pocztowy, Kwota [zł] ...); an id
column is ignored, --ignore a,b skips others. The separator (; , TAB), a
BOM and the encoding (UTF-8 or CP1250, Polish Excel's "CSV") are detected;
--encoding and --sep say them. Dates 2019-06-04 or 04.06.2019, numbers
1,25 or 1.25, amounts "56 340,00 zł", yes/no as tak/nie or 1/0.
All or nothing: every bad row is listed (line, column, reason) and then
nothing is imported. --dry-run checks everything and writes nothing. A
successful import is one row of the audit log. Services stream (a million
rows in constant memory) and are written in bulk: see the manual.]],
  run = function(opts, pos)
    local kind, file = pos[1], pos[2]
    if not kind then cli.usage_error("import: which kind? (%s)", concat(M.kinds(), ", ")) end
    if not kind_def(kind) then cli.usage_error("import: no kind '%s'; the kinds are: %s", kind, concat(M.kinds(), ", ")) end
    if not file then cli.usage_error("import %s: which file? (koop import %s FILE)", kind, kind) end
    if pos[3] then cli.usage_error("import: unexpected argument '%s'", pos[3]) end
    if opts.sep and (#opts.sep ~= 1 and opts.sep ~= "\\t" and opts.sep ~= "tab") then
      cli.usage_error("import: --sep is one character (; , or tab), not '%s'", opts.sep)
    end
    local sep = (opts.sep == "\\t" or opts.sep == "tab") and "\t" or opts.sep
    if opts.encoding then
      local e = opts.encoding:lower()
      if e ~= "utf-8" and e ~= "utf8" and e ~= "cp1250" and e ~= "windows-1250" then
        cli.usage_error("import: --encoding must be utf-8 or cp1250, not '%s'", opts.encoding)
      end
    end
    local ignore = {}
    for name in (opts.ignore or ""):gmatch("[^,]+") do ignore[#ignore + 1] = name end
    cli.open()
    local ok, res = pcall(M.import, { kind = kind, file = file, dry_run = opts["dry-run"], encoding = opts.encoding,
      sep = sep, ignore = ignore })
    if not ok then
      if koop.is_error(res) and res.errors then
        -- every bad row, not only the first ones
        io.stderr:write(failure_message(file, (tostring(kind):gsub("-", "_")), res.errors, res.rows or #res.errors, math.huge), "\n")
        return 1
      end
      error(res, 0)
    end
    local how = res.detected and " (read as CP1250, detected)" or ""
    if res.dry_run then
      print(("%s: %d row%s of %s valid%s; dry run, nothing written"):format(file, res.rows, res.rows == 1 and "" or "s",
        res.kind, how))
    else
      print(("%s: %d row%s of %s imported%s"):format(file, res.added, res.added == 1 and "" or "s", res.kind, how))
    end
    return 0
  end,
}

cli.command {
  name = "export", summary = "export data as CSV (Excel or RFC 4180) or JSON, pseudonymised",
  usage = "koop [--as NAME] [-d FILE] export KIND [--format csv|json] [-o FILE] [--csv excel|rfc4180] [--identified]",
  options = { ["--format"] = { "csv", "json" }, ["-o"] = "string", ["--output"] = "string", ["--csv"] = { "excel", "rfc4180" },
    ["--identified"] = "flag" },
  text = [[
Writes KIND to FILE (-o) or standard output. KIND is one of institutions,
people, resources, teams, meetings, tasks, cases, referrals, services,
budget-lines. CSV is for Polish Excel unless --csv rfc4180 (UTF-8 with
BOM, ';', CRLF, decimal comma, ISO dates, Polish headers); rfc4180 and
JSON use the field names as keys, '.' decimals, no BOM.
Pseudonymised: cases, referrals and services name a case by its code; a
case export gives its members' number and "K 30-44"-style sex and age
bands, never names, PESEL, birth dates or addresses.
  --identified   (cases only) one row per member with first and last name
                 and PESEL; needs --as NAME before the command (who answers
                 for the file) and a writable database
Every export is written to the audit log (kind, rows, format, file).]],
  run = function(opts, pos)
    local kind = pos[1]
    if not kind then cli.usage_error("export: which kind? (%s)", concat(M.export_kinds(), ", ")) end
    if not EXPORTS[(kind:gsub("-", "_"))] then
      cli.usage_error("export: no kind '%s'; the kinds are: %s", kind, concat(M.export_kinds(), ", "))
    end
    if pos[2] then cli.usage_error("export: unexpected argument '%s'", pos[2]) end
    if opts.o and opts.output then cli.usage_error("export: give -o or --output, not both") end
    if opts.identified and not as_given() then
      cli.usage_error("export cases --identified writes names and PESEL numbers: say who answers for it with --as NAME (koop --as NAME export ...)")
    end
    cli.open()
    local n = M.export{ kind = kind, format = opts.format, out = opts.o or opts.output, csv = opts.csv,
      identified = opts.identified, actor = opts.identified and koop.actor or nil }
    if opts.o or opts.output then
      print(("%s: %d row%s of %s exported"):format(opts.o or opts.output, n, n == 1 and "" or "s", kind))
    end
    return 0
  end,
}

-- }====================

return M
