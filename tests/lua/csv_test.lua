-- csv_test.lua — koop.csv (API.md §3): rows as named tables, arrays and
-- values (unpack); the 4 generic-for values, with break, an error in the
-- body and the end of the file all closing the reader; separators (; , TAB
-- detected, or given); BOM, CRLF, quoted fields with separators, quotes
-- and newlines; header options (false, a list of names, empty and duplicate
-- names); skip and ragged; error objects with code, file and line for a
-- wrong field count, an unterminated quote, bytes that are not UTF-8 and a
-- missing file; CP1250 input and detect_encoding; the reader object
-- (:header, :read, :line, :sep, :rows, :close); loading rows into SQLite.
-- Run with: koop test tests/lua/csv_test.lua

-- Write content to a fresh temporary file; returns its path.
local function file(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- All rows of path with opts, as a list.
local function all(path, opts)
  local list = {}
  for row in koop.csv.rows(path, opts) do list[#list + 1] = row end
  return list
end

local GMINY = "\xEF\xBB\xBFteryt;nazwa;kwota\r\n"
  .. "2612012;Bogoria;\"56 340,00\"\r\n"
  .. "2609052;\"Łoniów; gmina\";\r\n"
  .. "2011032;\"Korycin\n(podlaskie)\";\"7 \"\"zł\"\"\"\r\n"

test("rows come as tables keyed by the header", function()
  local path = file(GMINY)
  eq(all(path), {
    { teryt = "2612012", nazwa = "Bogoria", kwota = "56 340,00" },
    { teryt = "2609052", nazwa = "Łoniów; gmina", kwota = "" },
    { teryt = "2011032", nazwa = "Korycin\n(podlaskie)", kwota = '7 "zł"' },
  })
  os.remove(path)
end)

test("unpack = true gives the fields as values", function()
  local path = file(GMINY)
  local seen = {}
  for teryt, nazwa, kwota in koop.csv.rows(path, { unpack = true }) do
    seen[#seen + 1] = teryt .. "|" .. nazwa .. "|" .. kwota
  end
  eq(seen, { "2612012|Bogoria|56 340,00", "2609052|Łoniów; gmina|", '2011032|Korycin\n(podlaskie)|7 "zł"' })
  os.remove(path)
end)

test("header = false gives arrays, the header row included", function()
  local path = file("a,b\n1,2\n")
  eq(all(path, { header = false }), { { "a", "b" }, { "1", "2" } })
  os.remove(path)
end)

test("header = a list of names: the file has no header row", function()
  local path = file("1;Bogoria\n2;Łoniów\n")
  eq(all(path, { header = { "id", "name" } }), { { id = "1", name = "Bogoria" }, { id = "2", name = "Łoniów" } })
  local wide = file("1;2;3\n")
  local err = raises(function() all(wide, { header = { "id", "name" } }) end, "csv")
  eq(err.line, 1)
  os.remove(path)
  os.remove(wide)
end)

test("an empty header name keys the field by its position", function()
  local path = file("id,,name\n1,x,y\n")
  eq(all(path), { { id = "1", [2] = "x", name = "y" } })
  os.remove(path)
end)

test("a field name used twice is an error", function()
  local path = file("id,name,id\n1,2,3\n")
  local err = raises(function() all(path) end, "csv")
  ok(err.message:find('field name "id" appears twice %(fields 1 and 3%)'), err.message)
  eq(#all(path, { header = false }), 2)
  os.remove(path)
end)

test("separators: detected from the header line, or given", function()
  local semi, tab, comma = file("a;b,c\n1;2,3\n"), file("a\tb\n1\t2\n"), file("\"x;y\",z\n1,2\n")
  eq(all(semi), { { a = "1", ["b,c"] = "2,3" } })
  eq(all(tab), { { a = "1", b = "2" } })
  eq(all(comma), { { ["x;y"] = "1", z = "2" } })
  eq(all(semi, { sep = "," }), { { ["a;b"] = "1;2", c = "3" } })
  raises(function() all(semi, { sep = ";;" }) end, "invalid")
  raises(function() all(semi, { sep = '"' }) end, "invalid")
  for _, p in ipairs{ semi, tab, comma } do os.remove(p) end
end)

test("the for loop gets 4 values; the 4th closes the file on break", function()
  local path = file(GMINY)
  local iter, state, control, closing = koop.csv.rows(path)
  eq(type(iter), "function")
  eq(control, nil)
  ok(rawequal(state, closing))
  for row in iter, state, control, closing do
    eq(row.nazwa, "Bogoria")
    break
  end
  eq(tostring(closing), "csv reader (closed)")
  os.remove(path)
end)

test("an error in the loop body and the end of the file close the reader", function()
  local path = file(GMINY)
  local iter, state, control, closing = koop.csv.rows(path)
  pcall(function() for _ in iter, state, control, closing do error("stop") end end)
  eq(tostring(closing), "csv reader (closed)")
  iter, state, control, closing = koop.csv.rows(path)
  for _ in iter, state, control, closing do end
  eq(tostring(closing), "csv reader (closed)")
  os.remove(path)
end)

test("a wrong field count is an error object naming file and line", function()
  local path = file("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n\"x\ny\",2,3,4,5\n1,2,3,4,5\n1,2,3,4\n")
  local n = 0
  local err = raises(function() for _ in koop.csv.rows(path) do n = n + 1 end end, "csv")
  eq(n, 4)
  eq(err.line, 7)
  eq(err.file, path)
  eq(err.message, path .. ": line 7: expected 5 fields, found 4")
  ok(tostring(err):find("line 7: expected 5 fields, found 4", 1, true))
  os.remove(path)
end)

test("ragged = true allows rows of any length", function()
  local path = file("a,b\n1\n1,2,3\n")
  eq(all(path, { ragged = true }), { { a = "1" }, { a = "1", b = "2", [3] = "3" } })
  os.remove(path)
end)

test("an unterminated quote names the line where it opened", function()
  local path = file("a,b\n1,2\n3,\"open\n4,5\n6,7\n")
  local err = raises(function() all(path) end, "csv")
  eq(err.line, 3)
  ok(err.message:find("line 3: the quote that opens field 2 is never closed", 1, true), err.message)
  os.remove(path)
end)

test("bytes that are not UTF-8 are an encoding error naming the line", function()
  local path = file("gmina;kto\nBogoria;x\n\xA3\xF3d\x9F;y\n")
  local err = raises(function() all(path) end, "encoding")
  eq(err.line, 3)
  ok(err.message:find("byte 0xA3 in field 1 is not valid UTF-8", 1, true), err.message)
  os.remove(path)
end)

test("encoding = 'cp1250' converts; detect_encoding tells which", function()
  local cp, utf, ascii = file("gmina;kto\n\xA3\xF3d\x9F;\xAF\xF3\xB3\xE6 \xB9\xE6\xEA\x9C\xF1 \x84x\x94\n"),
                         file(GMINY), file("a,b\n")
  eq(all(cp, { encoding = "cp1250" }), { { gmina = "Łódź", kto = "Żółć ąćęśń „x”" } })
  eq(all(cp, { encoding = "Windows-1250" })[1].gmina, "Łódź")
  eq(koop.csv.detect_encoding(cp), "cp1250")
  eq(koop.csv.detect_encoding(utf), "utf-8")
  eq(koop.csv.detect_encoding(ascii), "utf-8")
  raises(function() all(cp, { encoding = "latin2" }) end, "invalid")
  raises(function() koop.csv.detect_encoding("/nonexistent/x.csv") end, "io")
  for _, p in ipairs{ cp, utf, ascii } do os.remove(p) end
end)

test("a UTF-16 file (Excel's Unicode text) is refused with advice", function()
  local path = file("\xFF\xFEa\0;\0b\0\r\0\n\0")
  eq(koop.csv.detect_encoding(path), "utf-16le")
  local err = raises(function() all(path) end, "encoding")
  ok(err.message:find("CSV UTF-8", 1, true), err.message)
  os.remove(path)
end)

test("a missing file is an io error; a bad argument is invalid", function()
  local err = raises(function() koop.csv.rows("/nonexistent/dir/x.csv") end, "io")
  ok(err.message:find("/nonexistent/dir/x.csv", 1, true))
  raises(function() koop.csv.rows(42) end, "invalid")
  raises(function() koop.csv.rows("x.csv", "header") end, "invalid")
  raises(function() koop.csv.rows("x.csv", { skip = -1 }) end, "invalid")
  local typo = raises(function() koop.csv.rows("x.csv", { seperator = ";" }) end, "invalid")
  ok(typo.message:find("unknown option seperator", 1, true), typo.message)
end)

test("edge cases: empty file, header only, blank lines, no final newline", function()
  local empty, header, blanks, last = file(""), file("id,name\r\n"), file("a\n\n\nb\n\n"), file("a,b\n1,2")
  eq(all(empty), {})
  eq(all(header), {})
  eq(all(blanks, { header = false }), { { "a" }, { "b" } })
  eq(all(last), { { a = "1", b = "2" } })
  for _, p in ipairs{ empty, header, blanks, last } do os.remove(p) end
end)

test("skip ignores lines above the header", function()
  local path = file("Zestawienie gmin\nstan na 2024-01-01\nid;nazwa\n1;Bogoria\n")
  local r = koop.csv.open(path, { skip = 2 })
  eq(r:header(), { "id", "nazwa" })
  eq(r:read(), { id = "1", nazwa = "Bogoria" })
  eq(r:line(), 4)
  r:close()
  os.remove(path)
end)

test("the reader object: header, read, line, sep, rows, close", function()
  local path = file(GMINY)
  local r = koop.csv.open(path)
  eq(r:header(), { "teryt", "nazwa", "kwota" })
  eq(r:sep(), ";")
  eq(r:read().nazwa, "Bogoria")
  eq(r:line(), 2)
  local names = {}
  for row in r:rows() do names[#names + 1] = row.teryt end
  eq(names, { "2609052", "2011032" })
  eq(r:line(), 4)
  eq(r:read(), nil)
  r:close()
  r:close()
  local v = koop.csv.open(path, { unpack = true, header = false })
  eq({ v:read() }, { "teryt", "nazwa", "kwota" })
  eq(v:header(), nil)
  v:close()
  os.remove(path)
end)

test("rows load into SQLite in one transaction", function()
  local path = file(GMINY)
  db:exec("CREATE TABLE gmina(teryt TEXT PRIMARY KEY, nazwa TEXT, kwota TEXT)")
  db:tx(function()
    for teryt, nazwa, kwota in koop.csv.rows(path, { unpack = true }) do
      db:exec("INSERT INTO gmina VALUES(?, ?, ?)", teryt, nazwa, kwota)
    end
  end)
  eq(db:value("SELECT count(*) FROM gmina"), 3)
  eq(db:value("SELECT nazwa FROM gmina WHERE teryt = '2609052'"), "Łoniów; gmina")
  os.remove(path)
end)

test("10,000 rows with quotes and newlines read back exactly", function()
  local lines, want = { "id;text" }, {}
  for i = 1, 10000 do
    local text = ("wiersz %d; \"cytat\"\n%s"):format(i, ("ż"):rep(i % 7))
    want[i] = { id = tostring(i), text = text }
    lines[#lines + 1] = i .. ';"' .. text:gsub('"', '""') .. '"'
  end
  local path = file(table.concat(lines, "\r\n") .. "\r\n")
  eq(all(path), want)
  os.remove(path)
end)
