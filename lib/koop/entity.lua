-- koop.entity — domain collections: Lua objects over SQLite tables, with
-- validation, the audit log and events in one place.
--
-- A module declares each collection once; its table (DDL) comes from the
-- module's own migration (schema.define), everything else from here:
--
--   local entity = require "koop.entity"
--   local people = entity.collection {
--     name    = "people",          -- global name; errors say "people.email: ..."
--     table   = "person",          -- SQL table
--     entity  = "person",          -- events "person.added"/"person.updated" (default: table)
--     label   = "Person",          -- objects print as Person#12 ...
--     key     = "id",              -- primary key; "id" (default) is an INTEGER
--                                  -- PRIMARY KEY given by SQLite; a field name
--                                  -- (e.g. "terc") makes that field the key
--     fields  = {                  -- in table order; see "Fields" below
--       { "first_name", "text", required = true },
--       { "institution", "ref", to = "institutions", required = true },
--       { "email", "text", check = "email" },
--       { "active", "bool", default = true },
--     },
--     display = { "id", "first_name", "last_name", "institution.name" },
--                                  -- columns of find()/all() tables
--     brief   = { "first_name", "last_name" },  -- after Label#id in tostring
--                                  -- (default: display without the key)
--     order   = "last_name",       -- default order (default: the key)
--     methods = { deactivate = function(self) return self:update{active = false} end },
--     props   = { full_name = function(self) ... end },   -- computed fields
--     validate = function(row, old, coll) ... end,
--                                  -- whole-row rules before a write: row has the
--                                  -- stored values by column (it may fill derived
--                                  -- fields), old is nil on add; raise with
--                                  -- coll.invalid(field, fmt, ...)
--     tostring = function(obj) ... end,   -- instead of Label#id brief...
--     deletable = false,           -- true gives objects :delete()
--   }
--
-- The collection:  add{...} -> object; get(id) -> object or nil;
--   find{field = value, ..., order =, limit =, offset =, where =, args =}
--   -> result set of objects (prints as a table of the display columns);
--   all(); count{...}; exists(id); check{...} -> the validated row (no write);
--   add_many{{...}, ...} -> all or none, without a savepoint per object;
--   invalid(field, fmt, ...) raises; fields/columns describe the table;
--   methods is the table of object methods (add more to it); mt is the
--   objects' metatable (getmetatable(x) == coll.mt tells one of them);
--   wrap(row) makes an object of a row read by the module's own SQL.
--   find values: a value (converted and checked like input), koop.null (IS
--   NULL) or a list of values (IN); order = "name" | "name desc" | {...}
--   (text sorts in Polish order); where = "SQL condition", args = {...}.
-- Objects: fields read naturally (p.first_name; a ref field gives the
--   object, p.institution, and its column the id, p.institution_id; a path
--   "institution.name" reads through refs); obj:update{...} (koop.null
--   clears a field), obj:reload(), obj:history() (its audit rows),
--   obj:totable(); tostring, ==, pairs and REPL completion work.  Objects are
--   read-only tables: assigning a field is an error.
--
-- Fields: { name, type, required=, default= (value or function(row)),
--   check=, derived= (set by validate, not by input), column= }.
--   text     trimmed; "" means no value; check = "nip" | "regon" | "terc" |
--            "pesel" | "postal" | "email" | "phone" | "www" | function(v) ->
--            normalised value, or nil and a message (entity.checks holds them)
--   integer  min=, max=     date  ISO YYYY-MM-DD (a real calendar date)
--   bool     true/false (0/1 accepted)
--   enum     choices = {...} (aliases = {other = "choice"}), or dict = "<collection>"
--            whose key lists the codes (gminas may add codes)
--   ref      to = "<collection>"; stored as its key in column <name>_id (or column=)
--   money    an amount: anything koop.money accepts (a koop.money value,
--            "150,00 zł", or a number of złoty, never more than two
--            decimals); stored as integer grosze.  positive= / nonnegative=
--            refuse the rest.  (A type is {check = fn(v, field, db), read = fn}.)
--
-- Every add/update/delete runs in db:tx: the row, its audit-log row and the
-- event handlers (koop.on) commit together or not at all.  A validation
-- failure raises an error object {code = "invalid", field = "people.email",
-- message = "people.email: ... (got 'x')"} before anything is written.
-- The SQL of each collection is built once, so the connection's statement
-- cache serves every call.
local koop = require "koop"
local schema = require "koop.schema"
local audit = require "koop.audit"
local events = require "koop.events"
local json = require "koop.json"
local dates = require "koop.dates"

local M = { registry = {}, types = {}, checks = {} }
local null = koop.null
local concat, unpack = table.concat, table.unpack
local encode = json.encode
local listeners = events.handlers

-- The private key under which an object keeps its row.
local ROW = {}

-- {==================== errors ====================

-- A value as a message shows it.
local function show(v)
  if type(v) == "string" then
    if #v > 60 then v = v:sub(1, 57) .. "..." end
    return "'" .. v .. "'"
  end
  if type(v) == "table" and getmetatable(v) and getmetatable(v).__tostring then return tostring(v) end
  return type(v) == "table" and "a table" or tostring(v)
end
M.show = show

--- Raise an "invalid" error about field `field` of collection `cname`.
function M.invalid(cname, field, fmt, ...)
  local name = cname .. "." .. field
  koop.raise{ code = "invalid", field = name, message = name .. ": " .. fmt:format(...) }
end
local invalid = M.invalid

-- }====================

-- {==================== connection ====================

local ensured = setmetatable({}, { __mode = "k" })

--- The domain's connection (koop.db), migrated to the whole schema.
local function conn()
  local db = koop.db
  if db ~= nil and ensured[db] then return db end
  db = schema.db()
  ensured[db] = true
  return db
end
M.db = conn

-- Per-connection caches: M.cache(db, name) is a table that lives as long
-- as the connection (codes and keys known to exist, settings).  Only facts
-- that cannot become false belong there: rows of a collection without
-- delete, once seen, stay.
local caches = setmetatable({}, { __mode = "k" })
local function cache(db, name)
  local c = caches[db]
  if not c then c = {}; caches[db] = c end
  local t = c[name]
  if not t then t = {}; c[name] = t end
  return t
end
M.cache = cache

-- }====================

-- {==================== checks ====================

-- A koop.ids check as an entity check (normalised value, or nil, message).
local function ids_check(kind)
  return function(v)
    local info, msg = koop.ids[kind](v)
    if info then return info.value end
    return nil, msg
  end
end
M.checks.nip = ids_check("nip")
M.checks.regon = ids_check("regon")
M.checks.terc = ids_check("terc")
M.checks.pesel = ids_check("pesel")

function M.checks.postal(v)
  local a, b = v:match("^(%d%d)%-?(%d%d%d)$")
  if not a then return nil, "a postal code is NN-NNN" end
  if a == "00" and b == "000" then return nil, "all-zero postal code is not valid" end
  return a .. "-" .. b
end

function M.checks.email(v)
  if v:match("^[^%s@]+@[^%s@]+%.[^%s@%.]+$") then return v end
  return nil, "not an e-mail address (name@domain)"
end

function M.checks.phone(v)
  if not v:match("^%+?[%d%s%-%(%)/]+$") then
    return nil, "a phone number may contain only digits, spaces, - ( ) / and a leading +"
  end
  local digits = #v:gsub("%D", "")
  if digits < 9 or digits > 15 then return nil, "a phone number has 9 to 15 digits" end
  return v
end

function M.checks.www(v)
  if v:match("^[%w%-]+%.[%w%-%.]+[^%s]*$") or v:match("^https?://[%w%-]+%.[^%s]+$") then return v end
  return nil, "not a web address (e.g. www.bogoria.pl)"
end

-- }====================

-- {==================== types ====================

local function typename(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  return type(v)
end

local byte, utf8_len = string.byte, utf8.len
local math_type, tointeger = math.type, math.tointeger

M.types.text = {
  collate = " COLLATE PL",
  check = function(v, f)
    if type(v) ~= "string" then return nil, "expected text, got " .. typename(v) end
    local first, last = byte(v, 1, 1), byte(v, -1)
    if not first then return null end
    if first <= 32 or last <= 32 then          -- blanks around it (or controls)
      v = v:match("^%s*(.*%S)") or ""
      if v == "" then return null end
    end
    if not utf8_len(v) then return nil, "not valid UTF-8 text" end
    if f.check then
      local normal, msg = f.check(v)
      if normal == nil then return nil, msg end
      v = normal
    end
    return v
  end,
}

M.types.integer = {
  check = function(v, f)
    local n = math.type(v) == "integer" and v
      or (type(v) == "number" or type(v) == "string") and math.tointeger(tonumber(v))
    if not n then return nil, "expected a whole number, got " .. typename(v) end
    if f.min and n < f.min then return nil, ("must be at least %d"):format(f.min) end
    if f.max and n > f.max then return nil, ("must be at most %d"):format(f.max) end
    return n
  end,
}

M.types.date = {
  check = function(v)
    if type(v) ~= "string" then return nil, "expected a date YYYY-MM-DD, got " .. typename(v) end
    if not dates.parse(v) then
      return nil, v:match("^%d%d%d%d%-%d%d%-%d%d$") and "not a real calendar date" or "not a date YYYY-MM-DD"
    end
    return v
  end,
}

M.types.bool = {
  check = function(v)
    if type(v) == "boolean" then return v end
    if v == 0 or v == 1 then return v == 1 end
    return nil, "expected true or false, got " .. typename(v)
  end,
  read = function(v) if type(v) == "boolean" then return v end return v ~= 0 end,
}

-- The grosze of an amount v (anything koop.money accepts), or nil and why
-- not: the one reading of amounts that every money field shares.
function M.to_grosze(v)
  local money = koop.money
  if money.is(v) then return v:grosze() end
  local t = type(v)
  if t == "string" then
    local m, why = money.parse(v)
    if m then return m:grosze() end
    return nil, why:match('^.*" (%l.*)$') or why
  elseif t == "number" then
    local ok, m = pcall(money, v)
    if ok then return m:grosze() end
    local msg = koop.is_error(m) and m.message or tostring(m)
    return nil, msg:match("^amount: %S+ (.*)$") or msg
  end
  return nil, ('expected an amount ("10 800,00 zł", a number of złoty or koop.money(...)), got %s'):format(typename(v))
end

M.types.money = {
  check = function(v, f)
    local g, why = M.to_grosze(v)
    if not g then return nil, why end
    if f.positive and g <= 0 then return nil, "must be more than " .. tostring(koop.money.grosze(0)) end
    if f.nonnegative and g < 0 then return nil, "must not be negative" end
    return g
  end,
}

-- Lower-case text for forgiving matches of codes ("pcpr" for "PCPR").
local function fold(s) return koop.text and koop.text.lower(s) or s:lower() end

local collection_named   -- defined below

M.types.enum = {
  check = function(v, f, db)
    if type(v) ~= "string" then return nil, "expected text, got " .. typename(v) end
    if f.choice_set then
      if f.choice_set[v] then return v end
      local alias = f.aliases and f.aliases[v]
      if alias then return alias end
      for _, c in ipairs(f.choices) do
        if fold(c) == fold(v) then return c end
      end
      return nil, ("unknown %s; known: %s"):format(f.what or f.name, concat(f.choices, ", "))
    end
    local known = cache(db, f.dict)
    if known[v] then return v end
    local dict = collection_named(f.dict)
    if dict.exists(v) then known[v] = true; return v end
    local codes = {}
    for code in db:urows(dict.codes_sql) do
      if fold(code) == fold(v) then return code end
      codes[#codes + 1] = code
    end
    return nil, ("unknown %s; known: %s"):format(f.what or f.name, concat(codes, ", "))
  end,
}

M.types.ref = {
  check = function(v, f, db)
    local target = f.target
    if not target then target = collection_named(f.to); f.target = target end
    local mt = getmetatable(v)
    if mt == target.mt then return v[ROW][target.key] end      -- an object: its row is a raw field
    if type(mt) == "table" and mt.__collection then
      return nil, ("expected %s %s, got %s"):format(target.article, target.label, tostring(v))
    end
    local id = v
    if target.auto_key then
      if math_type(v) ~= "integer" then
        id = (type(v) == "number" or type(v) == "string") and tointeger(tonumber(v))
        if not id then return nil, ("expected %s %s or its id, got %s"):format(target.article, target.label, typename(v)) end
      end
    elseif type(v) ~= "string" then
      return nil, ("expected %s %s or its %s, got %s"):format(target.article, target.label, target.key, typename(v))
    end
    local known = not target.deletable and cache(db, target.name)
    if known and known[id] then return id end
    if not target.exists(id) then return nil, ("no %s with %s %s"):format(target.label, target.key, tostring(id)) end
    if known then known[id] = true end
    return id
  end,
}

-- }====================

-- The collection called `name`, loading its module through koop.domain.
collection_named = function(name)
  local c = M.registry[name]
  if c then return c end
  require("koop.domain").load(name)
  c = M.registry[name]
  if not c then error("no collection named '" .. tostring(name) .. "'", 3) end
  return c
end
M.collection_named = collection_named

-- Functions made once per collection from its columns, so that a write
-- runs no loop over the fields: new_row() -> an empty row table with room
-- for the columns in `room` (those that always get a value: a bigger table
-- would cost memory and collector time for as long as its object lives),
-- and insert(db, row) -> db:exec(insert_sql, row.c1, row.c2, ...).
local function generate(name, room, insert_cols, insert_sql)
  local slots, args = {}, {}
  for i, c in ipairs(room) do slots[i] = ("[%q] = nil"):format(c) end
  for i, c in ipairs(insert_cols) do args[i] = ("row[%q]"):format(c) end
  local src = ("local sql = ...\n"
    .. "return function() return { %s } end,\n"
    .. "  function(db, row) return db:exec(sql, %s) end"):format(concat(slots, ", "), concat(args, ", "))
  return assert(load(src, "=[koop]/entity " .. name, "t"))(insert_sql)
end

--- Define a collection (see the top of this file).
function M.collection(spec)
  local name, tname = assert(spec.name, "collection needs a name"), assert(spec.table, "collection needs a table")
  assert(not M.registry[name], "collection defined twice: " .. name)
  local label = spec.label or name
  local entity_name = spec.entity or tname
  local key = spec.key or "id"
  local auto_key = key == "id"
  local C = { name = name, table = tname, label = label, key = key, auto_key = auto_key,
    deletable = spec.deletable or false,
    article = label:match("^[AEIOUaeiou]") and "an" or "a" }
  local fields, byname, bycolumn, columns = {}, {}, {}, {}
  local readers = {}          -- columns whose stored value is converted on read

  if auto_key then
    local f = { name = "id", type = "integer", column = "id", auto = true }
    fields[1], byname.id, bycolumn.id, columns[1] = f, f, f, "id"
  end
  for _, f in ipairs(spec.fields) do
    f.name, f.type = f.name or f[1], f.type or f[2]
    assert(M.types[f.type], ("%s.%s: unknown type %s"):format(name, tostring(f.name), tostring(f.type)))
    f.column = f.column or (f.type == "ref" and f.name .. "_id" or f.name)
    if type(f.check) == "string" then
      f.check = assert(M.checks[f.check], ("%s.%s: unknown check %s"):format(name, f.name, f.check))
    end
    if f.type == "enum" then
      assert(f.choices or f.dict, name .. "." .. f.name .. ": enum needs choices or dict")
      if f.choices then
        f.choice_set = {}
        for _, c in ipairs(f.choices) do f.choice_set[c] = true end
      end
    end
    if f.type == "ref" then assert(f.to, name .. "." .. f.name .. ": ref needs to=") end
    if f.name == key then f.key = true end
    if M.types[f.type].read then readers[#readers + 1] = f end
    fields[#fields + 1] = f
    byname[f.name], bycolumn[f.column] = f, f
    columns[#columns + 1] = f.column
  end
  assert(bycolumn[key], name .. ": key " .. key .. " is not a field")
  C.fields, C.columns = fields, columns

  local input_names = {}
  for _, f in ipairs(fields) do
    if not f.auto and not f.derived then input_names[#input_names + 1] = f.name end
  end
  local input_list = concat(input_names, ", ")

  local function fail(field, fmt, ...) invalid(name, field, fmt, ...) end
  C.invalid = fail

  -- {---- SQL, built once ----
  local collist = concat(columns, ", ")
  local insert_cols = {}
  for _, c in ipairs(columns) do
    if not (auto_key and c == "id") then insert_cols[#insert_cols + 1] = c end
  end
  local ninsert = #insert_cols
  local insert_sql = ("INSERT INTO %s (%s) VALUES (%s)"):format(tname, concat(insert_cols, ", "),
    ("?, "):rep(ninsert):sub(1, -3))
  local get_sql = ("SELECT %s FROM %s WHERE %s = ?"):format(collist, tname, key)
  local exists_sql = ("SELECT 1 FROM %s WHERE %s = ?"):format(tname, key)
  local delete_sql = ("DELETE FROM %s WHERE %s = ?"):format(tname, key)
  C.codes_sql = ("SELECT %s FROM %s ORDER BY %s"):format(key, tname, key)
  local update_sql = {}       -- "col1,col2" -> SQL
  local room, optional = {}, nil    -- the columns that always get a value, and one more
  for _, f in ipairs(fields) do
    if f.auto or f.key or f.required or f.default ~= nil or f.derived then
      room[#room + 1] = f.column
    elseif not optional then
      optional = f.column
    end
  end
  room[#room + 1] = optional
  local new_row, insert = generate(name, room, insert_cols, insert_sql)
  -- }----

  -- {---- objects ----
  local methods, props, refs = {}, spec.props or {}, {}
  for _, f in ipairs(fields) do
    if f.type == "ref" and f.name ~= f.column then refs[f.name] = f end
  end
  local mt = { __name = label, __collection = C }
  C.mt = mt

  -- An object for a row read from the database (values converted) or
  -- just written (`fresh`: its values are Lua values already).
  local function wrap(row, fresh)
    if not fresh then
      for i = 1, #readers do
        local c = readers[i].column
        local v = row[c]
        if v ~= nil then row[c] = M.types[readers[i].type].read(v) end
      end
    end
    return setmetatable({ [ROW] = row }, mt)
  end
  C.wrap = wrap

  -- The names TAB completes after `obj.` or `obj:`: fields in the array
  -- part, methods as name = "function" (they may be added to C.methods
  -- after the collection is made, so they are read each time).
  local function completions()
    local names = { table.unpack(columns) }
    for n in pairs(refs) do names[#names + 1] = n end
    for n in pairs(props) do names[#names + 1] = n end
    if not auto_key then names[#names + 1] = "id" end
    table.sort(names)
    for n in pairs(methods) do names[n] = "function" end
    return names
  end

  -- Read through a ref path "institution.name".
  local function path(o, k)
    local head, rest = k:match("^([^%.]+)%.(.+)$")
    if not (head and refs[head]) then return nil, false end
    local target = o[head]
    if target == nil then return nil, true end
    return target[rest], true
  end

  mt.__index = function(o, k)
    local row = rawget(o, ROW)
    local v = row[k]
    if v ~= nil then return v end
    local m = methods[k]
    if m then return m end
    local r = refs[k]
    if r then
      local id = row[r.column]
      if id == nil then return nil end
      return collection_named(r.to).get(id)
    end
    local p = props[k]
    if p then return p(o) end
    if bycolumn[k] then return nil end
    if k == "id" then return row[key] end
    if type(k) == "string" then
      local pv, found = path(o, k)
      if found then return pv end
    end
    koop.raise{ code = "invalid", field = name .. "." .. tostring(k),
      message = ("%s has no field or method '%s' (fields: %s)"):format(label, tostring(k), concat(columns, ", ")) }
  end

  mt.__newindex = function(o, k)
    koop.raise{ code = "misuse", field = name .. "." .. tostring(k),
      message = ("%s fields are read-only here: use obj:update{%s = ...}"):format(label, tostring(k)) }
  end

  mt.__eq = function(a, b)
    return getmetatable(a) == getmetatable(b) and rawget(a, ROW)[key] == rawget(b, ROW)[key]
  end

  mt.__pairs = function(o)
    local row, i = rawget(o, ROW), 0
    return function()
      while i < #columns do
        i = i + 1
        local c = columns[i]
        if row[c] ~= nil then return c, row[c] end
      end
    end, o, nil
  end

  mt.__autocomplete = completions

  mt.__tojson = function(o)
    local copy = {}
    for k, v in pairs(rawget(o, ROW)) do copy[k] = v end
    return copy
  end

  local brief = spec.brief
  if not brief then
    brief = {}
    for _, c in ipairs(spec.display or {}) do
      if c ~= key and c ~= "id" then brief[#brief + 1] = c end
    end
  end
  mt.__tostring = spec.tostring or function(o)
    local parts = { label .. "#" .. tostring(rawget(o, ROW)[key]) }
    for _, c in ipairs(brief) do
      local v = o[c]
      if v ~= nil then
        local f = bycolumn[c] or byname[c]
        if type(v) == "string" and (not f or f.type == "text") then
          parts[#parts + 1] = '"' .. v .. '"'
        elseif type(v) ~= "boolean" then
          parts[#parts + 1] = tostring(v)
        end
      end
    end
    return concat(parts, " ")
  end

  local display = spec.display or columns
  C.display = display
  -- }----

  -- {---- validation ----
  -- The stored value of input v for field f (raises when invalid).
  local function convert(f, v, db)
    local stored, msg = M.types[f.type].check(v, f, db)
    if stored == nil then fail(f.name, "%s (got %s)", msg, show(v)) end
    if stored == null then return nil end
    return stored
  end

  local types, validate = M.types, spec.validate

  -- Fields that get a default or must have a value.
  local completing = {}
  for _, f in ipairs(fields) do
    if not f.auto and not f.derived and (f.default ~= nil or f.required) then
      completing[#completing + 1] = f
      f.default_fn = type(f.default) == "function"
    end
  end

  -- Ref fields readable under two names (institution, institution_id).
  local aliased = {}
  for _, f in ipairs(fields) do
    if f.name ~= f.column then aliased[#aliased + 1] = f end
  end

  -- Raise the error for input key k (field f or nil) that cannot be given.
  local function refuse(k, f, old)
    if not f then fail(tostring(k), "no such field (fields: %s)", input_list) end
    if f.derived then fail(f.name, "is derived from other fields and cannot be set") end
    fail(f.name, "%s cannot be %s", f.name, old and "changed" or "given")
  end

  -- The fields input may set, under each name it may use (a ref field's
  -- name and its column): one lookup finds the field or a key to refuse.
  local givable = {}
  for _, f in ipairs(fields) do givable[f.column] = f end
  for _, f in ipairs(fields) do givable[f.name] = f end    -- a name before a column
  for k, f in pairs(givable) do
    if f.auto or f.derived then givable[k] = nil end
  end

  -- The validated row of input (on top of old for an update).
  local function build(input, old, db)
    if type(input) ~= "table" or getmetatable(input) then
      koop.raise{ code = "invalid", field = name, message = ("%s: expected a table of fields {%s}, got %s")
        :format(name, input_list, typename(input)) }
    end
    local row = new_row()
    if old then for k, v in next, old do row[k] = v end end
    for k, v in next, input do
      local f = givable[k]
      if not f or old and f.key then refuse(k, byname[k] or bycolumn[k], old) end
      if v == null then
        row[f.column] = nil
      else
        local stored, msg = types[f.type].check(v, f, db)
        if stored == nil then fail(f.name, "%s (got %s)", msg, show(v)) end
        if stored == null then stored = nil end
        row[f.column] = stored
      end
    end
    for i = 1, #aliased do
      local f = aliased[i]
      if input[f.name] ~= nil and input[f.column] ~= nil then
        fail(f.name, "given twice (as %s and %s)", f.name, f.column)
      end
    end
    for i = 1, #completing do
      local f = completing[i]
      if row[f.column] == nil then
        if not old then
          local d = f.default
          if f.default_fn then
            d = d(row, C)
            if d ~= nil then row[f.column] = convert(f, d, db) end
          elseif d ~= nil then       -- a constant: checked once
            local stored = f.default_stored
            if stored == nil then
              stored = convert(f, d, db)
              if f.type ~= "enum" and f.type ~= "ref" then f.default_stored = stored end
            end
            row[f.column] = stored
          end
        end
        if row[f.column] == nil and f.required then
          fail(f.name, old and "is required and cannot be cleared" or "is required")
        end
      end
    end
    if validate then validate(row, old, C) end
    return row
  end

  -- Turn a constraint error of a write into an "invalid" error naming the
  -- field where SQLite says which one it is.
  local function explain(err, row)
    if not (koop.is_error(err) and err.code == "constraint") then return err end
    local msg = err.message or ""
    local col = msg:match("UNIQUE constraint failed: [%w_]+%.([%w_]+)")
    local f = col and bycolumn[col]
    if f then
      local other = C.find{ [f.column] = row[f.column], limit = 1 }[1]
      return koop.error{ code = "invalid", field = name .. "." .. f.name,
        message = ("%s.%s: %s is already used by %s"):format(name, f.name, show(row[f.column]), tostring(other or "another row")) }
    end
    col = msg:match("NOT NULL constraint failed: [%w_]+%.([%w_]+)")
    f = col and bycolumn[col]
    if f then
      return koop.error{ code = "invalid", field = name .. "." .. f.name, message = name .. "." .. f.name .. ": is required" }
    end
    if msg:find("FOREIGN KEY constraint failed", 1, true) then
      if row then        -- a cached key that a rollback took away: say which
        for _, rf in ipairs(fields) do
          local v, target = row[rf.column], rf.type == "ref" and collection_named(rf.to)
          if target and v ~= nil and not target.exists(v) then
            cache(conn(), target.name)[v] = nil
            return koop.error{ code = "invalid", field = name .. "." .. rf.name,
              message = ("%s.%s: no %s with %s %s"):format(name, rf.name, target.label, target.key, tostring(v)) }
          end
        end
      end
      return koop.error{ code = "invalid", field = name, message = name .. ": " ..
        (row and "a referenced object does not exist" or "other data still refers to this " .. label) }
    end
    return err
  end

  --- The validated stored row for input, without writing anything.
  function C.check(input) return build(input, nil, conn()) end
  -- }----

  -- {---- writes ----
  local added, updated, deleted = entity_name .. ".added", entity_name .. ".updated", entity_name .. ".deleted"

  local function do_add(db, row)
    insert(db, row)
    if auto_key then row.id = db:last_insert_id() end
    audit.append(db, "add", name, row[key], nil, encode(row))
    local obj = setmetatable({ [ROW] = row }, mt)      -- wrap(row, true)
    if listeners[added] then events.emit(added, obj) end
    return obj
  end

  --- Add a new object; returns it.
  function C.add(input)
    local db = conn()
    local row = build(input, nil, db)
    local ok, res = pcall(db.tx, db, do_add, db, row)
    if not ok then error(explain(res, row), 0) end
    return res
  end

  -- Validate and add one input of add_many (inside its transaction).
  local function add_one(db, input)
    local row = build(input, nil, db)
    local ok, res = pcall(do_add, db, row)
    if not ok then error(explain(res, row), 0) end
    return res
  end

  local function add_all(db, list)
    local out = {}
    for i = 1, #list do
      local ok, res = pcall(add_one, db, list[i])
      if not ok then
        if koop.is_error(res) then res.message = ("%s.add_many: item %d: %s"):format(name, i, res.message) end
        error(res, 0)
      end
      out[i] = res
    end
    return koop.resultset(out, display)
  end

  --- Add every input of a list, all or none, in one transaction (or
  --- savepoint) without one savepoint per object: the fast way to load
  --- data.  Returns the objects as a result set; an error names the item.
  function C.add_many(list)
    if type(list) ~= "table" or getmetatable(list) then
      koop.raise{ code = "invalid", field = name, message = ("%s.add_many: expected a list of tables of fields, got %s"):format(name, typename(list)) }
    end
    local db = conn()
    return db:tx(add_all, db, list)
  end

  local function do_update(db, o, row, changed)
    local sql_key = concat(changed, ",")
    local sql = update_sql[sql_key]
    if not sql then
      sql = ("UPDATE %s SET %s = ? WHERE %s = ?"):format(tname, concat(changed, " = ?, "), key)
      update_sql[sql_key] = sql
    end
    local vals, n = {}, #changed
    for i = 1, n do vals[i] = row[changed[i]] end
    vals[n + 1] = row[key]
    db:exec(sql, unpack(vals, 1, n + 1))
    local old = rawget(o, ROW)
    local before, after = {}, {}
    for i = 1, n do
      local c = changed[i]
      local b, a = old[c], row[c]
      if b == nil then b = null end
      if a == nil then a = null end
      before[c], after[c] = b, a
    end
    audit.append(db, "update", name, row[key], encode(before), encode(after))
    rawset(o, ROW, row)          -- handlers see the new values
    if listeners[updated] then
      local changes = {}
      for _, c in ipairs(changed) do changes[c] = { old[c], row[c] } end
      events.emit(updated, o, { changes = changes })
    end
    return o
  end

  function methods.update(o, input)
    local db = conn()
    local mine, row = rawget(o, ROW), nil
    -- Inside the write transaction, judge the change against the row as
    -- it is now: o may be stale (another process changed the row since o
    -- was read), and against stale values a change could be skipped as
    -- "no change" (a lost update) or audited with wrong before values.
    local function work()
      local now = db:first(get_sql, mine[key])
      if not now then koop.raise{ code = "notfound", message = tostring(o) .. " no longer exists" } end
      local old = rawget(wrap(now), ROW)
      rawset(o, ROW, old)
      row = build(input, old, db)
      local changed = {}
      for _, c in ipairs(columns) do
        if row[c] ~= old[c] then changed[#changed + 1] = c end
      end
      if #changed == 0 then return o end
      return do_update(db, o, row, changed)
    end
    local ok, res = pcall(db.tx, db, work)
    if not ok then rawset(o, ROW, mine); error(explain(res, row or mine), 0) end
    return res
  end

  --- Read the object again from the database (after changes elsewhere).
  function methods.reload(o)
    local fresh = C.get(rawget(o, ROW)[key])
    if not fresh then
      koop.raise{ code = "notfound", message = tostring(o) .. " no longer exists" }
    end
    rawset(o, ROW, rawget(fresh, ROW))
    return o
  end

  --- The audit-log rows of this object.
  function methods.history(o)
    return audit.log{ entity = name, id = rawget(o, ROW)[key] }
  end

  --- A plain table of the stored values, by column.
  function methods.totable(o)
    return mt.__tojson(o)
  end

  if spec.deletable then
    local function do_delete(db, o)
      local row = rawget(o, ROW)
      db:exec(delete_sql, row[key])
      audit.append(db, "delete", name, row[key], encode(row), nil)
      if listeners[deleted] then events.emit(deleted, o) end
    end
    function methods.delete(o)
      local db = conn()
      local ok, err = pcall(db.tx, db, do_delete, db, o)
      if not ok then error(explain(err, nil), 0) end
    end
  end

  for k, fn in pairs(spec.methods or {}) do
    assert(not bycolumn[k] and not byname[k], name .. ": method " .. k .. " has the name of a field")
    methods[k] = fn
  end
  C.methods = methods
  -- }----

  -- {---- reads ----
  local function key_value(id)
    if auto_key then return math.tointeger(tonumber(id)) end
    return id
  end

  --- The object with this key, or nil.
  function C.get(id)
    if id == nil then return nil end
    local v = key_value(id)
    if v == nil then return nil end
    local row = conn():first(get_sql, v)
    return row and wrap(row) or nil
  end

  --- Is there an object with this key?
  function C.exists(id)
    local v = key_value(id)
    return v ~= nil and conn():value(exists_sql, v) ~= nil
  end

  -- ORDER BY text for an order option.
  local function order_by(order)
    local terms = type(order) == "table" and order or { order }
    local out = {}
    for _, t in ipairs(terms) do
      if type(t) ~= "string" then fail("order", "expected a field name, got %s", typename(t)) end
      local col, dir = t:match("^%s*([%w_]+)%s*(%a*)%s*$")
      local f = col and (bycolumn[col] or byname[col])
      if not f then fail(tostring(col or t), "cannot order by it: no such field (fields: %s)", concat(columns, ", ")) end
      dir = dir:lower()
      if dir ~= "" and dir ~= "asc" and dir ~= "desc" then fail("order", "direction must be asc or desc, got %s", show(dir)) end
      out[#out + 1] = f.column .. (M.types[f.type].collate or "") .. (dir == "desc" and " DESC" or "")
    end
    out[#out + 1] = key        -- ties broken by the key: the order is always the same
    return concat(out, ", ")
  end
  local default_order = order_by(spec.order or key)

  local options = { order = true, limit = true, offset = true, where = true, args = true }

  -- SELECT `what` with the conditions of query q; returns sql, args.
  local function select_sql(what, q, ordered)
    q = q or {}
    if type(q) ~= "table" or getmetatable(q) then
      koop.raise{ code = "invalid", field = name, message = ("%s.find: expected a table of conditions, got %s"):format(name, typename(q)) }
    end
    local db = conn()
    local names = {}
    for k in pairs(q) do
      if not options[k] then
        if type(k) ~= "string" or not (byname[k] or bycolumn[k]) then
          fail(tostring(k), "no such field (fields: %s)", concat(columns, ", "))
        end
        names[#names + 1] = k
      end
    end
    table.sort(names)
    local where, args = {}, {}
    for _, k in ipairs(names) do
      local f = byname[k] or bycolumn[k]
      local v = q[k]
      if v == null then
        where[#where + 1] = f.column .. " IS NULL"
      elseif type(v) == "table" and not getmetatable(v) then
        local marks = {}
        for i, item in ipairs(v) do
          marks[i] = "?"
          args[#args + 1] = f.auto and key_value(item) or convert(f, item, db)
        end
        where[#where + 1] = #marks == 0 and "0" or f.column .. " IN (" .. concat(marks, ", ") .. ")"
      else
        where[#where + 1] = f.column .. " = ?"
        args[#args + 1] = f.auto and (key_value(v) or -1) or convert(f, v, db)
      end
    end
    if q.where ~= nil then
      if type(q.where) ~= "string" then fail("where", "expected an SQL condition (text), got %s", typename(q.where)) end
      where[#where + 1] = "(" .. q.where .. ")"
      for _, a in ipairs(q.args or {}) do args[#args + 1] = a end
    end
    local sql = "SELECT " .. what .. " FROM " .. tname
    if #where > 0 then sql = sql .. " WHERE " .. concat(where, " AND ") end
    if ordered then
      sql = sql .. " ORDER BY " .. (q.order ~= nil and order_by(q.order) or default_order)
      if q.limit ~= nil or q.offset ~= nil then
        for _, o in ipairs{ "limit", "offset" } do
          local n = q[o]
          if n ~= nil and (math.type(n) ~= "integer" or n < 0) then
            fail(o, "expected a whole number of rows, got %s", show(n))
          end
        end
        sql = sql .. " LIMIT ? OFFSET ?"
        args[#args + 1] = q.limit or -1
        args[#args + 1] = q.offset or 0
      end
    end
    return sql, args
  end

  --- Objects matching the conditions, as a result set.
  function C.find(q)
    local sql, args = select_sql(collist, q, true)
    local rows = conn():query(sql, unpack(args))
    for i = 1, #rows do rows[i] = wrap(rows[i]) end
    rows.columns = display
    return rows
  end

  --- Every object, in the default order.
  function C.all() return C.find() end

  --- The number of objects matching the conditions.
  function C.count(q)
    local sql, args = select_sql("count(*)", q, false)
    return conn():value(sql, unpack(args))
  end
  -- }----

  setmetatable(C, {
    __name = "Collection",
    __tostring = function()
      local fns = {}
      for k, v in pairs(C) do if type(v) == "function" and k ~= "wrap" and k ~= "invalid" then fns[#fns + 1] = k end end
      table.sort(fns)
      return ("%s: collection of %s (%s)"):format(name, label, concat(fns, ", "))
    end,
    __index = function(_, k)
      koop.raise{ code = "invalid", field = name .. "." .. tostring(k),
        message = ("%s has no function or field '%s'"):format(name, tostring(k)) }
    end,
  })

  M.registry[name] = C
  audit.aliases[entity_name] = name
  return C
end

require("koop.cli").topic {
  name = "collections", summary = "what every domain collection and object can do",
  text = [[
The domain globals (gminas, institutions, people, resources, agreements,
teams, meetings, tasks, cases, ...) are collections, loaded on first use:
  c.add{field = value, ...}       a new object (validated; audited)
  c.add_many{{...}, {...}}        many at once, all or none; fast for loading
  c.get(id)                       the object, or nil
  c.find{field = value, ..., order = "name desc", limit = 10, offset = 0}
                                  matching objects as a table; a value may be
                                  koop.null (no value) or a list {a, b} (any);
                                  where = "SQL condition", args = {...}
  c.all()   c.count{...}   c.exists(id)   c.check{...} (validate only)
Objects print as one line and read naturally:
  i = institutions.find{kind = 'PCPR'}[1]
  i.name   i.gmina (the object)   i.gmina_terc (its code)   i["gmina.name"]
  i:update{phone = "15 867 40 00", notes = koop.null}    only changed fields
  i:history()    its rows of the audit log        i:reload()   i:totable()
Every change runs in one transaction with its audit-log row (who: --as; when;
before and after) and the handlers of koop.on("<entity>.added" | ".updated",
function(obj, event) ... end), e.g. "institution.added"; an error anywhere
undoes the whole change. A refused value raises an error object with code
"invalid", field "collection.field" and a message saying what is wrong:
  institutions.nip: NIP checksum digit is 7, expected 8 (got '1234563217')]],
}

--- Check that row[to] is not before row[from] (both optional dates).
function M.period(coll, row, from, to)
  local a, b = row[from], row[to]
  if a and b and b < a then
    coll.invalid(to, "%s %s is before %s %s", to, b, from, a)
  end
end

return M
