-- procedures_test.lua — koop.procedures: loading and checking procedure
-- files (errors with file and line, the sandbox), installing them (hash,
-- no-op, conflicting source), pinning cases to versions, rules running
-- inside the change's transaction (errors, vetoes, the instruction limit,
-- nesting, the audit actor), stage lists and requirements, deadlines,
-- global events, migrate, dryrun, the overdue sweep (tick) and check.
-- Procedure files are written to a fresh temporary directory per use.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")

-- {==================== helpers ====================

-- Write procedure source `src` as file `name` in a new temporary
-- directory and call fn(path); the file and directory go afterwards.
local function with_file(name, src, fn)
  local dir = io.popen("mktemp -d"):read("l")
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  local res = table.pack(pcall(fn, path))
  os.remove(path)
  os.remove(dir)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Install source `src` under file name `name` (default "p.lua").
local function install(src, name)
  return with_file(name or "p.lua", src, function(path) return procedures.install(path) end)
end

-- A procedure source: name, version and the body of the table.
local function source(name, version, body)
  return ("return koop.procedure {\n  name = %q, version = %q,\n%s\n}\n"):format(name, version, body or "")
end

-- Today 2024-04-29 (a Monday), Bogoria with its partners.
local function bogoria()
  koop.today("2024-04-29")
  return F.bogoria()
end

-- A case opened today by the OPS and coordinated by its worker.
local function a_case()
  return cases.open{ source_institution = F.inst.ops, coordinator = F.person.ops }
end

-- The error raised when installing `src`.
local function load_error(src, name)
  return raises(function() install(src, name) end)
end

-- }====================

-- {==================== loading and checking ====================

test("a syntax error is refused with file and line", function()
  bogoria()
  local e = load_error("return koop.procedure {\n  name = 'x', version = '1'\n  stages = {},\n}\n", "zly.lua")
  eq(e.code, "syntax")
  ok(tostring(e):find("zly.lua:3: '}' expected", 1, true), tostring(e))
  eq(procedures.count(), 0)
end)

test("an unknown event is refused at the rule's line, with the closest name", function()
  bogoria()
  local e = load_error(source("x", "1", [[
  on = {
    ["case.opend"] = function(case, event)
    end,
  },]]), "ev.lua")
  eq(e.code, "invalid")
  eq(e.field, "procedure.on")
  ok(tostring(e):find("ev.lua:4: unknown event 'case.opend' in on (did you mean 'case.opened'?)", 1, true), tostring(e))
  e = load_error(source("x", "1", [[
  deadlines = { d = { from = "referal.sent", days = 3, done = "referral.accepted" } },]]), "ev.lua")
  ok(tostring(e):find("ev.lua:3: unknown event 'referal.sent'", 1, true), tostring(e))
  ok(tostring(e):find("did you mean 'referral.sent'", 1, true), tostring(e))
end)

test("an unknown stage is refused where it is written, with the closest name", function()
  bogoria()
  local e = load_error(source("x", "1", [[
  stages = { "zgłoszona",
    "diagnoz", "plan" },]]), "st.lua")
  ok(tostring(e):find("st.lua:4: unknown stage 'diagnoz' in stages (did you mean 'diagnoza'?)", 1, true), tostring(e))
  e = load_error(source("x", "1", [[
  requires = {
    realizajca = function(case) return true end,
  },]]), "st.lua")
  ok(tostring(e):find("st.lua:4: unknown stage 'realizajca' in requires (did you mean 'realizacja'?)", 1, true), tostring(e))
  e = load_error(source("x", "1", [[
  stages = { "zgłoszona", "plan", "zakończona" },
  requires = { diagnoza = function(case) return true end },]]), "st.lua")
  ok(tostring(e):find("requires.diagnoza: the stage is not in this procedure's stages", 1, true), tostring(e))
end)

test("wrong types and unknown fields are refused with the line", function()
  bogoria()
  local cases_ = {
    { source("x", "1", "  on = { [\"case.opened\"] = 42 },"), "t.lua:3: on%[\"case.opened\"%] must be a function" },
    { "return koop.procedure {\n  name = 'x',\n  version = {},\n}\n", "t.lua:3: version must be text" },
    { "return koop.procedure {\n  name = 'two words', version = '1',\n}\n", "t.lua:2: name must be one word" },
    { source("x", "1", "  stage = { \"plan\" },"), "t.lua:3: unknown field 'stage' in koop.procedure{} %(did you mean 'stages'%?%)" },
    { source("x", "1", "  settings = { workdays = true },"), "t.lua:3: unknown setting 'workdays' %(did you mean 'working_days'%?%)" },
    { source("x", "1", "  settings = { working_days = 1 },"), "settings.working_days must be true or false" },
    { source("x", "1", "  deadlines = {\n    d = { days = \"7\", done = \"plan.agreed\" },\n  },"), "t.lua:4: deadlines%[\"d\"%]: days must be a whole number" },
    { source("x", "1", "  deadlines = { d = { days = 7 } },"), "say when it is met" },
    { source("x", "1", "  deadlines = { d = { days = 7, weeks = 1, done = \"plan.agreed\" } },"), "exactly one of days=, weeks= or months=" },
    { source("x", "1", "  deadlines = { d = { from = \"budget.line_low\", days = 7, done = \"plan.agreed\" } },"), "a deadline belongs to a case" },
    { source("x", "1", "  applies = true,"), "t.lua:3: applies must be a function" },
    { "local x = 1\nreturn x\n", "t.lua:2: the file must return koop.procedure{...}" },
  }
  for _, c in ipairs(cases_) do
    local e = load_error(c[1], "t.lua")
    ok(tostring(e):find(c[2]), ("%q does not match %q"):format(tostring(e), c[2]))
  end
  eq(procedures.count(), 0, "nothing installed")
end)

test("the sandbox: no io, os, load, require, debug, package, coroutine; koop.today read-only", function()
  bogoria()
  local seen = {}
  install(source("sb", "1", [[
  on = { ["case.opened"] = function(case, event)
    SEEN = { io = io, os = os, load = load, require = require, debug = debug, package = package,
      coroutine = coroutine, dofile = dofile, print = print, collectgarbage = collectgarbage,
      setmetatable = setmetatable, dump = string.dump, random = math.random }
    local ok1 = pcall(koop.today, "2030-01-01")
    local ok2 = pcall(function() cases.open = nil end)
    local ok3 = pcall(function() string.upper = nil end)
    event:note(("%s %s %s %s %s"):format(tostring(ok1), tostring(ok2), koop.today(), ("x"):upper(),
      tostring(next(SEEN))))
  end },]]))
  local c = a_case()
  eq(procedures.notes(c)[1].text, "false false 2024-04-29 X nil")
  eq(type(string.upper), "function", "the rule changed only its own copy of string")
end)

test("a binary chunk is refused", function()
  bogoria()
  local e = load_error(string.dump(function() return 1 end), "bin.lua")
  eq(e.code, "syntax")
  ok(tostring(e):find("not a binary chunk", 1, true))
end)

test("a file that loops forever while loading is stopped, with its line", function()
  bogoria()
  local e = load_error("local n = 0\nwhile true do\n  n = n + 1\nend\n", "petla.lua")
  eq(e.code, "limit")
  ok(tostring(e):find("petla.lua:%d: instruction limit of 10000000 exceeded"), tostring(e))
end)

-- }====================

-- {==================== install ====================

test("install stores source, SHA-256, version, who and when; the same again is a no-op", function()
  bogoria()
  koop.actor = "anna"
  local src = source("s", "2024-1", "  title = 'Seniorzy',")
  local v, new = install(src, "seniorzy.lua")
  ok(new)
  eq({ v.name, v.version, v.title, v.file, v.source, v.hash, v.installed_by, v.active },
    { "s", "2024-1", "Seniorzy", "seniorzy.lua", src, koop.sha256(src), "anna", true })
  ok(v.installed_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), v.installed_at)
  local seq = F.seq()
  local again, new2 = install(src, "seniorzy.lua")
  ok(not new2)
  eq(again.id, v.id)
  eq(F.seq(), seq, "no audit row: nothing happened")
  eq(procedures.count(), 1)
end)

test("the same name and version with other source is refused; nothing written", function()
  bogoria()
  install(source("s", "2024-1"))
  local before = F.snapshot()
  local e = load_error(source("s", "2024-1", "  title = 'changed',"))
  eq(e.code, "invalid")
  eq(e.field, "procedures.version")
  ok(tostring(e):find("procedure s version 2024-1 is installed already with other source", 1, true), tostring(e))
  eq(F.snapshot(), before)
end)

test("a new version is active for new cases; open cases keep theirs", function()
  bogoria()
  install(source("s", "1", [[  on = { ["case.opened"] = function(c, e) e:note("v1") end },]]))
  local c1 = a_case()
  install(source("s", "2", [[  on = { ["case.opened"] = function(c, e) e:note("v2") end },]]))
  local c2 = a_case()
  eq({ c1:procedures()[1].version, c2:procedures()[1].version }, { "1", "2" })
  eq({ procedures.notes(c1)[1].text, procedures.notes(c2)[1].text }, { "v1", "v2" })
  local list = procedures.list()
  eq({ list[1].active, list[2].active }, { false, true })
  procedures.activate("s", "1")
  eq(a_case():procedures()[1].version, "1", "activate: new cases get version 1 again")
  raises(function() procedures.activate("s", "9") end, "procedure s has no version 9 %(installed: 1, 2%)")
end)

test("a source changed behind koop's back is refused when it is used", function()
  bogoria()
  install(source("s", "1", [[  on = { ["case.opened"] = function(c, e) e:note("v1") end },]]))
  -- as another process would: change the source, and the generation that
  -- tells connections to read the versions again
  db:exec("UPDATE procedure_version SET source = source || '-- x'")
  db:exec("UPDATE koop_meta SET value = value + 1 WHERE key = 'procedures_generation'")
  local e = raises(function() a_case() end, "corrupt")
  ok(tostring(e):find("procedure s 1: its source in the database does not match its SHA-256", 1, true), tostring(e))
end)

test("show and list tell what a version declares", function()
  bogoria()
  install(source("s", "1", [[
  stages = { "zgłoszona", "diagnoza", "zakończona" },
  requires = { diagnoza = function(c) return true end },
  on = { ["referral.sent"] = function() end },
  deadlines = { d = { days = 5, working = true, done = "referral.sent", what = "Skierować" } },]]))
  local s = procedures.show("s")
  eq(s.stages, { "zgłoszona", "diagnoza", "zakończona" })
  eq(s.requires, { "diagnoza" })
  eq(s.events, { "referral.sent" })
  eq(s.deadlines[1].counted, "5 dni roboczych")
  ok(tostring(s):find("deadline d: 5 dni roboczych from case.opened, met by referral.sent", 1, true), tostring(s))
  raises(function() procedures.show("seniory") end, "no procedure seniory is installed %(installed: s%)")
  install(source("seniorzy", "1"))
  raises(function() procedures.show("seniory") end, "no procedure seniory is installed %(did you mean 'seniorzy'%?%)")
end)

-- }====================

-- {==================== rules at work ====================

test("a rule's error rolls the whole change back and names procedure, rule and line", function()
  bogoria()
  install(source("err", "1", [[
  on = {
    ["case.opened"] = function(case, event)
      case:task{ text = "first" }
      local t = nil
      return t.x
    end,
  },]]), "err.lua")
  local before = F.snapshot()
  local e = raises(function() a_case() end)
  eq(e.code, "procedure")
  eq({ e.procedure, e.version, e.rule, e.line }, { "err", "1", 'on["case.opened"]', 7 })
  ok(tostring(e):find('procedure err 1, on["case.opened"] (err.lua:7): attempt to index a nil value', 1, true), tostring(e))
  eq(F.snapshot(), before, "no case, no task, no pin, no audit row")
end)

test("a domain error inside a rule keeps its code and field, and names the rule's line", function()
  bogoria()
  install(source("bad", "1", [[
  on = {
    ["case.opened"] = function(case, event)
      case:task{ text = "x", due = "2024-02-30" }
    end,
  },]]), "bad.lua")
  local e = raises(function() a_case() end, "invalid")
  eq(e.field, "tasks.due")
  ok(tostring(e):find('(bad.lua:5): tasks.due:', 1, true), tostring(e))
end)

test("a rule that loops forever is stopped; its own pcall cannot catch that; nothing written", function()
  bogoria()
  install(source("loop", "1", [[
  settings = { instruction_limit = 200000 },
  on = {
    ["case.opened"] = function(case, event)
      while true do
        pcall(function() case:tasks() end)
      end
    end,
  },]]), "loop.lua")
  local before = F.snapshot()
  local e = raises(function() a_case() end, "limit")
  ok(tostring(e):find('procedure loop 1, on["case.opened"] (loop.lua:', 1, true), tostring(e))
  ok(tostring(e):find("instruction limit of 200000 exceeded", 1, true), tostring(e))
  eq(F.snapshot(), before)
  eq(debug.gethook(), nil, "the hook is gone afterwards")
  local n = 0
  for _ = 1, 1000000 do n = n + 1 end
  eq(n, 1000000, "code outside rules has no limit")
end)

test("a rule stopped from outside (Ctrl-C, --timeout) leaves no state behind for the next", function()
  bogoria()
  koop.actor = "anna"
  install(source("petla", "1", [[
  on = { ["case.reason_added"] = function(case, event) while true do end end },]]), "petla.lua")
  install(source("ok", "1", [[
  on = { ["case.opened"] = function(case, event) case:task{ text = "t" } end },]]), "ok.lua")
  local c = a_case()
  -- the host's stop: raises at every instruction until control is back
  -- in the host (here: this test function), then the host clears it
  local me = debug.getinfo(1, "S").source
  local function stop()
    debug.sethook(stop, "", 1)
    if debug.getinfo(2, "S").source ~= me then error(koop.error{ code = "interrupted", message = "interrupted" }, 0) end
  end
  debug.sethook(stop, "", 100000)
  local stopped = pcall(c.reason, c, "13")
  debug.sethook()
  ok(not stopped)
  local c2 = a_case()
  eq(db:value("SELECT actor FROM audit_log WHERE entity = 'tasks' AND entity_id = ?", c2:tasks()[1].id),
    "anna [procedura ok 1]")
  eq(koop.actor, "anna")
  raises(function() c2:reason("13") end, "limit")
  eq(debug.gethook(), nil)
end)

test("event:veto and koop.veto refuse the change with the procedure's words", function()
  bogoria()
  install(source("v", "1", [[
  on = {
    ["case.stage_changed"] = function(case, event)
      if event.to == "plan" then event:veto("najpierw diagnoza zespołu") end
    end,
    ["referral.sent"] = function(r, event)
      if r.to.kind == "KPP" then koop.veto("policja tylko przez zespół interdyscyplinarny") end
    end,
  },]]), "v.lua")
  local c = a_case()
  c:set_stage("diagnoza")
  local e = raises(function() c:set_stage("plan") end, "veto")
  ok(tostring(e):find('procedure v 1, on["case.stage_changed"] (v.lua:5) vetoed the change: najpierw diagnoza zespołu', 1, true), tostring(e))
  eq(cases.get(c.id).status, "diagnoza")
  e = raises(function() c:refer{ to = F.inst.kpp } end, "veto")
  ok(tostring(e):find("policja tylko przez zespół", 1, true))
  eq(#c:referrals(), 0)
end)

test("stages outside the procedure's list are vetoed; closing always goes", function()
  bogoria()
  install(source("krotka", "1", [[  stages = { "zgłoszona", "diagnoza", "zakończona" },]]))
  local c = a_case()
  c:set_stage("diagnoza")
  local e = raises(function() c:set_stage("plan") end, "veto")
  ok(tostring(e):find("procedure krotka 1 has no stage plan (its stages: zgłoszona, diagnoza, zakończona)", 1, true), tostring(e))
  c:close{ outcome = "rezygnacja" }
  eq(c.status, "zakończona")
end)

test("requirements: a message, false, or a thrown error; procedures.check lists what is missing", function()
  bogoria()
  install(source("req", "1", [[
  requires = {
    plan = function(case) return case:has_consent() or "brak zgody" end,
    realizacja = function(case) return false end,
  },]]), "req.lua")
  local c = a_case()
  c:set_stage("diagnoza")
  eq(#procedures.check(c, "plan"), 1)
  ok(procedures.check(c, "plan")[1]:find('requires["plan"] (req.lua:4) refused stage plan for ' .. c.code .. ": brak zgody", 1, true))
  F.consent(c, "2024-04-29")
  eq(procedures.check(c, "plan"), {})
  c:set_stage("plan")
  raises(function() c:set_stage("realizacja") end, "the requirement is not met")
  ok(c:has_consent())
  ok(not c:has_consent("2024-04-28"), "not before it was given")
end)

test("rules run as the actor with the procedure named, in the audit log", function()
  bogoria()
  koop.actor = "anna"
  install(source("a", "1", [[  on = { ["case.opened"] = function(c, e) c:task{ text = "x" } end },]]))
  local c = a_case()
  local t = c:tasks()[1]
  eq(db:value("SELECT actor FROM audit_log WHERE entity = 'tasks' AND entity_id = ?", t.id), "anna [procedura a 1]")
  eq(db:value("SELECT actor FROM audit_log WHERE entity = 'cases' AND entity_id = ?", c.id), "anna")
  eq(koop.actor, "anna")
end)

test("nested rules: a rule's referral runs referral.sent; a referral's deadline is met by its own answer only", function()
  bogoria()
  install(source("n", "1", [[
  on = {
    ["case.opened"] = function(case, event)
      case:refer{ to = institutions.find{ kind = "PCPR" }[1], service = "poradnictwo" }
      case:refer{ to = institutions.find{ kind = "PUP" }[1], service = "poradnictwo" }
    end,
    ["referral.sent"] = function(r, event) event:note("wysłano do " .. r.to.kind) end,
  },
  deadlines = {
    odp = { from = "referral.sent", days = 10, what = "Odpowiedź", done = { "referral.accepted", "referral.rejected" } },
  },]]))
  local c = a_case()
  local notes = procedures.notes(c)
  eq({ notes[1].text, notes[2].text }, { "wysłano do PCPR", "wysłano do PUP" })
  local refs = c:referrals()
  local open = procedures.deadlines{ case = c, status = "open" }
  eq(#open, 2)
  eq({ open[1].subject_kind, open[1].due }, { "referral", "2024-05-09" })
  refs[2]:accept{}
  eq(#procedures.deadlines{ case = c, status = "open" }, 1)
  eq(procedures.deadlines{ case = c, status = "met" }[1].subject_id, refs[2].id)
end)

test("service.delivered: the rule sees the cost and reaches the case through event.case", function()
  bogoria()
  install(source("s", "1", [[
  on = { ["service.delivered"] = function(s, event)
    if event.cost > 10000 then event:note(event.case.code .. " " .. s.service_type .. " " .. event.cost) end
  end },]]))
  local c = a_case()
  c:deliver{ provider = F.inst.pcpr, service = "terapia", units = 1, cost = 50 }
  c:deliver{ provider = F.inst.pcpr, service = "terapia", units = 2, cost = 240 }
  local notes = procedures.notes(c)
  eq(#notes, 1)
  eq(notes[1].text, c.code .. " terapia 24000")
end)

test("a batch over many cases (all pins read at once) runs the same rules as single events", function()
  bogoria()
  install(source("b", "1", [[
  applies = function(case) return case.notes ~= "bez procedury" end,
  on = { ["service.delivered"] = function(s, event) event:note("usługa " .. s.id) end },]]))
  local list = {}
  db:tx(function()
    for i = 1, 260 do
      list[i] = cases.open{ source_institution = F.inst.ops, notes = i % 10 == 0 and "bez procedury" or nil }
    end
  end)
  db:tx(function()                                  -- a new transaction: no pins known yet
    for i = 1, 260 do list[i]:deliver{ provider = F.inst.pcpr, service = "terapia", units = 1 } end
    local late = cases.open{ source_institution = F.inst.ops }
    late:deliver{ provider = F.inst.pcpr, service = "terapia", units = 1 }
    procedures.migrate("b", { to = "1" })           -- nothing to move; pins stay right
    list[1]:deliver{ provider = F.inst.pcpr, service = "terapia", units = 1 }
  end)
  eq(db:value("SELECT count(*) FROM procedure_note"), 234 + 1 + 1)
  eq(db:value("SELECT count(*) FROM procedure_note WHERE case_id = ?", list[10].id), 0, "a case without the procedure")
  eq(db:value("SELECT count(*) FROM procedure_note WHERE case_id = ?", list[1].id), 2)
end)

test("events without a case go to the active versions: meeting.held, budget.line_low", function()
  bogoria()
  install(source("g", "1", [[
  on = {
    ["meeting.held"] = function(m, event)
      tasks.add{ text = "protokół " .. m.date, due = koop.workdays(3, m.date) }
    end,
    ["budget.line_low"] = function(line, event)
      tasks.add{ text = "mało środków: " .. line.name .. " " .. tostring(event.uncommitted), due = koop.days(7) }
    end,
  },]]))
  local _, team = F.gpzk()
  meetings.add{ team = team, date = "2024-04-26", kind = "posiedzenie", status = "held" }
  eq(tasks.find{ text = "protokół 2024-04-26" }[1].due, "2024-05-02")
  local b = budgets.add{ name = "Mały", gmina = "2612012", total = 1000, period_from = "2024-01-01", period_to = "2024-12-31" }
  local line = b:line{ name = "klub", planned = 1000 }
  b:approve{ date = "2024-01-05" }
  line:commit{ contractor = F.inst.gok, amount = 950, date = "2024-04-29" }
  eq(#tasks.find{ where = "text LIKE 'mało środków: klub%'" }, 1)
end)

test("a case is taken on when applies() first holds: at opening, a reason or a member (event.late)", function()
  bogoria()
  install(source("r", "1", [[
  applies = function(case) return case:has_reason("6") end,
  on = { ["case.opened"] = function(case, event)
    event:note(("start %s late=%s reason=%s"):format(event.date, tostring(event.late), tostring(event.reason)))
  end },]]))
  local c = a_case()
  eq(#c:procedures(), 0)
  c:reason("4")
  eq(#c:procedures(), 0)
  c:reason("6")
  eq(procedures.notes(c)[1].text, "start 2024-04-29 late=true reason=6")
  c:drop_reason("4")
  eq(#procedures.notes(c), 1, "taken on once")
end)

test("working days, calendar days, weeks and months; KPA art. 57 §4 moves an end on a holiday", function()
  bogoria()
  install(source("d", "1", [[
  settings = { working_days = true },
  deadlines = {
    a = { days = 7, done = "plan.agreed" },
    b = { days = 2, working = false, done = "plan.agreed" },
    c = { weeks = 2, done = "plan.agreed" },
    d = { months = 1, done = "plan.agreed" },
  },]]))
  local c = a_case()
  local got = {}
  for _, d in ipairs(procedures.deadlines{ case = c, order = "key" }) do got[#got + 1] = d.key .. " " .. d.due .. " " .. d.counted end
  eq(got, {
    "a 2024-05-10 7 dni roboczych",        -- 1 and 3 May are holidays
    "b 2024-05-02 2 dni",                  -- 1 May is a holiday: the next working day
    "c 2024-05-13 2 tygodnie",
    "d 2024-05-29 1 miesiąc",
  })
end)

test("event:deadline from a rule; closing a case cancels its open deadlines", function()
  bogoria()
  install(source("e", "1", [[
  on = { ["case.reason_added"] = function(case, event)
    event:deadline{ what = "Wniosek o " .. event.code, days = 14 }
  end },
  deadlines = { koniec = { days = 90, stage = "zakończona", what = "Zamknięcie" } },]]))
  local c = a_case()
  c:reason("4")
  eq(#procedures.deadlines{ case = c, status = "open" }, 2)
  c:close{ outcome = "sukces" }
  local by = {}
  for _, d in ipairs(c:deadlines()) do by[d.key] = d.status end
  eq(by, { ["Wniosek o 4"] = "cancelled", koniec = "met" })
  raises(function() c:deadlines()[2]:met{} end, "is met already")
end)

-- }====================

-- {==================== migrate ====================

local V1 = source("m", "1", [[
  stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" },
  deadlines = {
    diagnoza = { days = 30, what = "Diagnoza", stage = "plan" },
    stara = { days = 10, what = "Stara", stage = "plan" },
  },]])
local V2 = source("m", "2", [[
  stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "zakończona" },
  deadlines = { diagnoza = { days = 21, what = "Diagnoza", stage = "plan" } },
  migrate = function(case, event)
    case:task{ text = "Przejście " .. event.from .. " → " .. event.to }
  end,]])

test("migrate moves the open cases, counts their deadlines again, runs migrate(); audited", function()
  bogoria()
  install(V1, "m.lua")
  local open, closed = a_case(), a_case()
  closed:close{ outcome = "rezygnacja" }
  install(V2, "m.lua")
  local fresh = a_case()
  local rows = procedures.migrate("m", { to = "2" })
  eq(#rows, 1)
  eq({ rows[1].case, rows[1].from, rows[1].to }, { open.code, "1", "2" })
  eq(open:procedures()[1].version, "2")
  eq(closed:procedures()[1].version, "1", "closed cases stay")
  eq(fresh:procedures()[1].version, "2")
  local by = {}
  for _, d in ipairs(open:deadlines()) do by[d.key] = d.status .. " " .. d.due end
  eq(by, { diagnoza = "open 2024-05-20", stara = "cancelled 2024-05-09" })
  eq(open:tasks()[1].text, "Przejście 1 → 2")
  eq(db:value("SELECT count(*) FROM audit_log WHERE action = 'migrate' AND entity = 'procedures'"), 1)
  eq(db:value("SELECT count(*) FROM audit_log WHERE action = 'update' AND entity = 'case_procedures'"), 1)
end)

test("migrating to a version that does not exist is refused; nothing written", function()
  bogoria()
  install(V1, "m.lua")
  a_case()
  local before = F.snapshot()
  local e = raises(function() procedures.migrate("m", { to = "7" }) end, "invalid")
  eq(e.field, "procedures.version")
  ok(tostring(e):find("procedure m has no version 7 (installed: 1)", 1, true), tostring(e))
  raises(function() procedures.migrate("mm", { to = "1" }) end, "no procedure mm is installed")
  eq(F.snapshot(), before)
end)

test("migrate is all or nothing: a case in a stage the new version lacks stops it, naming the case", function()
  bogoria()
  install(V1, "m.lua")
  local a, b = a_case(), a_case()
  F.consent(b, "2024-04-29")
  for _, s in ipairs{ "diagnoza", "plan" } do b:set_stage(s) end
  b:plan{ type = "IPW", goals = { "x" } }:agree{}
  b:set_stage("realizacja")
  b:set_stage("monitoring")
  install(V2, "m.lua")
  local before = F.snapshot()
  local e = raises(function() procedures.migrate("m", { to = "2" }) end, "veto")
  ok(tostring(e):find(b.code .. ": " .. b.code .. " is in stage monitoring, which procedure m 2 does not have", 1, true), tostring(e))
  eq(F.snapshot(), before)
  procedures.migrate("m", { to = "2", case = a.code })
  eq({ a:procedures()[1].version, b:procedures()[1].version }, { "2", "1" }, "--case moves one")
end)

test("migrate takes on open cases the procedure does not have yet when applies() holds", function()
  bogoria()
  local a, b = a_case(), a_case()
  b:reason("6")
  local src = source("nowa", "1", [[
  applies = function(case) return case:has_reason("6") end,
  on = { ["case.opened"] = function(case, event) event:note("late=" .. tostring(event.late) .. " migrated=" .. tostring(event.migrated)) end },]])
  install(src)
  eq(#b:procedures(), 0)
  local dry = with_file("nowa.lua", src, procedures.dryrun)
  eq({ dry.cases, dry.vetoes, #dry }, { 1, 0, 2 }, "the dry run counts only the case it would take")
  eq({ dry[1].change, dry[2].change, dry[2].detail }, { "taken on", "note", "late=true migrated=true" })
  local rows = procedures.migrate("nowa", { to = "1" })
  eq(#rows, 1)
  eq({ rows[1].case, rows[1].from }, { b.code, "—" })
  eq(#a:procedures(), 0)
  eq(procedures.notes(b)[1].text, "late=true migrated=true")
end)

-- }====================

-- {==================== dryrun ====================

test("dryrun reports stages, deadlines, tasks, notes and vetoes and writes nothing", function()
  bogoria()
  install(V1, "m.lua")
  local a, b = a_case(), a_case()
  F.consent(b, "2024-04-29")
  for _, s in ipairs{ "diagnoza", "plan" } do b:set_stage(s) end
  b:plan{ type = "IPW", goals = { "x" } }:agree{}
  b:set_stage("realizacja")
  b:set_stage("monitoring")
  local before = F.snapshot()
  local rows = with_file("m.lua", V2:gsub("migrate = function%(case, event%)\n", [[
  migrate = function(case, event)
    if case.status == "zgłoszona" then case:set_stage("diagnoza") end
    event:note("nowa wersja")
]]), function(path) return procedures.dryrun(path) end)
  eq(F.snapshot(), before, "nothing written")
  eq(procedures.count(), 1, "version 2 is not installed")
  eq({ rows.procedure, rows.version, rows.cases, rows.vetoes }, { "m", "2", 2, 1 })
  local got = {}
  for _, r in ipairs(rows) do got[#got + 1] = r.case .. " | " .. r.change .. " | " .. r.detail end
  eq(got[1], a.code .. " | version | m 1 → 2")
  eq(got[2], a.code .. " | stage | zgłoszona → diagnoza")
  eq(got[3], a.code .. " | deadline moved | Diagnoza: 2024-05-29 → 2024-05-20")
  eq(got[4], a.code .. " | deadline dropped | Stara (due 2024-05-09)")
  eq(got[5], a.code .. " | new task | Przejście 1 → 2")
  eq(got[6], a.code .. " | note | nowa wersja")
  ok(got[7]:find(b.code .. " | veto | " .. b.code .. " is in stage monitoring", 1, true), got[7])
end)

test("dryrun of a conflicting version is refused like install", function()
  bogoria()
  install(V1, "m.lua")
  raises(function() with_file("m.lua", V1 .. "-- changed\n", procedures.dryrun) end, "installed already with other source")
end)

-- }====================

-- {==================== the overdue sweep ====================

test("tick fires the overdue events once each, with the case; not for a day to come", function()
  bogoria()
  local seen = {}
  for _, name in ipairs{ "task.overdue", "referral.overdue", "deadline.missed", "plan.review_due" } do
    koop.on(name, function(obj, e) seen[#seen + 1] = ("%s %s %s %d"):format(e.name, e.due, tostring(e.case_id), e.days) end)
  end
  install(source("t", "1", [[
  deadlines = { d = { days = 3, what = "D", done = "plan.agreed" } },
  on = { ["task.overdue"] = function(task, event) event:note("zaległe: " .. task.text) end },]]))
  local c = a_case()
  c:task{ text = "t1", due = "2024-04-30" }
  c:refer{ to = F.inst.pcpr }
  F.consent(c, "2024-04-29")
  local p = c:plan{ type = "IPW", goals = { "x" }, review_on = "2024-05-06" }
  -- koop.today, not travel(): the counts below are of these ticks alone
  koop.today("2024-05-07")
  eq(procedures.tick(), { task = 1, referral = 0, deadline = 1, plan = 0 }, "a draft plan has no review")
  p:agree{ date = "2024-04-30" }
  eq(procedures.tick(), { task = 0, referral = 0, deadline = 0, plan = 1 })
  koop.today("2024-05-15")                          -- the referral's answer was due on 13 May
  eq(procedures.tick(), { task = 0, referral = 1, deadline = 0, plan = 0 })
  eq(seen, { "task.overdue 2024-04-30 " .. c.id .. " 7", "deadline.missed 2024-05-02 " .. c.id .. " 5",
    "plan.review_due 2024-05-06 " .. c.id .. " 1", "referral.overdue 2024-05-13 " .. c.id .. " 2" })
  eq(procedures.notes(c)[1].text, "zaległe: t1")
  raises(function() procedures.tick{ on = "2024-06-01" } end, "after today")
end)

test("the plan deadline met before it passes is not missed; a missed one fires deadline.missed", function()
  bogoria()
  install(source("t", "1", [[
  deadlines = { d = { days = 3, what = "D", stage = "diagnoza" }, e = { days = 3, what = "E", stage = "plan" } },
  on = { ["deadline.missed"] = function(d, event) event:note("przekroczony: " .. d.what) end },]]))
  local c = a_case()
  c:set_stage("diagnoza")
  koop.today("2024-05-04")
  eq(procedures.tick().deadline, 1)
  eq(#procedures.notes(c), 1)
  eq(procedures.notes(c)[1].text, "przekroczony: E")
end)

-- }====================
