-- territory_test.lua — gminas (lib/koop/territory.lua): the GUS TERC
-- register (the real file of 2024-01-01: counts of voivodeships, powiats
-- and gminas; Bogoria's change of kind; idempotent re-import; an older
-- file refused), small crafted registers (a gmina changing kind, a unit
-- dropped, names), bad files (missing column, bad code, mixed dates: an
-- error naming the line, nothing written), gminas.kind by name and code on
-- dates (and its errors), adding units by hand (bad TERC, missing parent,
-- validity order), the built-in scenario units and the database's gmina.
-- Run with: koop test tests/lua/territory_test.lua


-- The official file, read where the project keeps it (never copied in).
local function terc_file()
  for _, path in ipairs{ os.getenv("KOOP_TERC_FILE") or "", "../shared/data/TERC_Urzedowy_2024-01-01.csv",
                         "/work/shared/data/TERC_Urzedowy_2024-01-01.csv" } do
    local f = path ~= "" and io.open(path)
    if f then f:close() return path end
  end
end

-- A temporary TERC file with these lines after the header.
local files = {}
local function craft(lines)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("WOJ;POW;GMI;RODZ;NAZWA;NAZWA_DOD;STAN_NA\r\n", table.concat(lines, "\r\n"), "\r\n")
  f:close()
  files[#files + 1] = path
  return path
end

local function state()
  return { units = db:value("SELECT count(*) FROM territory"), audit = db:value("SELECT count(*) FROM audit_log") }
end

local REGISTER_2023 = {
  "26;;;;ŚWIĘTOKRZYSKIE;województwo;2023-01-01",
  "26;12;;;staszowski;powiat;2023-01-01",
  "26;12;01;2;Bogoria;gmina wiejska;2023-01-01",
  "26;12;02;2;Łubnice;gmina wiejska;2023-01-01",
  "26;12;03;2;Zniesiona;gmina wiejska;2023-01-01",
}
local REGISTER_2024 = {
  "26;;;;ŚWIĘTOKRZYSKIE;województwo;2024-01-01",
  "26;12;;;staszowski;powiat;2024-01-01",
  "26;12;01;3;Bogoria;gmina miejsko-wiejska;2024-01-01",
  "26;12;01;4;Bogoria;miasto;2024-01-01",
  "26;12;01;5;Bogoria;obszar wiejski;2024-01-01",
  "26;12;02;2;Łubnice;gmina wiejska;2024-01-01",
}

------------------------------------------------------------------ the real register

test("the GUS TERC register of 2024-01-01: counts and kinds", function()
  local file = terc_file()
  if not file then print("# skipped: the TERC file is not here (set KOOP_TERC_FILE)") return end
  local c = gminas.import_terc(file)
  eq(c, { added = 4332, changed = 0, closed = 0, unchanged = 0, date = "2024-01-01" })
  eq(gminas.count{ level = "województwo" }, 16)
  eq(gminas.count{ level = "powiat" }, 380)
  eq(gminas.count{ level = "gmina", rodzaj = { 1, 2, 3 } }, 2477)
  eq(gminas.count{ rodzaj = 1 }, 302)
  eq(gminas.count{ rodzaj = 2 }, 1464)
  eq(gminas.count{ rodzaj = 3 }, 711)
  eq(gminas.get("26").name, "świętokrzyskie")
  eq(gminas.get("2609052").name, "Łoniów")
  eq(gminas.get("2011032").parent.name, "sokólski")
  eq(gminas.get("2011032").parent.parent.name, "podlaskie")
  eq(gminas.kind("Korycin"), "wiejska")
  eq(gminas.kind("2612013", "2024-06-01"), "miejsko-wiejska")
  eq(gminas.get("2612013").valid_from, nil)       -- the first register: in force before it
  local err = raises(function() gminas.kind("Bolesławiec") end, "invalid")
  ok(err.message:find("names 3 gminas: 0201011 %(miejska, powiat 0201%), 0201022 %(wiejska, powiat 0201%), 1018013"), err.message)
  eq(audit.verify(), true)
end)

test("Bogoria in the real register: the wiejska code closes, the miejsko-wiejska one opens", function()
  local file = terc_file()
  if not file then print("# skipped: the TERC file is not here (set KOOP_TERC_FILE)") return end
  gminas.add{ terc = "26", name = "świętokrzyskie", type = "województwo" }
  gminas.add{ terc = "2612", name = "staszowski", type = "powiat" }
  gminas.add{ terc = "2612012", name = "Bogoria", type = "gmina wiejska" }   -- as in the project years
  local c = gminas.import_terc(file)
  eq({ c.added, c.changed, c.closed, c.unchanged }, { 4332 - 2, 0, 1, 2 })
  local rows = gminas.find{ name = "Bogoria", rodzaj = { 2, 3 }, order = "terc" }
  eq(#rows, 2)
  eq({ rows[1].terc, rows[1].valid_from, rows[1].valid_to }, { "2612012", nil, "2023-12-31" })
  eq({ rows[2].terc, rows[2].valid_from, rows[2].valid_to }, { "2612013", "2024-01-01", nil })
  eq(gminas.get("2612014").valid_from, "2024-01-01")
  eq(gminas.kind("Bogoria", "2020-01-01"), "wiejska")
  eq(gminas.kind("Bogoria", "2023-12-31"), "wiejska")
  eq(gminas.kind("Bogoria", "2024-01-01"), "miejsko-wiejska")
  eq(gminas.kind("Bogoria", "2024-06-01"), "miejsko-wiejska")
  eq(gminas.kind("2612012", "2024-06-01"), "miejsko-wiejska")    -- a code stands for its gmina
  eq(gminas.kind("2612013", "2020-01-01"), "wiejska")
  eq(tostring(rows[1]), "Gmina 2612012 Bogoria (gmina wiejska, until 2023-12-31)")
  eq(tostring(rows[2]), "Gmina 2612013 Bogoria (gmina miejsko-wiejska, from 2024-01-01)")
  -- the same file again changes nothing; only the import itself is recorded
  local before = state()
  eq(gminas.import_terc(file), { added = 0, changed = 0, closed = 0, unchanged = 4332, date = "2024-01-01" })
  eq(state(), { units = before.units, audit = before.audit + 1 })
  local log = audit.log{ action = "import" }
  eq(#log, 2)
  ok(log[2].after_json:find('"unchanged":4332', 1, true), log[2].after_json)
  -- an older register is refused
  local old = craft(REGISTER_2023)
  local err = raises(function() gminas.import_terc(old) end, "invalid")
  ok(err.message:find("older than the one already loaded %(2024%-01%-01%)"), err.message)
  eq(state().units, before.units)
  eq(audit.verify(), true)
end)

------------------------------------------------------------------ crafted registers

test("a register of a later date: kinds change, dropped units close, names update", function()
  local c = gminas.import_terc(craft(REGISTER_2023))
  eq(c, { added = 5, changed = 0, closed = 0, unchanged = 0, date = "2023-01-01" })
  eq(gminas.get("26").name, "świętokrzyskie")
  eq(gminas.get("2612012").valid_from, nil)
  local newer = { table.unpack(REGISTER_2024) }
  newer[2] = "26;12;;;Staszowski;powiat;2024-01-01"       -- a renamed unit
  c = gminas.import_terc(craft(newer))
  eq(c, { added = 3, changed = 1, closed = 2, unchanged = 2, date = "2024-01-01" })
  eq(gminas.get("2612012").valid_to, "2023-12-31")
  eq(gminas.get("2612032").valid_to, "2023-12-31")      -- Zniesiona, no longer listed
  eq(gminas.get("2612013").valid_from, "2024-01-01")
  eq(gminas.get("2612015").valid_from, "2024-01-01")
  eq(gminas.get("2612022").valid_to, nil)
  eq(gminas.get("2612").name, "Staszowski")
  eq(gminas.kind("Zniesiona", "2023-06-01"), "wiejska")
  local none, why = gminas.kind("Zniesiona", "2024-06-01")
  eq(none, nil)
  ok(why:find("had no code in force on 2024%-06%-01"), why)
  eq(#gminas.valid_on("2024-06-01", { level = "gmina" }), 4)
  eq(#gminas.valid_on("2023-06-01", { level = "gmina" }), 3)
  eq(#gminas.valid_on("2023-06-01", { where = "name = ?", args = { "Bogoria" } }), 1)
  eq(audit.verify(), true)
end)

test("bad TERC files: an error naming the file and line, nothing written", function()
  gminas.import_terc(craft(REGISTER_2023))
  local before = state()
  local function refused(lines, text)
    local path = craft(lines)
    local err = raises(function() gminas.import_terc(path) end, "invalid")
    ok(err.message:find(text, 1, true), ("%q should contain %q"):format(err.message, text))
    eq(state(), before)
  end
  refused({ "26;;;;ŚWIĘTOKRZYSKIE;województwo;2024-01-01", "26;12;01;7;Bogoria;gmina;2024-01-01" },
    "line 3: TERC kind digit (rodzaj) 7 is not valid")
  refused({ "26;;;;ŚWIĘTOKRZYSKIE;województwo;2024-01-01", "26;12;;;staszowski;powiat;2024-02-01" },
    "line 3: STAN_NA 2024-02-01 differs from 2024-01-01")
  refused({ "26;;;;ŚWIĘTOKRZYSKIE;województwo;2024-13-01" }, "line 2: STAN_NA '2024-13-01' is not a date")
  refused({ "26;12;01;2;Nowa;gmina wiejska;2024-01-01", "30;99;01;2;Bez powiatu;gmina wiejska;2024-01-01" },
    "powiat 3099, which is not in the register")
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("WOJ;POW;GMI;NAZWA;STAN_NA\n26;;;ŚWIĘTOKRZYSKIE;2024-01-01\n")
  f:close()
  files[#files + 1] = path
  local err = raises(function() gminas.import_terc(path) end, "invalid")
  ok(err.message:find("not a GUS TERC file: column RODZ is missing"), err.message)
  raises(function() gminas.import_terc("/nonexistent/terc.csv") end, "io")
  raises(function() gminas.import_terc(42) end, "invalid")
  eq(state(), before)
end)

------------------------------------------------------------------ units by hand, kind

test("adding units: TERC checked, parents required, level and kind derived", function()
  local w = gminas.add{ terc = "26", name = "świętokrzyskie" }
  eq({ w.level, w.rodzaj, w.parent, w.kind }, { "województwo", nil, nil, "województwo" })
  local p = gminas.add{ terc = "2612", name = "staszowski" }
  eq({ p.level, p.parent_terc, p.parent.name }, { "powiat", "26", "świętokrzyskie" })
  local g = gminas.add{ terc = " 2612042 ", name = "Oleśnica" }
  eq({ g.terc, g.level, g.rodzaj, g.kind, g.parent_terc }, { "2612042", "gmina", 2, "wiejska", "2612" })
  eq(tostring(p), "Powiat 2612 staszowski")
  local before = db:value("SELECT count(*) FROM territory")
  local function refused(input, field, text)
    local err = raises(function() gminas.add(input) end, "invalid")
    eq(err.field, field)
    ok(err.message:find(text, 1, true), err.message)
  end
  refused({ terc = "2612046", name = "X" }, "gminas.terc", "TERC kind digit (rodzaj) 6 is not valid (1-5, 8 or 9) (got '2612046')")
  refused({ terc = "0000000", name = "X" }, "gminas.terc", "all-zero")
  refused({ terc = "27", name = "X" }, "gminas.terc", "voivodeship code 27 does not exist")
  refused({ terc = "261201", name = "X" }, "gminas.terc", "2 (voivodeship), 4 (powiat) or 7 (gmina) digits")
  refused({ terc = "2613012", name = "X" }, "gminas.terc", "belongs to powiat 2613, which is not in the register")
  refused({ terc = "2612052", name = "X", valid_from = "2024-01-01", valid_to = "2023-12-31" },
    "gminas.valid_to", "valid_to 2023-12-31 is before valid_from 2024-01-01")
  refused({ terc = "2612052", name = "X", rodzaj = 2 }, "gminas.rodzaj", "derived")
  refused({ terc = "2612042", name = "again" }, "gminas.terc", "'2612042' is already used by Gmina 2612042 Oleśnica")
  eq(db:value("SELECT count(*) FROM territory"), before)
  eq(raises(function() g:update{ terc = "2612052" } end, "invalid").field, "gminas.terc")
end)

test("gminas.kind: by name (any case) or code, on a date; its errors", function()
  gminas.ensure("2612013")
  eq(gminas.kind("bogoria", "2019-06-04"), "wiejska")
  eq(gminas.kind("BOGORIA", "2024-01-01"), "miejsko-wiejska")
  koop.today("2019-06-04")
  eq(gminas.kind("Bogoria"), "wiejska")          -- today's date by default
  eq(gminas.kind("2612014", "2024-02-01"), "miejsko-wiejska")   -- the town part: its gmina
  eq(gminas.kind("2612"), "powiat")
  eq(raises(function() gminas.kind("Nibylandia") end, "invalid").field, "gminas.name")
  eq(raises(function() gminas.kind("2612099") end, "invalid").field, "gminas.terc")
  eq(raises(function() gminas.kind("2612016") end, "invalid").field, "gminas.terc")
  eq(raises(function() gminas.kind("Bogoria", "2024-02-30") end, "invalid").field, "date")
  raises(function() gminas.kind(2612013) end, "invalid")
end)

------------------------------------------------------------------ built-in units, home gmina

test("ensure adds a scenario gmina with its powiat and voivodeship", function()
  local u = gminas.ensure("2609052")
  eq(tostring(u), "Gmina 2609052 Łoniów (gmina wiejska)")
  eq(gminas.count(), 3)
  eq(gminas.ensure("2609052"), u)                 -- already there: nothing added
  eq(gminas.count(), 3)
  gminas.ensure("2612012")
  eq(gminas.count(), 3 + 5)                       -- 2612 and Bogoria's four codes
  eq(gminas.get("2612012").valid_to, "2023-12-31")
  gminas.ensure("2011032")
  eq(gminas.get("20").name, "podlaskie")
  local err = raises(function() gminas.ensure("1465011") end, "invalid")
  ok(err.message:find("import the GUS TERC file first"), err.message)
  eq(raises(function() gminas.ensure("12345") end, "invalid").field, "gminas.terc")
end)

test("the database belongs to one gmina", function()
  eq(gminas.home(), nil)
  local home = gminas.set_home("2612013")
  eq(home.terc, "2612013")
  eq(gminas.home(), home)
  eq(db:value("SELECT value FROM koop_meta WHERE key = 'gmina'"), "2612013")
  eq(gminas.set_home("2612013"), home)            -- the same again is fine
  local err = raises(function() gminas.set_home("2609052") end, "invalid")
  ok(err.message:find("belongs to gmina 2612013 Bogoria; it cannot change to 2609052", 1, true), err.message)
  eq(gminas.get("2609052"), nil, "nothing added")
  err = raises(function() gminas.set_home("2612") end, "invalid")
  ok(err.message:find("is not a gmina"), err.message)
  eq(audit.log{ entity = "database" }[1].after_json, '{"gmina":"2612013"}')
  -- institutions of gmina level default to it
  eq(institutions.add{ name = "Urząd Gminy Bogoria", kind = "UG" }.gmina_terc, "2612013")
  eq(institutions.add{ name = "Powiatowy Urząd Pracy w Staszowie", kind = "PUP" }.gmina_terc, nil)
end)

test("clean up the crafted files", function()
  for _, path in ipairs(files) do os.remove(path) end
  ok(true)
end)
