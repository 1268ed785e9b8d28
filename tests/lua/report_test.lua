-- report_test.lua — the report builder and the standard reports: report.new
-- and its checks; headings, text, key figures, tables from rows, result
-- sets and SQL (columns, labels, formats, totals); Polish money, dates and
-- percentages; names in Polish order; charts as inline SVG; writing .md,
-- .html (one self-contained file), .csv (Excel, read back by koop.csv) and
-- .json by extension, atomically, with clear errors; provenance (when, who,
-- database, versions, procedures, period); each standard report on the
-- domain scenario (team activity, indicators, referrals, reasons, IPW,
-- budget: "wykonanie 10 800,00 zł (19,17%)"); and no beneficiary's name or
-- PESEL in any report, in any format.
-- Run with: koop test tests/lua/report_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")
local json = require "koop.json"

local NB = "\u{A0}"
local TMP = os.getenv("TMPDIR") or "/tmp"

-- A fresh temporary directory for files a test writes.
local function tmpdir()
  local d = ("%s/koop-report-test-%d-%d"):format(TMP, os.time(), math.random(1, 1e9))
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

test("report.new needs a title and a real period", function()
  raises(function() report.new{} end, "invalid")
  raises(function() report.new("x") end, "invalid")
  raises(function() report.new{ title = "t", period = { from = "2020-13-01" } } end, "invalid")
  local err = raises(function() report.new{ title = "t", period = { from = "2020-02-01", to = "2020-01-01" } } end, "invalid")
  ok(tostring(err):find("after the end of the period", 1, true), tostring(err))
  raises(function() report.new{ title = "t", colour = "red" } end, "invalid")
  local r = report.new{ title = "Raport", period = { from = "2019-01-01", to = "2019-12-31" } }
  eq(getmetatable(r).__name, "Report")
end)

test("values in Polish: money, dates, percentages, numbers", function()
  eq(report.display(koop.money("56 340,00"), "money"), "56" .. NB .. "340,00" .. NB .. "zł")
  eq(report.display(5634000, "money"), "56" .. NB .. "340,00" .. NB .. "zł", "whole grosze")
  eq(report.display("2019-06-04", "date"), "04.06.2019")
  eq(report.display(10800 / 56340, "percent"), "19,17%")
  eq(report.display(12345, "number"), "12" .. NB .. "345")
  eq(report.display(1234, "number"), "1234", "four digits are not grouped")
  eq(report.display(2.5, "number"), "2,5")
  eq(report.period_text("2019-06-04", "2019-12-31"), "4 czerwca 2019 r. – 31 grudnia 2019 r.")
end)

test("a report of headings, text, figures, tables and a chart renders as Markdown", function()
  local r = report.new{ title = "Budżet", period = { from = "2019-06-01", to = "2020-12-31" } }
  r:heading("Liczby"):text("Stan na koniec okresu.")
  r:figures{ { label = "Plan", value = koop.money("56 340,00"), format = "money" },
    { label = "Wykonanie", value = koop.money("10 800,00"), format = "money", note = "19,17% planu" } }
  r:table({ { line = "terapia", planned = koop.money("10 800,00"), signed = "2019-07-01", share = 0.5 },
            { line = "poradnictwo", planned = koop.money("7 200,00"), signed = "2019-08-01", share = 0.25 } },
    { columns = { { "line", "Pozycja" }, { "planned", "Kwota [zł]" }, { "signed", "Umowa", "date" }, { "share", "Udział", "percent" } },
      total = "Razem" })
  r:chart{ type = "bar", x = "line", y = "planned", title = "Plan według pozycji" }
  local md = tostring(r)
  ok(md:find("^# Budżet\n"), md)
  ok(md:find("## Liczby", 1, true) and md:find("Stan na koniec okresu.", 1, true), md)
  ok(md:find("**Plan:** 56" .. NB .. "340,00" .. NB .. "zł", 1, true), md)
  ok(md:find("| Pozycja | Kwota [zł] | Umowa | Udział |", 1, true), md)
  ok(md:find("|:--|--:|:--|--:|", 1, true), "numbers right-aligned")
  ok(md:find("| terapia | 10" .. NB .. "800,00" .. NB .. "zł | 01.07.2019 | 50,00% |", 1, true), md)
  ok(md:find("| **Razem** | **18" .. NB .. "000,00" .. NB .. "zł** |", 1, true), "money totals add up: " .. md)
  ok(md:find("```text\nterapia", 1, true), "the chart as text")
  ok(md:find("Okres: 1 czerwca 2019 r. – 31 grudnia 2020 r.", 1, true), md)
end)

test("tables from SQL, result sets and lists; unknown formats and options are refused", function()
  F.bogoria()
  local r = report.new{ title = "t" }
  r:table("SELECT name, kind FROM institution WHERE kind = ? ORDER BY name COLLATE PL", { args = { "OPS" } })
  eq(r.last_table.columns[1].key, "name")
  eq(#r.last_table.rows, 1)
  r:table(institutions.find{ kind = { "OPS", "PCPR" }, order = "name" })
  eq(#r.last_table.rows, 2)
  eq(r.last_table.columns[3].key, "name", "an entity result set brings its display columns")
  r:table({ { b = 1, a = "x" } })
  eq({ r.last_table.columns[1].key, r.last_table.columns[2].key }, { "a", "b" }, "a list: its keys in order")
  raises(function() r:table({}, { columns = { { "a", "A", "euro" } } }) end, "invalid")
  raises(function() r:table({}, { colour = 1 }) end, "invalid")
  raises(function() r:table(42) end, "invalid")
  raises(function() r:chart{ type = "pie" } end, "invalid")
  local empty = report.new{ title = "t" }
  raises(function() empty:chart{ type = "bar" } end, "invalid")
end)

test("names sort in Polish order (scenario step 10)", function()
  gminas.ensure("2612012")
  for _, name in ipairs{ "Zespół Interdyscyplinarny w Bogorii", "Środowiskowy Dom Samopomocy w Bogorii",
      "Urząd Gminy Bogoria", "Szkoła Podstawowa w Bogorii", "Stowarzyszenie Razem dla Bogorii",
      "Ośrodek Pomocy Społecznej w Bogorii" } do
    institutions.add{ name = name, kind = "inne", gmina = "2612012" }
  end
  local r = report.new{ title = "Katalog" }
  r:table("SELECT name FROM institution ORDER BY name COLLATE PL")
  local names = {}
  for i, row in ipairs(r.last_table.rows) do names[i] = row.name:match("^(%S+)") end
  eq(names, { "Ośrodek", "Stowarzyszenie", "Szkoła", "Środowiskowy", "Urząd", "Zespół" })
end)

test("charts are inline SVG with axes, Polish numbers and a legend", function()
  local r = report.new{ title = "t" }
  r:table({ { k = "posiedzenie zespołu", a = 5, b = 7 }, { k = "Szkoła Kooperacji", a = 12000, b = 2 } },
    { columns = { { "k", "Rodzaj" }, { "a", "Bogoria", "number" }, { "b", "Łoniów", "number" } } })
  r:chart{ type = "stacked", x = "k", series = { "a", "b" }, title = "Spotkania" }
  r:chart{ type = "line", x = "k", series = { "a", "b" }, title = "Linia" }
  r:chart{ type = "bar", x = "k", y = "a" }
  local html = r:html()
  local _, svgs = html:gsub("<svg ", "")
  eq(svgs, 3)
  ok(html:find('role="img"', 1, true) and html:find("<title>Spotkania</title>", 1, true), "accessible name")
  ok(html:find("Bogoria</text>", 1, true) and html:find("Łoniów</text>", 1, true), "a legend of the series")
  ok(html:find("12" .. NB .. "002", 1, true), "the stack's total in Polish digits")
  ok(html:find("<polyline", 1, true), "the line chart")
  ok(not html:find("<script", 1, true), "no script")
end)

test("write by extension: .md .html .csv .json; unknown extensions and unwritable paths are refused", function()
  local d = tmpdir()
  local r = report.new{ title = "Raport testowy", period = { to = "2020-12-31" } }
  r:text("Zażółć gęślą jaźń."):table({ { a = "x;y", n = koop.money("56 340,00"), d = "2019-06-04" } },
    { columns = { { "a", "Tekst" }, { "n", "Kwota [zł]" }, { "d", "Data", "date" } } })
  for _, ext in ipairs{ "md", "html", "csv", "json" } do
    eq(r:write(d .. "/r." .. ext), d .. "/r." .. ext)
    ok(exists(d .. "/r." .. ext), ext)
  end
  ok(slurp(d .. "/r.md"):find("^# Raport testowy"), "markdown")
  ok(slurp(d .. "/r.html"):find("^<!DOCTYPE html>"), "html")
  eq(json.decode(slurp(d .. "/r.json")).title, "Raport testowy")
  r:write(d .. "/report.txt", "md")
  ok(slurp(d .. "/report.txt"):find("^# Raport"), "a format given overrides the extension")
  local err = raises(function() r:write(d .. "/r.pdf") end, "invalid")
  ok(tostring(err):find(".md, .html, .csv or .json", 1, true), tostring(err))
  err = raises(function() r:write(d .. "/no/such/dir/r.html") end, "io")
  ok(tostring(err):find("cannot write " .. d .. "/no/such/dir/r.html", 1, true), tostring(err))
  raises(function() r:write(d) end, "invalid")
  -- no temporary file is left behind
  local p = io.popen("ls -a '" .. d .. "'")
  local listing = p:read("a")
  p:close()
  ok(not listing:find("%.tmp"), listing)
  os.execute("rm -rf '" .. d .. "'")
end)

test("the HTML is one self-contained page: inline CSS, A4 print rules, readable on a phone", function()
  local r = report.new{ title = "Raport <HTML> & \"cudzysłowy\"" }
  r:text("a < b & c"):table({ { k = "<b>", n = 7 } }, { columns = { "k", { "n", "N", "number" } } })
  r:chart{ x = "k", y = "n" }
  local html = r:html()
  ok(html:find('<html lang="pl">', 1, true), "Polish")
  ok(html:find('<meta charset="utf-8">', 1, true), "UTF-8")
  ok(html:find('name="viewport" content="width=device-width', 1, true), "phone viewport")
  ok(html:find("@page { size: A4", 1, true), "A4 page")
  ok(html:find("@media print", 1, true) and html:find("@media (max-width", 1, true), "print and small screens")
  ok(html:find("<title>Raport &lt;HTML&gt; &amp; &quot;cudzysłowy&quot;</title>", 1, true), "escaped title")
  ok(html:find("a &lt; b &amp; c", 1, true) and html:find("&lt;b&gt;", 1, true), "escaped text and cells")
  ok(not html:find("<link", 1, true) and not html:find("src=", 1, true) and not html:find("@import", 1, true),
    "nothing loaded from elsewhere")
  for url in html:gmatch("https?://[^\"' )]+") do eq(url, "http://www.w3.org/2000/svg", "the only URL is the SVG namespace") end
end)

test("CSV of a report: Polish Excel by default, read back by koop.csv; rfc4180 on request", function()
  local d = tmpdir()
  local r = report.new{ title = "Budżet", period = { from = "2019-06-01", to = "2020-12-31" } }
  r:heading("Pozycje")
  r:table({ { line = "terapia; sesje", planned = koop.money("10 800,00"), share = 10800 / 56340, on = "2019-07-01", n = 12345 } },
    { columns = { { "line", "Pozycja" }, { "planned", "Kwota [zł]" }, { "share", "Udział", "percent" }, { "on", "Data", "date" },
      { "n", "Liczba", "number" } } })
  r:write(d .. "/r.csv")
  local text = slurp(d .. "/r.csv")
  eq(text:sub(1, 3), "\239\187\191", "a UTF-8 byte order mark")
  ok(text:find("\r\n", 1, true) and not text:find("[^\r]\n"), "CRLF line ends only")
  ok(text:find('"terapia; sesje";10800,00;19,17;2019-07-01;12345\r\n', 1, true), text)
  ok(text:find("Pozycja;Kwota [zł];Udział;Data;Liczba\r\n", 1, true), "Polish headers")
  local found
  for row in koop.csv.rows(d .. "/r.csv", { header = false, ragged = true }) do
    if row[1] == "terapia; sesje" then found = row end
  end
  ok(found, "koop.csv reads the table back")
  eq({ found[2], found[3], found[4], found[5] }, { "10800,00", "19,17", "2019-07-01", "12345" })
  local machine = r:render("csv", { csv = "rfc4180" })
  ok(machine:sub(1, 3) ~= "\239\187\191" and not machine:find("\r", 1, true), "no BOM, LF")
  ok(machine:find('\nterapia; sesje,10800.00,19.17,2019-07-01,12345\n', 1, true), machine)
  raises(function() r:render("csv", { csv = "lotus" }) end, "usage")
  os.execute("rm -rf '" .. d .. "'")
end)

test("JSON of a report: typed values, exact money, the provenance", function()
  koop.actor = "anna.nowak"
  local r = report.new{ title = "t", period = { from = "2019-01-01", to = "2019-12-31" } }
  r:figures{ { label = "Plan", value = koop.money("56 340,00"), format = "money" } }
  r:table({ { a = "x", n = 3, m = 5634000 } }, { columns = { "a", { "n", "N", "count" }, { "m", "Kwota", "money" } } })
  local data = json.decode(r:json())
  eq(data.period.from, "2019-01-01")
  eq(data.blocks[1].items[1].value, "56340.00")
  local t = data.blocks[2]
  eq(t.columns[2].format, "count")
  eq(t.rows[1], { "x", "<5", "56340.00" })
  eq(data.provenance.generated_by, "anna.nowak")
  ok(data.provenance.generated_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), data.provenance.generated_at)
end)

test("provenance: when, by whom, from which database, versions, procedures, period", function()
  koop.today("2021-03-15")
  koop.actor = "jan.kowalski"
  local r = report.new{ title = "t", period = { from = "2020-01-01", to = "2020-12-31" } }
  local p = r:provenance()
  eq(p.generated_by, "jan.kowalski")
  eq(p.database, ":memory:")
  eq(p.koop_version, koop.version)
  eq(p.data_as_of, "2021-03-15")
  eq({ p.period_from, p.period_to }, { "2020-01-01", "2020-12-31" })
  eq(p.procedures, {})
  eq(p.schema_version, db:value("PRAGMA user_version"))
  require("koop.entity").db()           -- every module's tables (procedures' too, if installed)
  -- the real clock, not the pinned date
  ok(p.generated_at:sub(1, 4) ~= "2021" or os.date("!%Y") == "2021", p.generated_at)
  local versions = "nk 2023-2, seniorzy 2024-1"
  if db:value("SELECT 1 FROM sqlite_schema WHERE name = 'procedure_version'") then
    -- koop.procedures: the active version of each procedure, with its hash
    for _, v in ipairs{ { "seniorzy", "2023-9", 0 }, { "seniorzy", "2024-1", 1 }, { "nk", "2023-2", 1 } } do
      db:exec([[INSERT INTO procedure_version (name, version, file, source, hash, installed_at, installed_by, active)
        VALUES (?, ?, 'p.lua', 'return {}', ?, '2021-01-01T00:00:00Z', 'test', ?)]], v[1], v[2], string.rep(v[1]:sub(1, 1), 64), v[3])
    end
    eq(r:provenance().procedures, { "nk 2023-2 (sha256 nnnnnnnnnnnn)", "seniorzy 2024-1 (sha256 ssssssssssss)" })
    versions = "nk 2023-2 (sha256 nnnnnnnnnnnn), seniorzy 2024-1 (sha256 ssssssssssss)"
  else
    db:exec("CREATE TABLE procedure (name TEXT, version TEXT)")
    db:exec("INSERT INTO procedure VALUES ('seniorzy', '2024-1'), ('nk', '2023-2')")
    eq(r:provenance().procedures, { "nk 2023-2", "seniorzy 2024-1" })
  end
  local md = r:markdown()
  ok(md:find("Przez: jan.kowalski", 1, true) and md:find("Procedury: " .. versions, 1, true), md)
  ok(md:find("Dane na dzień: 15 marca 2021 r.", 1, true), md)
  ok(md:find("Wersja koop: " .. koop.version, 1, true), md)
  ok(r:html():find("<dt>Baza danych</dt><dd>:memory:", 1, true), "in the HTML footer")
end)

-- {---- the domain scenario for the standard reports ----

-- The G-PZK with two meetings, two cases with reasons, referrals, an IPW
-- closed with success, and the Bogoria budget with the therapy paid.
local function scenario()
  koop.today("2020-10-31")
  F.bogoria()
  local _, team = F.gpzk()
  for _, k in ipairs{ "ops", "pcpr", "pup", "sp", "ngo" } do team:add_member{ person = F.person[k], from = "2019-07-01" } end
  local m = meetings.add{ team = team, date = "2019-07-10", kind = "posiedzenie", status = "held" }
  for _, k in ipairs{ "ops", "pcpr", "pup", "sp" } do m:attend(F.person[k], "obecny") end
  m:attend(F.person.ngo, "usprawiedliwiony")
  m:task{ text = "Mapa zasobów", owner = F.inst.ops, due = "2019-09-30" }
  local sk = meetings.add{ team = team, date = "2019-09-12", kind = "Szkoła Kooperacji", status = "held" }
  for _, k in ipairs{ "ops", "pcpr" } do sk:attend(F.person[k], "obecny") end
  -- the family's case: reasons 1, 4, 9, 13; consent; IPW; referrals
  local c = F.case("2019-09-02", true)
  for _, code in ipairs{ "1", "4", "9", "13" } do c:reason(code, "2019-09-02") end
  F.consent(c)
  local p = c:plan{ type = "IPW", created_on = "2019-10-16", goals = {
    { text = "Zatrudnienie", actions = { { text = "Aktywizacja", institution = F.inst.pup, due = "2019-12-31" } } } } }
  p:agree{ date = "2019-10-20" }
  local r1 = c:refer{ to = F.inst.pup, service = "poradnictwo", reason = "aktywizacja", date = "2019-10-21" }
  r1:accept{ date = "2019-10-25" }
  local r2 = c:refer{ to = F.inst.pcpr, reason = "terapia", date = "2019-10-22" }
  r2:reject{ reason = "brak wolnych terminów", date = "2019-10-30" }
  c:refer{ to = F.inst.sp, reason = "wsparcie szkolne", date = "2019-11-04" }
  r1:complete{ feedback = "podjął pracę", date = "2019-12-10" }
  c:close{ date = "2020-09-30", outcome = "sukces", force = true, reason = "szkoła nie odpowiedziała" }
  -- a second case, still open
  local c2 = F.case("2020-02-03")
  c2:reason("4", "2020-02-03")
  -- the budget
  local b = budgets.add{ name = "Projekt socjalny Bogoria", gmina = "2612012", source = "POWER/EFS",
    total = "56 340,00 zł", period_from = "2019-06-01", period_to = "2020-12-31" }
  for _, l in ipairs{ { "poradnictwo", "7 200,00" }, { "diagnostyka", "4 800,00" }, { "terapia", "10 800,00" },
      { "rehabilitacja", "9 600,00" }, { "warsztaty", "6 000,00" }, { "klub", "7 500,00" },
      { "centrum wolontariatu", "3 640,00" }, { "edukacja społeczności", "2 800,00" }, { "szkolenia kadr", "4 000,00" } } do
    b:line{ name = l[1], planned = l[2] }
  end
  b:approve{ date = "2019-06-10" }
  local cm = b:line("terapia"):commit{ contractor = F.inst.ngo, amount = "10 800,00 zł", date = "2019-07-01" }
  for i = 1, 3 do
    cm:pay{ document = "FV " .. i, document_date = ("2019-%02d-25"):format(6 + i), paid_on = ("2019-%02d-30"):format(6 + i),
      amount = "3 600,00 zł" }
  end
  return c
end

test("team activity: teams, meetings by kind, attendance by institution, tasks", function()
  scenario()
  local r = report.team_activity{ from = "2019-06-01", to = "2019-12-31" }
  local md = r:markdown()
  ok(md:find("| posiedzenie zespołu | 1 | 1 |", 1, true), md)
  ok(md:find("| Szkoła Kooperacji | 1 | 1 |", 1, true), md)
  ok(md:find("| Ośrodek Pomocy Społecznej w Bogorii | 2 | 0 | 0 | 100,00% |", 1, true), md)
  ok(md:find("| Stowarzyszenie Razem dla Bogorii | 0 | 1 | 0 | 0,00% |", 1, true), md)
  ok(md:find("| Ośrodek Pomocy Społecznej w Bogorii | 1 | 0 | 1 | 1 |", 1, true), "the open task is overdue on 31.12.2019")
  ok(md:find("**Szkolenia:** 1", 1, true), md)
  -- institutions in Polish order: Ośrodek, Powiatowe..., Stowarzyszenie, Szkoła
  local a, b2, c3 = md:find("Ośrodek Pomocy", 1, true), md:find("| Stowarzyszenie Razem", 1, true), md:find("| Szkoła Podstawowa", 1, true)
  ok(a < b2 and b2 < c3, "Polish order")
end)

test("indicators for the ROPS per gmina, the IPW counts hidden when small", function()
  scenario()
  local r = report.indicators{ to = "2020-10-31" }
  local md = r:markdown()
  ok(md:find("| Zespoły kooperacji | 1 |", 1, true), md)
  ok(md:find("| Spotkania (razem) | 2 |", 1, true), md)
  ok(md:find("| IPW zakończone sukcesem | <5 |", 1, true), md)
  ok(md:find("Gmina Bogoria (2612012)", 1, true), "the area: " .. md)
end)

test("referral flow: matrix, answers, acceptance, median days, overdue", function()
  scenario()
  local r = report.referrals{ from = "2019-01-01", to = "2019-12-31", threshold = 3 }
  local t = nil
  for _, b in ipairs(r.blocks) do if b.type == "table" and b.title and b.title:find("kto") then t = b end end
  ok(t, "the matrix")
  eq(t.columns[1].label, "Od \\ do")
  eq(#t.rows, 1, "one sender")
  eq(t.total.__total, 3, "three referrals in total")
  ok(not (t.total_marks and t.total_marks.__total), "a total of 3 is shown under a threshold of 3")
  local md = r:markdown()
  ok(md:find("Skierowania wysłane:** 3", 1, true), md)
  -- every cell of the matrix is 1: hidden; the rates of hidden counts too
  ok(md:find("| Ośrodek Pomocy Społecznej w Bogorii | <3 | <3 | <3 | 3 |", 1, true), md)
  ok(not md:find("50,00%", 1, true), "no rate of a hidden count")
end)

test("referral flow with enough answers: acceptance rate, median days, overdue", function()
  koop.today("2020-10-31")
  F.bogoria()
  -- six referrals to the PUP: answered after 1, 2, 3, 4 and 10 days (three
  -- accepted, two rejected), one never answered (overdue)
  local days = { 1, 2, 3, 4, 10 }
  for i = 1, 6 do
    local c = F.case("2019-09-02")
    local r = c:refer{ to = F.inst.pup, reason = "aktywizacja", date = "2019-10-01" }
    local d = days[i]
    if d and i <= 3 then r:accept{ date = require("koop.dates").add("2019-10-01", d) }
    elseif d then r:reject{ reason = "brak miejsc", date = require("koop.dates").add("2019-10-01", d) } end
  end
  local r = report.referrals{ from = "2019-01-01", to = "2019-12-31", threshold = 3 }
  local md = r:markdown()
  ok(md:find("| Powiatowy Urząd Pracy w Staszowie | 6 | 5 | 3 | <3 | 0 | <3 | <3 | 60,00% | 3 |", 1, true), md)
  ok(md:find("**Przyjęte:** 60,00%", 1, true) and md:find("**Mediana dni do odpowiedzi:** 3", 1, true), md)
  ok(md:find("| OPS | PUP |", 1, true) == nil and md:find("| Od \\ do | PUP | Razem |", 1, true), "short column headings: " .. md)
end)

test("cases by art. 7 reason, with small counts hidden", function()
  scenario()
  local r = report.reasons{ from = "2019-01-01", to = "2020-10-31" }
  local md = r:markdown()
  ok(md:find("| 4. bezrobocie | <5 | <5 | <5 |", 1, true), md)
  ok(md:find("| 2. sieroctwo | 0 | 0 | 0 |", 1, true), "zeros are shown")
  ok(md:find("| **Sprawy razem** | **<5** | **<5** | **<5** |", 1, true), md)
  local seven = md:find("| 7. przemoc w rodzinie", 1, true)
  local seven_a = md:find("| 7a. ", 1, true)
  local eight = md:find("| 8. ", 1, true)
  ok(seven and seven_a and eight and seven < seven_a and seven_a < eight, "the order of the act")
end)

test("IPW outcomes and actions", function()
  scenario()
  local md = report.ipw{ to = "2020-10-31" }:markdown()
  ok(md:find("| sukces | <5 |", 1, true), md)
  ok(md:find("| częściowy | 0 |", 1, true), "no zero is hidden: the other cells sum to the hidden one: " .. md)
  ok(md:find("Powiatowy Urząd Pracy w Staszowie | <5 |", 1, true), md)
end)

test("budget execution: wykonanie 10 800,00 zł (19,17%)", function()
  scenario()
  local r = report.budget{ to = "2020-10-31" }
  local md = r:markdown()
  ok(md:find("**Wykonanie:** 10" .. NB .. "800,00" .. NB .. "zł (19,17% planu)", 1, true), md)
  ok(md:find("| 3 | terapia | 10" .. NB .. "800,00" .. NB .. "zł | 10" .. NB .. "800,00" .. NB .. "zł | 10" .. NB .. "800,00"
    .. NB .. "zł | 0,00" .. NB .. "zł | 100,00% |", 1, true), md)
  ok(md:find("|  | **Razem** | **56" .. NB .. "340,00" .. NB .. "zł**", 1, true), md)
  local csv = r:render("csv")
  ok(csv:find("Plan [zł]", 1, true) and csv:find(";terapia;10800,00;10800,00;10800,00;0,00;100,00\r\n", 1, true), csv)
end)

test("the overview has every section with data, and no section without", function()
  scenario()
  local r = report.overview{ to = "2020-10-31" }
  local heads = {}
  for _, b in ipairs(r.blocks) do if b.type == "heading" then heads[#heads + 1] = b.text end end
  eq(heads, { "Zespoły i spotkania", "Wskaźniki projektu", "Skierowania między instytucjami",
    "Sprawy według powodów udzielania pomocy (art. 7 ustawy o pomocy społecznej)",
    "Indywidualne programy współpracy (IPW)", "Wykonanie budżetu" })
end)

test("no report shows a beneficiary's name or PESEL, in any format", function()
  scenario()
  local secrets = {}
  for _, m in ipairs(F.family_members) do
    secrets[#secrets + 1] = m.pesel
    secrets[#secrets + 1] = m.first_name
  end
  secrets[#secrets + 1] = "Mazur"
  for _, name in ipairs{ "overview", "team_activity", "indicators", "referrals", "reasons", "ipw", "budget" } do
    local r = report[name]{ from = "2019-01-01", to = "2020-10-31" }
    for _, fmt in ipairs{ "md", "html", "csv", "json" } do
      local text = r:render(fmt)
      for _, s in ipairs(secrets) do
        ok(not text:find(s, 1, true), ("%s as %s shows %s"):format(name, fmt, s))
      end
    end
  end
end)

test("standard reports refuse a bad period, area or parameter", function()
  scenario()
  raises(function() report.reasons{ from = "2020-01-01", to = "2019-01-01" } end, "invalid")
  raises(function() report.reasons{ gmina = "12345" } end, "invalid")
  raises(function() report.reasons{ colour = "red" } end, "invalid")
  raises(function() report.nosuch{} end, "invalid")
  eq(#report.list(), 7)
  ok(report.reasons{ gmina = "all" }, "all gminas")
  ok(report.reasons{ gmina = "26" }, "a voivodeship")
end)
