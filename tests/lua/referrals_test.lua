-- referrals_test.lua — referrals between institutions: sending (from the
-- coordinator's institution by default; never to the sender itself), the
-- lifecycle sent → received → accepted | rejected (reason required) |
-- redirected (a new referral chained to the old, also from a rejection) →
-- in_progress → completed (feedback required) | cancelled, with every
-- illegal step refused naming both statuses; dates in order and not in the
-- future; the response deadline (14 calendar days, or koop_meta days and
-- working days with Polish holidays) and `overdue` from koop.today(); the
-- events, inside the transaction.  Every refusal writes nothing.
-- Run with: koop test tests/lua/referrals_test.lua
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local F = dofile(here .. "case_fixture.lua")
local set_meta = require("koop.schema").set_meta

-- The scenario's case with consent; today 2020-10-01.
local function family()
  koop.today("2020-10-01")
  local c = F.case(nil, true)
  F.consent(c)
  return c
end

test("a referral goes from the coordinator's institution, with its answer due in 14 days", function()
  local c = family()
  local seen
  local r
  seen = F.events({ "referral.sent" }, function()
    r = c:refer{ to = F.inst.pup, service = "poradnictwo", reason = "aktywizacja zawodowa",
      shared = { "podstawowe" }, date = "2019-10-25" }
  end)
  eq(#seen, 1)
  eq({ r.status, r.from.kind, r.to.kind, r.sent_on, r.response_due }, { "sent", "OPS", "PUP", "2019-10-25", "2019-11-08" })
  eq({ r.reason, r.shared, r.service_type }, { "aktywizacja zawodowa", "podstawowe", "poradnictwo" })
  eq(#c:referrals(), 1)
  local same = referrals.add{ case = c, to = F.inst.sp, from = F.inst.ops, date = "2019-10-26" }
  eq(same.from_institution_id, F.inst.ops.id)
  eq(referrals.count{ case = c }, 2)
end)

test("a referral to the sending institution itself, or with bad fields, is refused", function()
  local c = family()
  local err = F.refused(function() c:refer{ to = F.inst.ops, date = "2019-10-25" } end, "referrals.to")
  ok(tostring(err):find("cannot go to the sending institution itself (Ośrodek Pomocy Społecznej w Bogorii)", 1, true), tostring(err))
  F.refused(function() c:refer{ date = "2019-10-25" } end, "referrals.to", "is required")
  F.refused(function() c:refer{ to = F.inst.pup, date = "2019-01-01" } end, "referrals.sent_on", "before the case opened")
  F.refused(function() c:refer{ to = F.inst.pup, date = "2020-10-02" } end, "referrals.sent_on", "after today")
  F.refused(function() c:refer{ to = F.inst.pup, service = "masaż" } end, "referrals.service", "unknown service type")
  F.refused(function() c:refer{ to = F.inst.pup, shared = { "majątek" } } end, "referrals.shared", "unknown data category")
  F.refused(function() c:refer{ to = F.inst.pup, priority = "pilne" } end, "referrals.priority", "unknown option")
  local other = F.case("2019-09-03", true)
  F.refused(function() c:refer{ to = F.inst.pup, member = other:members()[1] } end, "referrals.member", "not a member")
  F.inst.dps:deactivate()
  F.refused(function() c:refer{ to = F.inst.dps } end, "referrals.to", "inactive")
  local lone = cases.open{ opened_on = "2019-09-02" }
  F.refused(function() lone:refer{ to = F.inst.pup } end, "referrals.from", "no coordinator")
end)

test("the lifecycle: received, accepted, in progress, completed with feedback", function()
  local c = family()
  local r = c:refer{ to = F.inst.pup, service = "poradnictwo", shared = { "podstawowe" }, date = "2019-10-25" }
  r:receive{ date = "2019-10-28" }
  local seen = F.events({ "referral.accepted" }, function() r:accept{ date = "2019-10-30" } end)
  eq(#seen, 1)
  eq({ r.status, r.received_on, r.responded_on }, { "accepted", "2019-10-28", "2019-10-30" })
  r:start{ date = "2019-11-04" }
  F.refused(function() r:complete{ date = "2019-12-10" } end, "referrals.feedback", "is required")
  F.refused(function() r:complete{ date = "2019-12-10", feedback = "  " } end, "referrals.feedback", "is required")
  F.refused(function() r:complete{ date = "2019-11-01", feedback = "ok" } end, "referrals.closed_on", "before the referral's last step")
  r:complete{ date = "2019-12-10", feedback = "podjął pracę sezonową" }
  eq({ r.status, r.closed_on, r.feedback, r.open }, { "completed", "2019-12-10", "podjął pracę sezonową", false })
  F.refused(function() r:cancel{} end, "referrals.status", "completed (2019-12-10); it cannot become cancelled")
  -- accepted and completed at once (the start is optional)
  local s = c:refer{ to = F.inst.sp, date = "2019-10-25" }
  s:accept{ date = "2019-10-26" }
  eq(s.received_on, "2019-10-26")
  s:complete{ date = "2020-06-26", feedback = "frekwencja 95%" }
  eq(s.status, "completed")
end)

test("reject needs a reason; accept after reject is refused naming both statuses", function()
  local c = family()
  local r = c:refer{ to = F.inst.pcpr, service = "terapia", shared = { "podstawowe", "sytuacja rodzinna" }, date = "2019-11-04" }
  F.refused(function() r:reject{ date = "2019-11-12" } end, "referrals.reason", "is required")
  local seen = F.events({ "referral.rejected" }, function() r:reject{ reason = "brak wolnych terminów", date = "2019-11-12" } end)
  eq(#seen, 1)
  eq({ r.status, r.response_note, r.responded_on }, { "rejected", "brak wolnych terminów", "2019-11-12" })
  local err = F.refused(function() r:accept{ date = "2019-11-13" } end, "referrals.status")
  ok(tostring(err):find("is rejected (brak wolnych terminów, 2019-11-12); it cannot become accepted", 1, true), tostring(err))
  F.refused(function() r:complete{ feedback = "x" } end, "referrals.status", "cannot become completed")
  F.refused(function() r:start{} end, "referrals.status", "cannot become in_progress")
  local s = c:refer{ to = F.inst.pup, date = "2019-11-04" }
  F.refused(function() s:complete{ feedback = "x", date = "2019-11-05" } end, "referrals.status", "sent; it cannot become completed")
end)

test("redirect: the old referral ends, a new one from the same sender is chained to it", function()
  local c = family()
  F.consent(c, "2019-11-10", { "ngo" }, { "podstawowe", "sytuacja rodzinna" })
  local r = c:refer{ to = F.inst.pcpr, service = "terapia", reason = "terapia rodzinna",
    shared = { "podstawowe", "sytuacja rodzinna" }, date = "2019-11-04" }
  r:reject{ reason = "brak wolnych terminów", date = "2019-11-12" }
  local new
  local seen = F.events({ "referral.sent" }, function() new = r:redirect{ to = F.inst.ngo, date = "2019-11-13" } end)
  eq(#seen, 1)
  eq(seen[1][2], new)
  eq({ r:reload().status, r.response_note }, { "redirected", "brak wolnych terminów" }, "the rejection stays on record")
  eq({ new.status, new.previous_id, new.from_institution_id, new.to.kind }, { "sent", r.id, F.inst.ops.id, "NGO" })
  eq({ new.service_type, new.reason, new.shared, new.sent_on, new.response_due }, { "terapia", "terapia rodzinna",
    "podstawowe,sytuacja rodzinna", "2019-11-13", "2019-11-27" })
  eq(r.next, new)
  eq(new.previous, r)
  F.refused(function() r:redirect{ to = F.inst.ngo } end, "referrals.status", "redirected; it cannot become redirected")
  F.refused(function() new:redirect{ to = F.inst.ops, date = "2019-11-14" } end, "referrals.to", "sending institution itself")
  eq(new:reload().status, "sent")
  -- redirecting before an answer
  local s = c:refer{ to = F.inst.pup, date = "2019-11-04" }
  local t = s:redirect{ to = F.inst.gok, date = "2019-11-05", reason = "to zadanie GOK" }
  eq({ s:reload().status, s.response_note, t.notes }, { "redirected", "to zadanie GOK", "przekierowane: to zadanie GOK" })
end)

test("cancel ends an open referral, with an optional reason", function()
  local c = family()
  local r = c:refer{ to = F.inst.pup, date = "2019-11-04" }
  local seen = F.events({ "referral.cancelled" }, function() r:cancel{ reason = "rodzina się wyprowadziła", date = "2019-11-06" } end)
  eq(#seen, 1)
  eq({ r.status, r.cancel_reason, r.closed_on }, { "cancelled", "rodzina się wyprowadziła", "2019-11-06" })
end)

test("an error in a referral.accepted handler rolls the acceptance back", function()
  local c = family()
  local r = c:refer{ to = F.inst.pup, date = "2019-11-04" }
  local off = koop.on("referral.accepted", function() error("not yet", 0) end)
  local ok_, err = pcall(r.accept, r, { date = "2019-11-05" })
  off()
  ok(not ok_ and tostring(err):find("not yet"), tostring(err))
  eq({ r.status, db:value("SELECT status FROM referral WHERE id = ?", r.id) }, { "sent", "sent" })
end)

test("overdue: waiting for an answer past response_due, as of koop.today()", function()
  local c = family()
  koop.today("2019-11-08")
  local r = c:refer{ to = F.inst.pup, date = "2019-10-25" }
  eq(r.overdue, false, "due today is not late")
  ok(tostring(r):find("answer due 2019-11-08", 1, true), tostring(r))
  travel(1)
  eq(r.overdue, true)
  ok(tostring(r):find("answer OVERDUE since 2019-11-08", 1, true), tostring(r))
  local late = referrals.overdue()
  eq(#late, 1)
  eq(late[1], r)
  eq(#referrals.overdue{ on = "2019-11-08" }, 0)
  r:accept{ date = "2019-11-09" }
  eq(r.overdue, false, "answered")
  eq(#referrals.overdue{ on = "2019-12-31" }, 0)
end)

test("the deadline: koop_meta referral_response_days, and working days with holidays", function()
  local c = family()
  set_meta(db, "referral_response_days", "7")
  eq(c:refer{ to = F.inst.pup, date = "2019-10-25" }.response_due, "2019-11-01")
  -- 10 working days from Friday 2019-10-25: 1 and 11 November are holidays
  set_meta(db, "referral_response_days", "10")
  set_meta(db, "referral_response_working", "1")
  eq(c:refer{ to = F.inst.sp, date = "2019-10-25" }.response_due, "2019-11-12")
  set_meta(db, "referral_response_days", "dwa tygodnie")
  F.refused(function() c:refer{ to = F.inst.gok, date = "2019-10-25" } end, "referrals.response_due", "whole number")
end)

test("a sent referral keeps its parties and data; a closed case takes no referrals", function()
  local c = family()
  local r = c:refer{ to = F.inst.pup, shared = { "podstawowe" }, date = "2019-10-25" }
  F.refused(function() r:update{ to = F.inst.sp } end, "referrals.to", "cancel it and send a new one")
  F.refused(function() r:update{ shared = "podstawowe,zdrowie" } end, "referrals.shared", "cancel it")
  F.refused(function() r:update{ status = "accepted" } end, "referrals.status", "derived")
  r:update{ notes = "telefonicznie potwierdzono" }
  r:cancel{ date = "2019-10-26" }
  c:close{ date = "2020-09-30", outcome = "częściowy" }
  F.refused(function() c:refer{ to = F.inst.pup, date = "2020-09-30" } end, "referrals.case", "closed")
end)
