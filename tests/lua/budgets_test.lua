-- budgets_test.lua — budgets (koop.budgets): the Bogoria projekt socjalny
-- of the domain scenario (§6 step 8: nine lines, 56 340,00 zł, the therapy
-- commitment paid in three invoices, a fourth of 0,01 zł refused, execution
-- 10 800,00 zł and 19,17%); amounts in every accepted form, stored as
-- integer grosze; lines and their budget classification; approval only of
-- balanced lines; commitments to institutions and NIP-checked firms;
-- payments, corrections, reductions; amendments (przesunięcia) with their
-- history; execution as of a date; the budget.line_low event; service
-- costs booked through commitments; history that neither the API nor SQL
-- can rewrite; budgets.verify(); and every bad input of the issue, each
-- refused naming the field with nothing written (no row, no audit row).
-- Run with: koop test tests/lua/budgets_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

-- The scenario's lines (domain reference §6 step 8).
local LINES = {
  { "poradnictwo", "7 200,00" }, { "diagnostyka", "4 800,00" }, { "terapia", "10 800,00" },
  { "rehabilitacja", "9 600,00" }, { "warsztaty", "6 000,00" }, { "klub", "7 500,00" },
  { "centrum wolontariatu", "3 640,00" }, { "edukacja społeczności", "2 800,00" },
  { "szkolenia kadr", "4 000,00" },
}

-- The Bogoria budget with its nine lines (a draft unless approve).
local function bogoria(approve)
  koop.today("2020-06-30")
  gminas.ensure("2612012")
  local b = budgets.add{ name = "Projekt socjalny Bogoria", gmina = "2612012", source = "POWER/EFS",
    total = "56 340,00 zł", period_from = "2019-06-01", period_to = "2020-12-31" }
  for _, l in ipairs(LINES) do b:line{ name = l[1], planned = l[2] } end
  if approve then b:approve{ date = "2019-06-10" } end
  return b
end

-- The NGO that runs the therapy.
local function ngo()
  return institutions.add{ name = "Stowarzyszenie Razem dla Bogorii", kind = "NGO", gmina = "2612012" }
end

-- A small approved budget: lines a (600 zł) and b (400 zł), 2019.
local function small()
  koop.today("2020-06-30")
  gminas.ensure("2612012")
  local b = budgets.add{ name = "Mały", gmina = "2612012", total = 1000, period_from = "2019-01-01", period_to = "2019-12-31" }
  local la = b:line{ name = "a", planned = 600 }
  local lb = b:line{ name = "b", planned = 400 }
  b:approve{ date = "2019-01-05" }
  return b, la, lb
end

local FIRM = { name = "Firma Usługowa", nip = "866-000-00-16" }

-- Text as koop.money prints it: "56 340,00 zł" with U+00A0 for the spaces.
local function pl(s) return (s:gsub("(%d) (%d)", "%1\u{A0}%2"):gsub(" zł", "\u{A0}zł")) end

-- Run body with handler fn on event `name`, removing it whatever happens.
local function listening(name, fn, body)
  local off = koop.on(name, fn)
  local ok, err = pcall(body)
  off()
  if not ok then error(err, 0) end
end

-- {==================== the scenario ====================

test("Bogoria: nine lines, approval, the therapy paid in three invoices, the fourth refused", function()
  local b = bogoria(true)
  eq(b.status, "approved")
  eq(b.approved_on, "2019-06-10")
  eq(tostring(b.total), pl("56 340,00 zł"))
  eq(#b:lines(), 9)
  local terapia = b:line("terapia")
  eq(terapia.no, 3)
  eq(tostring(terapia.planned), pl("10 800,00 zł"))
  local c = terapia:commit{ contractor = ngo(), amount = "10 800,00 zł", date = "2019-07-01", document = "umowa 3/2019" }
  for i = 1, 3 do
    c:pay{ document = "FV " .. i .. "/2019", document_date = ("2019-%02d-25"):format(6 + i),
      paid_on = ("2019-%02d-30"):format(6 + i), amount = "3 600,00 zł" }
  end
  local err = F.refused(function()
    c:pay{ document = "FV 4/2019", document_date = "2019-10-25", paid_on = "2019-10-30", amount = "0,01 zł" }
  end, "expenditures.amount", pl("exceeds what is left on Commitment#1: left 0,00 zł, asked 0,01 zł"))
  ok(err.message:find(pl("asked 0,01 zł"), 1, true))
  local e = b:execution()
  eq(tostring(e.total.spent), pl("10 800,00 zł"))
  eq(e.total["% spent"], "19,17%")
  eq(tostring(e.total.planned), pl("56 340,00 zł"))
  eq(tostring(e.total.remaining), pl("45 540,00 zł"))
  eq(#e, 10, "nine lines and the total")
  eq(e[3].line, "terapia")
  eq(e[3]["% spent"], "100,00%")
  eq(tostring(e[3].committed), pl("10 800,00 zł"))
  local text = tostring(e)
  ok(text:find("10\u{A0}800,00\u{A0}zł", 1, true), "the table shows 10 800,00 zł with no-break spaces")
  ok(text:find("19,17%", 1, true), "and 19,17%")
  ok(text:find("│ total", 1, true), "and a total row")
  eq(budgets.verify(), true)
end)

test("money is stored as integer grosze, never REAL", function()
  local b = bogoria(true)
  local c = b:line("terapia"):commit{ contractor = FIRM, amount = 1080.5, date = "2019-07-01" }
  c:pay{ document = "FV 1", document_date = "2019-07-02", paid_on = "2019-07-03", amount = "1 000,25" }
  b:amend{ date = "2019-08-01", reason = "przesunięcie", moves = { { from = "klub", to = "warsztaty", amount = "0,01" } } }
  for _, q in ipairs{
    "SELECT typeof(total_gr) FROM budget", "SELECT typeof(planned_gr) FROM budget_line",
    "SELECT typeof(amount_gr) FROM commitment", "SELECT typeof(amount_gr) FROM expenditure",
    "SELECT typeof(amount_gr) FROM budget_move" } do
    for t in db:urows(q) do eq(t, "integer", q) end
  end
  eq(db:value("SELECT total_gr FROM budget"), 5634000)
  eq(db:value("SELECT amount_gr FROM commitment"), 108050)
  eq(db:value("SELECT amount_gr FROM expenditure"), 100025)
  eq(c.amount, koop.money("1 080,50 zł"), "read back as koop.money")
  ok(koop.money.is(b:line("klub").planned))
end)

test("amounts in every form koop.money accepts", function()
  local _, la = small()
  local forms = { "1,00 zł", "1.00", "1", 1, 1.0, koop.money("1"), koop.money.grosze(100), "1\u{A0}zł" }
  for i, v in ipairs(forms) do
    local c = la:commit{ contractor = FIRM, amount = v, date = "2019-02-01", document = "u" .. i }
    eq(c.amount_gr, 100, "form " .. i)
  end
  eq(tostring(la.committed), pl("8,00 zł"))
end)

-- }====================

-- {==================== budgets and lines ====================

test("a budget: source, gmina, period, status; its tostring", function()
  koop.today("2020-06-30")
  gminas.ensure("2612012")
  local b = budgets.add{ name = "PFRON 2020", gmina = "2612012", source = "pfron", total = "1 234,56",
    period_from = "2020-01-01", period_to = "2020-12-31" }
  eq(b.source, "PFRON")
  eq(b.status, "draft")
  eq(b.low_percent, 10)
  eq(b.gmina.terc, "2612012")
  eq(tostring(b), 'Budget#1 "PFRON 2020" 1\u{A0}234,56\u{A0}zł, 2020-01-01 – 2020-12-31, draft')
  eq(budgets.add{ name = "G", gmina = "2612012", source = "budzet gminy", total = 1, period_from = "2020-01-01",
    period_to = "2020-01-31" }.source, "budżet gminy")
  local err = F.refused(function()
    budgets.add{ name = "X", gmina = "2612012", source = "ZUS", total = 1, period_from = "2020-01-01", period_to = "2020-12-31" }
  end, "budgets.source")
  ok(err.message:find("POWER/EFS, budżet gminy, PFRON, inne", 1, true), err.message)
  F.refused(function()
    budgets.add{ name = "X", gmina = "2612012", total = 1, period_from = "2020-12-31", period_to = "2020-01-01" }
  end, "budgets.period_to")
  F.refused(function() budgets.add{ name = "X", total = 1, period_from = "2020-01-01", period_to = "2020-12-31" } end,
    "budgets.gmina", "is required")
  gminas.set_home("2612012")
  eq(budgets.add{ name = "Domowy", total = 1, period_from = "2020-01-01", period_to = "2020-12-31" }.gmina_terc, "2612012",
    "the database's gmina is the default")
end)

test("lines: numbers, service types from names, budget classification", function()
  local b = bogoria(false)
  eq(b:line(1).name, "poradnictwo")
  eq(b:line("centrum wolontariatu").service_type, "wolontariat", "named like the catalogue's entry")
  eq(b:line("szkolenia kadr").service_type, nil, "no catalogue entry of that name")
  local l = b:line{ name = "koordynacja", planned = 0, dzial = 852, rozdzial = "85295", paragraf = "§ 4177" }
  eq({ l.no, l.dzial, l.rozdzial, l.paragraf }, { 10, "852", "85295", "4177" })
  eq(b:line{ name = "usługi", planned = 0, rozdzial = "85219", paragraf = "4300" }.dzial, "852", "dział from the rozdział")
  F.refused(function() b:line{ name = "x1", planned = 0, dzial = "85" } end, "budget_lines.dzial", "3 digits")
  F.refused(function() b:line{ name = "x2", planned = 0, rozdzial = "8521" } end, "budget_lines.rozdzial", "5 digits")
  F.refused(function() b:line{ name = "x3", planned = 0, paragraf = "430" } end, "budget_lines.paragraf", "4 digits")
  F.refused(function() b:line{ name = "x4", planned = 0, paragraf = "43a0" } end, "budget_lines.paragraf")
  F.refused(function() b:line{ name = "x5", planned = 0, dzial = "000" } end, "budget_lines.dzial", "all-zero")
  F.refused(function() b:line{ name = "x6", planned = 0, dzial = "852", rozdzial = "80101" } end,
    "budget_lines.rozdzial", "not in dział 852")
  F.refused(function() b:line{ name = "terapia", planned = 1 } end, "budget_lines.name", 'has a line "terapia" already')
  F.refused(function() b:line{ name = "x7" } end, "budget_lines.planned", "is required")
  F.refused(function() b:line{ name = "x8", planned = -1 } end, "budget_lines.planned", "must not be negative")
  F.refused(function() b:line{ name = "x9", planned = 1, service_type = "masaż" } end, "budget_lines.service_type")
  F.refused(function() b:line("nie ma") end, "budget_lines.line", "no line 'nie ma'")
  F.refused(function() b:line(99) end, "budget_lines.line", "1 \"poradnictwo\"")
end)

test("approval: only when the lines add up to the total, showing both sums", function()
  local b = bogoria(false)
  b:line("klub"):update{ planned = "7 499,99" }
  local err = F.refused(function() b:approve{ date = "2019-06-10" } end, "budgets.total")
  ok(err.message:find("the lines add up to 56\u{A0}339,99\u{A0}zł, the total is 56\u{A0}340,00\u{A0}zł", 1, true), err.message)
  ok(err.message:find("short by 0,01\u{A0}zł", 1, true), err.message)
  b:line("klub"):update{ planned = "7 500,01" }
  err = F.refused(function() b:approve{ date = "2019-06-10" } end, "budgets.total", "over by 0,01\u{A0}zł")
  b:line("klub"):update{ planned = "7 500,00" }
  eq(b:approve{ date = "2019-06-10" }.status, "approved")
  F.refused(function() b:approve{ date = "2019-06-11" } end, "budgets.status", "approved already")
  koop.today("2020-06-30")
  local empty = budgets.add{ name = "Pusty", gmina = "2612012", total = 1, period_from = "2020-01-01", period_to = "2020-12-31" }
  F.refused(function() empty:approve{} end, "budgets.total", "has no lines")
  empty:line{ name = "x", planned = 1 }
  F.refused(function() empty:approve{ date = "2021-01-01" } end, "budgets.approved_on", "after the end")
end)

test("a draft changes freely; an approved budget's plan changes only by amendments", function()
  local b = bogoria(false)
  b:update{ total = "56 340,01" }
  b:line{ name = "rezerwa", planned = "0,01" }
  b:line("rezerwa"):delete()
  b:update{ total = "56 340,00" }
  b:approve{ date = "2019-06-10" }
  F.refused(function() b:update{ total = "60 000,00" } end, "budgets.total", "its total does not change")
  F.refused(function() b:line("klub"):update{ planned = "1,00" } end, "budget_lines.planned", "only by amendments")
  F.refused(function() b:line{ name = "nowa", planned = "1,00" } end, "budget_lines.planned", pl("starts at 0,00 zł"))
  F.refused(function() b:line("klub"):delete() end, "budget_lines.budget", "never deleted")
  F.refused(function() b:delete() end, "budgets.status", "only a draft is deleted")
  local l = b:line{ name = "nowa", planned = 0 }
  eq(l.no, 10)
  b:line("klub"):update{ paragraf = "4307", notes = "klub seniora" }
  eq(b:line("klub").paragraf, "4307", "names and classification still change")
  b:update{ notes = "umowa o dofinansowanie", low_percent = 20 }
  eq(b.low_percent, 20)
end)

test("an older object of the same budget sees the change", function()
  local b = bogoria(false)
  local old = budgets.get(b.id)
  b:approve{ date = "2019-06-10" }
  old:amend{ date = "2019-08-01", reason = "r", moves = { { from = 1, to = 2, amount = 1 } } }
  eq({ old.status, old.approved_on }, { "amended", "2019-06-10" })
  eq(b:reload().status, "amended")
end)

test("a draft budget is deleted with its lines", function()
  local b = bogoria(false)
  b:delete()
  eq(budgets.count(), 0)
  eq(db:value("SELECT count(*) FROM budget_line"), 0)
end)

-- }====================

-- {==================== commitments ====================

test("commitments to an institution and to an outside firm with a NIP", function()
  local b = bogoria(true)
  local n = ngo()
  local c1 = b:line("terapia"):commit{ contractor = n, amount = "5 000,00", date = "2019-07-01", document = "umowa 1" }
  eq(c1.contractor, n)
  eq(c1.contractor_name, "Stowarzyszenie Razem dla Bogorii")
  local c2 = b:line("terapia"):commit{ contractor = FIRM, amount = 1000, date = "2019-07-02" }
  eq({ c2.contractor_name, c2.contractor_nip }, { "Firma Usługowa", "8660000016" })
  eq(c2.date, "2019-07-02")
  eq(tostring(c2), 'Commitment#2 2019-07-02 Firma Usługowa, line 3 "terapia": 1\u{A0}000,00\u{A0}zł, paid 0,00\u{A0}zł')
  eq(tostring(b:line("terapia").committed), "6\u{A0}000,00\u{A0}zł")
  eq(tostring(b:line("terapia").uncommitted), "4\u{A0}800,00\u{A0}zł")
  eq(#b:line("terapia"):commitments(), 2)
  eq(#b:commitments(), 2)
  local c3 = budgets.commitments.add{ line = b:line(1), contractor = n, amount = "100", date = "2019-07-03" }
  eq(c3.line_id, b:line(1).id, "commitments.add is line:commit")
  F.refused(function() b:line(1):commit{ contractor = { name = "Zła", nip = "1234563217" }, amount = 1, date = "2019-07-01" } end,
    "commitments.contractor", "NIP")
  F.refused(function() b:line(1):commit{ contractor = { name = "Bez NIP" }, amount = 1, date = "2019-07-01" } end,
    "commitments.contractor", "needs its NIP")
  F.refused(function() b:line(1):commit{ contractor = { nip = "8660000016" }, amount = 1, date = "2019-07-01" } end,
    "commitments.contractor", "needs its name")
  F.refused(function() b:line(1):commit{ amount = 1, date = "2019-07-01" } end, "commitments.contractor", "is required")
  F.refused(function() b:line(1):commit{ contractor = 999, amount = 1, date = "2019-07-01" } end, "commitments.contractor")
  F.refused(function() b:line(1):commit{ contractor = n, amount = 1, date = "2019-07-01", price = 2 } end,
    "commitments.price", "unknown option")
end)

test("a commitment never exceeds what is left on its line; the error shows left and asked", function()
  local b = bogoria(true)
  local t = b:line("terapia")
  t:commit{ contractor = FIRM, amount = "10 000,00", date = "2019-07-01" }
  F.refused(function() t:commit{ contractor = FIRM, amount = "800,01", date = "2019-07-02" } end,
    "commitments.amount", "exceeds what is left on line 3 \"terapia\": left 800,00\u{A0}zł, asked 800,01\u{A0}zł")
  t:commit{ contractor = FIRM, amount = "800,00", date = "2019-07-02" }
  eq(tostring(t.uncommitted), "0,00\u{A0}zł")
  F.refused(function() t:commit{ contractor = FIRM, amount = "0,01", date = "2019-07-02" } end, "commitments.amount", "left 0,00")
end)

test("a commitment only on an approved budget that is not closed, dated within its period", function()
  local b = bogoria(false)
  F.refused(function() b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2019-07-01" } end,
    "commitments.line", "is a draft")
  b:approve{ date = "2019-06-10" }
  F.refused(function() b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2019-05-31" } end,
    "commitments.date", "outside the period")
  F.refused(function() b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2021-01-01" } end,
    "commitments.date", "outside the period")
  F.refused(function() b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2019-06-09" } end,
    "commitments.date", "before Budget#1 \"Projekt socjalny Bogoria\" was approved (2019-06-10)")
  F.refused(function() b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2019-13-01" } end,
    "commitments.date", "not a real calendar date")
  b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2019-06-10" }
  b:close{ date = "2020-12-31" }
  eq(b.status, "closed")
  F.refused(function() b:line("terapia"):commit{ contractor = FIRM, amount = 1, date = "2020-01-01" } end,
    "commitments.line", "is closed (since 2020-12-31)")
end)

test("a reduction gives the unpaid rest of a commitment back to its line", function()
  local _, la = small()
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  c:pay{ document = "FV 1", document_date = "2019-03-01", paid_on = "2019-03-05", amount = 300 }
  F.refused(function() c:reduce{ amount = "200,01", reason = "aneks 1", date = "2019-04-01" } end,
    "commitments.amount", "200,00\u{A0}zł of 500,00\u{A0}zł may go")
  F.refused(function() c:reduce{ amount = 100, date = "2019-04-01" } end, "commitments.reason", "is required")
  F.refused(function() c:reduce{ amount = 100, reason = "x", date = "2019-01-31" } end, "commitments.date")
  local r = c:reduce{ amount = 200, reason = "aneks 1: mniej sesji", date = "2019-04-01" }
  eq(r.amount_gr, -20000)
  eq(tostring(c.net), "300,00\u{A0}zł")
  eq(tostring(c.left), "0,00\u{A0}zł")
  eq(tostring(la.uncommitted), "300,00\u{A0}zł")
  F.refused(function() r:pay{ document = "x", document_date = "2019-04-02", amount = 1 } end, "expenditures.commitment")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-04-02", paid_on = "2019-04-02", amount = "0,01" } end,
    "expenditures.amount", "left 0,00")
  eq(#la:commitments(), 2)
  eq(budgets.verify(), true)
end)

-- }====================

-- {==================== expenditures ====================

test("payments: never above what is left, never before the commitment, never zero or negative", function()
  local _, la = small()
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  local e = c:pay{ document = "FV 1/2019", document_date = "2019-02-10", paid_on = "2019-02-15", amount = "499,99" }
  eq(e.status, "paid")
  eq(tostring(e), "Expenditure#1 invoice FV 1/2019 of 2019-02-10, paid 2019-02-15: 499,99\u{A0}zł (Commitment#1)")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-02-10", paid_on = "2019-02-15", amount = "0,02" } end,
    "expenditures.amount", "left 0,01\u{A0}zł, asked 0,02\u{A0}zł")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-01-31", paid_on = "2019-02-15", amount = "0,01" } end,
    "expenditures.document_date", "2019-01-31 is before its commitment (Commitment#1 of 2019-02-01)")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-02-01", paid_on = "2019-01-31", amount = "0,01" } end,
    "expenditures.paid_on", "before its commitment")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-02-10", amount = 0 } end,
    "expenditures.amount", "must be more than 0,00")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-02-10", amount = -1 } end,
    "expenditures.amount", "must be more than 0,00")
  F.refused(function() c:pay{ document_date = "2019-02-10", amount = "0,01" } end, "expenditures.document", "is required")
  F.refused(function() c:pay{ document = "FV 2", amount = "0,01" } end, "expenditures.document_date", "is required")
  F.refused(function() c:pay{ document = "FV 2", document_date = "2019-02-10" } end, "expenditures.amount", "is required")
  local last = c:pay{ document = "FV 2", document_date = "2019-02-10", amount = "0,01" }
  eq(last.paid_on, "2020-06-30", "paid today by default")
  eq(tostring(c.paid), "500,00\u{A0}zł")
  eq(#c:expenditures(), 2)
end)

test("corrections are new negative entries tied to the payment they correct", function()
  local _, la = small()
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  local e = c:pay{ document = "FV 1", document_date = "2019-02-10", paid_on = "2019-02-15", amount = 500 }
  F.refused(function() c:correct{ of = e, amount = 50, reason = "rabat" } end, "expenditures.amount", "a correction is negative")
  F.refused(function() c:correct{ of = e, amount = -50 } end, "expenditures.reason", "is required")
  F.refused(function() c:correct{ amount = -50, reason = "rabat" } end, "expenditures.corrects", "of= is required")
  F.refused(function() c:correct{ of = e, amount = "-500,01", reason = "rabat" } end, "expenditures.amount",
    "at most 500,00\u{A0}zł, asked 500,01\u{A0}zł")
  F.refused(function() c:correct{ of = e, amount = -50, reason = "rabat", paid_on = "2019-02-14" } end,
    "expenditures.paid_on", "before the payment it corrects")
  local k = c:correct{ of = e, amount = "-50,00", reason = "nota korygująca: rabat", paid_on = "2019-03-01" }
  eq(k.document, "korekta FV 1")
  eq({ k.status, e.status }, { "correction", "corrected" })
  eq(tostring(e.net), "450,00\u{A0}zł")
  eq(tostring(e.amount), "500,00\u{A0}zł", "the payment itself is as it was")
  eq(tostring(c.left), "50,00\u{A0}zł", "what the correction gave back can be paid again")
  local k2 = e:correct{ amount = -450, reason = "zwrot", paid_on = "2019-03-02" }
  eq(k2.corrects_id, e.id)
  F.refused(function() e:correct{ amount = "-0,01", reason = "zwrot", paid_on = "2019-03-02" } end, "expenditures.amount")
  F.refused(function() k:correct{ amount = "-0,01", reason = "x" } end, "expenditures.corrects", "is itself a correction")
  local other = la:commit{ contractor = FIRM, amount = 10, date = "2019-02-01" }
  F.refused(function() other:correct{ of = e, amount = -1, reason = "x" } end, "expenditures.corrects", "not Commitment#2")
  local e2 = budgets.get(1):execution{ on = "2019-12-31" }
  eq(tostring(e2[1].spent), "0,00\u{A0}zł", "500 paid, 500 corrected")
  eq(budgets.verify(), true)
end)

-- }====================

-- {==================== amendments ====================

test("amendments move planned money between lines, keep the total and their history", function()
  local b = bogoria(true)
  b:line("terapia"):commit{ contractor = FIRM, amount = "10 000,00", date = "2019-07-01" }
  local a = b:amend{ date = "2019-09-01", reason = "przesunięcie nr 1", document = "uchwała 12/2019", moves = {
    { from = "klub", to = "terapia", amount = "1 000,00" },
    { from = b:line("warsztaty"), to = 1, amount = "500,00" },
  } }
  eq({ a.no, a.date, a.reason }, { 1, "2019-09-01", "przesunięcie nr 1" })
  eq(b.status, "amended")
  eq(tostring(b:line("terapia").planned), "11\u{A0}800,00\u{A0}zł")
  eq(tostring(b:line("klub").planned), "6\u{A0}500,00\u{A0}zł")
  eq(tostring(b:line("poradnictwo").planned), "7\u{A0}700,00\u{A0}zł")
  eq(b:line("klub").planned_gr, 750000, "the first plan is kept")
  eq(tostring(b:execution().total.planned), "56\u{A0}340,00\u{A0}zł", "the total stays")
  eq(#a:moves(), 2)
  eq(tostring(a), "Amendment#1 no 1 of 2019-09-01: 2 moves, 1\u{A0}500,00\u{A0}zł (przesunięcie nr 1)")
  eq(tostring(b:execution("2019-08-31")[3].planned), "10\u{A0}800,00\u{A0}zł", "the plan before the amendment")
  local a2 = b:amend{ date = "2019-10-01", reason = "przesunięcie nr 2", moves = { { from = "terapia", to = "klub", amount = "1 800,00" } } }
  eq(a2.no, 2)
  eq(#b:amendments(), 2)
  eq(b.status, "amended")
  eq(budgets.verify(), true)
end)

test("an amendment never moves more than is uncommitted on the source line", function()
  local b = bogoria(true)
  b:line("terapia"):commit{ contractor = FIRM, amount = "10 000,00", date = "2019-07-01" }
  F.refused(function()
    b:amend{ date = "2019-09-01", reason = "r", moves = { { from = "terapia", to = "klub", amount = "800,01" } } }
  end, "budget_amendments.moves[1].amount", "uncommitted 800,00\u{A0}zł, asked 800,01\u{A0}zł")
  F.refused(function()
    b:amend{ date = "2019-09-01", reason = "r", moves = {
      { from = "klub", to = "warsztaty", amount = "7 000,00" },
      { from = "klub", to = "terapia", amount = "500,01" } } }
  end, "budget_amendments.moves[2].amount", "uncommitted 500,00\u{A0}zł")
  b:amend{ date = "2019-09-01", reason = "r", moves = {
    { from = "klub", to = "terapia", amount = "7 500,00" },
    { from = "terapia", to = "warsztaty", amount = "8 300,00" } } }
  eq(tostring(b:line("terapia").uncommitted), "0,00\u{A0}zł", "money received in the amendment can move on")
end)

test("amendments: bad input refused", function()
  local b = bogoria(false)
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = { { from = 1, to = 2, amount = 1 } } } end,
    "budget_amendments.budget", "is a draft")
  b:approve{ date = "2019-06-10" }
  local other = bogoria(false)
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = { { from = other:line(1), to = 2, amount = 1 } } } end,
    "budget_amendments.moves[1].from", "belongs to another budget")
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = { { from = 1, to = 1, amount = 1 } } } end,
    "budget_amendments.moves[1].to", "the same line")
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = { { from = 1, to = 2, amount = 0 } } } end,
    "budget_amendments.moves[1].amount", "more than 0,00")
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = { { from = 1, to = 2, amount = "1,001" } } } end,
    "budget_amendments.moves[1].amount", "more than two decimal places")
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = { { from = 1, to = "brak", amount = 1 } } } end,
    "budget_amendments.moves[1].to", "no line 'brak'")
  F.refused(function() b:amend{ date = "2019-09-01", moves = { { from = 1, to = 2, amount = 1 } } } end,
    "budget_amendments.reason", "is required")
  F.refused(function() b:amend{ date = "2019-09-01", reason = "r", moves = {} } end, "budget_amendments.moves")
  F.refused(function() b:amend{ date = "2021-01-01", reason = "r", moves = { { from = 1, to = 2, amount = 1 } } } end,
    "budget_amendments.date", "outside the period")
  b:amend{ date = "2019-09-01", reason = "r", moves = { { from = 1, to = 2, amount = 1 } } }
  F.refused(function() b:amend{ date = "2019-08-31", reason = "r", moves = { { from = 1, to = 2, amount = 1 } } } end,
    "budget_amendments.date", "amendments go in order")
end)

-- }====================

-- {==================== execution ====================

test("execution as of a date: what is dated after it does not count", function()
  local b = bogoria(true)
  local c = b:line("terapia"):commit{ contractor = ngo(), amount = "10 800,00", date = "2019-07-01" }
  c:pay{ document = "FV 1", document_date = "2019-07-25", paid_on = "2019-07-31", amount = "3 600,00" }
  c:pay{ document = "FV 2", document_date = "2019-08-25", paid_on = "2019-08-31", amount = "3 600,00" }
  local before = b:execution{ on = "2019-06-30" }
  eq(tostring(before[3].committed), "0,00\u{A0}zł")
  eq(tostring(before.total.spent), "0,00\u{A0}zł")
  eq(before.total["% spent"], "0,00%")
  local mid = b:execution("2019-08-30")
  eq(tostring(mid[3].committed), "10\u{A0}800,00\u{A0}zł")
  eq(tostring(mid[3].spent), "3\u{A0}600,00\u{A0}zł")
  eq(mid[3]["% spent"], "33,33%")
  eq(tostring(mid[3].remaining), "7\u{A0}200,00\u{A0}zł")
  eq(mid.on, "2019-08-30")
  koop.today("2019-08-31")
  eq(tostring(b:execution().total.spent), "7\u{A0}200,00\u{A0}zł", "default: today (--today)")
  eq(b:execution().total["% spent"], "12,78%")
  F.refused(function() b:execution("2019-02-30") end, "budgets.on")
  F.refused(function() b:execution{ at = "2019-02-01" } end, "budgets.at", "unknown option")
  local st = b:line("terapia"):state{ on = "2019-08-30" }
  eq({ tostring(st.spent), tostring(st.uncommitted) }, { "3\u{A0}600,00\u{A0}zł", "0,00\u{A0}zł" })
end)

-- }====================

-- {==================== the budget.line_low event ====================

test("budget.line_low fires once, when a line's uncommitted money falls below 10% of its plan", function()
  local b = bogoria(true)
  local seen = {}
  listening("budget.line_low", function(line, e)
    seen[#seen + 1] = { line.name, tostring(e.uncommitted), tostring(e.threshold), e.percent, e.budget.id }
  end, function()
    local t = b:line("terapia")
    t:commit{ contractor = FIRM, amount = "9 720,00", date = "2019-07-01" }
    eq(#seen, 0, "1 080,00 zł left is exactly 10%: not below")
    t:commit{ contractor = FIRM, amount = "0,01", date = "2019-07-01" }
    eq(seen, { { "terapia", "1\u{A0}079,99\u{A0}zł", "1\u{A0}080,00\u{A0}zł", 10, 1 } })
    t:commit{ contractor = FIRM, amount = "1 000,00", date = "2019-07-02" }
    eq(#seen, 1, "no second event while it stays low")
    b:line("klub"):commit{ contractor = FIRM, amount = "6 000,00", date = "2019-07-01" }
    eq(#seen, 1, "1 500,00 zł of 7 500,00 zł left is 20%")
    b:amend{ date = "2019-08-01", reason = "r", moves = { { from = "klub", to = "terapia", amount = "1 000,00" } } }
    eq(#seen, 2, "an amendment taking a line's money makes it low")
    eq(seen[2][1], "klub")
  end)
end)

test("budget.line_low: the threshold is set per budget; a failing handler rolls the commitment back", function()
  local b = bogoria(true)
  b:update{ low_percent = 50 }
  local n = 0
  listening("budget.line_low", function() n = n + 1 end, function()
    b:line("terapia"):commit{ contractor = FIRM, amount = "5 400,00", date = "2019-07-01" }
    eq(n, 0)
    b:line("terapia"):commit{ contractor = FIRM, amount = "0,01", date = "2019-07-01" }
    eq(n, 1)
  end)
  listening("budget.line_low", function() error("procedure says no") end, function()
    local before = F.snapshot()
    raises(function() b:line("klub"):commit{ contractor = FIRM, amount = "7 000,00", date = "2019-07-01" } end, "procedure says no")
    eq(F.snapshot(), before, "nothing written")
  end)
end)

-- }====================

-- {==================== history cannot be rewritten ====================

test("the API refuses to change or delete commitments, payments and amendments", function()
  local b, la = small()
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  local e = c:pay{ document = "FV 1", document_date = "2019-02-10", paid_on = "2019-02-15", amount = 100 }
  local a = b:amend{ date = "2019-03-01", reason = "r", moves = { { from = "b", to = "a", amount = 1 } } }
  F.refused(function() c:update{ amount = 1 } end, "commitments.commitments", "never changed")
  F.refused(function() c:update{ document = "x" } end, "commitments.commitments", "never changed")
  F.refused(function() e:update{ amount = 1 } end, "expenditures.expenditures", "never changed")
  F.refused(function() a:update{ reason = "x" } end, "budget_amendments.budget_amendments", "never changed")
  F.refused(function() a:moves()[1]:update{ amount = 2 } end, "budget_moves.budget_moves", "never changed")
  for _, o in ipairs{ c, e, a } do
    raises(function() return o.delete end, "no field or method 'delete'")
  end
end)

test("SQL triggers refuse rewriting history, even through db:exec", function()
  local b, la = small()
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  c:pay{ document = "FV 1", document_date = "2019-02-10", paid_on = "2019-02-15", amount = 100 }
  b:amend{ date = "2019-03-01", reason = "r", moves = { { from = "b", to = "a", amount = 1 } } }
  local before = F.snapshot()
  for _, sql in ipairs{
    "UPDATE commitment SET amount_gr = 1",
    "UPDATE commitment SET line_id = 2",
    "DELETE FROM commitment",
    "UPDATE expenditure SET amount_gr = 1",
    "UPDATE expenditure SET paid_on = '2019-12-31'",
    "DELETE FROM expenditure",
    "UPDATE budget_amendment SET date = '2019-12-31'",
    "DELETE FROM budget_amendment",
    "UPDATE budget_move SET amount_gr = 2",
    "DELETE FROM budget_move",
    "UPDATE budget_line SET planned_gr = planned_gr + 1",
    "DELETE FROM budget_line",
    "UPDATE budget SET total_gr = total_gr + 1",
    "UPDATE budget SET status = 'draft', approved_on = NULL",
    "DELETE FROM budget",
    "UPDATE expenditure SET amount_gr = 1.5",
  } do
    raises(function() db:exec(sql) end, "constraint")
  end
  -- inserts that break a rule
  for _, sql in ipairs{
    "INSERT INTO commitment (line_id, contractor_name, contractor_nip, signed_on, amount_gr) VALUES (1, 'X', '8660000016', '2019-05-01', 50002)",
    "INSERT INTO expenditure (commitment_id, document, document_date, paid_on, amount_gr) VALUES (1, 'X', '2019-05-01', '2019-05-01', 40001)",
    "INSERT INTO expenditure (commitment_id, document, document_date, paid_on, amount_gr) VALUES (1, 'X', '2019-01-01', '2019-05-01', 1)",
    "INSERT INTO expenditure (commitment_id, document, document_date, paid_on, amount_gr) VALUES (1, 'X', '2019-05-01', '2019-05-01', 0.5)",
    "INSERT INTO budget_move (amendment_id, from_line_id, to_line_id, amount_gr) VALUES (1, 2, 1, 40000)",
  } do
    raises(function() db:exec(sql) end, "constraint")
  end
  eq(F.snapshot(), before, "nothing changed")
  local d = budgets.add{ name = "Szkic", gmina = "2612012", total = 1, period_from = "2019-01-01", period_to = "2019-12-31" }
  raises(function() db:exec("UPDATE budget SET status = 'approved', approved_on = '2019-01-01' WHERE id = ?", d.id) end,
    "constraint")
  raises(function() db:exec("INSERT INTO commitment (line_id, contractor_name, contractor_nip, signed_on, amount_gr) VALUES (?, 'X', '8660000016', '2019-05-01', 1)",
    d:line{ name = "x", planned = 1 }.id) end, "constraint")
end)

test("budgets.verify() finds what was changed behind koop's back", function()
  local _, la = small()
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  c:pay{ document = "FV 1", document_date = "2019-02-10", paid_on = "2019-02-15", amount = 100 }
  eq({ budgets.verify() }, { true, {} })
  db:exec("DROP TRIGGER commitment_fixed")
  db:exec("UPDATE commitment SET amount_gr = 70000")
  db:exec("DROP TRIGGER budget_line_plan_fixed")
  db:exec("UPDATE budget_line SET planned_gr = 1000 WHERE id = 2")
  local good, problems = budgets.verify()
  eq(good, false)
  eq(problems, {
    "Budget#1: the lines' plans add up to 610,00\u{A0}zł, not to the total 1\u{A0}000,00\u{A0}zł",
    "BudgetLine#1: committed 700,00\u{A0}zł of a plan of 600,00\u{A0}zł",
  })
end)

-- }====================

-- {==================== the audit log ====================

test("every change writes its audit row; a refused one writes none", function()
  local b, la = small()
  local seq = db:value("SELECT max(seq) FROM audit_log")
  local c = la:commit{ contractor = FIRM, amount = 500, date = "2019-02-01" }
  local e = c:pay{ document = "FV 1", document_date = "2019-02-10", paid_on = "2019-02-15", amount = 100 }
  c:correct{ of = e, amount = -10, reason = "rabat", paid_on = "2019-02-20" }
  b:amend{ date = "2019-03-01", reason = "r", moves = { { from = "b", to = "a", amount = 1 } } }
  b:close{ date = "2019-12-31" }
  local rows = db:query("SELECT action, entity FROM audit_log WHERE seq > ? ORDER BY seq", seq)
  local got = {}
  for i, r in ipairs(rows) do got[i] = r.action .. " " .. r.entity end
  eq(got, { "add commitments", "add expenditures", "add expenditures", "add budget_amendments", "add budget_moves",
    "update budgets", "update budgets" })
  eq(#c:history(), 1)
  ok(audit.verify())
end)

-- }====================

-- {==================== bad input (issue 5) ====================

test("bad input: each refused naming the field, nothing written", function()
  local b, la = small()
  local c = la:commit{ contractor = FIRM, amount = 300, date = "2019-02-01" }
  -- negative or zero amounts where not allowed
  F.refused(function() la:commit{ contractor = FIRM, amount = 0, date = "2019-02-01" } end, "commitments.amount", "more than 0,00")
  F.refused(function() la:commit{ contractor = FIRM, amount = -5, date = "2019-02-01" } end, "commitments.amount", "more than 0,00")
  F.refused(function() c:pay{ document = "F", document_date = "2019-02-02", amount = "-0,01" } end, "expenditures.amount")
  F.refused(function()
    budgets.add{ name = "X", gmina = "2612012", total = 0, period_from = "2019-01-01", period_to = "2019-12-31" }
  end, "budgets.total", "must be more than 0,00")
  F.refused(function()
    budgets.add{ name = "X", gmina = "2612012", total = "-1,00", period_from = "2019-01-01", period_to = "2019-12-31" }
  end, "budgets.total", "must be more than 0,00")
  -- three decimals
  F.refused(function() la:commit{ contractor = FIRM, amount = "1,005", date = "2019-02-01" } end,
    "commitments.amount", "more than two decimal places")
  F.refused(function() la:commit{ contractor = FIRM, amount = 1.005, date = "2019-02-01" } end,
    "commitments.amount", "more than two decimal places")
  F.refused(function() c:pay{ document = "F", document_date = "2019-02-02", amount = "10,015" } end,
    "expenditures.amount", "more than two decimal places")
  -- text that is not an amount
  F.refused(function() la:commit{ contractor = FIRM, amount = "sto złotych", date = "2019-02-01" } end,
    "commitments.amount", "is not an amount of money")
  F.refused(function() c:pay{ document = "F", document_date = "2019-02-02", amount = "12,34,56" } end, "expenditures.amount")
  F.refused(function() la:commit{ contractor = FIRM, amount = {}, date = "2019-02-01" } end, "commitments.amount", "expected an amount")
  F.refused(function() la:commit{ contractor = FIRM, amount = "", date = "2019-02-01" } end, "commitments.amount")
  -- overspend of a line or a commitment
  F.refused(function() la:commit{ contractor = FIRM, amount = "300,01", date = "2019-02-01" } end,
    "commitments.amount", "left 300,00\u{A0}zł, asked 300,01\u{A0}zł")
  F.refused(function() c:pay{ document = "F", document_date = "2019-02-02", amount = "300,01" } end,
    "expenditures.amount", "left 300,00\u{A0}zł, asked 300,01\u{A0}zł")
  -- approval of unbalanced lines
  local d = budgets.add{ name = "Szkic", gmina = "2612012", total = 100, period_from = "2019-01-01", period_to = "2019-12-31" }
  d:line{ name = "x", planned = 99 }
  F.refused(function() d:approve{ date = "2019-01-01" } end, "budgets.total", "99,00\u{A0}zł")
  -- expenditure dated before its commitment
  F.refused(function() c:pay{ document = "F", document_date = "2019-01-31", paid_on = "2019-02-02", amount = 1 } end,
    "expenditures.document_date", "before its commitment")
  -- commitment to a closed budget
  b:close{ date = "2019-12-31" }
  F.refused(function() la:commit{ contractor = FIRM, amount = 1, date = "2019-03-01" } end, "commitments.line", "is closed")
  F.refused(function() c:pay{ document = "F", document_date = "2019-03-01", amount = 1 } end, "expenditures.commitment", "is closed")
  F.refused(function() b:amend{ date = "2019-12-31", reason = "r", moves = { { from = 1, to = 2, amount = 1 } } } end,
    "budget_amendments.budget", "is closed")
  F.refused(function() b:close{ date = "2019-12-31" } end, "budgets.status", "closed already")
  F.refused(function() b:update{ name = "Inna nazwa" } end, "budgets.name", "only its notes change")
end)

test("closing: only an approved budget, not before its last entry", function()
  local b, la = small()
  local c = la:commit{ contractor = FIRM, amount = 300, date = "2019-02-01" }
  c:pay{ document = "F", document_date = "2019-02-02", paid_on = "2019-06-01", amount = 1 }
  F.refused(function() b:close{ date = "2019-05-31" } end, "budgets.closed_on", "before the last entry on the budget (2019-06-01)")
  F.refused(function() b:close{ date = "2019-01-04" } end, "budgets.closed_on", "before the budget was approved")
  b:close{ date = "2019-06-01" }
  eq({ b.status, b.closed_on }, { "closed", "2019-06-01" })
  local d = budgets.add{ name = "Szkic", gmina = "2612012", total = 1, period_from = "2019-01-01", period_to = "2019-12-31" }
  F.refused(function() d:close{} end, "budgets.status", "is a draft")
end)

test("the period of an approved budget still covers what was entered on it", function()
  local b, la = small()
  la:commit{ contractor = FIRM, amount = 300, date = "2019-06-01" }
  b:update{ period_to = "2020-06-30" }
  eq(b.period_to, "2020-06-30", "a project extended")
  F.refused(function() b:update{ period_to = "2019-05-31" } end, "budgets.period_to", "before the last entry")
  F.refused(function() b:update{ period_from = "2019-06-02" } end, "budgets.period_from", "after the first entry")
end)

-- }====================

-- {==================== service costs ====================

-- A case of the OPS in Bogoria, opened 2019-06-15.
local function a_case()
  local ops = institutions.add{ name = "Ośrodek Pomocy Społecznej w Bogorii", kind = "OPS", gmina = "2612012" }
  return cases.open{ opened_on = "2019-06-15", gmina = "2612012", source_institution = ops }
end

test("a delivery is booked under the provider's commitment on the line (it is no payment)", function()
  local b = bogoria(true)
  local n = ngo()
  local t = b:line("terapia")
  local cm = t:commit{ contractor = n, amount = "1 000,00", date = "2019-07-01" }
  local c = a_case()
  local s = c:deliver{ provider = n, service = "terapia", date = "2019-07-10", units = 2, cost = 300, budget_line_id = t.id }
  eq({ s.budget_line_id, s.commitment_id }, { t.id, cm.id })
  eq(tostring(cm.delivered), "300,00\u{A0}zł")
  eq(tostring(t.committed), "1\u{A0}000,00\u{A0}zł", "the contract committed it already")
  eq(tostring(t.spent), "0,00\u{A0}zł", "a delivery is not a payment")
  eq(#cm:services(), 1)
  local s2 = c:deliver{ provider = n, service = "terapia", date = "2019-07-11", cost = 700 }
  eq(budgets.book(s2, t), cm, "budgets.book: the same commitment")
  eq(budgets.book(s2), cm, "booking again gives the same commitment")
  eq(tostring(cm.delivered), "1\u{A0}000,00\u{A0}zł")
  local count = services.count()
  F.refused(function()
    c:deliver{ provider = n, service = "terapia", date = "2019-07-12", cost = 0.01, budget_line_id = t.id }
  end, "services.cost", "exceeds what is left on Commitment#1 with the provider: left 0,00\u{A0}zł, asked 0,01\u{A0}zł")
  eq(services.count(), count, "the delivery is refused with its booking")
  eq(budgets.verify(), true)
end)

test("without a commitment with the provider, a delivery is an order of its own", function()
  local b = bogoria(true)
  local n = ngo()
  local d = b:line("diagnostyka")
  local c = a_case()
  local s = c:deliver{ provider = n, service = "diagnostyka", date = "2019-07-10", cost = 400 }
  local cm = budgets.book(s, d)
  eq({ cm.contractor_id, cm.date, cm.amount_gr, cm.document, cm.service_id }, { n.id, "2019-07-10", 40000, "Service#1", s.id })
  eq(tostring(d.committed), "400,00\u{A0}zł")
  cm:pay{ document = "FV 7", document_date = "2019-07-31", amount = 400 }
  eq(tostring(d.spent), "400,00\u{A0}zł")
  local big = c:deliver{ provider = n, service = "diagnostyka", date = "2019-07-11", cost = 4400.01 }
  F.refused(function() budgets.book(big, d) end, "services.cost",
    "Service#2 exceeds what is left on line 2 \"diagnostyka\": left 4\u{A0}400,00\u{A0}zł, asked 4\u{A0}400,01\u{A0}zł")
  eq(big.commitment_id, nil)
  F.refused(function() budgets.book(big, b:line("terapia")) end, "services.service", "pays for terapia")
  eq(budgets.verify(), true)
end)

test("a scheduled delivery naming its line is booked when it is delivered; bookings are final", function()
  local b = bogoria(true)
  local n = ngo()
  local t = b:line("terapia")
  local c = a_case()
  local s = c:deliver{ provider = n, service = "terapia", date = "2020-07-10", cost = 150, budget_line_id = t.id }
  eq({ s.status, s.commitment_id }, { "scheduled", nil })
  F.refused(function() budgets.book(s) end, "services.status", "only a delivered service is booked")
  koop.today("2020-07-10")
  s:done{}
  eq(s.status, "delivered")
  ok(s.commitment_id, "booked on delivery")
  raises(function() db:exec("UPDATE service_delivery SET cost = 1 WHERE id = ?", s.id) end, "constraint")
  raises(function() db:exec("UPDATE service_delivery SET commitment_id = NULL WHERE id = ?", s.id) end, "constraint")
  raises(function() db:exec("DELETE FROM service_delivery WHERE id = ?", s.id) end, "constraint")
  raises(function() db:exec("UPDATE service_delivery SET budget_line_id = 999 WHERE id = ?", s.id) end, "constraint")
  local free = c:deliver{ provider = n, service = "terapia", date = "2020-07-10", cost = 0 }
  F.refused(function() budgets.book(free, t) end, "services.cost", "has no cost")
  F.refused(function() budgets.book(free) end, "services.budget_line_id", "names no budget line")
  F.refused(function() budgets.book(s, b:line("klub")) end, "services.budget_line_id", "booked on BudgetLine#3 already")
  local rows = db:query("SELECT action FROM audit_log WHERE entity = 'services' AND entity_id = ? ORDER BY seq", tostring(s.id))
  eq(rows[#rows].action, "book", "the booking is audited")
end)

test("a delivery's line= option: the line's id, or an error naming services.line", function()
  local b = bogoria(true)
  local budgets_mod = require "koop.budgets"
  eq(budgets_mod.line_id(b:line("terapia")), b:line("terapia").id)
  eq(budgets_mod.line_id(b:line("klub").id), b:line("klub").id)
  F.refused(function() budgets_mod.line_id(b) end, "services.line", "expected a BudgetLine or its id")
  F.refused(function() budgets_mod.line_id(999) end, "services.line")
end)

-- }====================

test("koop help budgets documents the API", function()
  local topic = require("koop.cli").topics.budgets
  ok(topic, "a help topic")
  for _, word in ipairs{ "b:approve", "l:commit", "c:pay", "c:correct", "b:amend", "b:execution", "budget.line_low", "budgets.book" } do
    ok(topic.text:find(word, 1, true), word)
  end
end)

test("amendments are made by b:amend only; commitments.add_many is line:commit for each", function()
  local b, la, lb = small()
  F.refused(function() budgets.amendments.add{ budget = b, no = 1, date = "2019-03-01", reason = "r" } end,
    "budget_amendments.budget_amendments", "b:amend{")
  F.refused(function() budgets.moves.add{ amendment = 1, from = la, to = lb, amount = 1 } end, "budget_moves.budget_moves")
  F.refused(function() budgets.amendments.add_many{ { budget = b, no = 1, date = "2019-03-01", reason = "r" } } end,
    "budget_amendments.budget_amendments")
  local list = budgets.commitments.add_many{
    { line = la, contractor = FIRM, amount = 100, date = "2019-02-01" },
    { line = lb, contractor = FIRM, amount = 200, date = "2019-02-01" } }
  eq(#list, 2)
  local err = F.refused(function()
    budgets.commitments.add_many{
      { line = la, contractor = FIRM, amount = 1, date = "2019-02-01" },
      { line = lb, contractor = FIRM, amount = "200,01", date = "2019-02-01" } }
  end, "commitments.amount", "left 200,00")
  ok(err.message:find("item 2", 1, true), err.message)
end)
