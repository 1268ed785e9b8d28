-- text_test.lua — koop.text and the SQL side of collate.c: Polish case
-- folding (lower, upper, pl_lower, pl_upper), compare and sort in Polish
-- alphabetical order (the verified list of the domain reference §4, case
-- as a tertiary difference, sorting tables by a field, stably), width, and
-- the PL collation of the database connection.
-- Run with: koop test tests/lua/text_test.lua

local VERIFIED = { "Azot", "Ąbc", "bogoria", "Bogoria", "Cedzyna", "Czarna", "Ćmielów", "Ełk", "Ęlk",
  "Korycin", "Lipnik", "Lublin", "Łoniów", "Łubnice", "Nowy", "Ńa", "Ołów", "Ostrów", "Ożarów",
  "Ósemka", "Sandomierz", "Szydłów", "Środa", "Zawichost", "Ząbki", "Źródła", "Żarnów" }

-- A copy of list in reverse order.
local function reversed(list)
  local r = {}
  for i = #list, 1, -1 do r[#r + 1] = list[i] end
  return r
end

test("lower and upper fold Polish letters", function()
  eq(koop.text.lower("ŁÓDŹ"), "łódź")
  eq(koop.text.upper("łódź"), "ŁÓDŹ")
  eq(koop.text.upper("zażółć gęślą jaźń"), "ZAŻÓŁĆ GĘŚLĄ JAŹŃ")
  eq(koop.text.lower("ZAŻÓŁĆ GĘŚLĄ JAŹŃ"), "zażółć gęślą jaźń")
  eq(koop.text.upper("Müller, Čapek, Ørsted"), "MÜLLER, ČAPEK, ØRSTED")
  eq(koop.text.lower("\xff ABC"), "\xff abc")
end)

test("compare follows the Polish alphabet, case last", function()
  local c = koop.text.compare
  eq(c("Ąbc", "Azot"), 1)
  eq(c("bogoria", "Bogoria"), -1)
  eq(c("Środa", "Środa"), 0)
  eq(c("Zawichost", "Ząbki"), -1)
  eq(c("Źródła", "Żarnów"), -1)
  eq(c("Nowy Sącz", "Nowy Targ"), -1)
  for i = 1, #VERIFIED - 1 do eq(c(VERIFIED[i], VERIFIED[i + 1]), -1, VERIFIED[i]) end
end)

test("sort puts the verified list in order, in place", function()
  local list = reversed(VERIFIED)
  local result = koop.text.sort(list)
  ok(rawequal(result, list))
  eq(list, VERIFIED)
end)

test("sort by a field keeps equal keys in their order; nil keys first", function()
  local rows = { { name = "Środowiskowy Dom Samopomocy", n = 1 }, { name = "Ośrodek Pomocy Społecznej", n = 2 },
                 { name = "Zespół Interdyscyplinarny", n = 3 }, { name = "Stowarzyszenie", n = 4 },
                 { name = "Ośrodek Pomocy Społecznej", n = 5 }, { n = 6 }, { name = "Szkoła Podstawowa", n = 7 },
                 { name = "Urząd Gminy", n = 8 } }
  koop.text.sort(rows, "name")
  local order = {}
  for i, r in ipairs(rows) do order[i] = r.n end
  eq(order, { 6, 2, 5, 4, 7, 1, 8, 3 })
  raises(function() koop.text.sort({ "a", {} }) end, "invalid")
  raises(function() koop.text.sort({ { name = {} }, { name = "x" } }, "name") end, "invalid")
end)

test("width counts columns, not bytes", function()
  eq(koop.text.width("Łódź"), 4)
  eq(koop.text.width(""), 0)
end)

test("the database sorts with COLLATE PL and folds with pl_lower / pl_upper", function()
  db:exec("CREATE TABLE place(name TEXT)")
  for _, name in ipairs(reversed(VERIFIED)) do db:exec("INSERT INTO place VALUES(?)", name) end
  local names = {}
  for name in db:urows("SELECT name FROM place ORDER BY name COLLATE PL") do names[#names + 1] = name end
  eq(names, VERIFIED)
  eq(db:value("SELECT pl_upper('łódź')"), "ŁÓDŹ")
  eq(db:value("SELECT pl_lower('ŻÓŁW')"), "żółw")
  eq(db:value("SELECT pl_lower(NULL)"), nil)
  eq(db:value("SELECT count(*) FROM place WHERE pl_lower(name) = pl_lower('ŁONIÓW')"), 1)
  eq(db:value("SELECT min(name COLLATE PL) FROM place"), "Azot")
end)
