-- export_test.lua — the CSV writer (koop.csvout) and `koop export` from Lua
-- (exchange.export): the Excel-PL dialect (BOM, ';', CRLF, decimal comma,
-- ISO dates, no thousands separators, RFC 4180 quoting, formula guard) and
-- rfc4180 for machines; every kind read back by koop.csv; JSON; cases
-- pseudonymised by default (code, age bands — no name, PESEL or birth
-- date); the identified export needing an actor and writing its audit row;
-- every export audited; atomic output files; an export re-imported.
-- Run with: koop test tests/lua/export_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")
local csvout = require "koop.csvout"
local exchange = require "koop.exchange"
local json = require "koop.json"

local TMP = os.getenv("TMPDIR") or "/tmp"
local function tmpname(ext)
  return ("%s/koop-export-test-%d-%d.%s"):format(TMP, os.time(), math.random(1, 1e9), ext)
end
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

test("cells: money, percent, numbers, booleans, dates in each dialect", function()
  local xl, m = csvout.dialect(), csvout.dialect("rfc4180")
  eq(xl.name, "excel")
  eq(csvout.dialect("excel-pl"), xl)
  eq(csvout.cell(koop.money("56 340,00 zł"), xl), "56340,00", "no thousands separator, decimal comma")
  eq(csvout.cell(koop.money("56 340,00 zł"), m), "56340.00")
  eq(csvout.cell(5634000, xl, "money"), "56340,00", "whole grosze in a money column")
  eq(csvout.cell(-150, m, "money"), "-1.50")
  eq(csvout.cell(0.191693, xl, "percent"), "19,17")
  eq(csvout.cell(1.25, xl), "1,25")
  eq(csvout.cell(1.25, m), "1.25")
  eq(csvout.cell(0.1, xl), "0,1", "the shortest text that reads back")
  eq(csvout.cell(1234567, xl), "1234567")
  eq(csvout.cell(true, xl), "1")
  eq(csvout.cell("2019-06-04", xl, "date"), "2019-06-04", "ISO dates")
  eq(csvout.cell(nil, xl), nil)
  eq(csvout.cell(koop.null, xl), nil)
  eq(csvout.cell("=HYPERLINK(\"x\")", xl), "'=HYPERLINK(\"x\")", "Excel would run it as a formula")
  eq(csvout.cell("+48 15 867", xl), "'+48 15 867")
  eq(csvout.cell("-12,5", xl), "-12,5", "a negative number stays")
  eq(csvout.cell("=1+1", m), "=1+1", "machines get the text as it is")
  raises(function() csvout.dialect("lotus") end, "usage")
end)

test("the writer: BOM, ';', CRLF and RFC 4180 quoting; rfc4180 without BOM; read back by koop.csv", function()
  local rows = {
    { name = 'Stowarzyszenie "Razem"; Bogoria', amount = koop.money("1 234,50"), on = "2019-06-04", note = "dwie\nlinie" },
    { name = "Ośrodek", amount = 5634000, on = "2020-01-31" },
  }
  local opts = { columns = { "name", "amount", "on", "note" }, labels = { name = "Nazwa", amount = "Kwota [zł]", on = "Data" },
    formats = { amount = "money" } }
  local text = csvout.text(rows, opts)
  eq(text, "\239\187\191Nazwa;Kwota [zł];Data;note\r\n"
    .. '"Stowarzyszenie ""Razem""; Bogoria";1234,50;2019-06-04;"dwie\nlinie"\r\n'
    .. "Ośrodek;56340,00;2020-01-31;\r\n")
  opts.dialect = "rfc4180"
  eq(csvout.text(rows, opts), "Nazwa,Kwota [zł],Data,note\n"
    .. '"Stowarzyszenie ""Razem""; Bogoria",1234.50,2019-06-04,"dwie\nlinie"\n'
    .. "Ośrodek,56340.00,2020-01-31,\n")
  local path = tmpname("csv")
  opts.dialect = nil
  local w = csvout.writer(path, opts)
  for i = 1, 5000 do w:row{ name = "wiersz " .. i, amount = i, on = "2019-06-04" } end
  eq(w:close(), 5000)
  local n, last = 0, nil
  for r in koop.csv.rows(path) do n = n + 1; last = r end
  eq(n, 5000)
  eq({ last.Nazwa, last["Kwota [zł]"], last.Data }, { "wiersz 5000", "50,00", "2019-06-04" }, "the BOM and ';' are found")
  os.remove(path)
end)

-- The scenario's case with its family, a referral and a service.
local function scenario()
  koop.today("2020-10-31")
  local c = F.case("2019-09-02", true)
  c:reason("1", "2019-09-02")
  c:reason("13", "2019-09-02")
  c:deliver{ provider = F.inst.ngo, service = "terapia", date = "2019-11-04", units = 1.5, cost = 120.5 }
  return c
end

test("institutions in Polish Excel: Polish headers, read back with koop.csv", function()
  F.bogoria()
  local path = tmpname("csv")
  eq(exchange.export{ kind = "institutions", out = path }, #F.institutions)
  local text = slurp(path)
  eq(text:sub(1, 3), "\239\187\191")
  ok(text:find("^\239\187\191ID;Nazwa;Skrót;Rodzaj", 1), text:sub(1, 80))
  local names = {}
  for r in koop.csv.rows(path) do names[#names + 1] = r.Nazwa end
  eq(names[1], "Dom Pomocy Społecznej w Pęcławicach Górnych", "Polish order")
  ok(names[#names] == "Zespół Kuratorskiej Służby Sądowej przy Sądzie Rejonowym w Staszowie", names[#names])
  os.remove(path)
end)

test("rfc4180 and JSON use the field names; money with a point", function()
  local c = scenario()
  local path = tmpname("csv")
  exchange.export{ kind = "services", out = path, csv = "rfc4180" }
  local text = slurp(path)
  ok(text:find("^id,case_code,provider,service,date,units,unit,cost,status\n"), text)
  ok(text:find(",BOG%-2019%-001,Stowarzyszenie Razem dla Bogorii,terapia,2019%-11%-04,1%.5,sesje,120%.50,delivered\n"), text)
  os.remove(path)
  local jpath = tmpname("json")
  eq(exchange.export{ kind = "services", out = jpath }, 1, "the format from the extension")
  local data = json.decode(slurp(jpath))
  eq({ data[1].case_code, data[1].cost, data[1].units }, { c.code, "120.50", 1.5 })
  os.remove(jpath)
end)

test("cases are pseudonymised: code, reasons, age bands; never a name, PESEL or birth date", function()
  scenario()
  local path = tmpname("csv")
  exchange.export{ kind = "cases", out = path }
  local text = slurp(path)
  for _, m in ipairs(F.family_members) do
    ok(not text:find(m.pesel, 1, true), "no PESEL")
    ok(not text:find(m.first_name, 1, true), "no first name")
  end
  ok(not text:find("Mazur", 1, true) and not text:find("1984%-03%-12"), "no surname, no birth date")
  local row
  for r in koop.csv.rows(path) do row = r end
  eq({ row["Kod sprawy"], row["Powody (art. 7)"], row["Członkowie"] }, { "BOG-2019-001", "1,13", "4" })
  eq(row["Płeć i wiek członków"], "K 0-17, K 30-44, M 0-17, M 30-44")
  os.remove(path)
end)

test("the identified export needs an actor, writes the names and an audit row", function()
  scenario()
  local path = tmpname("csv")
  local err = raises(function() exchange.export{ kind = "cases", identified = true, out = path } end, "usage")
  ok(tostring(err):find("--as", 1, true), tostring(err))
  raises(function() exchange.export{ kind = "services", identified = true, actor = "x" } end, "usage")
  local before = #audit.log{ action = "export" }
  koop.actor = "anna.kierownik"
  eq(exchange.export{ kind = "cases", identified = true, actor = "anna.kierownik", out = path }, 4)
  local text = slurp(path)
  ok(text:find("84031201236", 1, true) and text:find("Mazur", 1, true), "names and PESEL")
  local log = audit.log{ action = "export" }
  eq(#log, before + 1)
  local after = json.decode(log[#log].after_json)
  eq({ after.kind, after.identified, after.rows, log[#log].actor }, { "cases", true, 4, "anna.kierownik" })
  ok(not log[#log].after_json:find("Mazur", 1, true), "the audit row holds no name")
  os.remove(path)
end)

test("every export is audited; a failed export leaves no file", function()
  F.bogoria()
  local path = tmpname("csv")
  exchange.export{ kind = "people", out = path }
  exchange.export{ kind = "teams", out = path, format = "json" }
  local log = audit.log{ action = "export" }
  eq(#log, 2)
  eq(json.decode(log[1].after_json).kind, "people")
  eq(json.decode(log[2].after_json).format, "json")
  os.remove(path)
  local bad = TMP .. "/no/such/dir/x.csv"
  local err = raises(function() exchange.export{ kind = "people", out = bad } end, "io")
  ok(tostring(err):find("cannot write " .. bad, 1, true), tostring(err))
  raises(function() exchange.export{ kind = "spaceships" } end, "usage")
  raises(function() exchange.export{ kind = "people", format = "xml" } end, "usage")
end)

test("an export of institutions imports again into another database", function()
  F.bogoria()
  local path = tmpname("csv")
  exchange.export{ kind = "institutions", out = path }
  local other = koop.open(":memory:")
  local saved = koop.db
  koop.db = other
  local ok_, res = pcall(function()
    gminas.ensure("2612012")
    return exchange.import{ kind = "institutions", file = path }
  end)
  local n = ok_ and other:value("SELECT count(*) FROM institution")
  koop.db = saved
  other:close()
  ok(ok_, tostring(res))
  eq(n, #F.institutions)
  os.remove(path)
end)
