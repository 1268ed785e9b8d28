-- db_test.lua — the SQLite binding (API.md §3): value types both ways,
-- positional and named parameters and their errors, exec/query/rows/urows/
-- first/value, the statement cache (reuse, nesting, eviction, reset on
-- break), transactions (commit, rollback, savepoints, the same error raised
-- again, yields), prepared statements, error objects (code, message, sql,
-- offset with a caret), opening (read-only, schema=false, WAL, a directory
-- or a non-SQLite file refused, busy), and close() finalising statements.
-- Run with: koop test tests/lua/db_test.lua

-- A fresh temporary file name (removed, with its WAL files, by cleanup).
local function tmpfile()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function cleanup(path)
  for _, suffix in ipairs{ "", "-wal", "-shm", "-journal" } do os.remove(path .. suffix) end
end

-- How many prepared statements of db hold this SQL (SQLite's sqlite_stmt).
local function prepared(sql)
  return db:value("SELECT count(*) FROM sqlite_stmt WHERE sql = ?", sql)
end

-------------------------------------------------------------------- values

test("integers stay exact 64-bit integers", function()
  for _, n in ipairs{ 0, 1, -1, math.maxinteger, math.mininteger, (1 << 53) + 1 } do
    local v = db:value("SELECT ?", n)
    eq(v, n)
    eq(math.type(v), "integer")
  end
  db:exec("CREATE TABLE n(i INTEGER)")
  db:exec("INSERT INTO n VALUES(?), (?)", math.maxinteger, math.mininteger)
  eq(db:value("SELECT max(i) FROM n"), math.maxinteger)
  eq(db:value("SELECT min(i) FROM n"), math.mininteger)
  eq(db:value("SELECT typeof(?)", 7), "integer")
end)

test("floats stay floats, even whole ones", function()
  eq(db:value("SELECT ?", 1.5), 1.5)
  eq(db:value("SELECT typeof(?)", 3.0), "real")
  local v = db:value("SELECT ?", 3.0)
  eq(math.type(v), "float")
  eq(v, 3.0)
  eq(db:value("SELECT ?", -0.1), -0.1)
  eq(db:value("SELECT 1e308 * 10"), math.huge)
end)

test("booleans become 0 and 1", function()
  eq(db:value("SELECT ?", true), 1)
  eq(db:value("SELECT ?", false), 0)
  eq(db:value("SELECT typeof(?)", true), "integer")
  db:exec("CREATE TABLE f(flag INTEGER)")
  db:exec("INSERT INTO f VALUES(?), (?), (?)", true, false, true)
  eq(db:value("SELECT sum(flag) FROM f"), 2)
end)

test("nil and koop.null bind NULL; NULL reads as nil", function()
  eq(db:value("SELECT typeof(?)", nil), "null")
  eq(db:value("SELECT typeof(?)", koop.null), "null")
  eq(db:value("SELECT NULL"), nil)
  eq(db:value("SELECT ? IS NULL AND ? = 2", koop.null, 2), 1)
  eq(tostring(koop.null), "koop.null")
end)

test("blobs bind as BLOB and read back as strings", function()
  local bytes = "\0\1\2\255binary\0"
  local b = koop.blob(bytes)
  eq(#b, #bytes)
  eq(db:value("SELECT typeof(?)", b), "blob")
  eq(db:value("SELECT length(?)", b), #bytes)
  eq(db:value("SELECT ?", b), bytes)
  db:exec("CREATE TABLE bl(data BLOB)")
  db:exec("INSERT INTO bl VALUES(?)", b)
  eq(db:value("SELECT data FROM bl"), bytes)
  eq(db:value("SELECT typeof(?)", koop.blob("")), "blob")
  ok(tostring(b):find("%d+ bytes"))
end)

test("text round-trips as UTF-8, embedded zeros included", function()
  local s = "Zażółć gęślą jaźń — Ośrodek Pomocy Społecznej"
  eq(db:value("SELECT ?", s), s)
  eq(db:value("SELECT typeof(?)", s), "text")
  eq(db:value("SELECT length(?)", "zażółć"), 6)
  eq(db:value("SELECT ?", "a\0b"), "a\0b")
  local big = ("x"):rep(1000000)
  eq(#db:value("SELECT ?", big), 1000000)
  eq(db:value("SELECT ''"), "")
end)

test("values of other types are refused, naming the parameter", function()
  local e = raises(function() db:exec("SELECT :a, :name", { a = 1, name = {} }) end, "misuse")
  eq(e.message, "bad parameter 2 (:name) to db:exec: table values cannot be bound")
  eq(e.field, "name")
  e = raises(function() db:value("SELECT ?, ?", 1, print) end, "misuse")
  eq(e.message, "bad parameter 2 to db:value: function values cannot be bound")
  e = raises(function() db:query("SELECT ?3", 1, 2, db) end, "misuse")
  eq(e.message, "bad parameter 3 (?3) to db:query: Db values cannot be bound")
  raises(function() db:exec("SELECT ?", coroutine.create(print)) end, "misuse")
end)

---------------------------------------------------------------- parameters

test("positional parameters: ?, ?NNN, and a clear error on a wrong count", function()
  eq(db:value("SELECT ? || ?", "a", "b"), "ab")
  eq(db:value("SELECT ?2 || ?1", "a", "b"), "ba")
  eq(db:value("SELECT :x + :y", 1, 2), 3)
  local e = raises(function() db:exec("SELECT ?", 1, 2) end, "misuse")
  eq(e.message, "db:exec: 2 values given for 1 parameter")
  e = raises(function() db:value("SELECT ?, ?", 1) end, "misuse")
  eq(e.message, "db:value: 1 value given for 2 parameters")
  raises(function() db:exec("SELECT 1", 5) end, "misuse")
  -- a trailing nil counts as a value: NULL
  eq(db:value("SELECT coalesce(?, 'none')", nil), "none")
end)

test("named parameters :name, @name, $name from one table", function()
  eq(db:value("SELECT :a + @b + $c", { a = 1, b = 10, c = 100 }), 111)
  eq(db:value("SELECT :a * :a", { a = 7 }), 49)
  eq(db:value("SELECT :missing IS NULL", {}), 1)
  local e = raises(function() db:value("SELECT ?", { 1 }) end, "misuse")
  ok(e.message:find("positional parameter", 1, true), e.message)
  -- values may come through __index
  local obj = setmetatable({}, { __index = function(_, k) return k .. "!" end })
  eq(db:value("SELECT :hey", obj), "hey!")
  -- an error in __index leaves the statement usable
  local bad = setmetatable({}, { __index = function() error("no fields here") end })
  raises(function() db:value("SELECT :x", bad) end, "no fields here")
  eq(db:value("SELECT :x", { x = 5 }), 5)
end)

------------------------------------------------------------------- methods

test("exec runs scripts, binds across statements and counts changes", function()
  eq(db:exec([[
    CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);
    -- a comment between statements
    INSERT INTO t(name) VALUES('a');
    INSERT INTO t(name) VALUES('b');
  ]]), 2)
  eq(db:exec("INSERT INTO t(name) VALUES(?); INSERT INTO t(name) VALUES(?)", "c", "d"), 2)
  eq(db:exec("INSERT INTO t(name) VALUES(:n); UPDATE t SET name = upper(name) WHERE name = :n",
             { n = "e" }), 2)
  eq(db:exec("UPDATE t SET name = name || '.'"), 5)
  eq(db:changes(), 5)
  eq(db:exec("INSERT INTO t(name) VALUES('f')"), 1)
  eq(db:last_insert_id(), 6)
  eq(db:exec("SELECT * FROM t"), 0)
  eq(db:exec(""), 0)
  eq(db:exec("-- nothing but a comment"), 0)
  local e = raises(function() db:exec("INSERT INTO t(name) VALUES(?); SELECT ?", "x") end, "misuse")
  eq(e.message, "db:exec: 1 value given for 2 parameters")
  e = raises(function() db:exec("SELECT 1; SELECT ?", 1, 2) end, "misuse")
  eq(e.message, "db:exec: 2 values given for 1 parameter")
end)

test("query returns rows with named fields and the columns in order", function()
  db:exec("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT, phone TEXT)")
  db:exec("INSERT INTO p(name, phone) VALUES('Anna', '123'), ('Jan', NULL)")
  local rs = db:query("SELECT id, name, phone FROM p ORDER BY id")
  eq(rs.columns, { "id", "name", "phone" })
  eq(#rs, 2)
  eq(rs[1], { id = 1, name = "Anna", phone = "123" })
  eq(rs[2], { id = 2, name = "Jan" })              -- NULL is absent
  eq(getmetatable(rs).__name, "ResultSet")
  local text = tostring(rs)
  ok(text:find("name", 1, true) and text:find("Anna", 1, true), text)
  local empty = db:query("SELECT name AS who FROM p WHERE 0")
  eq(#empty, 0)
  eq(empty.columns, { "who" })
  -- a repeated column name gets a suffix instead of hiding a column
  local dup = db:query("SELECT 1 AS id, 2 AS id, 3 AS [id:1]")
  eq(dup.columns, { "id", "id:2", "id:1" })
  eq(dup[1], { id = 1, ["id:2"] = 2, ["id:1"] = 3 })
  raises(function() db:query("SELECT 1; SELECT 2") end, "misuse")
  raises(function() db:query("  ") end, "misuse")
end)

test("first and value", function()
  db:exec("CREATE TABLE v(a, b)")
  eq(db:first("SELECT * FROM v"), nil)
  eq(db:value("SELECT a FROM v"), nil)
  db:exec("INSERT INTO v VALUES(1, 'x'), (2, 'y')")
  eq(db:first("SELECT * FROM v ORDER BY a"), { a = 1, b = "x" })
  eq(db:first("SELECT * FROM v WHERE a = ?", 2), { a = 2, b = "y" })
  eq(db:value("SELECT b FROM v WHERE a = :a", { a = 2 }), "y")
  eq(db:value("SELECT count(*) FROM v"), 2)
  -- first() leaves the statement reset: the table can be dropped
  db:first("SELECT * FROM v")
  db:exec("DROP TABLE v")
end)

test("rows iterates named rows; break resets the statement at once", function()
  db:exec("CREATE TABLE r(x)")
  db:exec("INSERT INTO r VALUES(1), (2), (3)")
  local seen = {}
  for row in db:rows("SELECT x FROM r ORDER BY x") do seen[#seen + 1] = row.x end
  eq(seen, { 1, 2, 3 })
  for row in db:rows("SELECT x FROM r WHERE x > ?", 1) do
    eq(row.x, 2)
    break
  end
  eq(db:value("SELECT busy FROM sqlite_stmt WHERE sql = 'SELECT x FROM r WHERE x > ?'"), 0)
  -- an error in the loop body resets it too
  pcall(function() for _ in db:rows("SELECT x FROM r") do error("stop") end end)
  db:exec("DROP TABLE r")                        -- no "table is locked"
  eq(db:value("SELECT count(*) FROM sqlite_master WHERE name = 'r'"), 0)
end)

test("urows gives positional values; a NULL first column does not end the loop", function()
  db:exec("CREATE TABLE u(a, b, c)")
  db:exec("INSERT INTO u VALUES(1, 'one', 1.5), (2, NULL, NULL), (NULL, 'three', 3)")
  local got = {}
  for a, b, c in db:urows("SELECT a, b, c FROM u ORDER BY rowid") do
    got[#got + 1] = { a, b, c }
  end
  eq(#got, 3)
  eq(got[1], { 1, "one", 1.5 })
  eq(got[2], { 2 })
  eq(got[3][1], koop.null)
  eq(got[3][2], "three")
  local n = 0
  for _ in db:urows("SELECT a FROM u WHERE a > :min", { min = 1 }) do n = n + 1 end
  eq(n, 1)
  for _ in db:urows("SELECT * FROM u") do break end
  db:exec("DROP TABLE u")
end)

test("a loop's iterator called after its end keeps returning nothing", function()
  local f, s, c, closing = db:urows("SELECT 1")
  eq(type(f), "function")
  eq(f(s, c), 1)
  eq(select("#", f(s, c)), 0)
  eq(select("#", f(s, c)), 0)
  ok(closing)
end)

------------------------------------------------------------ statement cache

test("the same SQL reuses one prepared statement", function()
  db:exec("CREATE TABLE c(x)")
  for i = 1, 100 do db:exec("INSERT INTO c VALUES(?)", i) end
  eq(prepared("INSERT INTO c VALUES(?)"), 1)
  eq(db:value("SELECT 40 + 2"), 42)
  eq(db:value("SELECT 40 + 2"), 42)
  eq(prepared("SELECT 40 + 2"), 1)
  -- a cached statement follows schema changes
  local star = "SELECT * FROM c LIMIT 1"
  eq(db:first(star), { x = 1 })
  db:exec("ALTER TABLE c ADD COLUMN y DEFAULT 'new'")
  eq(db:first(star), { x = 1, y = "new" })
end)

test("nested use of the same SQL gets a statement of its own", function()
  db:exec("CREATE TABLE n(x)")
  db:exec("INSERT INTO n VALUES(1), (2), (3)")
  local q = "SELECT x FROM n ORDER BY x"
  local pairs_seen = {}
  for a in db:urows(q) do
    for b in db:urows(q) do pairs_seen[#pairs_seen + 1] = a * 10 + b end
    eq(db:value("SELECT count(*) FROM (" .. q .. ")"), 3)
  end
  eq(#pairs_seen, 9)
  eq(pairs_seen[9], 33)
  eq(prepared(q), 1)                   -- the nested one was finalised
  for r in db:rows(q) do eq(db:first(q), { x = 1 }); break end
end)

test("the cache keeps at most 64 statements", function()
  for i = 1, 200 do eq(db:value("SELECT " .. i), i) end
  ok(db:value("SELECT count(*) FROM sqlite_stmt") <= 65)
  eq(db:value("SELECT 1"), 1)
  eq(db:value("SELECT 200"), 200)
end)

-------------------------------------------------------------- transactions

test("tx commits and returns the function's results", function()
  db:exec("CREATE TABLE a(x)")
  local r1, r2 = db:tx(function(v)
    ok(db:in_transaction())
    db:exec("INSERT INTO a VALUES(?)", v)
    return "done", v
  end, 42)
  eq({ r1, r2 }, { "done", 42 })
  ok(not db:in_transaction())
  eq(db:value("SELECT x FROM a"), 42)
  eq(select("#", db:tx(function() end)), 0)
end)

test("tx rolls back and raises the same error value again", function()
  db:exec("CREATE TABLE a(x)")
  local err = koop.error("invalid", "a reason")
  local got = raises(function()
    db:tx(function() db:exec("INSERT INTO a VALUES(1)"); error(err) end)
  end)
  ok(rawequal(got, err), "the very same error object")
  eq(db:value("SELECT count(*) FROM a"), 0)
  ok(not db:in_transaction())
  -- a string error keeps its position (level) unchanged
  local ok1, msg = pcall(db.tx, db, function() error("boom") end)
  ok(not ok1)
  ok(msg:find("db_test%.lua:%d+: boom$"), msg)
  local _, msg2 = pcall(db.tx, db, function() error("plain", 0) end)
  eq(msg2, "plain")
  local _, tbl = pcall(db.tx, db, function() error({ 1, 2 }) end)
  eq(tbl, { 1, 2 })
end)

test("SQL errors inside tx roll back and keep their error object", function()
  db:exec("CREATE TABLE a(x UNIQUE)")
  local e = raises(function()
    db:tx(function()
      db:exec("INSERT INTO a VALUES(1)")
      db:exec("INSERT INTO a VALUES(1)")
    end)
  end, "constraint")
  ok(e.message:find("UNIQUE constraint failed: a.x", 1, true), e.message)
  eq(db:value("SELECT count(*) FROM a"), 0)
end)

test("a savepoint that rewrites a large table (a journal of megabytes) commits or rolls back whole", function()
  -- koop keeps statement and savepoint journals in memory (db.c,
  -- koop_db_setup); SQLite 3.40 failed a spill to a temp file past a
  -- threshold other than its default with "disk is full"
  local path = tmpfile()
  local d = koop.open(path)
  d:exec("CREATE TABLE t(a, b)")
  d:exec("WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 50000) "
    .. "INSERT INTO t SELECT k, hex(randomblob(50)) FROM n")
  d:tx(function() d:tx(function() d:exec("UPDATE t SET b = b || 'x'") end) end)
  eq(d:value("SELECT count(*) FROM t WHERE b LIKE '%x'"), 50000)
  raises(function()
    d:tx(function() d:tx(function()
      d:exec("UPDATE t SET b = b || 'y'")
      koop.raise{ code = "invalid", message = "undo it" }
    end) end)
  end, "invalid")
  eq(d:value("SELECT count(*) FROM t WHERE b LIKE '%y'"), 0)
  d:close()
  cleanup(path)
end)

test("nested tx are savepoints", function()
  db:exec("CREATE TABLE a(x)")
  db:tx(function()
    db:exec("INSERT INTO a VALUES('outer')")
    local okk = pcall(db.tx, db, function()
      db:exec("INSERT INTO a VALUES('inner, undone')")
      error("inner fails")
    end)
    ok(not okk)
    ok(db:in_transaction(), "the outer transaction goes on")
    db:tx(function()
      db:exec("INSERT INTO a VALUES('inner, kept')")
      db:tx(function() db:exec("INSERT INTO a VALUES('deeper')") end)
    end)
  end)
  eq(db:query("SELECT x FROM a ORDER BY rowid"), setmetatable(
    { { x = "outer" }, { x = "inner, kept" }, { x = "deeper" }, columns = { "x" } },
    getmetatable(db:query("SELECT 1"))))
  -- an outer failure undoes committed inner savepoints too
  pcall(db.tx, db, function()
    db:tx(function() db:exec("INSERT INTO a VALUES('lost')") end)
    error("outer fails")
  end)
  eq(db:value("SELECT count(*) FROM a WHERE x = 'lost'"), 0)
  -- tx inside a transaction opened by hand is a savepoint too
  db:exec("BEGIN")
  pcall(db.tx, db, function() db:exec("INSERT INTO a VALUES('sp')"); error("x") end)
  ok(db:in_transaction())
  db:exec("COMMIT")
  eq(db:value("SELECT count(*) FROM a WHERE x = 'sp'"), 0)
end)

test("tx notices a transaction ended inside the function", function()
  db:exec("CREATE TABLE a(x)")
  raises(function() db:tx(function() db:exec("ROLLBACK") end) end, "abort")
  ok(not db:in_transaction())
  raises(function() db:tx(function() db:tx(function() db:exec("COMMIT") end) end) end, "abort")
  ok(not db:in_transaction())
  raises(function() db:tx("not a function") end, "misuse")
end)

test("tx works across coroutine yields", function()
  db:exec("CREATE TABLE a(x)")
  local co = coroutine.wrap(function()
    return db:tx(function()
      db:exec("INSERT INTO a VALUES(1)")
      coroutine.yield("paused")
      db:exec("INSERT INTO a VALUES(2)")
      return "finished"
    end)
  end)
  eq(co(), "paused")
  ok(db:in_transaction())
  eq(co(), "finished")
  ok(not db:in_transaction())
  eq(db:value("SELECT count(*) FROM a"), 2)
end)

-------------------------------------------------------- prepared statements

test("prepare, bind, step, reset, rows, urows, columns, close", function()
  db:exec("CREATE TABLE s(a INTEGER, b TEXT)")
  local ins = db:prepare("INSERT INTO s VALUES(?, ?)")
  ok(tostring(ins):find('^Stmt%("INSERT'), tostring(ins))
  eq(ins:bind(1, "one"):step(), nil)
  eq(ins:bind(2, "two"):step(), nil)
  eq(ins:exec(3, "three"), 1)
  local tmp = "temp"
  eq(ins:bind(4, tmp .. "orary"):exec(), 1)          -- bound text is copied
  collectgarbage()
  eq(db:value("SELECT b FROM s WHERE a = 4"), "temporary")
  local q = db:prepare("SELECT a, b FROM s WHERE a >= :min ORDER BY a")
  eq(q:columns(), { "a", "b" })
  q:bind{ min = 2 }
  eq(q:step(), { a = 2, b = "two" })
  eq(q:step(), { a = 3, b = "three" })
  q:reset()
  eq(q:step(), { a = 2, b = "two" })
  local n = 0
  for row in q:rows() do n = n + 1; ok(row.a >= 2) end      -- bindings kept
  eq(n, 3)
  local as = {}
  for a in q:urows{ min = 3 } do as[#as + 1] = a end
  eq(as, { 3, 4 })
  for _ in q:rows{ min = 1 } do break end
  db:exec("CREATE TABLE later(x)")                          -- q was reset
  raises(function() q:bind(1, 2) end, "misuse")
  raises(function() db:prepare("SELECT 1; SELECT 2") end, "misuse")
  raises(function() db:prepare("") end, "misuse")
  q:close()
  q:close()
  eq(tostring(q), "Stmt(closed)")
  local e = raises(function() q:step() end, "misuse")
  ok(e.message:find("closed"), e.message)
  ins:close()
end)

test("stmt:step raises SQL errors as error objects", function()
  db:exec("CREATE TABLE k(id INTEGER PRIMARY KEY)")
  local ins = db:prepare("INSERT INTO k VALUES(?)")
  ins:bind(1):step()
  local e = raises(function() ins:bind(1):step() end, "constraint")
  eq(e.sql, "INSERT INTO k VALUES(?)")
  ins:bind(2):step()                                  -- usable again
  eq(db:value("SELECT count(*) FROM k"), 2)
end)

------------------------------------------------------------------ errors

test("a parse error shows where, like the sqlite3 shell", function()
  local e = raises(function() db:exec("SELECT * FRM t") end, "sql")
  eq(e.message, 'Parse error: near "FRM": syntax error\n  SELECT * FRM t\n           ^--- error here')
  eq(e.sql, "SELECT * FRM t")
  eq(e.offset, 9)
  eq(e.extended_code, 1)
  ok(koop.is_error(e))
  local long = "SELECT name, kind, sector, level, regon FROM institutions WHER id = 1"
  e = raises(function() db:query(long) end, "sql")
  ok(e.message:find("error here ---^", 1, true), e.message)
  e = raises(function() db:query("SELECT 1,\n  2,\n  3 +\nFROM x") end, "sql")
  ok(e.message:find("line 4 of the SQL", 1, true), e.message)
  ok(e.message:find("\n  FROM x\n  ^--- error here", 1, true), e.message)
  e = raises(function() db:value("SELECT * FROM no_such_table") end, "sql")
  ok(e.message:find("^Parse error: no such table: no_such_table"), e.message)
  -- the offset counts from the start of a script, not of the failing statement
  e = raises(function() db:exec("SELECT 1; SELECT 2; SELEC 3") end, "sql")
  eq(e.offset, 20)
end)

test("runtime errors: constraint, with code, extended code, message and sql", function()
  db:exec("CREATE TABLE parent(id INTEGER PRIMARY KEY)")
  db:exec("CREATE TABLE child(pid INTEGER REFERENCES parent(id), n NOT NULL)")
  local e = raises(function() db:exec("INSERT INTO child VALUES(1, 1)") end, "constraint")
  eq(e.message, "Runtime error: FOREIGN KEY constraint failed")
  eq(e.extended_code, 787)                             -- SQLITE_CONSTRAINT_FOREIGNKEY
  eq(e.sql, "INSERT INTO child VALUES(1, 1)")
  db:exec("INSERT INTO parent VALUES(1)")
  e = raises(function() db:exec("INSERT INTO child VALUES(1, ?)", nil) end, "constraint")
  eq(e.message, "Runtime error: NOT NULL constraint failed: child.n")
  e = raises(function() for _ in db:rows("SELECT abs(?)", math.mininteger) do end end, "sql")
  eq(e.message, "Runtime error: integer overflow")
  eq(db:value("SELECT count(*) FROM child"), 0)
end)

test("misuse: wrong self, bad SQL argument", function()
  local e = raises(function() db.exec("SELECT 1") end, "misuse")
  ok(e.message:find("db:method", 1, true), e.message)
  raises(function() db:exec(42) end, "misuse")
  raises(function() db:query() end, "misuse")
end)

------------------------------------------------------- opening and closing

test("a connection: tostring, path, pragmas, collation", function()
  eq(tostring(db), 'Db(":memory:")')
  eq(db:path(), ":memory:")
  eq(db:value("PRAGMA foreign_keys"), 1)
  ok(not db:readonly())
  eq(db:value("SELECT 'ą' < 'b' COLLATE PL"), 1)
  eq(db:value("SELECT pl_upper('żółw')"), "ŻÓŁW")
  raises(function() koop.open(":memory:", { redonly = true }) end, "invalid")
end)

test("a file database uses WAL; schema=false leaves a foreign file as it was", function()
  local path = tmpfile()
  local d = koop.open(path)
  eq(d:value("PRAGMA journal_mode"), "wal")
  eq(d:value("PRAGMA busy_timeout"), 5000)
  d:close()
  local foreign = tmpfile()
  local f = koop.open(foreign, { schema = false })
  eq(f:value("PRAGMA journal_mode"), "delete")
  f:exec("CREATE TABLE x(a)")
  f:close()
  eq(tostring(f), 'Db("' .. foreign .. '", closed)')
  cleanup(path)
  cleanup(foreign)
end)

test("a read-only connection reads but refuses to write", function()
  local path = tmpfile()
  local w = koop.open(path)
  w:exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)")
  w:close()
  local r = koop.open(path, { readonly = true })
  ok(r:readonly())
  eq(r:value("SELECT x FROM t"), 1)
  local e = raises(function() r:exec("INSERT INTO t VALUES(2)") end, "readonly")
  ok(e.message:find("opened read-only", 1, true), e.message)
  eq(r:tx(function() return r:value("SELECT count(*) FROM t") end), 1)
  r:close()
  raises(function() koop.open(tmpfile(), { readonly = true }) end, "cantopen")
  cleanup(path)
end)

test("a directory and a non-SQLite file are refused", function()
  local e = raises(function() koop.open(".") end, "cantopen")
  ok(e.message:find(". is a directory", 1, true), e.message)
  local path = tmpfile()
  local fh = assert(io.open(path, "wb"))
  fh:write(("this is a CSV file, not a database\n"):rep(200))
  fh:close()
  e = raises(function() koop.open(path) end, "notadb")
  ok(e.message:find(path, 1, true), e.message)
  fh = assert(io.open(path, "rb"))
  ok(fh:read("a"):find("^this is a CSV"), "the file is untouched")
  fh:close()
  cleanup(path)
  raises(function() koop.open("/no/such/dir/x.db") end, "cantopen")
end)

test("a name starting with file: is a file, not a URI", function()
  local name = "file:koop_db_test.tmp.db?mode=ro"
  local d = koop.open(name)
  d:exec("CREATE TABLE t(x)")
  ok(not d:readonly())
  d:close()
  ok(io.open(name, "rb")):close()
  cleanup(name)
end)

test("db:tx goes no further once its transaction is lost (as SQLite rolls back on a full disk)", function()
  db:exec("CREATE TABLE t(x)")
  local e = raises(function()
    db:tx(function()
      db:exec("INSERT INTO t VALUES (1)")
      db:exec("ROLLBACK")                      -- what SQLite does after SQLITE_FULL
      pcall(db.tx, db, function() db:exec("INSERT INTO t VALUES (2)") end)
      db:exec("INSERT INTO t VALUES (3)")      -- would commit on its own
    end)
  end, "abort")
  ok(e.message:find("rolled back by an earlier error in it", 1, true), e.message)
  eq(db:value("SELECT count(*) FROM t"), 0)
  eq(db:tx(function() return db:exec("INSERT INTO t VALUES (4)") end), 1)  -- the next db:tx works
end)

test("busy: another writer holds the lock", function()
  local path = tmpfile()
  local a, b = koop.open(path), koop.open(path)
  a:exec("CREATE TABLE t(x)")
  b:exec("PRAGMA busy_timeout = 30")
  a:exec("BEGIN IMMEDIATE")
  local e = raises(function() b:exec("INSERT INTO t VALUES(1)") end, "busy")
  ok(e.message:find("is busy: another connection of this process holds the write lock; koop waited 30 ms", 1, true), e.message)
  raises(function() b:tx(function() end) end, "busy")
  a:exec("COMMIT")
  eq(b:exec("INSERT INTO t VALUES(1)"), 1)
  a:close()
  b:close()
  cleanup(path)
end)

test("close finalises every statement; their users get a clear error", function()
  local d = koop.open(":memory:")
  d:exec("CREATE TABLE t(x); INSERT INTO t VALUES(1), (2)")
  local st = d:prepare("SELECT x FROM t")
  st:step()
  local it, s, c = d:urows("SELECT x FROM t")
  eq(it(s, c), 1)
  local rows = d:rows("SELECT x FROM t")
  d:value("SELECT 1")
  d:close()
  d:close()
  ok(tostring(d):find("closed"))
  raises(function() st:step() end, "misuse")
  local e = raises(function() it(s, c) end, "misuse")
  ok(e.message:find("closed"), e.message)
  raises(function() rows() end, "misuse")
  e = raises(function() d:exec("SELECT 1") end, "misuse")
  eq(e.message, "db:exec: the database is closed")
  eq(d:path(), ":memory:")
  st:close()
end)

test("connections and statements left to the garbage collector", function()
  local st
  do
    local d = koop.open(":memory:")
    d:exec("CREATE TABLE t(x); INSERT INTO t VALUES(7)")
    st = d:prepare("SELECT x FROM t")
    local it = d:urows("SELECT x FROM t")
    it()
  end
  collectgarbage()
  collectgarbage()
  eq(st:step(), { x = 7 })                 -- the statement keeps its db alive
  st = nil
  collectgarbage()
  for _ = 1, 100 do koop.open(":memory:"):value("SELECT 1") end
  collectgarbage()
end)

test("<close> on a connection and on an iterator's closing value", function()
  local d <close> = koop.open(":memory:")
  d:exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)")
  do
    local _, _, _, cursor <close> = d:rows("SELECT x FROM t")
  end
  d:exec("DROP TABLE t")
end)
