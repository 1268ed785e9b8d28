-- meetings_test.lua — meetings of every kind (dictionary and aliases),
-- status planned → held | cancelled with the meeting.held event inside the
-- change's transaction, attendance (one row per person, updated on a
-- second call), numbered decisions, tasks set by a meeting (linked to its
-- last decision or a chosen one), the scenario's first meeting (domain
-- reference §6 step 5), and every bad input: an unknown kind or status, a
-- meeting before its team was formed, a task due before its meeting, a
-- held meeting in the future, records at a cancelled meeting — each
-- refused with the field named and nothing written.
-- Run with: koop test tests/lua/meetings_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "coop_fixture.lua")

-- Bogoria's G-PZK with every fixture institution a party; returns the team.
local function team()
  F.setup()
  local _, t = F.gpzk()
  return t
end

test("a meeting of a team: posiedzenie by default, planned by default", function()
  local t = team()
  local m = meetings.add{ team = t, date = "2019-07-10", place = "Urząd Gminy Bogoria, sala narad",
    agenda = "1. Regulamin pracy. 2. Mapa zasobów." }
  eq(m.kind, "posiedzenie zespołu")
  eq(m.status, "planned")
  eq(m.days, 1)
  eq(m.team, t)
  eq(tostring(m), "Meeting#1 2019-07-10 posiedzenie zespołu (planned), G-PZK Bogoria")
  eq(#t:meetings(), 1)
end)

test("kinds: the dictionary and short aliases; unknown kinds refused", function()
  local t = team()
  local function kind(k) return meetings.add{ team = t, date = "2019-08-01", kind = k }.kind end
  eq(kind("szkoła"), "Szkoła Kooperacji")
  eq(kind("szkoła kooperacji"), "Szkoła Kooperacji")
  eq(kind("wizyta"), "wizyta studyjna")
  eq(kind("fokus"), "badanie fokusowe")
  eq(kind("posiedzenie"), "posiedzenie zespołu")
  eq(kind("coaching"), "coaching")
  eq(kind("superwizja"), "superwizja")
  eq(kind("warsztaty"), "warsztat")
  eq(kind("konsultacje"), "konsultacje")
  local err = F.refused(function() meetings.add{ team = t, date = "2019-08-01", kind = "piknik" } end, "meetings.kind")
  ok(tostring(err):find("posiedzenie zespołu, warsztat, Szkoła Kooperacji, wizyta studyjna, coaching, superwizja, badanie fokusowe, konsultacje", 1, true), tostring(err))
  eq(meetings.add{ team = t, date = "2019-09-23", kind = "wizyta", days = 3 }.days, 3)
  F.refused(function() meetings.add{ team = t, date = "2019-09-23", days = 0 } end, "meetings.days", "at least 1")
end)

test("a meeting before the team was formed is refused", function()
  local t = team()
  F.refused(function() meetings.add{ team = t, date = "2019-06-30" } end, "meetings.date",
    '2019-06-30 is before Team#1 "G-PZK Bogoria" was formed (2019-07-01)')
  local m = meetings.add{ team = t, date = "2019-07-01" }
  F.refused(function() m:update{ date = "2019-06-15" } end, "meetings.date", "before")
  F.refused(function() meetings.add{ team = t } end, "meetings.date", "is required")
  F.refused(function() meetings.add{ date = "2019-07-10" } end, "meetings.team", "is required")
end)

test("held: not in the future, and for good", function()
  koop.today("2019-07-10")
  local t = team()
  local later = meetings.add{ team = t, date = "2019-07-11" }
  F.refused(function() later:hold() end, "meetings.status", "cannot be held yet (today is 2019-07-10)")
  F.refused(function() meetings.add{ team = t, date = "2019-07-11", status = "held" } end, "meetings.status", "cannot be held yet")
  travel(1)
  later:hold()
  eq(later.status, "held")
  F.refused(function() later:cancel() end, "meetings.status", "was held: it cannot become cancelled")
  F.refused(function() later:update{ status = "planned" } end, "meetings.status", "cannot become planned")
  local c = meetings.add{ team = t, date = "2019-07-20" }
  c:cancel()
  c:update{ status = "planned", date = "2019-07-25" }
  eq(c.status, "planned", "a cancelled meeting may be planned again")
  F.refused(function() meetings.add{ team = t, date = "2019-07-11", status = "odbyte" } end, "meetings.status", "unknown meeting status")
end)

test("meeting.held fires when a meeting becomes held, inside its transaction", function()
  koop.today("2019-12-31")
  local t = team()
  local seen = {}
  local off = koop.on("meeting.held", function(m) seen[#seen + 1] = m.id end)
  local a = meetings.add{ team = t, date = "2019-07-10", status = "held" }
  local b = meetings.add{ team = t, date = "2019-08-10" }
  eq(seen, { a.id })
  b:update{ place = "GOK" }
  eq(seen, { a.id }, "other changes do not fire it")
  b:hold()
  eq(seen, { a.id, b.id })
  b:update{ place = "OPS" }
  eq(#seen, 2, "nor does a change to a held meeting")
  off()
  off = koop.on("meeting.held", function() error("procedura: brak protokołu") end)
  local c = meetings.add{ team = t, date = "2019-09-10" }
  local before = F.snapshot()
  raises(function() c:hold() end, "brak protokołu")
  eq(F.snapshot(), before, "the handler's error undid the change")
  eq(c:reload().status, "planned")
  raises(function() meetings.add{ team = t, date = "2019-09-11", status = "held" } end, "brak protokołu")
  eq(F.snapshot(), before)
  off()
end)

test("attendance: one row per person, a second call updates it", function()
  local t = team()
  local m = meetings.add{ team = t, date = "2019-07-10" }
  local a = m:attend(F.person.ops)
  eq(a.status, "obecny", "present by default")
  eq(a.institution, F.inst.ops)
  m:attend(F.person.pcpr, "usprawiedliwiona")
  m:attend(F.person.sp, "online")
  eq(m:attend(F.person.pcpr, "zdalnie").status, "zdalnie")
  eq(#meetings.attendance.find{ meeting = m }, 3, "no second row")
  eq(m:present(), 3)
  m:attend(F.person.pcpr, "nieobecny")
  eq(m:present(), 2)
  local list = m:attendance()
  eq({ list[1].status, list[2].status, list[3].status }, { "obecny", "zdalnie", "nieobecny" })
  F.refused(function() m:attend(F.person.gok, "spóźniony") end, "attendance.status", "unknown attendance status")
  F.refused(function() m:attend(999) end, "attendance.person")
  F.refused(function() list[1]:update{ person = F.person.gok } end, "attendance.person", "belongs to one meeting and person")
  local rows = m:attend({ F.person.gok, F.person.ug }, "obecny")
  eq(#rows, 2)
  eq(m:attend{ person = F.person.ug, status = "zdalnie", notes = "łącze telefoniczne" }.notes, "łącze telefoniczne")
  ok(tostring(list[1]):find("^Attendance#%d+ Anna Nowak %(Ośrodek Pomocy Społecznej w Bogorii%) obecny at Meeting#1$"), tostring(list[1]))
end)

test("decisions are numbered per meeting", function()
  local t = team()
  local m1 = meetings.add{ team = t, date = "2019-07-10" }
  local m2 = meetings.add{ team = t, date = "2019-08-10" }
  eq(m1:decide("Przyjęcie regulaminu pracy G-PZK").no, 1)
  eq(m1:decide{ text = "Opracowanie mapy zasobów do 30.09.2019", votes_for = 9, votes_against = 0, votes_abstain = 1 }.no, 2)
  eq(m2:decide("Harmonogram spotkań").no, 1)
  eq(m1:decide("Trzecie ustalenie").no, 3)
  local list = m1:decisions()
  eq({ list[1].no, list[2].no, list[3].no }, { 1, 2, 3 })
  eq(list[2].votes_for, 9)
  F.refused(function() m1:decide("  ") end, "decisions.text", "is required")
  F.refused(function() m1:decide{ text = "x", votes_for = -1 } end, "decisions.votes_for", "at least 0")
  F.refused(function() list[1]:update{ no = 7 } end, "decisions.no", "derived")
end)

test("tasks of a meeting: linked to the last decision, or a chosen one, or none", function()
  local t = team()
  local m = meetings.add{ team = t, date = "2019-07-10" }
  local plain = m:task{ text = "Rozesłać protokół", owner = F.person.gok, due = "2019-07-17" }
  eq(plain.decision_no, nil, "no decision yet")
  m:decide("Regulamin")
  m:decide("Mapa zasobów")
  local task = m:task{ text = "Opracować mapę zasobów", owner = F.inst.ops, due = "2019-09-30" }
  eq(task.source_kind, "meeting")
  eq(task.source, m)
  eq(task.decision_no, 2)
  eq(task.created_on, "2019-07-10")
  eq(task.owner, F.inst.ops)
  eq(m:task{ text = "Regulamin na stronę", owner = F.person.ug, due = "2019-07-31", decision = 1 }.decision_no, 1)
  eq(m:task{ text = "Bez ustalenia", owner = F.person.ug, decision = false }.decision_no, nil)
  eq(#m:tasks(), 4)
  F.refused(function() m:task{ text = "x", owner = F.inst.ops, decision = 5 } end, "tasks.decision_no", "has no decision no 5")
  local other = meetings.add{ team = t, date = "2019-07-11" }
  local d = other:decide("Inne")
  F.refused(function() m:task{ text = "x", owner = F.inst.ops, decision = d } end, "tasks.decision_no", "another meeting")
end)

test("a task due before its meeting is refused", function()
  local t = team()
  local m = meetings.add{ team = t, date = "2019-07-10" }
  F.refused(function() m:task{ text = "Za wcześnie", owner = F.inst.ops, due = "2019-07-09" } end, "tasks.due",
    "2019-07-09 is before its meeting (Meeting#1 on 2019-07-10)")
  local task = m:task{ text = "W dniu spotkania", owner = F.inst.ops, due = "2019-07-10" }
  F.refused(function() task:update{ due = "2019-07-01" } end, "tasks.due", "before its meeting")
  F.refused(function() m:update{ date = "2019-07-12" } end, "meetings.date", "the due date of a task of this meeting")
end)

test("nothing is recorded at a cancelled meeting", function()
  local t = team()
  local m = meetings.add{ team = t, date = "2019-07-10" }
  m:cancel()
  F.refused(function() m:attend(F.person.ops) end, "attendance.meeting", "was cancelled")
  F.refused(function() m:decide("x") end, "decisions.meeting", "was cancelled")
  F.refused(function() m:task{ text = "x", owner = F.inst.ops } end, "tasks.source", "was cancelled")
end)

test("a protocol number is used once per team", function()
  local t = team()
  meetings.add{ team = t, date = "2019-07-10", protocol_no = "1/2019" }
  local m = meetings.add{ team = t, date = "2019-08-10", protocol_no = "2/2019" }
  F.refused(function() meetings.add{ team = t, date = "2019-09-10", protocol_no = "1/2019" } end,
    "meetings.protocol_no", "1/2019 is the protocol of Meeting#1")
  F.refused(function() m:update{ protocol_no = "1/2019" } end, "meetings.protocol_no", "is the protocol of")
end)

test("scenario step 5: the first meeting, its decisions, the task overdue on 2019-10-01", function()
  koop.today("2019-07-10")
  local t = team()
  local keys = { "ops", "pcpr", "pup", "ug", "kpp", "sp", "gok", "poz", "gkrpa", "zkss" }
  for _, k in ipairs(keys) do t:add_member{ person = F.person[k], from = "2019-07-01" } end
  local m = meetings.add{ team = t, date = "2019-07-10", protocol_no = "1/2019", status = "held" }
  for i, k in ipairs(keys) do m:attend(F.person[k], i <= 8 and "obecny" or "usprawiedliwiony") end
  eq(m:present(), 8)
  eq(meetings.attendance.count{ meeting = m, status = "usprawiedliwiony" }, 2)
  m:decide("Przyjęcie regulaminu pracy G-PZK")
  m:decide("Opracowanie mapy zasobów gminy do 30 września 2019 r.")
  local task = m:task{ text = "Opracować mapę zasobów", owner = F.inst.ops, due = "2019-09-30" }
  eq(task.decision_no, 2)
  local sk = meetings.add{ team = t, date = "2019-09-12", kind = "Szkoła Kooperacji" }
  local co = meetings.add{ team = t, date = "2019-10-15", kind = "coaching" }
  eq({ sk.kind, co.kind }, { "Szkoła Kooperacji", "coaching" })
  koop.today("2019-09-30")
  eq(tasks.due{}.overdue, 0)
  travel(1)
  local due = tasks.due{}
  eq(due.overdue, 1)
  eq(due[1].task, task)
  eq(due[1].state, "overdue")
  ok(task.overdue)
end)

test("meetings print as one line, list as tables and complete their methods", function()
  local t = team()
  local m = meetings.add{ team = t, date = "2019-07-10", protocol_no = "1/2019", kind = "wizyta", days = 3 }
  eq(tostring(m), "Meeting#1 2019-07-10 wizyta studyjna (planned), G-PZK Bogoria, 3 days, protocol 1/2019")
  ok(tostring(meetings.all()):find("wizyta studyjna", 1, true))
  local names = F.completions(m)
  for _, n in ipairs{ "attend", "decide", "task", "hold", "cancel", "attendance", "decisions", "tasks", "present",
      "date", "kind", "protocol" } do
    ok(names[n], "completes " .. n)
  end
  eq(meetings.kinds.aliases["szkoła"], "Szkoła Kooperacji")
end)
