-- audit_test.lua — the audit log (lib/koop/audit.lua) and its JSON
-- (lib/koop/json.lua): every add/update through the domain API writes a
-- row with actor, action, entity, id and canonical before/after JSON; a
-- failed change writes none; the log is append-only (triggers); the hash
-- chain verifies, and verify() says what and where when a row was modified,
-- deleted (in the middle or at the end) or inserted; audit.log filters;
-- audit.access and audit.record; canonical JSON encoding and decoding.
-- Run with: koop test tests/lua/audit_test.lua

local json = require "koop.json"

-- A small history: a gmina, two institutions, an update, a person.
local function history()
  koop.actor = "tester"
  gminas.ensure("2612013")
  local ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", gmina = "2612013" }
  institutions.add{ name = "Powiatowe Centrum Pomocy Rodzinie w Staszowie", kind = "PCPR" }
  ops:update{ phone = "15 867 40 00" }
  people.add{ first_name = "Anna", last_name = "Nowak", institution = ops }
  return ops
end

local function last_row()
  return db:first("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
end

-- Run raw SQL on the audit log with its guard triggers dropped, and put
-- them back after, as someone editing the file behind koop's back would
-- (triggers left dropped are a problem of their own: audit_seal_test.lua).
local function tamper(sql, ...)
  local guards = db:query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
  for _, g in ipairs(guards) do db:exec("DROP TRIGGER " .. g.name) end
  db:exec(sql, ...)
  for _, g in ipairs(guards) do db:exec(g.sql) end
end

------------------------------------------------------------------ writing

test("every change writes one row: who, what, before and after", function()
  local ops = history()
  local n = db:value("SELECT count(*) FROM audit_log")
  eq(n, 6 + 4)                                   -- 6 units of the built-in list, 4 changes
  local add = db:first("SELECT * FROM audit_log WHERE entity = 'institutions' ORDER BY seq LIMIT 1")
  eq(add.actor, "tester")
  eq(add.action, "add")
  eq(add.entity_id, tostring(ops.id))
  eq(add.before_json, nil)
  eq(json.decode(add.after_json).name, "Ośrodek Pomocy Społecznej w Bogorii")
  ok(add.ts:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), add.ts)
  local upd = db:first("SELECT * FROM audit_log WHERE action = 'update'")
  eq(upd.before_json, '{"phone":null}')
  eq(upd.after_json, '{"phone":"15 867 40 00"}')
  eq(last_row().entity, "people")
end)

test("a refused change writes no audit row", function()
  history()
  local n = db:value("SELECT count(*) FROM audit_log")
  raises(function() institutions.add{ name = "X", kind = "OPS", nip = "1234563217" } end, "invalid")
  raises(function() institutions.add{ name = "X", kind = "nieznany" } end, "invalid")
  eq(db:value("SELECT count(*) FROM audit_log"), n)
  eq(audit.verify(), true)
end)

test("the log is append-only: UPDATE and DELETE are refused", function()
  history()
  local err = raises(function() db:exec("UPDATE audit_log SET actor = 'x' WHERE seq = 1") end, "constraint")
  ok(err.message:find("append%-only"), err.message)
  raises(function() db:exec("DELETE FROM audit_log WHERE seq = 1") end, "append%-only")
  eq(db:value("SELECT actor FROM audit_log WHERE seq = 1"), "tester")
end)

------------------------------------------------------------------ verify

test("verify: an intact chain, and an empty one", function()
  local ok1, problems, n = audit.verify()
  eq({ ok1, problems, n }, { true, {}, 0 })
  history()
  local ok2, problems2, n2 = audit.verify()
  eq(ok2, true)
  eq(problems2, {})
  eq(n2, 10)
  eq(db:value("SELECT prev_hash FROM audit_log WHERE seq = 1"), string.rep("0", 64))
  eq(db:value("SELECT prev_hash FROM audit_log WHERE seq = 5"), db:value("SELECT hash FROM audit_log WHERE seq = 4"))
end)

test("verify finds a modified row", function()
  history()
  tamper("UPDATE audit_log SET after_json = replace(after_json, 'Bogorii', 'Staszowie') WHERE seq = 7")
  local good, problems = audit.verify()
  eq(good, false)
  eq(problems, { "row 7: hash mismatch (modified)" })
end)

test("verify finds a modified row whose hash was recomputed (the next row no longer follows)", function()
  history()
  tamper("UPDATE audit_log SET actor = 'intruder', hash = ? WHERE seq = 8", string.rep("a", 64))
  local good, problems = audit.verify()
  eq(good, false)
  eq(problems, { "row 8: hash mismatch (modified)",
    "row 9: prev_hash does not follow row 8 (inserted, or row 8 rewritten)" })
end)

test("verify finds a deleted row, in the middle and at the end", function()
  history()
  tamper("DELETE FROM audit_log WHERE seq = 5")
  local good, problems = audit.verify()
  eq(good, false)
  eq(problems, { "row 5 missing (deleted)" })
  tamper("DELETE FROM audit_log WHERE seq >= 9")
  good, problems = audit.verify()
  eq(problems, { "row 5 missing (deleted)", "rows 9-10 missing (deleted)" })
end)

test("a deleted last row stays a gap when the log goes on", function()
  history()
  tamper("DELETE FROM audit_log WHERE seq = 10")
  institutions.add{ name = "Gminny Ośrodek Kultury w Bogorii", kind = "GOK" }
  eq(last_row().seq, 11)
  local good, problems = audit.verify()
  eq(good, false)
  eq(problems, { "row 10 missing (deleted)" })
end)

test("verify finds an inserted row", function()
  history()
  local prev = db:value("SELECT hash FROM audit_log WHERE seq = 10")
  db:exec([[INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, after_json, prev_hash, hash)
            VALUES (11, '2024-01-01T00:00:00Z', 'intruder', 'add', 'people', '99', '{}', ?, ?)]],
    string.rep("b", 64), string.rep("c", 64))
  local good, problems = audit.verify()
  eq(good, false)
  eq(problems, { "row 11: prev_hash does not follow row 10 (inserted, or row 10 rewritten)",
    "row 11: hash mismatch (modified)" })
  -- a forged row that does follow the chain still fails its own hash
  db:exec([[INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, after_json, prev_hash, hash)
            VALUES (12, '2024-01-01T00:00:00Z', 'intruder', 'add', 'people', '98', '{}', ?, ?)]],
    string.rep("c", 64), prev)
  good, problems = audit.verify()
  eq(problems[#problems], "row 12: hash mismatch (modified)")
end)

------------------------------------------------------------------ reading

test("audit.log filters by entity (either name), id, action, actor, dates and limit", function()
  local ops = history()
  eq(#audit.log(), 10)
  eq(#audit.log{ entity = "institutions" }, 3)
  eq(#audit.log{ entity = "institution" }, 3)
  eq(#audit.log{ entity = "people" }, 1)
  eq(#audit.log{ entity = "institutions", id = ops.id }, 2)
  eq(#audit.log{ action = "update" }, 1)
  eq(#audit.log{ actor = "tester" }, 10)
  eq(#audit.log{ actor = "someone else" }, 0)
  local today = os.date("!%Y-%m-%d")
  eq(#audit.log{ since = today }, 10)
  eq(#audit.log{ ["until"] = "2000-01-01" }, 0)
  local last2 = audit.log{ limit = 2 }
  eq({ last2[1].seq, last2[2].seq }, { 9, 10 })
  eq(last2.columns, { "seq", "ts", "actor", "action", "entity", "entity_id", "change" })
  eq(audit.log{ action = "update" }[1].change, 'phone: null → "15 867 40 00"')
  eq(raises(function() audit.log{ since = "wczoraj" } end, "invalid").field, "since")
  eq(raises(function() audit.log{ entiy = "x" } end, "invalid").field, "entiy")
end)

test("audit.access and audit.record write rows of their own", function()
  history()
  koop.actor = "kierownik"
  audit.access("people", 1, "PESEL")
  local row = last_row()
  eq({ row.actor, row.action, row.entity, row.entity_id, row.after_json },
     { "kierownik", "access", "people", "1", '{"what":"PESEL"}' })
  audit.record{ action = "export", entity = "people", after = { file = "osoby.csv", rows = 12 } }
  eq(last_row().after_json, '{"file":"osoby.csv","rows":12}')
  eq(audit.verify(), true)
  raises(function() audit.access(nil, 1, "x") end, "invalid")
end)

------------------------------------------------------------------ JSON

test("json.encode is canonical: sorted keys, exact integers, shortest floats", function()
  eq(json.encode{ b = 1, a = { 3, 2 }, c = "x" }, '{"a":[3,2],"b":1,"c":"x"}')
  eq(json.encode{ z = { y = true, x = false }, ["ą"] = 1, A = 2 }, '{"A":2,"z":{"x":false,"y":true},"ą":1}')
  eq(json.encode(math.maxinteger), "9223372036854775807")
  eq(json.encode(0.1), "0.1")
  eq(json.encode(1/3), "0.3333333333333333")
  eq(json.encode(2.0), "2.0")
  eq(json.encode(1e300), "1e+300")
  eq(json.encode("Zażółć \"gęślą\"\n\t\\ \1"), '"Zażółć \\"gęślą\\"\\n\\t\\\\ \\u0001"')
  eq(json.encode{}, "[]")
  eq(json.encode(json.object{}), "{}")
  eq(json.encode{ koop.null, 1 }, "[null,1]")
  eq(json.encode(db:query("SELECT 1 AS a UNION ALL SELECT 2")), '[{"a":1},{"a":2}]')
  local many = {}
  for i = 1, 40 do many["k" .. string.format("%02d", i)] = i end
  ok(json.encode(many):find('^{"k01":1,"k02":2,.*"k40":40}$'))
end)

test("json.encode refuses what JSON cannot hold", function()
  raises(function() json.encode(0/0) end, "NaN")
  raises(function() json.encode(math.huge) end, "infinity")
  raises(function() json.encode{ [true] = 1 } end, "keys must be strings")
  raises(function() json.encode{ 1, 2, x = 3 } end, "keys must be strings")
  raises(function() json.encode(print) end, "cannot encode a function")
  raises(function() json.encode("\xff") end, "not valid UTF%-8")
  local loop = {}
  loop.self = loop
  raises(function() json.encode(loop) end, "contains itself")
end)

test("json.decode reads what encode writes, and reports bad text with its place", function()
  local v = { name = "Ośrodek \"Pomocy\"", n = 12, f = 0.5, list = { 1, "dwa", true, json.null }, sub = { x = json.null } }
  local text = json.encode(v)
  eq(json.encode(json.decode(text)), text)
  eq(json.decode('"\\u0141\\u00f3d\\u017a \\ud83d\\ude00"'), "Łódź 😀")
  eq(math.type(json.decode("42")), "integer")
  eq(json.decode(" [ ] "), json.array{})
  local err = raises(function() json.decode('{"a":1,}') end, "syntax")
  ok(err.message:find("line 1"), err.message)
  raises(function() json.decode("[1, 2") end, "syntax")
  raises(function() json.decode("nul") end, "syntax")
  raises(function() json.decode('"\\ud800"') end, "syntax")
  raises(function() json.decode("1 2") end, "text after the value")
end)
