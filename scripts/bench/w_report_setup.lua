-- w_report_setup.lua — the database of issue 7's benchmarks: gmina Bogoria
-- as home, the 48 providers of the W1 dataset (ids 1..48; id 1 is the OPS),
-- the service types named as gen.c names them, CASES cases (through the
-- API), two referrals per case (written with SQL: a benchmark's data, in
-- every status, answered after 1 to 30 days) and the Bogoria budget with
-- commitments and payments (through the API).  Run as:
--   koop -d DB --today 2021-12-31 w_report_setup.lua [CASES]
local ncases = math.tointeger(tonumber((...) or "100000"))
assert(ncases and ncases > 0, "w_report_setup.lua: CASES must be a whole number")
local kinds = { "OPS", "PCPR", "PUP", "szkoła", "POZ", "GOK", "NGO", "ŚDS", "GKRPA", "KPP", "ZKSS", "DPS" }

local t0 = os.clock()
db:tx(function()
  gminas.ensure("2612012")
  gminas.set_home("2612012")
  for i = 1, 48 do
    institutions.add{ name = ("Instytucja %02d"):format(i), kind = kinds[(i - 1) % #kinds + 1] }
  end
  for _, t in ipairs{ { "terapia_rodzinna", "terapia rodzinna", "sesja" }, { "rehab_ruchowa", "rehabilitacja ruchowa", "sesja" },
      { "świetlica", "Świetlica", "godzina" }, { "asystent", "asystent rodziny", "godzina" },
      { "opieka", "usługi opiekuńcze", "godzina" }, { "żywność", "pomoc żywnościowa", "godzina" },
      { "mieszkanie", "mieszkanie chronione, treningowe", "godzina" }, { "senior", 'klub "Senior+"', "zdarzenie" } } do
    resources.add_service_type{ code = t[1], name = t[2], unit = t[3] }
  end
  local ops = institutions.get(1)
  local reasons = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "11", "12", "13", "14", "15" }
  for i = 1, ncases do
    local c = cases.open{ opened_on = "2019-01-01", source_institution = ops }
    c:reason(reasons[i % #reasons + 1])
  end
  -- two referrals a case from the OPS to one of the others, over 2019-2021
  db:exec([[
    WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?1 * 2)
    INSERT INTO referral (case_id, from_institution_id, to_institution_id, reason, sent_on, response_due, status,
                          received_on, responded_on, response_note, closed_on, feedback)
    SELECT (k - 1) / 2 + 1, 1, 2 + k % 47, 'pomoc',
           date('2019-01-02', '+' || (k % 1090) || ' days'),
           date('2019-01-02', '+' || (k % 1090 + 14) || ' days'),
           s, NULL,
           CASE WHEN s IN ('sent', 'received') THEN NULL ELSE date('2019-01-02', '+' || (k % 1090 + k % 30 + 1) || ' days') END,
           CASE WHEN s = 'rejected' THEN 'brak miejsc' END,
           CASE WHEN s = 'completed' THEN date('2019-01-02', '+' || (k % 1090 + 40) || ' days') END,
           CASE WHEN s = 'completed' THEN 'wykonano' END
      FROM (SELECT k, CASE k % 7 WHEN 0 THEN 'sent' WHEN 1 THEN 'received' WHEN 2 THEN 'rejected'
                                  WHEN 3 THEN 'accepted' WHEN 4 THEN 'in_progress' ELSE 'completed' END AS s FROM n)]], ncases)
  local b = budgets.add{ name = "Projekt socjalny Bogoria", gmina = "2612012", source = "POWER/EFS",
    total = "56 340,00 zł", period_from = "2019-06-01", period_to = "2021-12-31" }
  local plan = { { "poradnictwo", 720000 }, { "diagnostyka", 480000 }, { "terapia", 1080000 }, { "rehabilitacja", 960000 },
    { "warsztaty", 600000 }, { "klub", 750000 }, { "centrum wolontariatu", 364000 }, { "edukacja społeczności", 280000 },
    { "szkolenia kadr", 400000 } }
  for _, l in ipairs(plan) do b:line{ name = l[1], planned = koop.money.grosze(l[2]) } end
  b:approve{ date = "2019-06-10" }
  for i, l in ipairs(plan) do
    local line = b:line(l[1])
    for j = 1, 20 do
      local cm = line:commit{ contractor = institutions.get(1 + (i * 20 + j) % 48), amount = koop.money.grosze(l[2] // 40),
        date = ("2019-%02d-01"):format(7 + j % 6) }
      for k = 1, 5 do
        cm:pay{ document = ("FV %d/%d/%d"):format(i, j, k), document_date = ("2020-%02d-%02d"):format(1 + k, 10 + j % 10),
          paid_on = ("2020-%02d-%02d"):format(1 + k, 12 + j % 10), amount = koop.money.grosze(l[2] // 400) }
      end
    end
  end
end)
print(("setup %d cases, %d referrals, %d commitments, %d payments in %.2f s"):format(cases.count(),
  db:value("SELECT count(*) FROM referral"), db:value("SELECT count(*) FROM commitment"),
  db:value("SELECT count(*) FROM expenditure"), os.clock() - t0))
