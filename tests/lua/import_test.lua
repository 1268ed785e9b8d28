-- import_test.lua — `koop import` from Lua (exchange.import): institutions,
-- people, cases with members, services and budget lines; the separator,
-- BOM and encoding found by themselves (CP1250 detected, and refused when
-- read as UTF-8); Polish headers and Excel's ways with values; every bad
-- row listed by line and column and nothing imported (an invalid NIP on
-- line 1,234 of 10,000); --dry-run writing nothing; a wrong header, a
-- missing column, an unterminated quote, a short row; the audit row of an
-- import; the streamed services path keeping the API's rules and the
-- seals (one aggregate instead of the insert trigger).
-- Run with: koop test tests/lua/import_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")
local exchange = require "koop.exchange"
local json = require "koop.json"

local TMP = os.getenv("TMPDIR") or "/tmp"
local files = {}

-- Write text (bytes) to a new temporary file; returns its path.
local function file(text)
  local path = ("%s/koop-import-test-%d-%d.csv"):format(TMP, os.time(), math.random(1, 1e9))
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  files[#files + 1] = path
  return path
end

local function cleanup()
  for _, p in ipairs(files) do os.remove(p) end
  files = {}
end

-- Counts of every table and the audit log, to show that nothing changed.
local function snapshot()
  local counts = {}
  for name in db:urows("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") do
    counts[name] = db:value('SELECT count(*) FROM "' .. name .. '"')
  end
  return counts
end

-- exchange.import must fail with every bad row listed; returns the error.
local function refused(q)
  local before = snapshot()
  local err = raises(function() exchange.import(q) end, "invalid")
  eq(snapshot(), before, "nothing imported")
  return err
end

test("institutions with Polish headers, a BOM, ';' and Excel's values", function()
  gminas.set_home("2612012")
  local path = file("\239\187\191Nazwa;Rodzaj;NIP;Kod pocztowy;Aktywna;Uwagi\r\n"
    .. "Ośrodek Pomocy Społecznej w Bogorii;OPS;866-000-00-16;28210;TAK;\r\n"
    .. "\"Stowarzyszenie \"\"Razem\"\"; Bogoria\";NGO;;28-210;nie;założone 2019\r\n")
  local res = exchange.import{ kind = "institutions", file = path }
  eq({ res.rows, res.added, res.encoding }, { 2, 2, "utf-8" })
  local ops = institutions.find{ kind = "OPS" }[1]
  eq({ ops.nip, ops.postal_code, ops.active, ops.gmina_terc }, { "8660000016", "28-210", true, "2612012" })
  local ngo = institutions.find{ kind = "NGO" }[1]
  eq({ ngo.name, ngo.active, ngo.notes }, { 'Stowarzyszenie "Razem"; Bogoria', false, "założone 2019" })
  local log = audit.log{ action = "import" }
  eq(#log, 1)
  local after = json.decode(log[1].after_json)
  eq({ after.kind, after.rows, after.added, after.file }, { "institutions", 2, 2, path })
  eq(audit.log{ entity = "institutions", action = "add" }[1].entity, "institutions", "each institution has its add row too")
  cleanup()
end)

test("every bad row is listed by line and column, and nothing is imported", function()
  gminas.set_home("2612012")
  local path = file("name,kind,nip,email\n"
    .. "A,OPS,8660000016,a@b.pl\n"
    .. "B,XYZ,,\n"
    .. "C,NGO,1234563217,\n"
    .. "D,NGO,,not-an-email\n"
    .. ",NGO,,\n")
  local err = refused{ kind = "institutions", file = path }
  eq(#err.errors, 4)
  eq({ err.errors[1].line, err.errors[1].column }, { 3, "kind" })
  eq({ err.errors[2].line, err.errors[2].column }, { 4, "nip" })
  ok(err.errors[2].message:find("NIP checksum digit is 7, expected 8", 1, true), err.errors[2].message)
  eq({ err.errors[3].line, err.errors[3].column }, { 5, "email" })
  eq({ err.errors[4].line, err.errors[4].column }, { 6, "name" })
  ok(tostring(err):find("4 of 5 rows of institutions are not valid; nothing was imported", 1, true), tostring(err))
  ok(tostring(err):find("line 4, column nip: NIP checksum", 1, true), tostring(err))
  eq(#audit.log{ action = "import" }, 0, "no audit row")
  cleanup()
end)

test("an invalid NIP on line 1,234 of 10,000 is reported by its line and nothing is imported", function()
  gminas.set_home("2612012")
  local rows = { "Nazwa;Rodzaj;NIP" }
  for i = 1, 10000 do
    rows[#rows + 1] = ("Instytucja %d;NGO;%s"):format(i, i + 1 == 1234 and "1234563217" or "8660000016")
  end
  local path = file(table.concat(rows, "\r\n") .. "\r\n")
  local err = refused{ kind = "institutions", file = path }
  eq(#err.errors, 1)
  eq({ err.errors[1].line, err.errors[1].column }, { 1234, "NIP" })
  eq(institutions.count(), 0)
  local res = exchange.import{ kind = "institutions", file = path, dry_run = true, ignore = { "NIP" } }
  eq({ res.rows, res.dry_run }, { 10000, true }, "with the NIP column ignored the file is valid")
  eq(institutions.count(), 0, "a dry run writes nothing")
  cleanup()
end)

test("--dry-run validates everything and writes nothing, audit included", function()
  gminas.set_home("2612012")
  local path = file("Nazwa;Rodzaj\nA;OPS\nB;NGO\n")
  local before = snapshot()
  local res = exchange.import{ kind = "institutions", file = path, dry_run = true }
  eq({ res.rows, res.added, res.dry_run }, { 2, 2, true })
  eq(snapshot(), before)
  cleanup()
end)

test("a wrong header, a missing column, a short row and an unterminated quote are refused", function()
  gminas.set_home("2612012")
  local err = refused{ kind = "institutions", file = file("Nazwa;Rodzaj;Kolor\nA;OPS;zielony\n") }
  ok(tostring(err):find("unknown column 'Kolor' (column 3)", 1, true), tostring(err))
  err = refused{ kind = "institutions", file = file("Nazwa;NIP\nA;8660000016\n") }
  ok(tostring(err):find("the required column kind is missing", 1, true), tostring(err))
  eq(err.field, "kind")
  err = refused{ kind = "institutions", file = file("Nazwa;Nazwa instytucji;Rodzaj\nA;B;OPS\n") }
  ok(tostring(err):find("are both name", 1, true), tostring(err))
  err = refused{ kind = "institutions", file = file("Nazwa;Rodzaj;NIP\nA;OPS\nB;NGO;\n") }
  eq({ err.errors[1].line, err.errors[1].message }, { 2, "has 2 fields, the header has 3" })
  local before = snapshot()
  err = raises(function()
    exchange.import{ kind = "institutions", file = file('Nazwa;Rodzaj\nA;OPS\n"B;NGO\nC;NGO\n') }
  end, "csv")
  ok(tostring(err):find("line 3", 1, true) and tostring(err):find("never closed", 1, true), tostring(err))
  eq(snapshot(), before, "nothing imported")
  raises(function() exchange.import{ kind = "institutions", file = file("") } end, "invalid")
  raises(function() exchange.import{ kind = "spaceships", file = file("a\n") } end, "usage")
  raises(function() exchange.import{ kind = "institutions", file = TMP .. "/no-such-file.csv" } end, "io")
  cleanup()
end)

test("CP1250 is detected and read; read as UTF-8 it is refused with a message saying so", function()
  gminas.set_home("2612012")
  -- "Ośrodek Pomocy Społecznej w Łoniowie" and "Świetlica Żaczek" in CP1250
  local path = file("Nazwa;Rodzaj;Miejscowo\156\230\r\n"
    .. "O\156rodek Pomocy Spo\179ecznej w \163oniowie;OPS;\163oni\243w\r\n"
    .. "\140wietlica \175aczek;inne;\163oni\243w\r\n")
  eq(koop.csv.detect_encoding(path), "cp1250")
  local err = raises(function() exchange.import{ kind = "institutions", file = path, encoding = "utf-8" } end, "encoding")
  ok(tostring(err):find("CP1250", 1, true) and tostring(err):find("--encoding cp1250", 1, true), tostring(err))
  local res = exchange.import{ kind = "institutions", file = path }
  eq({ res.encoding, res.detected, res.added }, { "cp1250", true, 2 })
  local names = {}
  for _, i in ipairs(institutions.find{ order = "name" }) do names[#names + 1] = i.name .. " / " .. i.city end
  eq(names, { "Ośrodek Pomocy Społecznej w Łoniowie / Łoniów", "Świetlica Żaczek / Łoniów" })
  res = exchange.import{ kind = "institutions", file = path, encoding = "cp1250", dry_run = true }
  eq(res.detected, false, "given, not detected")
  cleanup()
end)

test("',' and TAB separators are found; --sep says it", function()
  gminas.set_home("2612012")
  eq(exchange.import{ kind = "institutions", file = file("name,kind\nA,OPS\n") }.added, 1)
  eq(exchange.import{ kind = "institutions", file = file("name\tkind\nB\tNGO\n") }.added, 1)
  eq(exchange.import{ kind = "institutions", file = file("name|kind\nC|NGO\n"), sep = "|" }.added, 1)
  cleanup()
end)

test("people name their institution by id, REGON or name; an unknown or ambiguous one is an error", function()
  F.setup()
  local path = file("Imię;Nazwisko;Instytucja;Stanowisko\n"
    .. ("Ewa;Kos;%d;pedagog\n"):format(F.inst.sp.id)
    .. "Jan;Wrona;ośrodek pomocy społecznej w bogorii;pracownik socjalny\n")
  eq(exchange.import{ kind = "people", file = path }.added, 2)
  local kos = people.find{ last_name = "Kos" }[1]
  eq(kos.institution_id, F.inst.sp.id)
  eq(people.find{ last_name = "Wrona" }[1].institution_id, F.inst.ops.id, "Polish case ignored")
  local err = refused{ kind = "people", file = file("Imię;Nazwisko;Instytucja\nAla;Lis;Nieznana Instytucja\n") }
  eq({ err.errors[1].line, err.errors[1].column }, { 2, "Instytucja" })
  ok(err.errors[1].message:find("no institution 'Nieznana Instytucja'", 1, true), err.errors[1].message)
  cleanup()
end)

test("cases with members: rows with one key form one case; reasons; identity kept apart; no PESEL in the audit", function()
  koop.today("2020-10-31")
  F.bogoria()
  local path = file("Sprawa;Data otwarcia;Instytucja zgłaszająca;Powody;Imię;Nazwisko;PESEL;Relacja\n"
    .. "BOG-2019-001;02.09.2019;OPS;1, 4, 13;Adam;Mazur;84031201236;wnioskodawca\n"
    .. "BOG-2019-001;;;;Beata;Mazur;87093004582;małżonka\n"
    .. "rodzina-2;2019-10-01;OPS;4;Celina;Nowicka;90010112349;wnioskodawczyni\n")
  local res = exchange.import{ kind = "cases", file = path }
  eq(res.added, 3)
  local c = cases.find{ code = "BOG-2019-001" }[1]
  ok(c, "the code is taken from the key")
  eq({ c.opened_on, c.source_institution_id, c.member_count }, { "2019-09-02", F.inst.ops.id, 2 })
  eq(c:has_reason("13"), true)
  eq(cases.count(), 2)
  for _, row in ipairs(audit.log{}) do
    ok(not tostring(row.after_json):find("84031201236", 1, true), "no PESEL in the audit log")
    ok(not tostring(row.after_json):find("Mazur", 1, true), "no name in the audit log")
  end
  -- a conflicting case field, a bad PESEL: both lines named, nothing written
  local err = refused{ kind = "cases", file = file("case;opened_on;first_name;last_name;pesel;relation\n"
    .. "k1;2019-09-02;Jan;Kos;84031201236;wnioskodawca\n"
    .. "k1;2019-09-03;Ala;Kos;87093004583;dziecko\n") }
  eq(#err.errors, 1)
  eq({ err.errors[1].line, err.errors[1].column }, { 3, "opened_on" })
  err = refused{ kind = "cases", file = file("case;opened_on;first_name;last_name;pesel;relation\n"
    .. "k2;2019-09-02;Jan;Kos;84031201237;wnioskodawca\n") }
  eq(err.errors[1].column, "pesel")
  cleanup()
end)

-- A case, two providers and the service types for the services tests.
local function services_setup()
  koop.today("2020-10-31")
  F.bogoria()
  local c = F.case("2019-09-02")
  local closed = F.case("2019-09-02")
  closed:close{ date = "2020-01-31", outcome = "rezygnacja" }
  return c, closed
end

test("services stream: ids or codes, names of providers and services, Polish numbers and amounts", function()
  local c = services_setup()
  local path = file("id;Sprawa;Realizator;Usługa;Data;Godziny;Kwota\n"
    .. ("1;%s;Stowarzyszenie Razem dla Bogorii;terapia;04.11.2019;1,5;120,00 zł\n"):format(c.code)
    .. ("2;%d;%d;poradnictwo;2019-11-05;2;80\n"):format(c.id, F.inst.ops.id))
  local res = exchange.import{ kind = "services", file = path }
  eq(res.added, 2)
  local s = services.find{ case = c, order = "date" }
  eq({ s[1].provider_id, s[1].service_type, s[1].date, s[1].units, s[1].unit, s[1].status },
    { F.inst.ngo.id, "terapia", "2019-11-04", 1.5, "godziny", "delivered" })
  eq(koop.money.is(s[1].cost) and s[1].cost:grosze() or s[1].cost, 12000)
  eq(s[2].unit, "godziny", "hours are godziny")
  local log = audit.log{ action = "import" }
  local after = json.decode(log[1].after_json)
  eq({ after.kind, after.rows, after.first_id, after.last_id }, { "services", 2, s[1].id, s[2].id })
  eq(db:value("PRAGMA foreign_keys"), 1, "foreign keys are on again")
  -- sealed by one aggregate (audit.bulk_insert): the seal holds, the trigger is back
  eq(db:value("SELECT count(*) FROM sqlite_schema WHERE name = 'seal_service_delivery_insert'"), 1)
  local intact, problems = audit.verify()
  eq(problems, {})
  ok(intact)
  db:exec("DROP TRIGGER seal_service_delivery_update")   -- an imported row edited behind koop's back
  db:exec("UPDATE service_delivery SET cost = 1 WHERE id = ?", s[1].id)
  intact, problems = audit.verify()
  eq(intact, false)
  ok(problems[2] and problems[2]:find("its rows do not match its seal", 1, true), problems[2])
  cleanup()
end)

test("services keep the API's rules: closed case, before opening, future delivered, unknown names", function()
  local c, closed = services_setup()
  local path = file("case;provider;service;date;units;cost_grosze;status\n"
    .. ("%d;%d;terapia;2019-11-04;1;1000;\n"):format(c.id, F.inst.ngo.id)        -- line 2: fine
    .. ("%d;%d;terapia;2020-03-02;1;1000;\n"):format(closed.id, F.inst.ngo.id)   -- 3: closed case
    .. ("%d;%d;terapia;2019-01-04;1;1000;\n"):format(c.id, F.inst.ngo.id)        -- 4: before opening
    .. ("%d;%d;terapia;2021-01-04;1;1000;delivered\n"):format(c.id, F.inst.ngo.id) -- 5: delivered in the future
    .. ("%d;Nieznany;terapia;2019-11-04;1;1000;\n"):format(c.id)                 -- 6: no provider
    .. ("%d;%d;akupunktura;2019-11-04;1;1000;\n"):format(c.id, F.inst.ngo.id)    -- 7: no service type
    .. ("NIE-2019-999;%d;terapia;2019-11-04;1;1000;\n"):format(F.inst.ngo.id)    -- 8: no case
    .. ("%d;%d;terapia;2019-11-31;0;-5;\n"):format(c.id, F.inst.ngo.id)          -- 9: bad date
    .. ("%d;%d;terapia;2019-11-04;0;12;\n"):format(c.id, F.inst.ngo.id))         -- 10: units 0
  local before = services.count()
  local err = refused{ kind = "services", file = path }
  local got = {}
  for _, e in ipairs(err.errors) do got[#got + 1] = e.line .. " " .. e.column end
  eq(got, { "3 case", "4 date", "5 date", "6 provider", "7 service", "8 case", "9 date", "10 units" })
  ok(err.errors[1].message:find("closed", 1, true), err.errors[1].message)
  ok(err.errors[3].message:find("after today", 1, true), err.errors[3].message)
  eq(services.count(), before)
  eq(db:value("SELECT count(*) FROM sqlite_schema WHERE name = 'service_delivery_case_ix'"), 1, "the index is there")
  eq(db:value("SELECT count(*) FROM sqlite_schema WHERE name = 'seal_service_delivery_insert'"), 1, "the seal trigger too")
  -- scheduled in the future is fine
  local ok_path = file("case;provider;service;date\n" .. ("%d;%d;terapia;2021-01-04\n"):format(c.id, F.inst.ngo.id))
  exchange.import{ kind = "services", file = ok_path }
  eq(services.find{ case = c }[1].status, "scheduled")
  cleanup()
end)

test("services with a budget line are booked through the API, and sealed row by row", function()
  local c = services_setup()
  local b = budgets.add{ name = "Projekt socjalny Bogoria", gmina = "2612012", source = "POWER/EFS",
    total = "56 340,00 zł", period_from = "2019-06-01", period_to = "2020-12-31" }
  local t = b:line{ name = "terapia", planned = "10 800,00 zł" }
  b:line{ name = "poradnictwo", planned = "45 540,00 zł" }
  b:approve{ date = "2019-06-10" }
  local cm = t:commit{ contractor = F.inst.ngo, amount = "1 000,00", date = "2019-07-01" }
  local path = file("case;provider;service;date;cost;budget_line\n"
    .. ("%d;%d;terapia;2019-11-04;300;%d\n"):format(c.id, F.inst.ngo.id, t.id)
    .. ("%d;%d;terapia;2019-11-05;200;\n"):format(c.id, F.inst.ngo.id))
  eq(exchange.import{ kind = "services", file = path }.added, 2)
  local s = services.find{ case = c, order = "date" }
  eq({ s[1].commitment_id, s[2].commitment_id }, { cm.id, nil }, "the first is booked on the commitment")
  eq(tostring(cm.delivered), "300,00\u{A0}zł", "booked at its cost (the import once passed grosze as złoty)")
  eq({ s[1].cost, s[2].cost }, { 30000, 20000 }, "grosze")
  eq(db:value("SELECT count(*) FROM sqlite_schema WHERE name = 'seal_service_delivery_insert'"), 1)
  local intact, problems = audit.verify()
  eq(problems, {})
  ok(intact)
  cleanup()
end)

test("budget lines are added through b:line", function()
  koop.today("2020-06-30")
  gminas.ensure("2612012")
  local b = budgets.add{ name = "Projekt socjalny Bogoria", gmina = "2612012", source = "POWER/EFS",
    total = "56 340,00 zł", period_from = "2019-06-01", period_to = "2020-12-31" }
  local path = file("Budżet;Nazwa;Plan;Dział;Rozdział;Paragraf\n"
    .. "Projekt socjalny Bogoria;poradnictwo;7 200,00 zł;852;85295;4300\n"
    .. ("%d;terapia;10800,00;;;\n"):format(b.id))
  eq(exchange.import{ kind = "budget-lines", file = path }.added, 2)
  eq(#b:lines(), 2)
  eq(b:line("poradnictwo").paragraf, "4300")
  local err = refused{ kind = "budget_lines", file = file("budget;name;planned\nNie ma;x;10\n") }
  eq(err.errors[1].column, "budget")
  cleanup()
end)
