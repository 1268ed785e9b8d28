-- services_test.lua — service deliveries: case:deliver with its defaults
-- (unit from the service type, status by date, provider and type from a
-- referral or a plan action), cost as exact integer grosze (koop.money or
-- whole grosze; never REAL in SQL), refusals (a closed case — even through
-- a stale case object —, a date before the case opened, a delivery in the
-- future, bad units), the fast path writing exactly what the framework
-- writes (row and audit JSON, on many generated inputs), the
-- service.delivered event inside the transaction with the cost, status
-- changes of a scheduled delivery, totals, and the budget columns.
-- Run with: koop test tests/lua/services_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")

local function family()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  F.consent(c)
  return c
end

test("a delivery records provider, type, date, units, unit and exact cost", function()
  local c = family()
  local s = c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-11-05", units = 1.5, cost = 120.5 }
  eq({ s.provider_id, s.service_type, s.date, s.units, s.unit, s.cost, s.status },
    { F.inst.pup.id, "poradnictwo", "2019-11-05", 1.5, "godziny", 12050, "delivered" })
  eq(db:first("SELECT typeof(cost) AS c, cost FROM service_delivery WHERE id = ?", s.id), { c = "integer", cost = 12050 })
  eq(c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-06" }.unit, "sesje", "the catalogue's unit")
  eq(c:deliver{ provider = F.inst.gok, service = "warsztaty", date = "2019-11-07", units = 12, unit = "osoby" }.units, 12)
  local m = c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-08", cost = koop.money("150,00 zł") }
  eq(m.cost, 15000)
  eq(c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-08", cost = "1 234,56 zł" }.cost, 123456)
  F.refused(function() c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-08", cost = "12,345" } end,
    "services.cost", "two decimal places")
  eq(c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2020-11-08" }.status, "scheduled", "a future date is scheduled")
  eq(#c:services(), 6)
  ok(tostring(s):find("^Service#1 2019%-11%-05 poradnictwo Powiatowy Urząd Pracy w Staszowie, 1%.5 godziny, 120,50"), tostring(s))
  local cols = {}
  for _, r in ipairs(db:query("PRAGMA table_info(service_delivery)")) do cols[r.name] = r.type end
  eq({ cols.cost, cols.budget_line_id, cols.commitment_id }, { "INTEGER", "INTEGER", "INTEGER" })
end)

test("provider and type come from the referral or the plan action", function()
  local c = family()
  local r = c:refer{ to = F.inst.pup, service = "poradnictwo", date = "2019-10-25" }
  local s = c:deliver{ referral = r, date = "2019-11-05", units = 2 }
  eq({ s.provider_id, s.service_type, s.referral_id }, { F.inst.pup.id, "poradnictwo", r.id })
  local p = c:plan{ type = "IPW", created_on = "2019-10-16", goals = { { text = "Terapia",
    actions = { { text = "Terapia rodzinna", institution = F.inst.pcpr, service = "terapia" } } } } }
  p:agree{ date = "2019-10-20" }
  local a = p:actions()[1]
  local t = c:deliver{ action = a, date = "2019-11-06" }
  eq({ t.provider_id, t.service_type, t.action_id, t.unit }, { F.inst.pcpr.id, "terapia", a.id, "sesje" })
  local other = F.case("2019-09-03")
  F.consent(other)
  local r2 = other:refer{ to = F.inst.pup, service = "poradnictwo", date = "2019-10-25" }
  F.refused(function() c:deliver{ referral = r2, date = "2019-11-05" } end, "services.referral", "belongs to another case")
  F.refused(function() other:deliver{ action = a, date = "2019-11-05" } end, "services.action", "another case's plan")
end)

test("refused: a closed case, a date before the case opened, the future, bad values — nothing written", function()
  local c = family()
  local ok_input = { provider = F.inst.pup, service = "poradnictwo", date = "2019-11-05" }
  local function with(t) local r = {} for k, v in pairs(ok_input) do r[k] = v end for k, v in pairs(t) do r[k] = v end return r end
  F.refused(function() c:deliver(with{ date = "2019-09-01" }) end, "services.date", "before the case opened (2019-09-02)")
  F.refused(function() c:deliver(with{ date = "2020-10-05", status = "delivered" }) end, "services.date", "after today")
  F.refused(function() c:deliver(with{ date = "2019-02-30" }) end, "services.date", "not a real calendar date")
  F.refused(function() c:deliver(with{ units = 0 }) end, "services.units", "above 0")
  F.refused(function() c:deliver(with{ units = -2 }) end, "services.units", "above 0")
  F.refused(function() c:deliver(with{ units = 1.234 }) end, "services.units", "two decimal places")
  F.refused(function() c:deliver(with{ units = "dużo" }) end, "services.units")
  F.refused(function() c:deliver(with{ unit = "kilogramy" }) end, "services.unit", "godziny")
  F.refused(function() c:deliver(with{ cost = 12.345 }) end, "services.cost", "two decimal places")
  F.refused(function() c:deliver(with{ cost = -100 }) end, "services.cost", "must not be negative")
  F.refused(function() c:deliver(with{ cost = true }) end, "services.cost", "expected an amount")
  F.refused(function() c:deliver(with{ service = "masaż" }) end, "services.service", "unknown service type")
  F.refused(function() c:deliver(with{ provider = 999 }) end, "services.provider", "no Institution with id 999")
  F.refused(function() c:deliver{ date = "2019-11-05" } end, "services.provider", "is required")
  F.refused(function() c:deliver(with{ status = "zrealizowana" }) end, "services.status")
  F.refused(function() c:deliver(with{ hours = 2 }) end, "services.hours", "unknown option")
  F.refused(function() c:deliver("2 godziny") end, "services.deliver", "expected a table")
  c:close{ date = "2020-09-30", outcome = "sukces" }
  F.refused(function() c:deliver(with{}) end, "services.case", "is closed (2020-09-30)")
end)

test("a stale case object cannot slip a delivery past a closed case", function()
  local c = family()
  local again = cases.get(c.id)
  again:close{ date = "2020-09-30", outcome = "sukces" }
  eq(c.status, "zgłoszona", "the first object is stale")
  F.refused(function() c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-11-05" } end,
    "services.case", "is closed")
  ok(not pcall(db.exec, db, [[INSERT INTO service_delivery (case_id, provider_id, service_type, date, units, unit, cost, status)
    VALUES (?, ?, 'poradnictwo', '2019-11-05', 1, 'godziny', 0, 'delivered')]], c.id, F.inst.pup.id), "the trigger refuses raw SQL too")
end)

test("the fast path writes exactly what the framework writes, row and audit record", function()
  local c = family()
  local r = c:refer{ to = F.inst.pup, service = "poradnictwo", date = "2019-10-25" }
  local types = { "poradnictwo", "terapia", "warsztaty", "klub" }
  local units = { 1, 1.5, 0.25, 2.75, 3, 7.5 }
  local n = 0
  local function pair(i)
    local fast = { provider = F.inst.pcpr, service = types[i % #types + 1], date = ("2019-%02d-%02d"):format(10 + i % 3, 1 + i % 28),
      units = units[i % #units + 1], cost = (i * 137) % 500 }
    if i % 3 == 0 then fast.notes = "wizyta " .. i .. ' "domowa"' end
    if i % 4 == 0 then fast.referral = r end
    if i % 5 == 0 then fast.status = "no_show" end
    if i % 7 == 0 then fast.unit = "sesje" end
    -- the same delivery in shapes the fast path leaves to the framework
    local slow = {}
    for k, v in pairs(fast) do slow[k] = v end
    slow.provider = tostring(F.inst.pcpr.id)
    if i % 2 == 0 then slow.cost = koop.money(fast.cost) elseif i % 3 == 0 then slow.cost = tostring(koop.money(fast.cost)) end
    return fast, slow
  end
  local function stored(s)
    local row = db:first("SELECT * FROM service_delivery WHERE id = ?", s.id)
    local a = db:first("SELECT after_json FROM audit_log WHERE entity = 'services' AND entity_id = ? AND action = 'add'", tostring(s.id))
    local rec = require("koop.json").decode(a.after_json)
    row.id, rec.id = nil, nil
    return row, rec
  end
  for i = 1, 60 do
    local fast, slow = pair(i)
    local fr, fa = stored(c:deliver(fast))
    local sr, sa = stored(c:deliver(slow))
    eq(fr, sr, "row of delivery " .. i)
    eq(fa, sa, "audit record of delivery " .. i)
    n = n + 1
  end
  eq(n, 60)
  ok(audit.verify())
end)

test("service.delivered fires inside the transaction, with the cost in grosze", function()
  local c = family()
  local seen = F.events({ "service.delivered" }, function()
    c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-11-05", cost = 90 }
    c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2020-11-05", cost = 90 }   -- scheduled: no event
  end)
  eq(#seen, 1)
  eq({ seen[1][3].cost, seen[1][3].date, seen[1][3].case_id }, { 9000, "2019-11-05", c.id })
  local rows, seq = db:value("SELECT count(*) FROM service_delivery"), F.seq()
  local off = koop.on("service.delivered", function() error("budget line exhausted", 0) end)
  local ok1, e1 = pcall(c.deliver, c, { provider = F.inst.pup, service = "poradnictwo", date = "2019-11-06", cost = 90 })
  local ok2, e2 = db:tx(function()   -- inside a transaction the delivery rolls back to its savepoint
    return pcall(c.deliver, c, { provider = F.inst.pup, service = "poradnictwo", date = "2019-11-07", cost = 90 })
  end)
  off()
  ok(not ok1 and tostring(e1):find("budget line exhausted"), tostring(e1))
  ok(not ok2 and tostring(e2):find("budget line exhausted"), tostring(e2))
  eq({ db:value("SELECT count(*) FROM service_delivery"), F.seq() }, { rows, seq }, "no row, no audit row")
end)

test("a scheduled delivery is done, a no-show or cancelled; others do not change status", function()
  local c = family()
  koop.today("2019-11-01")
  local s = c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-08", cost = 120 }
  local t = c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-15", cost = 120 }
  local u = c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-11-22", cost = 120 }
  eq(s.status, "scheduled")
  F.refused(function() s:done{} end, "services.date", "after today")
  koop.today("2019-11-30")
  local seen = F.events({ "service.delivered" }, function() s:done{} end)
  eq(#seen, 1)
  eq(s.status, "delivered")
  t:no_show()
  u:cancel()
  eq({ t.status, u.status }, { "no_show", "cancelled" })
  F.refused(function() s:cancel() end, "services.status", "only a scheduled delivery changes status")
  F.refused(function() u:done{} end, "services.status", "is cancelled")
  eq(services.total{ case = c }, { count = 1, cost = 12000, units = { sesje = 1 } })
end)

test("services.total sums delivered services by case and period", function()
  local c = family()
  c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-11-05", units = 1.5, cost = 90 }
  c:deliver{ provider = F.inst.pup, service = "poradnictwo", date = "2019-12-05", units = 2, cost = 120 }
  c:deliver{ provider = F.inst.pcpr, service = "terapia", date = "2019-12-06", cost = 150 }
  eq(services.total{ case = c }, { count = 3, cost = 36000, units = { godziny = 3.5, sesje = 1 } })
  eq(services.total{ from = "2019-12-01", to = "2019-12-31" }.cost, 27000)
  eq(services.count{ case = c, service = "terapia" }, 1)
  ok(tostring(c:card()):find("services: 3 delivered (3.5 godziny, 1 sesje), cost 360,00", 1, true), tostring(c:card()))
end)
