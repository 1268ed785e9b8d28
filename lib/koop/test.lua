-- koop.test — the test runner behind `koop test`: each test(...) gets a
-- fresh in-memory database, today's date unpinned, and the assertion
-- globals; the run ends with "N passed, N failed".
local koop = require "koop"
local dates = require "koop.dates"
-- debug from lib.c's third argument, not the global (--safe takes that)
local traceback = select(3, ...).debug.traceback

local M = {}

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return koop.pretty(v, { width = 100 })
end

local function deep_equal(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_equal(v, b[k], seen) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function fail(msg, level)
  error(msg, level + 1)
end

local asserts = {}

--- eq(actual, expected [, msg]): deep equality.
function asserts.eq(actual, expected, msg)
  if not deep_equal(actual, expected) then
    fail(("%sexpected: %s\n    actual: %s"):format(msg and (msg .. "\n  ") or "",
      show(expected), show(actual)), 2)
  end
end

--- ok(v [, msg]): v is truthy.
function asserts.ok(v, msg)
  if not v then fail(msg or ("expected a true value, got " .. show(v)), 2) end
  return v
end

--- raises(fn, code_or_pattern): fn fails with that error code or message.
function asserts.raises(fn, want)
  local ok, err = pcall(fn)
  if ok then fail("expected an error" .. (want and (" (" .. want .. ")") or "") .. ", but none was raised", 2) end
  if want == nil then return err end
  if koop.is_error(err) and err.code == want then return err end
  local text = tostring(err)
  if text:find(want) then return err end
  fail(("expected an error %s\n    actual: %s%s"):format(show(want), text,
    koop.is_error(err) and (" (code " .. tostring(err.code) .. ")") or ""), 2)
end

--- travel(days): move the pinned date forward (pins today first if needed);
--- then procedures.tick{} fires the overdue events of the new day
--- (task.overdue, referral.overdue, deadline.missed, plan.review_due), as
--- `koop due` does, when the test has a database with koop's tables.
function asserts.travel(days)
  local today = dates.today(dates.add(dates.today(), days))
  local procedures = package.loaded["koop.procedures"]
  if procedures and koop.db and require("koop.schema").version(koop.db) > 0 then procedures.tick{} end
  return today
end

-- Files to run: FILE as given, DIR as its *_test.lua files (sorted).
local function expand(paths)
  local files = {}
  for _, p in ipairs(paths) do
    local list = koop.listdir and koop.listdir(p)
    if list then
      table.sort(list)
      for _, name in ipairs(list) do
        if name:match("_test%.lua$") then files[#files + 1] = p:gsub("/$", "") .. "/" .. name end
      end
    else
      files[#files + 1] = p
    end
  end
  return files
end

local function fresh_db()
  local db = koop.open(":memory:")     -- koop's tables appear on first domain use
  _G.db, koop.db = db, db
  return db
end

-- Run one test function; returns true or false, message.
local function run_one(fn, pinned)
  dates.today(pinned or false)
  -- handlers a test adds (koop.on) end with it; modules' own stay
  local handlers = require("koop.events").handlers
  local saved = {}
  for name, list in pairs(handlers) do saved[name] = list end
  local db = fresh_db()
  local ok, err = xpcall(fn, function(e)
    if koop.is_error(e) then return tostring(e) end
    return traceback(tostring(e), 2)
  end)
  db:close()
  _G.db, koop.db = nil, nil
  for name in pairs(handlers) do handlers[name] = nil end
  for name, list in pairs(saved) do handlers[name] = list end
  return ok, err
end

--- Run test files; returns the exit status.
function M.run(paths, match)
  if #paths == 0 then paths = { "." } end
  local passed, failed = 0, 0
  local config = require("koop.cli").config
  if config.safe then
    -- each test needs a fresh database with koop's schema, which --safe refuses to create
    koop.raise{ code = "auth", message = "koop test runs tests on fresh databases: not with --safe (run it without)" }
  end
  local pinned = config.today
  -- domain modules register their own event handlers when they load: load
  -- them all now, so that the handlers kept between tests are exactly theirs
  require("koop.domain").load_all()
  local saved = {}
  for k, v in pairs(asserts) do saved[k] = rawget(_G, k); _G[k] = v end
  for _, file in ipairs(expand(paths)) do
    local tests = {}
    _G.test = function(name, fn)
      assert(type(name) == "string" and type(fn) == "function", "test(name, function)")
      tests[#tests + 1] = { name = name, fn = fn }
    end
    local chunk, err = loadfile(file, "t")
    local ok = chunk ~= nil
    if chunk then ok, err = pcall(chunk) end
    if not ok then
      failed = failed + 1
      print(("not ok - %s: cannot load\n  %s"):format(file, tostring(err)))
    end
    for _, t in ipairs(tests) do
      local label = file .. ": " .. t.name
      if not match or label:find(match) then
        local good, msg = run_one(t.fn, pinned)
        if good then
          passed = passed + 1
          print("ok - " .. label)
        else
          failed = failed + 1
          print("not ok - " .. label .. "\n  " .. tostring(msg):gsub("\n", "\n  "))
        end
      end
    end
  end
  for k in pairs(asserts) do _G[k] = saved[k] end
  _G.test = nil
  dates.today(pinned or false)
  print(("%d passed, %d failed"):format(passed, failed))
  return failed > 0 and 1 or 0
end

return M
