-- audit_chain_test.lua — the audit chain's head, which audit.append keeps
-- per connection instead of reading the last row before every append
-- (lib/koop/audit.lua), db:txid() that tells it when to read the head
-- again (src/db.c), and the atomicity of one domain write (its row and its
-- audit row, lib/koop/entity.lua).  The chain verifies and every added row
-- has its audit row after: commits; a rolled-back outer transaction; a
-- savepoint that db:tx rolled back; ROLLBACK TO a savepoint run by hand
-- (the rows after the head vanish, txid stays); a ROLLBACK run by hand; a
-- second connection appending between two of our transactions.  A failure
-- injected between a row's INSERT and its audit row's (a trigger refusing
-- the audit row; an error in audit.append before or after its INSERT; an
-- error raised by a hook after each number of Lua instructions of an add
-- in turn, in a transaction that is then committed) leaves neither row,
-- for a plain add and for m:attend.  The seals: they follow every commit
-- and rollback, verify names what was edited behind koop's back, and
-- audit.bulk_insert seals many rows by one aggregate.
-- Run with: koop test tests/lua/audit_chain_test.lua

local inst

-- An institution for people to belong to (each test has a fresh db).
local function setup()
  inst = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS" }
end

local function add(first_name)
  return people.add{ first_name = first_name, last_name = "Kowalska", institution = inst }
end

-- The first names of the people, in id order.
local function names()
  local out = {}
  for n in db:urows("SELECT first_name FROM person ORDER BY id") do out[#out + 1] = n end
  return out
end

-- The chain verifies, and the people and the audit rows of their adds
-- are as many.
local function consistent(what)
  local intact, problems = audit.verify()
  eq(problems, {}, what .. ": the chain verifies")
  ok(intact, what .. ": verify says intact")
  eq(db:value("SELECT count(*) FROM audit_log WHERE entity = 'people' AND action = 'add'"),
     db:value("SELECT count(*) FROM person"), what .. ": one audit row per person")
  eq(db:value("SELECT count(*) FROM audit_log a WHERE a.entity = 'people' AND a.action = 'add'"
    .. " AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = a.entity_id)"), 0, what .. ": no audit row without its person")
end

-- The seq of the last audit row.
local function last_seq() return db:value("SELECT max(seq) FROM audit_log") end

local function tmpfile()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function cleanup(path)
  for _, suffix in ipairs{ "", "-wal", "-shm" } do os.remove(path .. suffix) end
end

------------------------------------------------------------------ db:txid

test("db:txid() stays the same within a transaction and changes when one ends", function()
  local t0 = db:txid()
  eq(math.type(t0), "integer")
  db:exec("CREATE TABLE t(x)")
  local t1 = db:txid()
  ok(t1 ~= t0, "a write in autocommit mode is a transaction that ends")
  db:value("SELECT count(*) FROM t")
  eq(db:txid(), t1, "a read changes nothing")
  local inside, after_release, after_undo
  db:tx(function()
    inside = db:txid()
    db:exec("INSERT INTO t VALUES (1)")
    db:tx(function() db:exec("INSERT INTO t VALUES (2)") end)
    after_release = db:txid()
    pcall(db.tx, db, function() db:exec("INSERT INTO t VALUES (3)"); error("undo") end)
    after_undo = db:txid()
  end)
  eq(after_release, inside, "a released savepoint does not end the transaction")
  ok(after_undo ~= inside, "a savepoint db:tx rolled back changes it")
  ok(db:txid() ~= after_undo, "COMMIT changes it")
  db:exec("BEGIN")
  local b = db:txid()
  db:exec("INSERT INTO t VALUES (4)")
  db:exec("ROLLBACK")
  ok(db:txid() ~= b, "a ROLLBACK by hand changes it")
  eq(db:value("SELECT count(*) FROM t"), 2)
  raises(function() db.txid(nil) end, "misuse")
end)

------------------------------------------------------------------ the head

test("appends in one transaction and in many chain up", function()
  setup()
  db:tx(function() for i = 1, 5 do add("A" .. i) end end)
  for i = 1, 5 do add("B" .. i) end
  consistent("commits")
  eq(#names(), 10)
end)

test("a rolled-back outer transaction: the next append follows the last committed row", function()
  setup()
  add("Anna")
  local seq = last_seq()
  local done = pcall(db.tx, db, function() add("Beata"); add("Celina"); error("undo") end)
  ok(not done)
  add("Dorota")
  eq(names(), { "Anna", "Dorota" })
  eq(last_seq(), seq + 1, "no gap: the counter was rolled back with the rows")
  consistent("outer rollback")
end)

test("a savepoint rolled back by db:tx inside a transaction", function()
  setup()
  db:tx(function()
    add("Anna")
    ok(not pcall(db.tx, db, function() add("Beata"); add("Celina"); error("undo") end))
    add("Dorota")
  end)
  eq(names(), { "Anna", "Dorota" })
  consistent("savepoint rollback")
end)

test("ROLLBACK TO a savepoint by hand: the next append does not follow the vanished rows", function()
  setup()
  db:tx(function()
    add("Anna")
    db:exec("SAVEPOINT mine")
    add("Beata")
    add("Celina")
    local txid = db:txid()
    db:exec("ROLLBACK TO mine")
    db:exec("RELEASE mine")
    eq(db:txid(), txid, "txid cannot see it: the INSERT must")
    add("Dorota")                   -- takes Beata's seq, after Anna
    db:exec("SAVEPOINT again")
    add("Ewa")
    db:exec("ROLLBACK TO again")
    db:exec("RELEASE again")
    add("Felicja")                  -- as many rows as were rolled back
  end)
  eq(names(), { "Anna", "Dorota", "Felicja" })
  consistent("ROLLBACK TO by hand")
end)

test("ROLLBACK and COMMIT by hand", function()
  setup()
  add("Anna")
  db:exec("BEGIN")
  add("Beata")
  db:exec("ROLLBACK")
  add("Celina")
  db:exec("BEGIN IMMEDIATE")
  add("Dorota")
  add("Ewa")
  db:exec("COMMIT")
  add("Felicja")
  eq(names(), { "Anna", "Celina", "Dorota", "Ewa", "Felicja" })
  consistent("by hand")
end)

test("a second connection appends between two transactions of ours", function()
  local path = tmpfile()
  local mine = koop.open(path)
  _G.db, koop.db = mine, mine
  setup()
  local other = koop.open(path)
  add("Anna")
  other:tx(function() audit.append(other, "access", "people", 1, nil, '{"what":"pesel"}') end)
  add("Beata")
  db:tx(function() add("Celina"); add("Dorota") end)
  other:tx(function()
    audit.append(other, "access", "people", 2, nil, '{"what":"pesel"}')
    audit.append(other, "access", "people", 3, nil, '{"what":"pesel"}')
  end)
  audit.append(other, "access", "people", 4, nil, '{"what":"pesel"}')   -- outside a transaction
  add("Ewa")
  eq(db:value("SELECT count(*) FROM audit_log WHERE action = 'access'"), 4)
  consistent("two connections")
  other:close()
  mine:close()
  cleanup(path)
end)

------------------------------------------------------------------ atomicity

test("the audit row refused by the database: the add writes nothing", function()
  setup()
  add("Anna")
  db:exec("CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON audit_log"
    .. " BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
  local e = raises(function() add("Beata") end, "constraint")
  ok(e.message:find("injected failure", 1, true), e.message)
  db:tx(function()                  -- inside a transaction that goes on and commits
    ok(not pcall(add, "Celina"))
    eq(names(), { "Anna" }, "no row without its audit row")
  end)
  db:exec("DROP TRIGGER refuse_audit")
  add("Dorota")
  eq(names(), { "Anna", "Dorota" })
  consistent("refused audit row")
end)

test("an error in audit.append, before or after its INSERT: the add writes nothing", function()
  setup()
  add("Anna")
  local real = audit.append
  db:tx(function()
    audit.append = function() error("injected before the audit row") end
    local done, e = pcall(add, "Beata")
    audit.append = function(...) real(...); error("injected after the audit row") end
    local done2, e2 = pcall(add, "Celina")
    audit.append = real
    ok(not done and tostring(e):find("before the audit row", 1, true), tostring(e))
    ok(not done2 and tostring(e2):find("after the audit row", 1, true), tostring(e2))
  end)
  audit.append = real
  add("Dorota")
  eq(names(), { "Anna", "Dorota" })
  consistent("error in audit.append")
end)

test("an add stopped after any number of its Lua instructions writes both rows or neither", function()
  setup()
  add("Anna")
  local stopped, completed = 0, false
  db:exec("BEGIN")                  -- kept open, as the REPL keeps a transaction the user began
  for n = 1, 5000 do
    local done = pcall(function()
      debug.sethook(function() debug.sethook(); error("stopped") end, "", n)
      add("P" .. n)
      debug.sethook()
    end)
    debug.sethook()
    if done then completed = true; break end
    stopped = stopped + 1
  end
  db:exec("COMMIT")
  ok(completed, "an add with room enough completes")
  ok(stopped > 100, ("the add was stopped at %d points"):format(stopped))
  consistent("stopped adds")          -- an add stopped after its RELEASE is there, whole
  ok(db:value("SELECT count(*) FROM person") < stopped / 10, "most stopped adds left nothing")
end)

test("a meeting's attendance stopped at any point: its row and audit row, or neither", function()
  setup()
  gminas.ensure("2612013")
  local a = agreements.add{ title = "Porozumienie" }
  local t = teams.add{ kind = "G-PZK", gmina = "2612013", agreement = a, name = "Zespół", formed_on = "2019-07-01" }
  local m = meetings.add{ team = t, kind = "warsztat", date = "2020-01-01", status = "held" }
  local p = add("Anna")
  local completed = false
  db:exec("BEGIN")
  for n = 1, 5000 do
    local done = pcall(function()
      debug.sethook(function() debug.sethook(); error("stopped") end, "", n)
      m:attend(p, "zdalnie")
      debug.sethook()
    end)
    debug.sethook()
    if done then completed = true; break end
  end
  db:exec("COMMIT")
  ok(completed)
  eq(db:value("SELECT count(*) || ' ' || min(status) FROM attendance"), "1 zdalnie", "one row per person and meeting")
  eq(db:value("SELECT group_concat(action) FROM audit_log WHERE entity = 'attendance'"), "add",
     "its one audit row (calls stopped after the add found the row, and changed nothing)")
  eq(m:attend(p, "obecny").status, "obecny", "a second call updates the row")
  eq(db:value("SELECT count(*) FROM audit_log WHERE entity = 'attendance'"), 2)
  local intact, problems = audit.verify()
  eq(problems, {})
  ok(intact)
end)

------------------------------------------------------------------ seals
-- The seals of the protected tables (audit.lua, src/seal.c) follow every
-- commit and rollback above, and audit.verify() says what and where when a
-- table is edited behind koop's back (its triggers dropped, then put back).

-- Run sql with table t's triggers dropped, and put them back.
local function behind(t, sql, ...)
  local triggers = db:query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", t)
  for _, g in ipairs(triggers) do db:exec("DROP TRIGGER " .. g.name) end
  db:exec(sql, ...)
  for _, g in ipairs(triggers) do db:exec(g.sql) end
end

-- The seal of table t as stored, and as the table's rows give it.
local function seal_of(t)
  local cols = {}
  for _, name in db:urows("SELECT cid, name FROM pragma_table_info(?)", t) do cols[#cols + 1] = name end
  local now = db:first(("SELECT count(*) AS rows, seal_sum(%s) AS digest FROM %s"):format(table.concat(cols, ", "), t))
  return db:first("SELECT rows, digest FROM koop_seal WHERE tbl = ?", t), now
end

test("seals follow commits, rolled-back savepoints and transactions, by hand too", function()
  setup()
  db:exec("BEGIN")
  add("Anna")
  db:exec("SAVEPOINT s")
  add("Beata"); add("Celina")
  db:exec("ROLLBACK TO s"); db:exec("RELEASE s")
  pcall(db.tx, db, function() add("Dorota"); error("no") end)
  db:exec("COMMIT")
  db:exec("BEGIN"); add("Ewa"); db:exec("ROLLBACK")
  add("Fryderyka")
  eq(names(), { "Anna", "Fryderyka" })
  local stored, now = seal_of("person")
  eq(stored, now, "the stored seal is the table's")
  eq(stored.rows, 2)
  local intact, problems, rows, tables = audit.verify()
  eq(problems, {})
  ok(intact and rows == 3 and tables > 30, ("%d audit rows, %d tables"):format(rows, tables))
end)

test("a row edited behind koop's back: which table, id and field", function()
  setup()
  local p = add("Anna")
  p:update{ phone = "15 867 40 00" }
  behind("person", "UPDATE person SET first_name = 'Hanna', phone = NULL WHERE id = ?", p.id)
  local intact, problems = audit.verify()
  eq(intact, false)
  local seq = db:value("SELECT max(seq) FROM audit_log")
  eq(problems, {
    "table person: its rows do not match its seal (changed behind koop's back)",
    ("people id %d: field first_name: audit says 'Anna', table has 'Hanna' (last change audit seq %d by %s)"):format(p.id, seq, koop.actor),
    ("people id %d: field phone: audit says '15 867 40 00', table has NULL (last change audit seq %d by %s)"):format(p.id, seq, koop.actor),
  })
end)

test("a row deleted, a row inserted, a seal changed, a trigger left dropped", function()
  setup()
  local a, b = add("Anna"), add("Beata")
  behind("person", "DELETE FROM person WHERE id = ?", a.id)
  behind("person", "INSERT INTO person (first_name, last_name, institution_id, active) VALUES ('Intruz', 'X', ?, 1)", inst.id)
  local _, problems = audit.verify()
  local added = db:value("SELECT max(id) FROM person")
  eq(problems, {
    "table person: its rows do not match its seal (changed behind koop's back)",
    ("people id %d is not in the audit log (inserted behind koop's back)"):format(added),
    ("people id %d was deleted behind koop's back (last audit seq %d)"):format(a.id, db:value("SELECT min(seq) FROM audit_log WHERE entity = 'people'")),
  })
  ok(b.id ~= added)
end)

test("the seal table and the schema snapshot are checked too", function()
  setup()
  add("Anna")
  db:exec("UPDATE koop_seal SET rows = rows + 1 WHERE tbl = 'person'")
  local _, problems = audit.verify()
  eq(problems[1], "table person: 1 rows, its seal says 2 (rows inserted or deleted behind koop's back)")
  db:exec("UPDATE koop_seal SET rows = rows - 1 WHERE tbl = 'person'")
  ok(audit.verify())
  db:exec("DROP TRIGGER seal_person_update")
  db:exec("UPDATE person SET last_name = 'Nowak'")
  local intact
  intact, problems = audit.verify()
  eq(intact, false)
  eq(problems[1], "table person: trigger seal_person_update was dropped")
  ok(problems[3] and problems[3]:find("field last_name: audit says 'Kowalska', table has 'Nowak'", 1, true), problems[3])
end)

test("audit.bulk_insert: one aggregate seals the rows, the same trigger comes back, a rollback undoes both", function()
  setup()
  add("Anna")
  local trigger = db:value("SELECT sql FROM sqlite_master WHERE name = 'seal_person_insert'")
  local ok_out, err = pcall(audit.bulk_insert, db, "person")
  ok(not ok_out and tostring(err):find("needs a transaction", 1, true), tostring(err))
  db:tx(function()
    local done = audit.bulk_insert(db, "person")
    eq(db:value("SELECT count(*) FROM sqlite_master WHERE name = 'seal_person_insert'"), 0, "dropped meanwhile")
    for i = 1, 50 do
      db:exec("INSERT INTO person (first_name, last_name, institution_id, active) VALUES (?, 'Nowak', ?, 1)", "P" .. i, inst.id)
    end
    done()
  end)
  eq(db:value("SELECT sql FROM sqlite_master WHERE name = 'seal_person_insert'"), trigger, "the same trigger is back")
  local stored, now = seal_of("person")
  eq(stored, now, "the stored seal is the table's")
  eq(stored.rows, 51)
  local intact, problems = audit.verify()
  eq(problems, {}, "raw SQL through koop's connection, like the seal triggers' own writes")
  ok(intact)
  -- rolled back: no rows, the trigger and the seal as before
  local before = seal_of("person")
  pcall(db.tx, db, function()
    audit.bulk_insert(db, "person")
    db:exec("INSERT INTO person (first_name, last_name, institution_id, active) VALUES ('Zofia', 'Nowak', ?, 1)", inst.id)
    error("no")
  end)
  eq(db:value("SELECT sql FROM sqlite_master WHERE name = 'seal_person_insert'"), trigger)
  eq(seal_of("person"), before)
  db:tx(function() eq(audit.bulk_insert(db, "audit_log"), nil, "an unsealed table: nothing to do") end)
end)

test("writes through koop keep the seals: raw SQL, cascades, the identity fast path", function()
  setup()
  local p = add("Anna")
  db:exec("UPDATE person SET phone = '600 600 600' WHERE id = ?", p.id)
  gminas.ensure("2612013")
  local c = cases.open{ opened_on = "2020-01-02" }
  local m = c:add_member{ first_name = "Adam", last_name = "Mazur", pesel = "84031201236", relation = "wnioskodawca" }
  m:correct{ last_name = "Mazurek" }
  local intact, problems = audit.verify()
  eq(problems, {})
  ok(intact)
  behind("case_member_identity", "UPDATE case_member_identity SET pesel = NULL")
  intact, problems = audit.verify()
  eq(problems[2], ("case_member_identities member %d: the names or PESEL differ from the audit record (seq %d by %s; the log keeps only their keyed hash)")
    :format(m.id, db:value("SELECT max(seq) FROM audit_log WHERE entity = 'case_member_identities'"), koop.actor))
end)
