-- koop.audit — the audit log: who (--as) changed what, when, from what to
-- what.  Every add, update and delete through the domain API, every import
-- and every read of restricted data writes one row, in the transaction of
-- the change itself, so a change and its record commit or vanish together.
--
-- The log is append-only (triggers refuse UPDATE and DELETE) and
-- hash-chained: each row stores the previous row's hash and
--   hash = koop.sha256_fields(prev_hash, seq, ts, actor, action, entity,
--                             entity_id, before_json, after_json)
-- (each field written as LENGTH:TEXT, absent ones as "-", joined by "|"),
-- so no two different rows hash the same text.  seq comes from AUTOINCREMENT's
-- counter, never reused, so a deleted last row leaves a visible gap.
-- audit.verify() walks the chain and says what was modified, deleted or
-- inserted, and where.
--
-- Seals: the data itself.  A chain alone does not notice a domain row
-- edited with the sqlite3 shell, so every table the migrations create is
-- sealed (migration 100 and schema.after_migrate): koop_seal holds its row
-- count and an order-independent digest, the sum mod 2^64 of a 64-bit
-- hash of each row's canonical encoding (src/seal.c), and three AFTER
-- triggers per table keep both in the transaction of every write.  Why
-- triggers: they cover every write path at once (the entity framework,
-- fast paths, imports, koop's own SQL, SQLite's cascades) and a savepoint
-- or transaction rolled back takes its seal changes with it, which deltas
-- kept in C could not follow; the price is one indexed UPDATE of a tiny
-- table per written row (measured: see the README's SECURITY section),
-- which a bulk insert may replace by one aggregate (M.bulk_insert: the
-- streamed services import does).
-- Why a sum: it can be updated one row at a time and recomputed by one
-- aggregate query, whatever the order.  The triggers call seal_add, which
-- exists only on koop's connections, so a casual edit with the sqlite3
-- shell fails; whoever drops the triggers to edit is caught by the schema
-- snapshot (koop_seal_schema: the sqlite_master text of every table,
-- index and trigger after the last migration), and whoever puts them back
-- after editing by the digest.  audit.verify() checks the chain, the
-- schema and every digest; for a table whose digest differs it says
-- where, by replaying the log's row images (add and update give the row,
-- delete removes it) against the table: which id, which field, the value
-- the log has and the one the table has, or a row the log never saw, or
-- one deleted behind koop's back.  Rows that came in by an import have
-- only the import's summary row, so a change among them is localised
-- only to the table and the import.  All of this detects changes made
-- behind koop's back; nothing here is secret, so it cannot stop someone
-- who recomputes every digest and every hash of the chain.
--
--   audit.verify()                   true, {}, rows | false, problems, rows
--                                    (the chain, the schema and the seals)
--   audit.log{entity=, id=, since=, until=, actor=, action=, limit=}
--                                    a result set, oldest first
--   audit.record{action=, entity=, id=, before=, after=}  (tables, JSON-encoded)
--   audit.access(entity, id, what)   log a read of restricted data
--   audit.append(db, action, entity, id, before_json, after_json)
--                                    the fast path used by the entity framework
--   audit.bulk_insert(db, table)     done(): many inserts sealed by one aggregate
local koop = require "koop"
local schema = require "koop.schema"
local json = require "koop.json"
local dates = require "koop.dates"

local M = {}
local GENESIS = string.rep("0", 64)
M.GENESIS = GENESIS

-- Singular entity names ("institution") -> collection names, filled in by
-- koop.entity, so that audit.log{entity=} accepts either.
M.aliases = {}

schema.define(2, "audit log", [[
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  ts          TEXT NOT NULL,            -- UTC, YYYY-MM-DDTHH:MM:SSZ
  actor       TEXT NOT NULL,            -- --as, $KOOP_USER or the login name
  action      TEXT NOT NULL,            -- add, update, delete, import, access, ...
  entity      TEXT NOT NULL,            -- collection name, e.g. institutions
  entity_id   TEXT,
  before_json TEXT,
  after_json  TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be deleted'); END;
]])

local hash_fields = koop.sha256_fields
local concat, date = table.concat, os.date

-- The hash of a row.
local function row_hash(prev, seq, ts, actor, action, entity, id, before, after)
  return hash_fields(prev, seq, ts, actor, action, entity, id, before, after)
end

-- The last row's seq and hash, and AUTOINCREMENT's counter (which is ahead
-- of the last seq only when rows at the end were deleted).
local LAST = "SELECT seq, hash, (SELECT seq FROM sqlite_sequence WHERE name = 'audit_log') AS top"
  .. " FROM audit_log ORDER BY seq DESC LIMIT 1"
local COUNTER = "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'"
-- The row links itself to the chain in the statement that writes it:
-- prev_hash is ?9 only if ?9 is the hash of the last row (or the start of
-- the chain in an empty log), else NULL, which its NOT NULL refuses.  So a
-- stale idea of the head (see heads) can never write a broken link.
local INSERT = "INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, before_json, "
  .. "after_json, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN coalesce("
  .. "(SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '" .. GENESIS .. "') = ?9 THEN ?9 END, ?10)"
-- The timestamp, made again only when the second changes.
local last_time, last_ts = nil, nil
local function now()
  local t = os.time()
  if t ~= last_time then last_time, last_ts = t, date("!%Y-%m-%dT%H:%M:%SZ", t) end
  return last_ts
end

-- The head of the chain as each connection last wrote or read it:
-- heads[db] = {txid, seq, hash}.  It is read again from the database when
-- a new transaction starts (db:txid() changes with every commit and
-- rollback, also one run by hand, and when db:tx rolls back a savepoint:
-- another process may have appended meanwhile), and when INSERT finds that
-- the last row is not the one it knew (a ROLLBACK TO run by hand took rows
-- away).  Within a transaction an append thus reads nothing.
local heads = setmetatable({}, { __mode = "k" })

-- Read the head of db's chain into its entry of heads; returns the entry.
local function load_head(db, txid)
  local head = heads[db]
  if not head then head = {}; heads[db] = head end
  local last, prev, seq = db:first(LAST), GENESIS, nil
  if last then
    prev, seq = last.hash, last.seq
    if last.top and last.top > seq then seq = last.top end   -- a deleted tail stays a gap
  else
    seq = db:value(COUNTER) or 0
  end
  head[1], head[2], head[3] = txid, seq, prev
  return head
end

--- Append a row (inside the caller's transaction); returns its seq.
--- id may be a number or text; before/after are JSON text or nil.
function M.append(db, action, entity, id, before, after)
  local txid, head = db:txid(), heads[db]
  if not head or head[1] ~= txid then head = load_head(db, txid) end
  local ts, actor = now(), koop.actor or "unknown"
  local prev, seq = head[3], head[2] + 1
  local hash = hash_fields(prev, seq, ts, actor, action, entity, id, before, after)
  local ok, err = pcall(db.exec, db, INSERT, seq, ts, actor, action, entity, id, before, after, prev, hash)
  if not ok then
    if not koop.is_error(err, "constraint") then error(err, 0) end
    load_head(db, txid)            -- the head moved, or the error was another
    if head[3] == prev and head[2] + 1 == seq then error(err, 0) end
    prev, seq = head[3], head[2] + 1
    hash = hash_fields(prev, seq, ts, actor, action, entity, id, before, after)
    db:exec(INSERT, seq, ts, actor, action, entity, id, before, after, prev, hash)
  end
  head[2], head[3] = seq, hash
  return seq
end

--- Record an event with before/after as Lua values (encoded as canonical JSON).
function M.record(r)
  local db = schema.db()
  local before = r.before ~= nil and json.encode(r.before) or nil
  local after = r.after ~= nil and json.encode(r.after) or nil
  return db:tx(M.append, db, r.action, r.entity, r.id, before, after)
end

--- Log a read of restricted personal data: what was read, of which object.
function M.access(entity, id, what)
  if type(entity) ~= "string" or entity == "" then
    koop.raise{ code = "invalid", field = "entity", message = "audit.access: entity must be a collection name" }
  end
  return M.record{ action = "access", entity = entity, id = id, after = { what = what } }
end

-- {==================== seals of the protected tables ====================

local SEAL_VERSION = 100          -- the migration that made the seal tables

schema.define(SEAL_VERSION, "seals of the protected tables (tamper evidence)", [[
CREATE TABLE koop_seal (
  tbl     TEXT PRIMARY KEY,        -- a protected table
  rows    INTEGER NOT NULL,        -- its row count
  digest  INTEGER NOT NULL         -- sum mod 2^64 of its rows' hashes (seal.c)
) WITHOUT ROWID;
CREATE TABLE koop_seal_rows (     -- rows a table had when it was sealed: those
  tbl     TEXT NOT NULL,           -- a migration wrote (dictionaries) or that an
  key     TEXT NOT NULL,           -- older koop wrote before seals existed
  hash    INTEGER NOT NULL,        -- seal_add(0, 1, row...)
  PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
CREATE TABLE koop_seal_schema (
  name    TEXT PRIMARY KEY,        -- sqlite_master after the last migration
  tbl     TEXT NOT NULL,
  type    TEXT NOT NULL,
  sql     TEXT
) WITHOUT ROWID;
]])

-- Tables that are not sealed: the log has its chain, the seals are what
-- is checked.
local UNSEALED = { audit_log = true, koop_seal = true, koop_seal_rows = true, koop_seal_schema = true }
local SCHEMA_OBJECTS = "SELECT name, tbl_name, type, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

local function quote(name) return '"' .. name:gsub('"', '""') .. '"' end
local function literal(s) return "'" .. s:gsub("'", "''") .. "'" end

-- The columns of table t, in order.
local function columns_of(db, t)
  local cols = {}
  for _, name in db:urows("SELECT cid, name FROM pragma_table_info(?) ORDER BY cid", t) do cols[#cols + 1] = name end
  return cols
end

-- "p.a, p.b, ..." for the columns.
local function column_list(prefix, cols)
  local out = {}
  for i, c in ipairs(cols) do out[i] = prefix .. quote(c) end
  return concat(out, ", ")
end

-- The seal triggers of table t: name -> CREATE TRIGGER text.
local function seal_triggers(t, cols)
  local new, old, tl = column_list("NEW.", cols), column_list("OLD.", cols), literal(t)
  local head = "CREATE TRIGGER %s AFTER %s ON %s BEGIN UPDATE koop_seal SET "
  return {
    ["seal_" .. t .. "_insert"] = (head .. "rows = rows + 1, digest = seal_add(digest, 1, %s) WHERE tbl = %s; END")
      :format(quote("seal_" .. t .. "_insert"), "INSERT", quote(t), new, tl),
    ["seal_" .. t .. "_delete"] = (head .. "rows = rows - 1, digest = seal_add(digest, -1, %s) WHERE tbl = %s; END")
      :format(quote("seal_" .. t .. "_delete"), "DELETE", quote(t), old, tl),
    ["seal_" .. t .. "_update"] = (head .. "digest = seal_add(seal_add(digest, -1, %s), 1, %s) WHERE tbl = %s; END")
      :format(quote("seal_" .. t .. "_update"), "UPDATE", quote(t), old, new, tl),
  }
end

-- The column that names a row of table t: its primary key (the first
-- one), else its rowid.
local function key_of(db, t)
  return db:value("SELECT name FROM pragma_table_info(?) WHERE pk = 1", t) or "rowid"
end

-- Row count and digest of table t as it is now.
local function measure(db, t, cols)
  local r = db:first(("SELECT count(*) AS n, seal_sum(%s) AS digest FROM %s"):format(column_list("", cols), quote(t)))
  return r.n, r.digest
end

-- Seal the tables the migrations made (schema.after_migrate): triggers on
-- each new table, and again on one whose columns changed; its seal from
-- its rows now; then the snapshot of the schema.  The first time (the
-- migration that creates koop_seal) every table there is is sealed.
local function seal(db, created)
  if not created.koop_seal and not db:value("SELECT 1 FROM sqlite_master WHERE name = 'koop_seal'") then return end
  local sealed, existing = {}, {}
  for t in db:urows("SELECT tbl FROM koop_seal") do sealed[t] = true end
  for name, sql in db:urows("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'") do existing[name] = sql end
  local ddl, fresh = {}, {}       -- one script: each DDL statement alone costs a schema parse
  for t in db:urows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name") do
    if not UNSEALED[t] and (sealed[t] or created[t] or created.koop_seal) then
      local cols = columns_of(db, t)
      local triggers, current = seal_triggers(t, cols), sealed[t]
      for name, sql in pairs(triggers) do current = current and existing[name] == sql end
      if not current then
        for name, sql in pairs(triggers) do
          if existing[name] then ddl[#ddl + 1] = "DROP TRIGGER " .. quote(name) .. ";" end
          ddl[#ddl + 1] = sql .. ";"
        end
        fresh[#fresh + 1] = { t, cols }
      end
      sealed[t] = nil
    end
  end
  if #ddl > 0 then db:exec(concat(ddl, "\n")) end
  for _, f in ipairs(fresh) do
    local t, cols = f[1], f[2]
    db:exec("INSERT INTO koop_seal (tbl, rows, digest) VALUES (?, ?, ?) ON CONFLICT(tbl) DO UPDATE"
      .. " SET rows = excluded.rows, digest = excluded.digest", t, measure(db, t, cols))
    db:exec("DELETE FROM koop_seal_rows WHERE tbl = ?", t)
    db:exec(("INSERT INTO koop_seal_rows (tbl, key, hash) SELECT ?, %s, seal_add(0, 1, %s) FROM %s")
      :format(quote(key_of(db, t)), column_list("", cols), quote(t)), t)
  end
  for t in pairs(sealed) do                 -- dropped by a migration
    db:exec("DELETE FROM koop_seal WHERE tbl = ?", t)
    db:exec("DELETE FROM koop_seal_rows WHERE tbl = ?", t)
  end
  db:exec("DELETE FROM koop_seal_schema")
  db:exec("INSERT INTO koop_seal_schema (name, tbl, type, sql) " .. SCHEMA_OBJECTS)
end
schema.after_migrate[#schema.after_migrate + 1] = seal

--- Seal a bulk insert into table t once instead of row by row (an import
--- of a million rows spent a third of its time in the insert trigger):
--- drops t's insert seal trigger inside the caller's transaction and
--- returns done(), which adds every row inserted since (those whose key is
--- above the largest before) to t's seal with one aggregate and puts the
--- trigger back, the same text, so the schema snapshot still matches.  A
--- rollback undoes both.  Meanwhile only inserts into t: a row inserted
--- and then updated or deleted before done() would be sealed wrongly, as
--- the update and delete triggers would take out a hash never put in.
--- Returns nil (nothing to do) for a table with no seal or no integer key.
function M.bulk_insert(db, t)
  if not db:in_transaction() then
    koop.raise{ code = "invalid", field = "db", message = "audit.bulk_insert: needs a transaction (call it inside db:tx)" }
  end
  local name = "seal_" .. t .. "_insert"
  local trigger = db:value("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", name)
  local key = trigger and key_of(db, t)
  if not key or db:value("SELECT type FROM pragma_table_info(?) WHERE name = ?", t, key) ~= "INTEGER" then return nil end
  local cols = columns_of(db, t)
  local above = db:value(("SELECT max(%s) FROM %s"):format(quote(key), quote(t))) or math.mininteger
  db:exec("DROP TRIGGER " .. quote(name))
  return function()
    local r = db:first(("SELECT count(*) AS n, seal_sum(%s) AS digest FROM %s WHERE %s > ?")
      :format(column_list("", cols), quote(t), quote(key)), above)
    local digest = db:value("SELECT digest FROM koop_seal WHERE tbl = ?", t)
    -- the sum of the row hashes mod 2^64, as seal_add keeps it: Lua's integers wrap the same way
    db:exec("UPDATE koop_seal SET rows = rows + ?, digest = ? WHERE tbl = ?", r.n, digest + r.digest, t)
    db:exec(trigger)
  end
end

-- A value as a problem shows it.
local function show(v)
  if v == nil or v == json.null then return "NULL" end
  if type(v) == "string" then
    if #v > 60 then v = v:sub(1, 57) .. "..." end
    return "'" .. v .. "'"
  end
  return tostring(v)
end

-- A value of a row image as the table stores it.
local function stored(v)
  if v == json.null then return nil end
  if v == true then return 1 elseif v == false then return 0 end
  return v
end

-- The collection whose table is t, if any.
local function collection_of(t)
  local registry = require("koop.entity").registry
  local names = {}
  for name, c in pairs(registry) do if c.table == t then names[#names + 1] = name end end
  table.sort(names)
  return names[1] and registry[names[1]]
end

-- "audit seq 12, 40" for a list of summary rows (at most 5 named).
local function seqs(list)
  local out = {}
  for i = 1, math.min(#list, 5) do out[i] = tostring(list[i]) end
  return (#list == 1 and "audit seq " or "audit seqs ") .. concat(out, ", ") .. (#list > 5 and ", ..." or "")
end

-- The state of collection `name`'s objects by the log: id -> {row=,
-- full=, deleted=, seq=, actor=, via=}, and the seqs of summary rows (an
-- import: no id).  Actions that read (access, export) change nothing.
local function replay(db, name, columns)
  local state, summaries = {}, {}
  for seq, actor, action, id, after in db:urows("SELECT seq, actor, action, entity_id, after_json FROM audit_log"
      .. " WHERE entity = ? AND action NOT IN ('access', 'export') ORDER BY seq", name) do
    local s = id and state[id]
    local image = after and json.decode(after)
    local fields = type(image) == "table"
    if fields then for k in pairs(image) do if not columns[k] then fields = false; break end end end
    if id == nil then
      summaries[#summaries + 1] = seq
    elseif action == "add" and fields then
      state[id] = { row = image, full = true, seq = seq, actor = actor }
    elseif action == "delete" then
      state[id] = { deleted = true, seq = seq, actor = actor }
    elseif fields then                        -- update, or another change of fields (book)
      if not s or s.deleted then s = { row = {}, full = false }; state[id] = s end
      for k, v in pairs(image) do s.row[k] = v end
      s.seq, s.actor, s.via = seq, actor, nil
    else                                      -- a summary of a change to this object
      s = s or { row = {}, full = false }
      state[id], s.via, s.seq, s.actor = s, action, seq, actor
    end
  end
  return state, summaries
end

-- Say where table t (collection coll) differs from what the log says;
-- returns the number of problems added.
local MAX_ROWS = 20               -- rows named per table; then a count

local function localise(db, t, coll, problems)
  local columns = {}
  for _, c in ipairs(coll.columns) do columns[c] = true end
  local state, summaries = replay(db, coll.name, columns)
  local key, found = coll.key, 0
  local baseline = {}
  for k, h in db:urows("SELECT key, hash FROM koop_seal_rows WHERE tbl = ?", t) do baseline[k] = h end
  local function problem(fmt, ...)
    found = found + 1
    if found <= MAX_ROWS then problems[#problems + 1] = fmt:format(...) end
  end
  local cols = columns_of(db, t)
  for row in db:rows(("SELECT *, seal_add(0, 1, %s) AS koop_seal_hash FROM %s ORDER BY %s")
      :format(column_list("", cols), quote(t), quote(key))) do
    local id = tostring(row[key])
    local s = state[id]
    if not s and baseline[id] then
      if baseline[id] ~= row.koop_seal_hash then
        problem("%s %s %s differs from the row it had when the table was sealed (the log never changed it)", coll.name, key, id)
      end
      baseline[id] = nil
    elseif not s then
      if #summaries == 0 then
        problem("%s %s %s is not in the audit log (inserted behind koop's back)", coll.name, key, id)
      else
        state[id] = false
      end
    elseif s.deleted then
      problem("%s %s %s was deleted (audit seq %d by %s) but is in the table (inserted again behind koop's back)",
        coll.name, key, id, s.seq, s.actor)
    else
      for _, c in ipairs(coll.columns) do
        local want = s.row[c]
        if (s.full or want ~= nil) and stored(want) ~= row[c] then
          problem("%s %s %s: field %s: audit says %s, table has %s (last change audit seq %d by %s%s)",
            coll.name, key, id, c, show(stored(want)), show(row[c]), s.seq, s.actor,
            s.via and ", a " .. s.via .. " that the log records only in summary" or "")
        end
      end
    end
    if s then s.seen = true end
  end
  local unseen = {}
  for id, s in pairs(state) do
    if s and not s.deleted and not s.seen then unseen[#unseen + 1] = id end
  end
  for id in pairs(baseline) do
    if state[id] == nil then unseen[#unseen + 1] = id end
  end
  table.sort(unseen, function(a, b)
    local x, y = tonumber(a), tonumber(b)
    if x and y then return x < y end
    return a < b
  end)
  for _, id in ipairs(unseen) do
    problem("%s %s %s was deleted behind koop's back (%s)", coll.name, key, id,
      state[id] and ("last audit seq %d"):format(state[id].seq) or "it was there when the table was sealed")
  end
  if found > MAX_ROWS then
    problems[#problems + 1] = ("%s: %d more rows differ"):format(coll.name, found - MAX_ROWS)
  end
  local imported = 0
  for _, s in pairs(state) do if s == false then imported = imported + 1 end end
  if found == 0 and imported > 0 then
    problem("%s: the change is among the %d rows that came by import (%s), which the log records only as a count",
      coll.name, imported, seqs(summaries))
  end
  return found
end

-- The audit record's hash of a member's identity, keyed with the database's
-- pesel_key (a bare hash of a name and a PESEL could be guessed): written by
-- koop.cases, checked by verify.
function M.identity_hash(key, first_name, last_name, pesel)
  return hash_fields(key, first_name, last_name, pesel)
end

-- The same for case_member_identity, whose log keeps only a keyed hash of
-- the names and PESEL (M.identity_hash).
local function localise_identities(db, problems)
  local key, found = schema.meta(db, "pesel_key"), 0
  local state = {}
  for seq, actor, id, after in db:urows("SELECT seq, actor, entity_id, after_json FROM audit_log"
      .. " WHERE entity = 'case_member_identities' AND action IN ('add', 'update') ORDER BY seq") do
    state[id] = { sha256 = json.decode(after).sha256, seq = seq, actor = actor }
  end
  for id, first, last, pesel in db:urows("SELECT member_id, first_name, last_name, pesel FROM case_member_identity ORDER BY member_id") do
    local s = state[tostring(id)]
    if not s then
      problems[#problems + 1] = ("case_member_identities member %d is not in the audit log (inserted behind koop's back)"):format(id)
      found = found + 1
    else
      s.seen = true
      if not key or M.identity_hash(key, first, last, pesel) ~= s.sha256 then
        problems[#problems + 1] = ("case_member_identities member %d: the names or PESEL differ from the audit record (seq %d by %s; the log keeps only their keyed hash)")
          :format(id, s.seq, s.actor)
        found = found + 1
      end
    end
  end
  for id, s in pairs(state) do
    if not s.seen and db:value("SELECT 1 FROM case_member WHERE id = ?", tonumber(id)) then
      problems[#problems + 1] = ("case_member_identities member %s was deleted behind koop's back (last audit seq %d)"):format(id, s.seq)
      found = found + 1
    end
  end
  return found
end

-- Compare the schema with its snapshot: protected tables, their indexes
-- and triggers dropped or changed, and triggers added to them.
local function check_schema(db, problems)
  local now, protected = {}, {}
  for name, tbl, type, sql in db:urows(SCHEMA_OBJECTS) do now[name] = { tbl = tbl, type = type, sql = sql } end
  for name, tbl, type, sql in db:urows("SELECT name, tbl, type, sql FROM koop_seal_schema ORDER BY tbl <> name, tbl, name") do
    local cur = now[name]
    protected[tbl] = true
    if type == "table" then
      if not cur then
        problems[#problems + 1] = ("table %s was dropped"):format(name)
      elseif cur.sql ~= sql then
        problems[#problems + 1] = ("table %s: its definition was changed behind koop's back (now: %s)"):format(name, cur.sql)
      end
    elseif not cur then
      problems[#problems + 1] = ("table %s: %s %s was dropped"):format(tbl, type, name)
    elseif cur.sql ~= sql then
      problems[#problems + 1] = ("table %s: %s %s was changed (now: %s)"):format(tbl, type, name, cur.sql)
    end
    now[name] = nil
  end
  local added = {}
  for name, cur in pairs(now) do
    if cur.type == "trigger" and protected[cur.tbl] then added[#added + 1] = name end
  end
  table.sort(added)
  for _, name in ipairs(added) do
    problems[#problems + 1] = ("table %s: trigger %s was added behind koop's back"):format(now[name].tbl, name)
  end
end

-- Check every seal: the table's rows now against its count and digest,
-- and say where the ones that differ differ.  Returns the number of
-- tables checked.
local function check_seals(db, problems)
  local tables = {}
  for name in db:urows("SELECT name FROM sqlite_master WHERE type = 'table'") do tables[name] = true end
  for t in db:urows("SELECT tbl FROM koop_seal_schema WHERE type = 'trigger' AND name = 'seal_' || tbl || '_insert'"
      .. " AND tbl NOT IN (SELECT tbl FROM koop_seal) ORDER BY tbl") do
    problems[#problems + 1] = ("table %s: its seal was deleted"):format(t)
  end
  local n = 0
  for t, rows, digest in db:urows("SELECT tbl, rows, digest FROM koop_seal ORDER BY tbl") do
    if tables[t] then
      n = n + 1
      local count, now = measure(db, t, columns_of(db, t))
      if count ~= rows or now ~= digest then
        problems[#problems + 1] = count ~= rows
          and ("table %s: %d rows, its seal says %d (rows inserted or deleted behind koop's back)"):format(t, count, rows)
          or ("table %s: its rows do not match its seal (changed behind koop's back)"):format(t)
        local coll = collection_of(t)
        local found = t == "case_member_identity" and localise_identities(db, problems)
          or coll and localise(db, t, coll, problems) or 0
        if found == 0 then
          problems[#problems + 1] = ("table %s: koop writes it without row images in the audit log, so the changed row cannot be named"):format(t)
        end
      end
    end
  end
  return n
end

-- }====================

-- {==================== reading the log ====================

-- A short readable description of a row's change.
local function describe(action, before, after)
  if action == "update" and before and after then
    local b, a = json.decode(before), json.decode(after)
    local keys, out = {}, {}
    for k in pairs(a) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      out[#out + 1] = ("%s: %s → %s"):format(k, json.encode(b[k]), json.encode(a[k]))
    end
    return concat(out, ", ")
  end
  return after or before or ""
end

local log_columns = { "seq", "ts", "actor", "action", "entity", "entity_id", "change" }

--- The log as a result set (oldest first): {entity=, id=, since=, until=,
--- actor=, action=, limit=}; since/until are dates (until inclusive).
function M.log(q)
  q = q or {}
  local db = schema.db()
  local where, args = {}, {}
  for k in pairs(q) do
    if not ({ entity = 1, id = 1, since = 1, ["until"] = 1, actor = 1, action = 1, limit = 1 })[k] then
      koop.raise{ code = "invalid", field = tostring(k), message = ("audit.log: unknown option '%s' (known: entity, id, since, until, actor, action, limit)"):format(tostring(k)) }
    end
  end
  if q.entity then
    where[#where + 1] = "entity = ?"
    args[#args + 1] = M.aliases[q.entity] or q.entity
  end
  if q.id ~= nil then where[#where + 1] = "entity_id = ?"; args[#args + 1] = tostring(q.id) end
  if q.since then
    dates.check(q.since, "since")
    where[#where + 1] = "ts >= ?"; args[#args + 1] = q.since
  end
  if q["until"] then
    dates.check(q["until"], "until")
    where[#where + 1] = "ts < ?"; args[#args + 1] = dates.add(q["until"], 1)
  end
  if q.actor then where[#where + 1] = "actor = ?"; args[#args + 1] = q.actor end
  if q.action then where[#where + 1] = "action = ?"; args[#args + 1] = q.action end
  local sql = "SELECT seq, ts, actor, action, entity, entity_id, before_json, after_json FROM audit_log"
  if #where > 0 then sql = sql .. " WHERE " .. concat(where, " AND ") end
  sql = sql .. " ORDER BY seq"
  if q.limit then
    if math.type(q.limit) ~= "integer" or q.limit < 0 then
      koop.raise{ code = "invalid", field = "limit", message = "audit.log: limit must be a whole number" }
    end
    -- the newest `limit` rows, still oldest first
    sql = "SELECT * FROM (" .. sql:gsub(" ORDER BY seq$", " ORDER BY seq DESC LIMIT ?") .. ") ORDER BY seq"
    args[#args + 1] = q.limit
  end
  local rows = db:query(sql, table.unpack(args))
  for _, r in ipairs(rows) do r.change = describe(r.action, r.before_json, r.after_json) end
  rows.columns = log_columns
  return rows
end

-- Check the hash chain, adding its problems ("row 17: hash mismatch
-- (modified)", ...) to the list; returns the number of rows read.
local function check_chain(db, problems)
  local n = 0
  local prev_seq, prev_hash = 0, GENESIS
  local function missing(from, to)
    problems[#problems + 1] = from == to and ("row %d missing (deleted)"):format(from)
      or ("rows %d-%d missing (deleted)"):format(from, to)
  end
  for seq, ts, actor, action, entity, id, before, after, ph, h in db:urows(
      "SELECT seq, ts, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash FROM audit_log ORDER BY seq") do
    n = n + 1
    if math.type(seq) ~= "integer" then
      problems[#problems + 1] = ("a row with seq %s (inserted)"):format(tostring(seq))
    else
      if seq > prev_seq + 1 then
        missing(prev_seq + 1, seq - 1)
      elseif ph ~= prev_hash then
        problems[#problems + 1] = seq == 1
          and "row 1: prev_hash is not the start of the chain (inserted)"
          or ("row %d: prev_hash does not follow row %d (inserted, or row %d rewritten)"):format(seq, prev_seq, prev_seq)
      end
      local ok = type(ts) == "string" and type(actor) == "string" and type(action) == "string"
        and type(entity) == "string" and type(ph) == "string"
      if not ok or row_hash(ph, seq, ts, actor, action, entity, id, before, after) ~= h then
        problems[#problems + 1] = ("row %d: hash mismatch (modified)"):format(seq)
      end
      prev_seq, prev_hash = seq, h
    end
  end
  local counter = db:value(COUNTER)
  if counter and counter > prev_seq then missing(prev_seq + 1, counter) end
  return n
end

--- Check the audit log's chain, the schema and the seals of the protected
--- tables: true, {}, rows, tables when all is intact; else false and the
--- list of problems, each saying what and where.
function M.verify()
  local db = schema.db()
  local problems = {}
  local n, tables = check_chain(db, problems), 0
  if db:value("SELECT 1 FROM sqlite_master WHERE name = 'koop_seal_schema'") then
    check_schema(db, problems)
    if db:value("SELECT 1 FROM sqlite_master WHERE name = 'koop_seal'") then tables = check_seals(db, problems) end
  elseif schema.version(db) >= SEAL_VERSION then
    problems[#problems + 1] = "table koop_seal_schema was dropped: the schema cannot be checked"
  end
  return #problems == 0, problems, n, tables
end

-- }====================

-- {==================== koop audit ====================

local cli = require "koop.cli"

cli.command {
  name = "audit", summary = "verify the audit log and the data, or list the log's rows",
  usage = "koop [-d FILE] audit verify\nkoop [-d FILE] audit log [--entity E] [--id ID] [--since DATE] [--until DATE] [--actor NAME] [--action A] [--limit N]",
  options = { ["--entity"] = "string", ["--id"] = "string", ["--since"] = "date", ["--until"] = "date",
    ["--actor"] = "string", ["--action"] = "string", ["--limit"] = "string" },
  text = [[
Every change made through koop (and every import, and every read of
restricted data) is a row of the audit log: when (UTC), who (--as, else
$KOOP_USER, else the login name), what (action, entity, id) and the values
before and after. The rows are append-only and hash-chained, and every
table of koop's schema is sealed: its row count and a digest of its rows,
kept by triggers in the transaction of every write.
  verify   check the chain, the schema and every table's seal: prints
           "ok" and what it checked, or each problem and where it is: a
           log row modified, deleted or inserted; a table, index or
           trigger dropped, changed or added; a table whose rows differ
           from its seal, and in it which id and field differ from the
           log (audit says X, table has Y), which row the log never saw,
           which row was deleted (rows that came by import are named
           only by their import); the exit status is 1 when anything
           was changed behind koop's back (e.g. with the sqlite3 shell)
  log      the rows, oldest first, as a table (--mode csv, json, ... for
           other formats); --entity takes a collection (institutions) or an
           entity name (institution); --since and --until are dates (both
           included); --limit N shows the newest N rows
In Lua: audit.verify(), audit.log{entity=, id=, since=, until=, actor=,
action=, limit=}, obj:history() for one object.]],
  run = function(opts, pos)
    local sub = pos[1]
    if sub ~= "verify" and sub ~= "log" then
      cli.usage_error("audit: expected 'verify' or 'log'%s (see 'koop help audit')",
        sub and (", not '" .. sub .. "'") or "")
    end
    if pos[2] then cli.usage_error("audit %s: unexpected argument '%s'", sub, pos[2]) end
    cli.open()
    if sub == "verify" then
      if next(opts) then cli.usage_error("audit verify takes no options") end
      local ok, problems, n, tables = M.verify()
      if ok then
        print(("ok: %d rows, hash chain intact; %d tables match their seals"):format(n, tables))
        return 0
      end
      for _, p in ipairs(problems) do print(p) end
      print(("TAMPERED: %d problem%s (audit log: %d rows; %d sealed tables)"):format(#problems, #problems == 1 and "" or "s", n, tables))
      return 1
    end
    local limit = opts.limit and math.tointeger(tonumber(opts.limit))
    if opts.limit and (not limit or limit < 0) then
      cli.usage_error("audit log: --limit needs a whole number, not '%s'", opts.limit)
    end
    local rows = M.log{ entity = opts.entity, id = opts.id, since = opts.since,
      ["until"] = opts["until"], actor = opts.actor, action = opts.action, limit = limit }
    io.write(koop.format(rows))
    return 0
  end,
}

-- }====================

return M
