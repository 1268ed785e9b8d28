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
-- inserted, and where.  This detects changes made behind koop's back; it
-- cannot stop someone who rewrites the whole chain with recomputed hashes.
--
--   audit.verify()                   true, {}, rows | false, problems, rows
--   audit.log{entity=, id=, since=, until=, actor=, action=, limit=}
--                                    a result set, oldest first
--   audit.record{action=, entity=, id=, before=, after=}  (tables, JSON-encoded)
--   audit.access(entity, id, what)   log a read of restricted data
--   audit.append(db, action, entity, id, before_json, after_json)
--                                    the fast path used by the entity framework
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

--- Check the hash chain: true, {}, n when intact; else false and a list of
--- problems ("row 17: hash mismatch (modified)", ...), and n rows read.
function M.verify()
  local db = schema.db()
  local problems, n = {}, 0
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
  return #problems == 0, problems, n
end

-- }====================

-- {==================== koop audit ====================

local cli = require "koop.cli"

cli.command {
  name = "audit", summary = "verify the audit log, or list its rows",
  usage = "koop [-d FILE] audit verify\nkoop [-d FILE] audit log [--entity E] [--id ID] [--since DATE] [--until DATE] [--actor NAME] [--action A] [--limit N]",
  options = { ["--entity"] = "string", ["--id"] = "string", ["--since"] = "date", ["--until"] = "date",
    ["--actor"] = "string", ["--action"] = "string", ["--limit"] = "string" },
  text = [[
Every change made through koop (and every import, and every read of
restricted data) is a row of the audit log: when (UTC), who (--as, else
$KOOP_USER, else the login name), what (action, entity, id) and the values
before and after. The rows are append-only and hash-chained.
  verify   check the chain: prints "ok" and the number of rows, or each
           problem and its row (modified, deleted, inserted); the exit
           status is 1 when the log was tampered with
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
      local ok, problems, n = M.verify()
      if ok then
        print(("ok: %d rows, hash chain intact"):format(n))
        return 0
      end
      for _, p in ipairs(problems) do print(p) end
      print(("audit log BROKEN: %d problem%s in %d rows"):format(#problems, #problems == 1 and "" or "s", n))
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
